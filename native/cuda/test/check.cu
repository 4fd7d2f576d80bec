// Standalone check of libnbforge_cuda.so (no Node): every kernel against a CPU
// reference in double precision on seeded random inputs, then a timing table
// (GB/s for memory-bound kernels, TFLOP/s for SGEMM), with PyTorch's time for
// the same op where check.sh measured it (file named by $NBF_TORCH_TIMES).
//
//   nbf_cuda_check           # checks + timings; exit 1 on any mismatch, 3 without a GPU
//   nbf_cuda_check --probe   # exit 0 with a GPU, 3 without
//   nbf_cuda_check --quick   # checks only, no timings
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "nbforge_cuda.h"

namespace {

int g_failures = 0;
int g_checks = 0;

#define NBF_OK(call)                                                                           \
  do {                                                                                         \
    const int rc_ = (call);                                                                    \
    if (rc_ != 0) {                                                                            \
      std::fprintf(stderr, "FATAL %s:%d: %s -> %d: %s\n", __FILE__, __LINE__, #call, rc_,      \
                   nbf_cuda_error_string());                                                   \
      std::exit(1);                                                                            \
    }                                                                                          \
  } while (0)

// Seeded xorshift64*, so a failure reproduces exactly.
struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ULL + 1) {}
  double uniform() {  // [0, 1)
    s ^= s >> 12; s ^= s << 25; s ^= s >> 27;
    return double((s * 0x2545F4914F6CDD1DULL) >> 11) * (1.0 / 9007199254740992.0);
  }
  float range(double lo, double hi) { return float(lo + (hi - lo) * uniform()); }
};

std::vector<float> random_vec(size_t n, double lo, double hi, uint64_t seed) {
  Rng r(seed);
  std::vector<float> v(n);
  for (auto& x : v) x = r.range(lo, hi);
  return v;
}

struct Dev {
  float* p = nullptr;
  size_t n = 0;
  explicit Dev(size_t count) : n(count) { NBF_OK(nbf_cuda_malloc(reinterpret_cast<void**>(&p), count * 4)); }
  Dev(const std::vector<float>& h) : Dev(h.size()) { NBF_OK(nbf_cuda_memcpy(p, h.data(), n * 4, 0)); }
  ~Dev() { nbf_cuda_free(p); }
  std::vector<float> get() const {
    std::vector<float> h(n);
    NBF_OK(nbf_cuda_memcpy(h.data(), p, n * 4, 1));
    return h;
  }
  Dev(const Dev&) = delete;
  Dev& operator=(const Dev&) = delete;
};

// err = max_i |got_i - ref_i| / (scale_i + floor); scale defaults to |ref_i|.
// NaN in ref must be NaN in got at the same place.
void report(const std::string& name, const std::vector<float>& got, const std::vector<double>& ref, double tol,
            double floor = 1e-30, const std::vector<double>* scale = nullptr) {
  double worst = 0;
  size_t at = 0;
  bool nan_mismatch = false;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double g = got[i], r = ref[i];
    if (std::isnan(r) || std::isnan(g)) {
      if (std::isnan(r) != std::isnan(g)) { nan_mismatch = true; at = i; }
      continue;
    }
    if (std::isinf(r) || std::isinf(g)) {
      if (r != g) { nan_mismatch = true; at = i; }
      continue;
    }
    const double s = (scale ? (*scale)[i] : std::fabs(r)) + floor;
    const double e = std::fabs(g - r) / s;
    if (e > worst) { worst = e; at = i; }
  }
  const bool ok = !nan_mismatch && worst <= tol;
  ++g_checks;
  if (!ok) ++g_failures;
  std::printf("  %-4s %-46s err %.2e (tol %.0e)", ok ? "ok" : "FAIL", name.c_str(), worst, tol);
  if (!ok) std::printf("  at %zu: got %.9g want %.9g%s", at, double(got[at]), ref[at], nan_mismatch ? " (NaN/inf)" : "");
  std::printf("\n");
}

// ---- CPU references (double) ----
double ref_binary(int op, double x, double y) {
  switch (op) {
    case 0: return x + y;
    case 1: return x - y;
    case 2: return x * y;
    case 3: return x / y;
    case 4: return std::pow(x, y);
    case 5: return (x != x || x > y) ? x : y;
    case 6: return (x != x || x < y) ? x : y;
    case 7: return x == y;
    case 8: return x != y;
    case 9: return x < y;
    case 10: return x <= y;
    case 11: return x > y;
    case 12: return x >= y;
  }
  return 0;
}
double sig(double x) { return 1.0 / (1.0 + std::exp(-x)); }
const double kT = 0.7978845608028654, kE = 0.7071067811865476, kP = 0.3989422804014327;
double ref_unary(int op, double v) {
  switch (op) {
    case 0: return -v;
    case 1: return std::exp(v);
    case 2: return std::log(v);
    case 3: return std::sqrt(v);
    case 4: return 1.0 / std::sqrt(v);
    case 5: return std::tanh(v);
    case 6: return sig(v);
    case 7: return v > 0 ? v : (v != v ? v : 0.0);
    case 8: return 0.5 * v * (1 + std::tanh(kT * (v + 0.044715 * v * v * v)));
    case 9: return 0.5 * v * (1 + std::erf(v * kE));
    case 10: return v * sig(v);
    case 11: return std::fabs(v);
  }
  return 0;
}
double ref_unary_grad(int op, double v) {  // d op / dx
  switch (op) {
    case 0: return -1;
    case 1: return std::exp(v);
    case 2: return 1 / v;
    case 3: return 0.5 / std::sqrt(v);
    case 4: return -0.5 * std::pow(v, -1.5);
    case 5: { const double t = std::tanh(v); return 1 - t * t; }
    case 6: { const double s = sig(v); return s * (1 - s); }
    case 7: return v > 0 ? 1 : 0;
    case 8: {
      const double t = std::tanh(kT * (v + 0.044715 * v * v * v));
      return 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * kT * (1 + 3 * 0.044715 * v * v);
    }
    case 9: return 0.5 * (1 + std::erf(v * kE)) + v * kP * std::exp(-0.5 * v * v);
    case 10: { const double s = sig(v); return s * (1 + v * (1 - s)); }
    case 11: return v > 0 ? 1 : (v < 0 ? -1 : 0);
  }
  return 0;
}
const char* kUnaryNames[] = {"neg", "exp", "log", "sqrt", "rsqrt", "tanh", "sigmoid", "relu", "gelu_tanh", "gelu_erf", "silu", "abs"};
const char* kBinaryNames[] = {"add", "sub", "mul", "div", "pow", "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge"};

// ---- checks ----
void check_binary() {
  std::printf("binary (broadcasting)\n");
  struct Case { std::vector<int64_t> shape, sa, sb; size_t na, nb; const char* what; };
  const std::vector<Case> cases = {
      {{100003}, {1}, {1}, 100003, 100003, "[100003] + [100003]"},
      {{64, 33, 257}, {257, 0, 1}, {0, 257, 1}, 64 * 257, 33 * 257, "[64,1,257] + [1,33,257]"},
      {{513, 77}, {1, 513}, {0, 0}, 513 * 77, 1, "[77,513]^T + scalar"},
      {{3, 1, 5}, {5, 5, 1}, {1, 0, 0}, 15, 3, "[3,1,5] + [3,1,1]"},
  };
  for (int op = 0; op <= 12; ++op) {
    for (size_t c = 0; c < cases.size(); ++c) {
      const Case& k = cases[c];
      const bool positive = op == 4;
      auto a = random_vec(k.na, positive ? 0.1 : -3, 3, 11 + op * 31 + c);
      auto b = random_vec(k.nb, positive ? -2 : -3, positive ? 2 : 3, 97 + op * 31 + c);
      if (op == 3) for (auto& v : b) v = (v < 0 ? -0.5f : 0.5f) + v;  // |b| >= 0.5
      if (op >= 7) for (size_t i = 0; i < b.size(); ++i) b[i] = std::round(b[i]), a[i % a.size()] = std::round(a[i % a.size()]);
      if (op == 5 || op == 6) a[0] = NAN;  // NaN propagates
      int64_t n = 1;
      for (auto s : k.shape) n *= s;
      Dev da(a), db(b), dout(static_cast<size_t>(n));
      NBF_OK(nbf_cuda_binary_f32(op, int(k.shape.size()), k.shape.data(), da.p, k.sa.data(), db.p, k.sb.data(), dout.p));
      std::vector<double> ref(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) {
        int64_t rem = i, ia = 0, ib = 0;
        for (int d = int(k.shape.size()) - 1; d >= 0; --d) {
          const int64_t cc = rem % k.shape[d];
          rem /= k.shape[d];
          ia += cc * k.sa[d];
          ib += cc * k.sb[d];
        }
        // Reference from float inputs, as the kernels see them.
        ref[size_t(i)] = double(float(ref_binary(op, double(a[size_t(ia)]), double(b[size_t(ib)]))));
      }
      if (op >= 7) {  // comparisons: exact
        report(std::string(kBinaryNames[op]) + " " + k.what, dout.get(), ref, 0.0, 1.0);
      } else {
        report(std::string(kBinaryNames[op]) + " " + k.what, dout.get(), ref, op == 4 ? 4e-6 : 1e-6, 1e-30);
      }
      if (c > 1 && op > 3) break;  // full case list for add/sub/mul/div, two cases for the rest
    }
  }
  // The same-shape shortcuts, at a length that is not a multiple of 4, misaligned by one element.
  const size_t n = 1000001;
  auto a = random_vec(n + 1, -3, 3, 5), b = random_vec(n + 1, 0.5, 3, 6);
  Dev da(a), db(b), dout(n + 1);
  int (*fns[4])(const float*, const float*, float*, int64_t) = {nbf_cuda_add_f32, nbf_cuda_sub_f32, nbf_cuda_mul_f32, nbf_cuda_div_f32};
  for (int op = 0; op < 4; ++op) {
    for (int off = 0; off < 2; ++off) {
      NBF_OK(fns[op](da.p + off, db.p + off, dout.p + off, int64_t(n)));
      auto got = dout.get();
      std::vector<float> g(got.begin() + off, got.begin() + off + long(n));
      std::vector<double> ref(n);
      for (size_t i = 0; i < n; ++i) ref[i] = double(float(ref_binary(op, a[i + off], b[i + off])));
      report(std::string("nbf_cuda_") + kBinaryNames[op] + "_f32 n=1000001" + (off ? " offset 1" : ""), g, ref, 1e-6);
    }
  }
}

void check_unary() {
  std::printf("unary and backward\n");
  const size_t n = 1 << 20;
  for (int op = 0; op <= 11; ++op) {
    const bool positive = op >= 2 && op <= 4;
    auto x = random_vec(n, positive ? 0.01 : -6, positive ? 8 : 6, 1000 + op);
    auto gy = random_vec(n, -1, 1, 2000 + op);
    if (op == 7 || op == 11) x[5] = 0.0f;
    Dev dx(x), dy(n), dgy(gy), dgx(n);
    NBF_OK(nbf_cuda_unary_f32(op, dx.p, dy.p, int64_t(n)));
    auto y = dy.get();
    std::vector<double> ref(n), scale(n), gref(n), gscale(n);
    for (size_t i = 0; i < n; ++i) {
      ref[i] = ref_unary(op, x[i]);
      // float32 1 + tanh(z) / 1 + erf(z) cancel for x << 0: gelu is accurate to ~|x| ulp(1), not to |gelu(x)|.
      const double cancel = (op == 8 || op == 9) ? 0.1 * std::fabs(double(x[i])) : 0.0;
      scale[i] = std::fabs(ref[i]) + cancel;
      gref[i] = double(gy[i]) * ref_unary_grad(op, x[i]);
      gscale[i] = std::fabs(gref[i]) + std::fabs(double(gy[i])) * (0.05 + 0.1 * std::fabs(double(x[i])));
    }
    report(std::string(kUnaryNames[op]) + " [1M]", y, ref, 4e-6, 1e-6, &scale);
    NBF_OK(nbf_cuda_unary_backward_f32(op, dx.p, dy.p, dgy.p, dgx.p, int64_t(n)));
    report(std::string(kUnaryNames[op]) + " backward [1M]", dgx.get(), gref, 2e-5, 1e-6, &gscale);
  }
}

void check_rows() {
  std::printf("softmax, reductions, norms (rows x n)\n");
  const std::vector<std::pair<int64_t, int64_t>> shapes = {{7, 1}, {33, 7}, {64, 768}, {16, 4099}, {4, 50257}};
  for (auto [rows, n] : shapes) {
    const size_t total = size_t(rows * n);
    auto x = random_vec(total, -10, 10, uint64_t(rows * 7 + n));
    auto gy = random_vec(total, -1, 1, uint64_t(rows * 5 + n));
    const std::string shape = "[" + std::to_string(rows) + "," + std::to_string(n) + "]";
    Dev dx(x), dy(total), dgy(gy), dgx(total);
    for (int log = 0; log < 2; ++log) {
      NBF_OK(nbf_cuda_softmax_f32(log, dx.p, dy.p, rows, n));
      auto y = dy.get();
      std::vector<double> ref(total), gref(total), gscale(total);
      for (int64_t r = 0; r < rows; ++r) {
        const float* xr = x.data() + r * n;
        double m = xr[0];
        for (int64_t i = 0; i < n; ++i) m = std::max(m, double(xr[i]));
        double s = 0;
        for (int64_t i = 0; i < n; ++i) s += std::exp(xr[i] - m);
        double dot = 0, gsum = 0;
        for (int64_t i = 0; i < n; ++i) {
          const double p = std::exp(xr[i] - m) / s;
          ref[size_t(r * n + i)] = log ? (xr[i] - m - std::log(s)) : p;
          dot += double(gy[size_t(r * n + i)]) * p;
          gsum += gy[size_t(r * n + i)];
        }
        for (int64_t i = 0; i < n; ++i) {
          const size_t k = size_t(r * n + i);
          const double p = std::exp(xr[i] - m) / s;
          gref[k] = log ? gy[k] - p * gsum : p * (gy[k] - dot);
          gscale[k] = log ? std::fabs(gy[k]) + p * std::fabs(gsum) + 1e-3 : p * (std::fabs(gy[k]) + 1);
        }
      }
      // log_softmax: relative to |ref| + 1; softmax: relative to p.
      report(std::string(log ? "log_softmax " : "softmax ") + shape, y, ref, log ? 2e-6 : 1e-5, log ? 1.0 : 1e-30);
      NBF_OK(nbf_cuda_softmax_backward_f32(log, dy.p, dgy.p, dgx.p, rows, n));
      report(std::string(log ? "log_softmax backward " : "softmax backward ") + shape, dgx.get(), gref, 1e-5, 1e-30, &gscale);
    }
    Dev dr(static_cast<size_t>(rows));
    const char* names[] = {"sum", "mean", "max"};
    for (int op = 0; op < 3; ++op) {
      NBF_OK(nbf_cuda_reduce_last_f32(op, dx.p, dr.p, rows, n));
      std::vector<double> ref(static_cast<size_t>(rows)), scale(static_cast<size_t>(rows));
      for (int64_t r = 0; r < rows; ++r) {
        double s = 0, a = 0, m = -INFINITY;
        for (int64_t i = 0; i < n; ++i) {
          const double v = x[size_t(r * n + i)];
          s += v; a += std::fabs(v); m = std::max(m, v);
        }
        ref[size_t(r)] = op == 2 ? m : (op == 1 ? s / double(n) : s);
        scale[size_t(r)] = op == 2 ? std::fabs(m) : (op == 1 ? a / double(n) : a);
      }
      // Sums relative to sum |x| (cancellation makes |sum| meaningless as a scale).
      report(std::string(names[op]) + " " + shape, dr.get(), ref, op == 2 ? 0.0 : 1e-6, 1e-30, &scale);
    }
    // NaN propagates through max.
    if (n > 3) {
      auto xn = x;
      xn[size_t(n / 2)] = NAN;
      Dev dxn(xn);
      NBF_OK(nbf_cuda_reduce_last_f32(2, dxn.p, dr.p, rows, n));
      const float first = dr.get()[0];
      ++g_checks;
      if (!std::isnan(first)) { ++g_failures; std::printf("  FAIL max %s: NaN in row 0 did not propagate\n", shape.c_str()); }
      else std::printf("  ok   max %s with NaN in row 0 -> NaN\n", shape.c_str());
    }
    auto w = random_vec(static_cast<size_t>(n), 0.5, 1.5, 77), b = random_vec(static_cast<size_t>(n), -1, 1, 78);
    Dev dw(w), db(b), dmean(static_cast<size_t>(rows)), drstd(static_cast<size_t>(rows));
    for (int rms = 0; rms < 2; ++rms) {
      for (int affine = 0; affine < 2; ++affine) {
        const double eps = 1e-5;
        NBF_OK(nbf_cuda_norm_f32(rms, dx.p, affine ? dw.p : nullptr, affine ? db.p : nullptr, dy.p, dmean.p, drstd.p, rows, n, eps));
        std::vector<double> ref(total), scale(total), mref(static_cast<size_t>(rows)), rref(static_cast<size_t>(rows));
        for (int64_t r = 0; r < rows; ++r) {
          const float* xr = x.data() + r * n;
          double m = 0;
          if (!rms) { for (int64_t i = 0; i < n; ++i) m += xr[i]; m /= double(n); }
          double q = 0;
          for (int64_t i = 0; i < n; ++i) q += (xr[i] - m) * (xr[i] - m);
          const double rs = 1.0 / std::sqrt(q / double(n) + eps);
          mref[size_t(r)] = m;
          rref[size_t(r)] = rs;
          for (int64_t i = 0; i < n; ++i) {
            const double xh = (xr[i] - m) * rs;
            const size_t k = size_t(r * n + i);
            ref[k] = affine ? xh * w[size_t(i)] + b[size_t(i)] : xh;
            scale[k] = affine ? std::fabs(xh * w[size_t(i)]) + std::fabs(b[size_t(i)]) + 1 : std::fabs(xh) + 1;
          }
        }
        const std::string nm = std::string(rms ? "rms_norm" : "layer_norm") + (affine ? " w,b " : " ") + shape;
        report(nm, dy.get(), ref, 2e-6, 1e-30, &scale);
        report(nm + " rstd", drstd.get(), rref, 2e-6);
      }
    }
  }
}

// C = alpha op(A) op(B) + beta C, row-major; checks all entries, or `samples` random ones.
void check_gemm_case(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha, float beta, bool tiled,
                     size_t samples) {
  const int64_t lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 1, ldc = n + 2;
  auto a = random_vec(static_cast<size_t>((ta ? k : m) * lda), -1, 1, uint64_t(m + 3 * k));
  auto b = random_vec(static_cast<size_t>((tb ? n : k) * ldb), -1, 1, uint64_t(n + 5 * k));
  auto c = random_vec(static_cast<size_t>(m * ldc), -1, 1, uint64_t(m + n));
  Dev da(a), db(b), dc(c);
  if (tiled) NBF_OK(nbf_cuda_sgemm_tiled(ta, tb, m, n, k, alpha, da.p, lda, db.p, ldb, beta, dc.p, ldc));
  else NBF_OK(nbf_cuda_sgemm(ta, tb, m, n, k, alpha, da.p, lda, db.p, ldb, beta, dc.p, ldc));
  auto got = dc.get();
  Rng pick(uint64_t(m * n + k));
  const bool all = samples == 0 || size_t(m * n) <= samples;
  const size_t count = all ? size_t(m * n) : samples;
  std::vector<float> g(count);
  std::vector<double> ref(count), scale(count);
  for (size_t s = 0; s < count; ++s) {
    const int64_t idx = all ? int64_t(s) : int64_t(pick.uniform() * double(m * n));
    const int64_t i = idx / n, j = idx % n;
    double acc = 0, mag = 0;
    for (int64_t p = 0; p < k; ++p) {
      const double av = ta ? a[size_t(p * lda + i)] : a[size_t(i * lda + p)];
      const double bv = tb ? b[size_t(j * ldb + p)] : b[size_t(p * ldb + j)];
      acc += av * bv;
      mag += std::fabs(av * bv);
    }
    const double cv = c[size_t(i * ldc + j)];
    ref[s] = alpha * acc + (beta == 0 ? 0.0 : beta * cv);
    scale[s] = std::fabs(alpha) * mag + std::fabs(beta * cv);
    g[s] = got[size_t(i * ldc + j)];
  }
  char name[160];
  std::snprintf(name, sizeof name, "sgemm %s %s%s m=%lld n=%lld k=%lld a=%.1f b=%.1f%s", tiled ? "tiled" : "cublas",
                ta ? "T" : "N", tb ? "T" : "N", (long long)m, (long long)n, (long long)k, alpha, beta, all ? "" : " (sampled)");
  // Relative to sum |a_ip b_pj|: the bound any summation order meets.
  report(name, g, ref, 2e-6 * std::max(1.0, std::sqrt(double(k)) / 8), 1e-30, &scale);
}

void check_gemm() {
  std::printf("sgemm (cuBLAS %s)\n", nbf_cuda_gemm_backend() ? "found" : "not found: nbf_cuda_sgemm uses the tiled kernel");
  const bool have_cublas = nbf_cuda_gemm_backend() == 1;
  for (int tiled = 1; tiled >= (have_cublas ? 0 : 1); --tiled) {
    for (int ta = 0; ta < 2; ++ta)
      for (int tb = 0; tb < 2; ++tb) {
        check_gemm_case(ta, tb, 67, 45, 129, 1.0f, 0.0f, tiled, 0);
        check_gemm_case(ta, tb, 256, 384, 64, 0.5f, 2.0f, tiled, 0);
        check_gemm_case(ta, tb, 1, 300, 1000, 1.0f, 1.0f, tiled, 0);
      }
    check_gemm_case(0, 0, 5, 7, 0, 1.0f, 0.5f, tiled, 0);  // k = 0: C = beta C
    check_gemm_case(0, 0, 1000, 1001, 999, 1.0f, 0.0f, tiled, 4096);
  }
}

// ---- timing ----
std::map<std::string, double> torch_times() {
  std::map<std::string, double> t;
  const char* path = std::getenv("NBF_TORCH_TIMES");
  if (path == nullptr) return t;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const size_t tab = line.find('\t');
    if (tab != std::string::npos) t[line.substr(0, tab)] = std::atof(line.c_str() + tab + 1);
  }
  return t;
}

template <typename F>
double time_ms(F f) {
  for (int i = 0; i < 3; ++i) f();
  cudaEvent_t a, b;
  cudaEventCreate(&a);
  cudaEventCreate(&b);
  int iters = 1;
  float ms = 0;
  for (;;) {
    cudaEventRecord(a);
    for (int i = 0; i < iters; ++i) f();
    cudaEventRecord(b);
    cudaEventSynchronize(b);
    cudaEventElapsedTime(&ms, a, b);
    if (ms > 50 || iters >= 1 << 14) break;
    iters *= 4;
  }
  NBF_OK(nbf_cuda_synchronize());
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  return double(ms) / iters;
}

void row(const std::map<std::string, double>& torch, const std::string& name, double ms, double amount, bool flops) {
  const double rate = flops ? amount / ms / 1e9 : amount / ms / 1e6;  // TFLOP/s or GB/s
  std::printf("  %-34s %9.3f ms %9.1f %-7s", name.c_str(), ms, rate, flops ? "TFLOP/s" : "GB/s");
  auto it = torch.find(name);
  if (it != torch.end() && it->second > 0) std::printf("   torch %9.3f ms  (torch/ours %.2fx)", it->second, it->second / ms);
  std::printf("\n");
}

void bench() {
  const auto torch = torch_times();
  std::printf("\ntimings (CUDA events; GB/s counts bytes read + written once)%s\n",
              torch.empty() ? "" : ", next to PyTorch measured in this run");
  const int64_t n = int64_t(1) << 26;  // 64M floats, 256 MiB per tensor
  Dev a(random_vec(static_cast<size_t>(n), -2, 2, 1)), b(random_vec(static_cast<size_t>(n), 0.5, 2, 2)), o(static_cast<size_t>(n));
  row(torch, "add [64M]", time_ms([&] { nbf_cuda_add_f32(a.p, b.p, o.p, n); }), 12.0 * double(n), false);
  row(torch, "mul [64M]", time_ms([&] { nbf_cuda_mul_f32(a.p, b.p, o.p, n); }), 12.0 * double(n), false);
  {
    const int64_t shape[2] = {n / 4096, 4096}, sa[2] = {4096, 1}, sb[2] = {0, 1};
    row(torch, "add bcast [16384,4096]+[4096]", time_ms([&] { nbf_cuda_binary_f32(0, 2, shape, a.p, sa, b.p, sb, o.p); }), 8.0 * double(n), false);
  }
  row(torch, "exp [64M]", time_ms([&] { nbf_cuda_unary_f32(1, a.p, o.p, n); }), 8.0 * double(n), false);
  row(torch, "gelu_erf [64M]", time_ms([&] { nbf_cuda_unary_f32(9, a.p, o.p, n); }), 8.0 * double(n), false);
  row(torch, "gelu_tanh [64M]", time_ms([&] { nbf_cuda_unary_f32(8, a.p, o.p, n); }), 8.0 * double(n), false);
  row(torch, "silu [64M]", time_ms([&] { nbf_cuda_unary_f32(10, a.p, o.p, n); }), 8.0 * double(n), false);
  for (int64_t cols : {int64_t(1024), int64_t(4096), int64_t(32768)}) {
    const int64_t rows = n / cols;
    const std::string s = "[" + std::to_string(rows) + "," + std::to_string(cols) + "]";
    row(torch, "softmax " + s, time_ms([&] { nbf_cuda_softmax_f32(0, a.p, o.p, rows, cols); }), 8.0 * double(n), false);
  }
  row(torch, "log_softmax [16384,4096]", time_ms([&] { nbf_cuda_softmax_f32(1, a.p, o.p, n / 4096, 4096); }), 8.0 * double(n), false);
  row(torch, "sum [16384,4096]", time_ms([&] { nbf_cuda_reduce_last_f32(0, a.p, o.p, n / 4096, 4096); }), 4.0 * double(n), false);
  row(torch, "max [16384,4096]", time_ms([&] { nbf_cuda_reduce_last_f32(2, a.p, o.p, n / 4096, 4096); }), 4.0 * double(n), false);
  {
    const int64_t cols = 768, rows = (n / cols);
    Dev w(random_vec(768, 0.5, 1.5, 3)), bb(random_vec(768, -1, 1, 4));
    row(torch, "layer_norm [87381,768]", time_ms([&] { nbf_cuda_norm_f32(0, a.p, w.p, bb.p, o.p, nullptr, nullptr, rows, cols, 1e-5); }),
        8.0 * double(rows * cols), false);
  }
  struct Shape { int64_t m, n, k; };
  const Shape shapes[] = {{4096, 4096, 4096}, {4096, 3072, 768}, {4096, 768, 3072}};
  const bool have_cublas = nbf_cuda_gemm_backend() == 1;
  for (const Shape& s : shapes) {
    Dev ga(random_vec(static_cast<size_t>(s.m * s.k), -1, 1, 5)), gb(random_vec(static_cast<size_t>(s.k * s.n), -1, 1, 6)), gc(static_cast<size_t>(s.m * s.n));
    char name[96];
    std::snprintf(name, sizeof name, "sgemm m=%lld n=%lld k=%lld", (long long)s.m, (long long)s.n, (long long)s.k);
    const double flop = 2.0 * double(s.m) * double(s.n) * double(s.k);
    row(torch, std::string(name) + " tiled", time_ms([&] { nbf_cuda_sgemm_tiled(0, 0, s.m, s.n, s.k, 1.0f, ga.p, s.k, gb.p, s.n, 0.0f, gc.p, s.n); }), flop, true);
    if (have_cublas)
      row(torch, std::string(name) + " cublas", time_ms([&] { nbf_cuda_sgemm(0, 0, s.m, s.n, s.k, 1.0f, ga.p, s.k, gb.p, s.n, 0.0f, gc.p, s.n); }), flop, true);
  }
  std::printf("  (torch rows: the same op in PyTorch, fp32, TF32 off; 'sgemm ... tiled' is compared with torch.matmul)\n");
}

}  // namespace

int main(int argc, char** argv) {
  bool probe = false, quick = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--probe")) probe = true;
    else if (!std::strcmp(argv[i], "--quick")) quick = true;
  }
  const int devices = nbf_cuda_available();
  if (devices <= 0) {
    std::printf("no GPU found: %s\n", nbf_cuda_error_string());
    return 3;
  }
  char dev[256];
  nbf_cuda_device_name(dev, sizeof dev);
  std::printf("libnbforge_cuda ABI %d on %s (%d device(s)); GEMM backend: %s\n", nbf_cuda_abi_version(), dev, devices,
              nbf_cuda_gemm_backend() ? (std::string("cuBLAS from ") + nbf_cuda_gemm_library()).c_str() : "tiled kernel (no libcublas found; set NBF_CUBLAS)");
  if (probe) return 0;
  check_binary();
  check_unary();
  check_rows();
  check_gemm();
  std::printf("\n%d checks, %d failed\n", g_checks, g_failures);
  if (!quick) bench();
  if (g_failures > 0) {
    std::printf("FAIL: %d of %d checks mismatched the CPU reference\n", g_failures, g_checks);
    return 1;
  }
  std::printf("PASS: all %d checks match the CPU reference\n", g_checks);
  return 0;
}
