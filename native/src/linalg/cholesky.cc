// Cholesky factorisation A = L L^T, the column-oriented (left-looking) form of
// GVL Algorithm 4.2.2 (gaxpy Cholesky), written with row-major dot products:
//   L[j][j] = sqrt(A[j][j] - L[j,0:j] . L[j,0:j])
//   L[i][j] = (A[i][j] - L[i,0:j] . L[j,0:j]) / L[j][j]   for i > j.
// The entries below each pivot are independent, so column j's are computed in
// parallel when the matrix is large; each is a contiguous dot product.
#include <cmath>
#include <cstring>

#include "dot.h"
#include "linalg/linalg.h"
#include "parallel.h"

namespace nbforge {
namespace linalg {

int64_t cholesky(const double* a, int64_t n, double* l, double* pivot_value) {
  std::memset(l, 0, sizeof(double) * static_cast<size_t>(n * n));
  for (int64_t j = 0; j < n; ++j) {
    double* lj = l + j * n;
    const double d = a[j * n + j] - dot_f64(lj, lj, static_cast<size_t>(j));
    if (!(d > 0) || !std::isfinite(d)) {
      *pivot_value = d;
      return j;
    }
    const double ljj = std::sqrt(d);
    lj[j] = ljj;
    const double inv = 1.0 / ljj;
    // About j flops per row; keep chunks worth a thread hand-off.
    const int64_t grain = std::max<int64_t>(1, 16384 / (j + 1));
    parallel_for(j + 1, n, grain, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        double* li = l + i * n;
        li[j] = (a[i * n + j] - dot_f64(li, lj, static_cast<size_t>(j))) * inv;
      }
    });
  }
  return -1;
}

}  // namespace linalg
}  // namespace nbforge
