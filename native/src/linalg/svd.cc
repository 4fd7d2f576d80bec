// Thin singular value decomposition by one-sided (Hestenes) Jacobi, GVL §8.6.3
// and Demmel & Veselić, "Jacobi's method is more accurate than QR" (1992):
// plane rotations applied to pairs of columns of G = A V until every pair is
// orthogonal to working precision; then s_j = ||g_j||, u_j = g_j / s_j. Column
// pairs are orthogonal relative to their norms, so tiny singular values keep
// their relative accuracy. Tall matrices are first reduced by Householder QR
// (A = QR, SVD of the n x n R); wide ones are handled through A^T.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <numeric>
#include <vector>

#include "dot.h"
#include "linalg/linalg.h"

namespace nbforge {
namespace linalg {
namespace {

// One-sided Jacobi on the column-major n x n matrix g. Writes U (row-major
// n x n), s (descending) and VT (row-major n x n).
bool jacobi_square(int64_t n, std::vector<double>& g, double* u, double* s, double* vt) {
  std::vector<double> v(static_cast<size_t>(n * n), 0.0);  // column-major
  for (int64_t j = 0; j < n; ++j) v[j * n + j] = 1.0;
  const size_t len = static_cast<size_t>(n);
  // Pairs count as orthogonal when |cos angle| <= sqrt(n) eps (as LAPACK dgesvj).
  const double tol = DBL_EPSILON * std::sqrt(std::max<double>(1.0, static_cast<double>(n)));
  bool converged = false;
  for (int sweep = 0; sweep < 80 && !converged; ++sweep) {
    converged = true;
    for (int64_t p = 0; p + 1 < n; ++p) {
      for (int64_t q = p + 1; q < n; ++q) {
        double* gp = g.data() + p * n;
        double* gq = g.data() + q * n;
        const double alpha = dot_f64(gp, gp, len);
        const double beta = dot_f64(gq, gq, len);
        const double gamma = dot_f64(gp, gq, len);
        if (std::fabs(gamma) <= tol * std::sqrt(alpha) * std::sqrt(beta)) continue;
        converged = false;
        // The rotation that diagonalises the 2x2 Gram matrix [alpha gamma; gamma beta]
        // (GVL Algorithm 8.5.1, symSchur2).
        const double zeta = (beta - alpha) / (2.0 * gamma);
        const double t = (zeta >= 0 ? 1.0 : -1.0) / (std::fabs(zeta) + std::hypot(1.0, zeta));
        const double c = 1.0 / std::sqrt(1.0 + t * t);
        const double sn = c * t;
        double* vp = v.data() + p * n;
        double* vq = v.data() + q * n;
        for (int64_t i = 0; i < n; ++i) {
          const double x = gp[i], y = gq[i];
          gp[i] = c * x - sn * y;
          gq[i] = sn * x + c * y;
          const double vx = vp[i], vy = vq[i];
          vp[i] = c * vx - sn * vy;
          vq[i] = sn * vx + c * vy;
        }
      }
    }
  }
  if (!converged) return false;
  std::vector<double> norms(n);
  for (int64_t j = 0; j < n; ++j) norms[j] = std::sqrt(dot_f64(g.data() + j * n, g.data() + j * n, len));
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t x, int64_t y) { return norms[x] > norms[y]; });
  // Columns of U (column-major while we complete it).
  std::vector<double> uc(static_cast<size_t>(n * n), 0.0);
  std::vector<bool> have(n, false);
  for (int64_t j = 0; j < n; ++j) {
    const int64_t src = order[j];
    s[j] = norms[src];
    for (int64_t i = 0; i < n; ++i) vt[j * n + i] = v[src * n + i];
    if (norms[src] > 0 && std::isfinite(1.0 / norms[src])) {
      for (int64_t i = 0; i < n; ++i) uc[j * n + i] = g[src * n + i] / norms[src];
      have[j] = true;
    }
  }
  // Zero singular values leave u_j free: complete U to an orthonormal basis with
  // the standard basis vector that keeps most of its norm after two rounds of
  // Gram–Schmidt against the columns already chosen.
  std::vector<double> cand(n);
  for (int64_t j = 0; j < n; ++j) {
    if (have[j]) continue;
    double best_norm = -1.0;
    std::vector<double> best(n);
    for (int64_t e = 0; e < n; ++e) {
      std::fill(cand.begin(), cand.end(), 0.0);
      cand[e] = 1.0;
      for (int round = 0; round < 2; ++round)
        for (int64_t o = 0; o < n; ++o) {
          if (!have[o]) continue;
          const double* uo = uc.data() + o * n;
          const double proj = dot_f64(uo, cand.data(), len);
          for (int64_t i = 0; i < n; ++i) cand[i] -= proj * uo[i];
        }
      const double nn = std::sqrt(dot_f64(cand.data(), cand.data(), len));
      if (nn > best_norm) {
        best_norm = nn;
        best = cand;
      }
      if (nn > 0.7) break;  // good enough: well away from the span
    }
    for (int64_t i = 0; i < n; ++i) uc[j * n + i] = best[i] / best_norm;
    have[j] = true;
  }
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) u[i * n + j] = uc[j * n + i];
  return true;
}

}  // namespace

bool svd(const double* a, int64_t m, int64_t n, double* u, double* s, double* vt) {
  if (m == 0 || n == 0) return true;
  if (m < n) {
    // A^T = U' S V'^T, so A = V' S U'^T.
    std::vector<double> at(static_cast<size_t>(m * n));
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) at[j * m + i] = a[i * n + j];
    std::vector<double> ut(static_cast<size_t>(n * m)), vtt(static_cast<size_t>(m * m));
    if (!svd(at.data(), n, m, ut.data(), s, vtt.data())) return false;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < m; ++j) u[i * m + j] = vtt[j * m + i];
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) vt[i * n + j] = ut[j * m + i];
    return true;
  }
  // m >= n: A = Q R (Q m x n), then R = Ur S V^T and U = Q Ur.
  std::vector<double> q(static_cast<size_t>(m * n)), r(static_cast<size_t>(n * n));
  qr(a, m, n, q.data(), r.data());
  std::vector<double> g(static_cast<size_t>(n * n));  // R, column-major
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) g[j * n + i] = r[i * n + j];
  std::vector<double> ur(static_cast<size_t>(n * n));
  if (!jacobi_square(n, g, ur.data(), s, vt)) return false;
  for (int64_t i = 0; i < m; ++i) {
    double* ui = u + i * n;
    std::fill(ui, ui + n, 0.0);
    for (int64_t k = 0; k < n; ++k) {
      const double qik = q[i * n + k];
      const double* urk = ur.data() + k * n;
      for (int64_t j = 0; j < n; ++j) ui[j] += qik * urk[j];
    }
  }
  return true;
}

}  // namespace linalg
}  // namespace nbforge
