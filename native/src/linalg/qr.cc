// Householder QR (GVL Algorithm 5.2.1), reduced form. The reflectors are
// H_j = I - tau_j v_j v_j^T with v_j[0] = 1, generated as LAPACK's dlarfg does
// (GVL Algorithm 5.1.1), so H_j x = beta e_1 with |beta| = ||x||. Q is formed by
// backward accumulation (GVL §5.1.6). The work is column-major so that every
// reflector touches contiguous columns; columns are updated in parallel.
#include <algorithm>
#include <cmath>
#include <vector>

#include "dot.h"
#include "linalg/linalg.h"
#include "parallel.h"

namespace nbforge {
namespace linalg {
namespace {

// ||x||_2 without overflow or harmful underflow.
double norm2(const double* x, int64_t n) {
  double scale = 0.0;
  for (int64_t i = 0; i < n; ++i) scale = std::max(scale, std::fabs(x[i]));
  if (scale == 0.0 || !std::isfinite(scale)) return scale;
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double y = x[i] / scale;
    sum += y * y;
  }
  return scale * std::sqrt(sum);
}

// Applies H = I - tau v v^T (v of length len, v[0] = 1 implicit in v0) to
// columns [c0, c1) of the column-major matrix `w` (leading dimension ld),
// rows [row, row + len).
void apply_reflector(const double* v, int64_t len, double tau, double* w, int64_t ld, int64_t row,
                     int64_t c0, int64_t c1) {
  if (tau == 0.0 || c0 >= c1) return;
  const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(1, len));
  parallel_for(c0, c1, grain, [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) {
      double* col = w + c * ld + row;
      const double s = tau * dot_f64(v, col, static_cast<size_t>(len));
      for (int64_t i = 0; i < len; ++i) col[i] -= s * v[i];
    }
  });
}

}  // namespace

void qr(const double* a, int64_t m, int64_t n, double* q, double* r) {
  const int64_t k = std::min(m, n);
  // Column-major working copy.
  std::vector<double> w(static_cast<size_t>(m * n));
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) w[j * m + i] = a[i * n + j];
  std::vector<double> tau(k, 0.0);
  std::vector<double> v(m);
  for (int64_t j = 0; j < k; ++j) {
    double* x = w.data() + j * m + j;  // column j, rows j..m-1
    const int64_t len = m - j;
    const double alpha = x[0];
    const double xnorm = norm2(x + 1, len - 1);
    v[0] = 1.0;
    if (xnorm == 0.0) {
      tau[j] = 0.0;  // already in the form beta e_1: H = I
      for (int64_t i = 1; i < len; ++i) v[i] = 0.0;
    } else {
      const double beta = -std::copysign(std::hypot(alpha, xnorm), alpha);
      tau[j] = (beta - alpha) / beta;
      const double inv = 1.0 / (alpha - beta);
      for (int64_t i = 1; i < len; ++i) v[i] = x[i] * inv;
      x[0] = beta;
    }
    apply_reflector(v.data(), len, tau[j], w.data(), m, j, j + 1, n);
    for (int64_t i = 1; i < len; ++i) x[i] = v[i];  // keep v_j below the diagonal
  }
  // R: the upper triangle of the first k rows.
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < n; ++j) r[i * n + j] = j >= i ? w[j * m + i] : 0.0;
  // Q = H_0 H_1 ... H_{k-1} I[:, 0:k], accumulated backwards (column-major).
  std::vector<double> qc(static_cast<size_t>(m * k), 0.0);
  for (int64_t j = 0; j < k; ++j) qc[j * m + j] = 1.0;
  for (int64_t j = k - 1; j >= 0; --j) {
    const int64_t len = m - j;
    v[0] = 1.0;
    for (int64_t i = 1; i < len; ++i) v[i] = w[j * m + j + i];
    apply_reflector(v.data(), len, tau[j], qc.data(), m, j, j, k);
  }
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < k; ++j) q[i * k + j] = qc[j * m + i];
}

}  // namespace linalg
}  // namespace nbforge
