// Projection, retraction, multipliers and Hessian on St(d, r)^n and on the
// product of spheres; layout and conventions in slam.h. Everything is per
// block (d <= 3, r small), so each call is one pass over Yt.
#include <cmath>

#include "linalg/linalg.h"
#include "slam/slam.h"

namespace nbforge {
namespace slam {

namespace {

// Blocks are gathered into small row-major d x r buffers on the stack (r is at
// most a few tens), worked on there, and scattered back: one pass over each
// array, with the d x d algebra unrolled for the compile-time dimension D.
constexpr int64_t kMaxRank = 64;

template <int D>
struct Work {
  double a[D * kMaxRank], b[D * kMaxRank];
};

template <int D>
inline void gather(const double* p, int64_t stride, int64_t base, int64_t r, double* out) {
  for (int64_t c = 0; c < r; ++c)
    for (int a = 0; a < D; ++a) out[a * r + c] = p[c * stride + base + a];
}

template <int D>
inline void scatter(const double* in, int64_t stride, int64_t base, int64_t r, double* p) {
  for (int64_t c = 0; c < r; ++c)
    for (int a = 0; a < D; ++a) p[c * stride + base + a] = in[a * r + c];
}

template <int D>
inline double dot_block(const double* x, const double* y, int64_t r) {
  double acc = 0;
  for (int64_t k = 0; k < D * r; ++k) acc += x[k] * y[k];
  return acc;
}

// s = sym(W B^T) for row-major d x r blocks.
template <int D>
inline void sym_product(const double* w, const double* y, int64_t r, double s[D * D]) {
  double m[D * D];
  for (int a = 0; a < D; ++a)
    for (int e = 0; e < D; ++e) {
      double acc = 0;
      for (int64_t c = 0; c < r; ++c) acc += w[a * r + c] * y[e * r + c];
      m[a * D + e] = acc;
    }
  for (int a = 0; a < D; ++a)
    for (int e = 0; e < D; ++e) s[a * D + e] = 0.5 * (m[a * D + e] + m[e * D + a]);
}

// w = scale * (w - S y), in place.
template <int D>
inline void subtract_times(double* w, const double* s, const double* y, int64_t r, double scale) {
  for (int64_t c = 0; c < r; ++c) {
    double col[D];
    for (int a = 0; a < D; ++a) {
      double acc = w[a * r + c];
      for (int e = 0; e < D; ++e) acc -= s[a * D + e] * y[e * r + c];
      col[a] = acc;
    }
    for (int a = 0; a < D; ++a) w[a * r + c] = scale * col[a];
  }
}

// w = scale * P_Y(w), in place.
template <int D>
inline void project_local(Manifold m, double* w, const double* y, int64_t r, double scale) {
  double s[D * D] = {0};
  if (m == kStiefel) {
    sym_product<D>(w, y, r, s);
  } else {
    const double t = dot_block<D>(w, y, r);
    for (int a = 0; a < D; ++a) s[a * D + a] = t;
  }
  subtract_times<D>(w, s, y, r, scale);
}

template <int D>
void project_d(Manifold m, const double* y, const double* v, int64_t n, int64_t r, double scale,
               double* out) {
  Work<D> w;
  const int64_t N = n * D;
  for (int64_t i = 0; i < n; ++i) {
    gather<D>(v, N, i * D, r, w.a);
    gather<D>(y, N, i * D, r, w.b);
    project_local<D>(m, w.a, w.b, r, scale);
    scatter<D>(w.a, N, i * D, r, out);
  }
}

template <int D>
void retract_d(Manifold m, const double* y, const double* v, int64_t n, int64_t r, double* out) {
  Work<D> w;
  const int64_t N = n * D;
  for (int64_t i = 0; i < n; ++i) {
    gather<D>(y, N, i * D, r, w.a);
    gather<D>(v, N, i * D, r, w.b);
    for (int64_t k = 0; k < D * r; ++k) w.a[k] += w.b[k];
    if (m == kSphere) {
      const double norm = std::sqrt(dot_block<D>(w.a, w.a, r));
      for (int64_t k = 0; k < D * r; ++k) w.a[k] /= norm;
    } else {
      // Polar factor (A A^T)^{-1/2} A of A = Y_i + V_i: the closest matrix with
      // orthonormal rows, a second-order retraction.
      double g[D * D], ev[D], u[D * D], inv[D * D];
      for (int a = 0; a < D; ++a)
        for (int e = 0; e < D; ++e) {
          double acc = 0;
          for (int64_t c = 0; c < r; ++c) acc += w.a[a * r + c] * w.a[e * r + c];
          g[a * D + e] = acc;
        }
      linalg::eigh(g, D, ev, u);
      for (int a = 0; a < D; ++a)
        for (int e = 0; e < D; ++e) {
          double acc = 0;
          for (int k = 0; k < D; ++k) acc += u[a * D + k] * u[e * D + k] / std::sqrt(ev[k]);
          inv[a * D + e] = acc;
        }
      for (int64_t c = 0; c < r; ++c) {
        double col[D];
        for (int a = 0; a < D; ++a) {
          double acc = 0;
          for (int e = 0; e < D; ++e) acc += inv[a * D + e] * w.a[e * r + c];
          col[a] = acc;
        }
        for (int a = 0; a < D; ++a) w.a[a * r + c] = col[a];
      }
    }
    scatter<D>(w.a, N, i * D, r, out);
  }
}

template <int D>
void lambda_d(Manifold m, const double* y, const double* g, int64_t n, int64_t r, double* lambda) {
  Work<D> w;
  const int64_t N = n * D;
  for (int64_t i = 0; i < n; ++i) {
    gather<D>(y, N, i * D, r, w.a);
    gather<D>(g, N, i * D, r, w.b);
    double* s = lambda + i * D * D;
    if (m == kStiefel) {
      sym_product<D>(w.a, w.b, r, s);
    } else {
      const double t = dot_block<D>(w.a, w.b, r);
      for (int a = 0; a < D * D; ++a) s[a] = 0;
      for (int a = 0; a < D; ++a) s[a * D + a] = t;
    }
  }
}

template <int D>
void hessian_d(Manifold m, const double* y, const double* qv, const double* v,
               const double* lambda, int64_t n, int64_t r, double scale, double* out) {
  Work<D> w;
  double t[D * kMaxRank];
  const int64_t N = n * D;
  for (int64_t i = 0; i < n; ++i) {
    // out_i = scale * P_Y(QV_i - Λ_i V_i)
    gather<D>(qv, N, i * D, r, t);
    gather<D>(v, N, i * D, r, w.a);
    gather<D>(y, N, i * D, r, w.b);
    subtract_times<D>(t, lambda + i * D * D, w.a, r, 1.0);
    project_local<D>(m, t, w.b, r, scale);
    scatter<D>(t, N, i * D, r, out);
  }
}

}  // namespace

void project(Manifold m, const double* y, const double* v, int64_t n, int d, int64_t r,
             double scale, double* out) {
  if (d == 2) project_d<2>(m, y, v, n, r, scale, out);
  else project_d<3>(m, y, v, n, r, scale, out);
}

void retract(Manifold m, const double* y, const double* v, int64_t n, int d, int64_t r,
             double* out) {
  if (d == 2) retract_d<2>(m, y, v, n, r, out);
  else retract_d<3>(m, y, v, n, r, out);
}

void block_lambda(Manifold m, const double* y, const double* g, int64_t n, int d, int64_t r,
                  double* lambda) {
  if (d == 2) lambda_d<2>(m, y, g, n, r, lambda);
  else lambda_d<3>(m, y, g, n, r, lambda);
}

void hessian(Manifold m, const double* y, const double* qv, const double* v,
             const double* lambda, int64_t n, int d, int64_t r, double scale, double* out) {
  if (d == 2) hessian_d<2>(m, y, qv, v, lambda, n, r, scale, out);
  else hessian_d<3>(m, y, qv, v, lambda, n, r, scale, out);
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
