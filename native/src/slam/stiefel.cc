// Projection, retraction, multipliers and Hessian on St(d, r)^n and on the
// product of spheres; layout and conventions in slam.h. Everything is per
// block (d <= 3, r small), so each call is one pass over Yt.
#include <cmath>

#include "linalg/linalg.h"
#include "slam/slam.h"

namespace nbforge {
namespace slam {

namespace {

// Column stride and offset of block i: element (a, c) is at c * stride + base + a.
struct Block {
  int64_t stride, base;
  double at(const double* p, int a, int64_t c) const { return p[c * stride + base + a]; }
  double& at(double* p, int a, int64_t c) const { return p[c * stride + base + a]; }
};

// s = sym(W B^T) for d x r blocks W and B.
void sym_product(const Block& b, const double* w, const double* y, int d, int64_t r,
                 double s[9]) {
  double m[9];
  for (int a = 0; a < d; ++a)
    for (int e = 0; e < d; ++e) {
      double acc = 0;
      for (int64_t c = 0; c < r; ++c) acc += b.at(w, a, c) * b.at(y, e, c);
      m[a * d + e] = acc;
    }
  for (int a = 0; a < d; ++a)
    for (int e = 0; e < d; ++e) s[a * d + e] = 0.5 * (m[a * d + e] + m[e * d + a]);
}

double block_dot(const Block& b, const double* x, const double* y, int d, int64_t r) {
  double acc = 0;
  for (int64_t c = 0; c < r; ++c)
    for (int a = 0; a < d; ++a) acc += b.at(x, a, c) * b.at(y, a, c);
  return acc;
}

// out = scale * (W - S B) for a d x d S.
void subtract_times(const Block& b, const double* w, const double* s, const double* y, int d,
                    int64_t r, double scale, double* out) {
  for (int64_t c = 0; c < r; ++c)
    for (int a = 0; a < d; ++a) {
      double acc = b.at(w, a, c);
      for (int e = 0; e < d; ++e) acc -= s[a * d + e] * b.at(y, e, c);
      b.at(out, a, c) = scale * acc;
    }
}

void project_block(Manifold m, const Block& b, const double* y, const double* v, int d,
                   int64_t r, double scale, double* out) {
  double s[9] = {0};
  if (m == kStiefel) {
    sym_product(b, v, y, d, r, s);
  } else {
    const double t = block_dot(b, v, y, d, r);
    for (int a = 0; a < d; ++a) s[a * d + a] = t;
  }
  subtract_times(b, v, s, y, d, r, scale, out);
}

}  // namespace

void project(Manifold m, const double* y, const double* v, int64_t n, int d, int64_t r,
             double scale, double* out) {
  for (int64_t i = 0; i < n; ++i) project_block(m, Block{n * d, i * d}, y, v, d, r, scale, out);
}

void retract(Manifold m, const double* y, const double* v, int64_t n, int d, int64_t r,
             double* out) {
  for (int64_t i = 0; i < n; ++i) {
    const Block b{n * d, i * d};
    for (int64_t c = 0; c < r; ++c)
      for (int a = 0; a < d; ++a) b.at(out, a, c) = b.at(y, a, c) + b.at(v, a, c);
    if (m == kSphere) {
      const double norm = std::sqrt(block_dot(b, out, out, d, r));
      for (int64_t c = 0; c < r; ++c)
        for (int a = 0; a < d; ++a) b.at(out, a, c) /= norm;
      continue;
    }
    // Polar factor (A A^T)^{-1/2} A of A = Y_i + V_i: the closest matrix with
    // orthonormal rows, a second-order retraction.
    double g[9], w[3], u[9], inv[9], a_copy[27];
    for (int a = 0; a < d; ++a)
      for (int e = 0; e < d; ++e) {
        double acc = 0;
        for (int64_t c = 0; c < r; ++c) acc += b.at(out, a, c) * b.at(out, e, c);
        g[a * d + e] = acc;
      }
    linalg::eigh(g, d, w, u);
    for (int a = 0; a < d; ++a)
      for (int e = 0; e < d; ++e) {
        double acc = 0;
        for (int k = 0; k < d; ++k) acc += u[a * d + k] * u[e * d + k] / std::sqrt(w[k]);
        inv[a * d + e] = acc;
      }
    for (int64_t c = 0; c < r; ++c) {
      for (int a = 0; a < d; ++a) a_copy[a] = b.at(out, a, c);
      for (int a = 0; a < d; ++a) {
        double acc = 0;
        for (int e = 0; e < d; ++e) acc += inv[a * d + e] * a_copy[e];
        b.at(out, a, c) = acc;
      }
    }
  }
}

void block_lambda(Manifold m, const double* y, const double* g, int64_t n, int d, int64_t r,
                  double* lambda) {
  for (int64_t i = 0; i < n; ++i) {
    const Block b{n * d, i * d};
    double* s = lambda + i * d * d;
    if (m == kStiefel) {
      sym_product(b, y, g, d, r, s);
    } else {
      const double t = block_dot(b, y, g, d, r);
      for (int a = 0; a < d * d; ++a) s[a] = 0;
      for (int a = 0; a < d; ++a) s[a * d + a] = t;
    }
  }
}

void hessian(Manifold m, const double* y, const double* qv, const double* v,
             const double* lambda, int64_t n, int d, int64_t r, double scale, double* out) {
  for (int64_t i = 0; i < n; ++i) {
    const Block b{n * d, i * d};
    // out_i = QV_i - Λ_i V_i, then projected in place.
    subtract_times(b, qv, lambda + i * d * d, v, d, r, 1.0, out);
    project_block(m, b, y, out, d, r, scale, out);
  }
}

void block_apply(const double* lambda, const double* v, int64_t n, int d, int64_t k, double* out) {
  const int64_t N = n * d;
  for (int64_t c = 0; c < k; ++c)
    for (int64_t i = 0; i < n; ++i) {
      const double* l = lambda + i * d * d;
      const double* x = v + c * N + i * d;
      double* y = out + c * N + i * d;
      for (int a = 0; a < d; ++a) {
        double acc = 0;
        for (int b = 0; b < d; ++b) acc += l[a * d + b] * x[b];
        y[a] = acc;
      }
    }
}

}  // namespace slam
}  // namespace nbforge
