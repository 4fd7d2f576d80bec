// Symmetric eigendecomposition: Householder tridiagonalisation (GVL §8.3.1)
// followed by the implicit QL iteration with Wilkinson-style shifts (GVL §8.3.3),
// as in the EISPACK routines tred2 and tql2 (Bowdler, Martin, Reinsch and
// Wilkinson; the form below follows their translation in JAMA).
//
// The eigenvector matrix V is kept column-major (V(r, c) = w[c * n + r]) so that
// the Givens rotations of the QL sweep and most Householder updates touch
// contiguous memory; it is transposed into the row-major output at the end.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "linalg/linalg.h"

namespace nbforge {
namespace linalg {
namespace {

// Householder reduction to tridiagonal form: on return V holds the orthogonal
// transformation, d the diagonal and e[1..n-1] the subdiagonal.
void tridiagonalize(int64_t n, double* w, double* d, double* e) {
  auto V = [&](int64_t r, int64_t c) -> double& { return w[c * n + r]; };
  for (int64_t j = 0; j < n; ++j) d[j] = V(n - 1, j);
  for (int64_t i = n - 1; i > 0; --i) {
    // Scale to avoid under/overflow.
    double scale = 0.0, h = 0.0;
    for (int64_t k = 0; k < i; ++k) scale += std::fabs(d[k]);
    if (scale == 0.0) {
      e[i] = d[i - 1];
      for (int64_t j = 0; j < i; ++j) {
        d[j] = V(i - 1, j);
        V(i, j) = 0.0;
        V(j, i) = 0.0;
      }
    } else {
      // Generate the Householder vector.
      for (int64_t k = 0; k < i; ++k) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      double f = d[i - 1];
      double g = std::sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (int64_t j = 0; j < i; ++j) e[j] = 0.0;
      // Apply the similarity transformation to the remaining columns.
      for (int64_t j = 0; j < i; ++j) {
        f = d[j];
        V(j, i) = f;
        g = e[j] + V(j, j) * f;
        for (int64_t k = j + 1; k <= i - 1; ++k) {
          g += V(k, j) * d[k];
          e[k] += V(k, j) * f;
        }
        e[j] = g;
      }
      f = 0.0;
      for (int64_t j = 0; j < i; ++j) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const double hh = f / (h + h);
      for (int64_t j = 0; j < i; ++j) e[j] -= hh * d[j];
      for (int64_t j = 0; j < i; ++j) {
        f = d[j];
        g = e[j];
        for (int64_t k = j; k <= i - 1; ++k) V(k, j) -= (f * e[k] + g * d[k]);
        d[j] = V(i - 1, j);
        V(i, j) = 0.0;
      }
    }
    d[i] = h;
  }
  // Accumulate the transformations.
  for (int64_t i = 0; i < n - 1; ++i) {
    V(n - 1, i) = V(i, i);
    V(i, i) = 1.0;
    const double h = d[i + 1];
    if (h != 0.0) {
      for (int64_t k = 0; k <= i; ++k) d[k] = V(k, i + 1) / h;
      for (int64_t j = 0; j <= i; ++j) {
        double g = 0.0;
        for (int64_t k = 0; k <= i; ++k) g += V(k, i + 1) * V(k, j);
        for (int64_t k = 0; k <= i; ++k) V(k, j) -= g * d[k];
      }
    }
    for (int64_t k = 0; k <= i; ++k) V(k, i + 1) = 0.0;
  }
  for (int64_t j = 0; j < n; ++j) {
    d[j] = V(n - 1, j);
    V(n - 1, j) = 0.0;
  }
  V(n - 1, n - 1) = 1.0;
  e[0] = 0.0;
}

// Implicit QL iteration on the tridiagonal (d, e), accumulating into V.
bool tridiagonal_ql(int64_t n, double* w, double* d, double* e) {
  for (int64_t i = 1; i < n; ++i) e[i - 1] = e[i];
  e[n - 1] = 0.0;
  double f = 0.0, tst1 = 0.0;
  const double eps = std::ldexp(1.0, -52);
  for (int64_t l = 0; l < n; ++l) {
    // Find a small subdiagonal element.
    tst1 = std::max(tst1, std::fabs(d[l]) + std::fabs(e[l]));
    int64_t m = l;
    while (m < n - 1 && std::fabs(e[m]) > eps * tst1) ++m;
    // If m == l, d[l] is already an eigenvalue; otherwise iterate.
    if (m > l) {
      int iterations = 0;
      do {
        if (++iterations > 60) return false;
        // Compute the implicit shift.
        double g = d[l];
        double p = (d[l + 1] - g) / (2.0 * e[l]);
        double r = std::hypot(p, 1.0);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const double dl1 = d[l + 1];
        double h = g - d[l];
        for (int64_t i = l + 2; i < n; ++i) d[i] -= h;
        f += h;
        // Implicit QL transformation.
        p = d[m];
        double c = 1.0, c2 = c, c3 = c, s = 0.0, s2 = 0.0;
        const double el1 = e[l + 1];
        for (int64_t i = m - 1; i >= l; --i) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = std::hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          // Accumulate the rotation into columns i and i+1 of V.
          double* vi = w + i * n;
          double* vi1 = w + (i + 1) * n;
          for (int64_t k = 0; k < n; ++k) {
            h = vi1[k];
            vi1[k] = s * vi[k] + c * h;
            vi[k] = c * vi[k] - s * h;
          }
        }
        p = -s * s2 * c3 * el1 * e[l] / dl1;
        e[l] = s * p;
        d[l] = c * p;
        // Check for convergence.
      } while (std::fabs(e[l]) > eps * tst1);
    }
    d[l] += f;
    e[l] = 0.0;
  }
  return true;
}

}  // namespace

bool eigh(const double* a, int64_t n, double* w_out, double* v_out) {
  if (n == 0) return true;
  // Column-major copy of the symmetric matrix, filled from the lower triangle
  // (column-major storage of the symmetric A is A itself).
  std::vector<double> w(static_cast<size_t>(n * n));
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c <= r; ++c) w[c * n + r] = w[r * n + c] = a[r * n + c];
  std::vector<double> d(n), e(n);
  tridiagonalize(n, w.data(), d.data(), e.data());
  if (!tridiagonal_ql(n, w.data(), d.data(), e.data())) return false;
  // Sort ascending, carrying the eigenvectors along.
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) { return d[x] < d[y]; });
  for (int64_t j = 0; j < n; ++j) {
    const int64_t src = order[j];
    w_out[j] = d[src];
    for (int64_t r = 0; r < n; ++r) v_out[r * n + j] = w[src * n + r];
  }
  return true;
}

}  // namespace linalg
}  // namespace nbforge
