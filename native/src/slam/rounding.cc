// Rounding a relaxed solution back to rotations (SE-Sync Algorithm 2, and
// CPL-SLAM's rounding for the complex relaxation), and the complex lift.
#include <cmath>
#include <vector>

#include "linalg/linalg.h"
#include "slam/slam.h"

namespace nbforge {
namespace slam {

namespace {

double det(const double* m, int d) {
  if (d == 2) return m[0] * m[3] - m[1] * m[2];
  return m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) +
         m[2] * (m[3] * m[7] - m[4] * m[6]);
}

// The closest rotation to M (d x d): U diag(1, .., det(U V^T)) V^T.
bool project_to_so(double* m, int d) {
  double u[9], s[3], vt[9];
  if (!linalg::svd(m, d, d, u, s, vt)) return false;
  double uv[9];
  for (int a = 0; a < d; ++a)
    for (int e = 0; e < d; ++e) {
      double acc = 0;
      for (int k = 0; k < d; ++k) acc += u[a * d + k] * vt[k * d + e];
      uv[a * d + e] = acc;
    }
  if (det(uv, d) < 0) {
    for (int a = 0; a < d; ++a) u[a * d + d - 1] = -u[a * d + d - 1];
  }
  for (int a = 0; a < d; ++a)
    for (int e = 0; e < d; ++e) {
      double acc = 0;
      for (int k = 0; k < d; ++k) acc += u[a * d + k] * vt[k * d + e];
      m[a * d + e] = acc;
    }
  return true;
}

}  // namespace

bool round_stiefel(const double* y, int64_t n, int d, int64_t r, double* rotations) {
  const int64_t N = n * d;
  // Y Y^T (r x r) = Yt^T Yt; its top-d eigenvectors span Y's top-d left singular
  // subspace, so U^T Y is Σ_d V_d^T, the rank-d truncation up to a rotation.
  std::vector<double> gram(r * r), w(r), vec(r * r);
  for (int64_t p = 0; p < r; ++p)
    for (int64_t q = p; q < r; ++q) {
      double acc = 0;
      const double* a = y + p * N;
      const double* b = y + q * N;
      for (int64_t k = 0; k < N; ++k) acc += a[k] * b[k];
      gram[p * r + q] = gram[q * r + p] = acc;
    }
  if (!linalg::eigh(gram.data(), r, w.data(), vec.data())) return false;
  int64_t positive = 0;
  for (int64_t i = 0; i < n; ++i) {
    double* rot = rotations + i * d * d;
    // R_i[a][e] = sum_c U[c][a] Y_i[c][e], with U the top-d eigenvectors (descending).
    for (int a = 0; a < d; ++a)
      for (int e = 0; e < d; ++e) {
        double acc = 0;
        const int64_t col = r - 1 - a;
        for (int64_t c = 0; c < r; ++c) acc += vec[c * r + col] * y[c * N + i * d + e];
        rot[a * d + e] = acc;
      }
    if (det(rot, d) > 0) ++positive;
  }
  // The truncation is determined up to O(d); pick the reflection class in
  // which most blocks are already rotations (SE-Sync's sign fix).
  const bool flip = 2 * positive < n;
  for (int64_t i = 0; i < n; ++i) {
    double* rot = rotations + i * d * d;
    if (flip)
      for (int e = 0; e < d; ++e) rot[(d - 1) * d + e] = -rot[(d - 1) * d + e];
    if (!project_to_so(rot, d)) return false;
  }
  return true;
}

bool round_sphere(const double* y, int64_t n, int64_t r, double* rotations) {
  const int64_t N = 2 * n;
  // Row i of the complex n x r matrix is a + i b (a = block row 0, b = row 1).
  // x^T v for v = p + i q is (a.p - b.q) + i (a.q + b.p): the real 2 x 2r block
  // [a -b; b a] acting on (p, q). Its Gram sum's top eigenvector is the complex
  // top right singular vector (up to a phase, a global gauge).
  const int64_t m = 2 * r;
  std::vector<double> gram(m * m, 0.0), w(m), vec(m * m), row0(m), row1(m);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t c = 0; c < r; ++c) {
      const double a = y[c * N + 2 * i], b = y[c * N + 2 * i + 1];
      row0[c] = a, row0[r + c] = -b;
      row1[c] = b, row1[r + c] = a;
    }
    for (int64_t p = 0; p < m; ++p)
      for (int64_t q = 0; q < m; ++q) gram[p * m + q] += row0[p] * row0[q] + row1[p] * row1[q];
  }
  if (!linalg::eigh(gram.data(), m, w.data(), vec.data())) return false;
  const int64_t top = m - 1;
  for (int64_t i = 0; i < n; ++i) {
    double re = 0, im = 0;
    for (int64_t c = 0; c < r; ++c) {
      const double a = y[c * N + 2 * i], b = y[c * N + 2 * i + 1];
      const double p = vec[c * m + top], q = vec[(r + c) * m + top];
      re += a * p - b * q;
      im += a * q + b * p;
    }
    const double norm = std::hypot(re, im);
    if (norm > 0) re /= norm, im /= norm;
    else re = 1, im = 0;
    double* rot = rotations + i * 4;
    rot[0] = re, rot[1] = -im, rot[2] = im, rot[3] = re;
  }
  return true;
}

void complex_lift(const double* x, int64_t n, int64_t r, double* z) {
  const int64_t N = 2 * n;
  for (int64_t c = 0; c < r; ++c)
    for (int64_t i = 0; i < n; ++i) {
      const double u0 = x[c * N + 2 * i], u1 = x[c * N + 2 * i + 1];
      // Column (c, s) of Z, block i, row a: (M_a u)[s] with M_0 = I, M_1 = J.
      double* z0 = z + (2 * c) * N + 2 * i;
      double* z1 = z + (2 * c + 1) * N + 2 * i;
      z0[0] = u0, z0[1] = -u1;
      z1[0] = u1, z1[1] = u0;
    }
}

void complex_lift_adjoint(const double* z, int64_t n, int64_t r, double* x) {
  const int64_t N = 2 * n;
  for (int64_t c = 0; c < r; ++c)
    for (int64_t i = 0; i < n; ++i) {
      const double* z0 = z + (2 * c) * N + 2 * i;
      const double* z1 = z + (2 * c + 1) * N + 2 * i;
      x[c * N + 2 * i] = z0[0] + z1[1];
      x[c * N + 2 * i + 1] = z1[0] - z0[1];
    }
}

}  // namespace slam
}  // namespace nbforge
