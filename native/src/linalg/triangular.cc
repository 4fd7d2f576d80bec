// Triangular solves op(T) X = B with many right-hand sides: row-oriented
// forward and back substitution (GVL Algorithms 3.1.1 and 3.1.2), applied to
// whole rows of B at once so the inner loop is a contiguous axpy. The columns
// of B are independent and are split across threads when there are many.
#include <algorithm>

#include "linalg/linalg.h"
#include "parallel.h"

namespace nbforge {
namespace linalg {

int64_t solve_triangular(const double* t, int64_t n, double* b, int64_t nrhs, bool lower,
                         bool transpose, bool unit_diagonal) {
  if (!unit_diagonal) {
    for (int64_t i = 0; i < n; ++i)
      if (t[i * n + i] == 0.0) return i;
  }
  // op(T)[i][k]: T[i][k], or T[k][i] when transposed. Transposing a lower
  // triangle gives an upper one, so the sweep runs forward exactly when
  // op(T) is lower triangular.
  const bool forward = lower != transpose;
  auto op = [&](int64_t i, int64_t k) { return transpose ? t[k * n + i] : t[i * n + k]; };
  const int64_t grain = std::max<int64_t>(8, 65536 / std::max<int64_t>(1, n * n));
  parallel_for(0, nrhs, grain, [&](int64_t c0, int64_t c1) {
    const int64_t width = c1 - c0;
    for (int64_t s = 0; s < n; ++s) {
      const int64_t i = forward ? s : n - 1 - s;
      double* bi = b + i * nrhs + c0;
      // b_i -= sum over solved k of op(T)[i][k] x_k
      const int64_t k0 = forward ? 0 : i + 1, k1 = forward ? i : n;
      for (int64_t k = k0; k < k1; ++k) {
        const double tik = op(i, k);
        if (tik == 0.0) continue;
        const double* xk = b + k * nrhs + c0;
        for (int64_t c = 0; c < width; ++c) bi[c] -= tik * xk[c];
      }
      if (!unit_diagonal) {
        const double d = t[i * n + i];
        for (int64_t c = 0; c < width; ++c) bi[c] /= d;
      }
    }
  });
  return -1;
}

}  // namespace linalg
}  // namespace nbforge
