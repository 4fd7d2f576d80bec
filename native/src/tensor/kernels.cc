// The tensor core's CPU kernels and their JavaScript bindings. Inputs arrive as
// (Storage, element offset[, strides]) and outputs are written into storages the
// TypeScript side allocated; TypeScript does the orchestration, this file the
// arithmetic. Elementwise loops exist twice (portable and AVX2/FMA, see loops.inc)
// and are chosen at run time.
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "cpu_features.h"
#include "gemm/gemm.h"
#include "parallel.h"
#include "tensor/philox.h"
#include "registry.h"
#include "tensor/storage.h"


namespace nbforge {
namespace tensor {

namespace portable {
#include "tensor/loops.inc"
}  // namespace portable

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define NBF_HAVE_AVX2_PATH 1
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"  // __m256 lambdas inside this region only
#define NBF_VEC_AVX2 1  // loops.inc adds its float32 AVX2 intrinsics paths (vec_math.inc)
namespace avx2 {
#include "tensor/loops.inc"
}  // namespace avx2
#undef NBF_VEC_AVX2
#pragma GCC diagnostic pop
#pragma GCC pop_options
#endif

namespace {

constexpr int64_t kGrain = 32768;  // elements per parallel chunk

// 0 = auto, 1 = portable, 2 = avx2 (when the CPU has it)
int g_path = 0;

bool use_avx2() {
#ifdef NBF_HAVE_AVX2_PATH
  if (g_path == 1) return false;
  return cpu_has_avx2_fma();
#else
  return false;
#endif
}

#ifdef NBF_HAVE_AVX2_PATH
#define NBF_DISPATCH(fn, ...) (use_avx2() ? avx2::fn(__VA_ARGS__) : portable::fn(__VA_ARGS__))
#else
#define NBF_DISPATCH(fn, ...) portable::fn(__VA_ARGS__)
#endif

// ---- argument helpers ----

int64_t int_arg(const Napi::CallbackInfo& info, std::size_t i) {
  return static_cast<int64_t>(info[i].As<Napi::Number>().DoubleValue());
}
double num_arg(const Napi::CallbackInfo& info, std::size_t i) { return info[i].As<Napi::Number>().DoubleValue(); }
std::vector<int64_t> vec_arg(const Napi::CallbackInfo& info, std::size_t i) {
  Napi::Array a = info[i].As<Napi::Array>();
  std::vector<int64_t> v(a.Length());
  for (uint32_t k = 0; k < a.Length(); ++k) v[k] = static_cast<int64_t>(a.Get(k).As<Napi::Number>().DoubleValue());
  return v;
}
void require_float(Napi::Env env, const Storage* s, const char* fn) {
  if (s->dtype() != kFloat32 && s->dtype() != kFloat64) {
    throw Napi::TypeError::New(env, std::string(fn) + ": kernel takes float32 or float64, got " + dtype_name(s->dtype()));
  }
}
void require_same(Napi::Env env, const Storage* a, const Storage* b, const char* fn) {
  if (a->dtype() != b->dtype()) {
    throw Napi::TypeError::New(env, std::string(fn) + ": dtypes " + dtype_name(a->dtype()) + " and " +
                                        dtype_name(b->dtype()) + " differ");
  }
}

// Merges adjacent dims that are contiguous for every operand and drops size-1 dims.
void coalesce(std::vector<int64_t>& shape, std::vector<std::vector<int64_t>*> strides) {
  std::vector<int64_t> s2;
  std::vector<std::vector<int64_t>> st2(strides.size());
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    bool merge = !s2.empty();
    if (merge) {
      for (std::size_t k = 0; k < strides.size(); ++k) {
        if (st2[k].back() != (*strides[k])[d] * shape[d]) { merge = false; break; }
      }
    }
    if (merge) {
      s2.back() *= shape[d];
      for (std::size_t k = 0; k < strides.size(); ++k) st2[k].back() = (*strides[k])[d];
    } else {
      s2.push_back(shape[d]);
      for (std::size_t k = 0; k < strides.size(); ++k) st2[k].push_back((*strides[k])[d]);
    }
  }
  if (s2.empty()) {
    s2.push_back(1);
    for (auto& s : st2) s.push_back(1);
  }
  shape = s2;
  for (std::size_t k = 0; k < strides.size(); ++k) *strides[k] = st2[k];
}

// Visits rows [r0, r1) of an n-d iteration (the last dim is the row), giving each
// operand's element offset at the start of the row.
template <typename F>
void for_rows(const std::vector<int64_t>& shape, const std::vector<const std::vector<int64_t>*>& strides,
              int64_t r0, int64_t r1, F fn) {
  const int nd = static_cast<int>(shape.size());
  std::vector<int64_t> coord(nd > 0 ? nd : 1, 0);
  std::vector<int64_t> off(strides.size(), 0);
  int64_t rem = r0;
  for (int d = nd - 2; d >= 0; --d) {
    coord[d] = rem % shape[d];
    rem /= shape[d];
    for (std::size_t k = 0; k < strides.size(); ++k) off[k] += coord[d] * (*strides[k])[d];
  }
  for (int64_t r = r0; r < r1; ++r) {
    fn(off.data());
    for (int d = nd - 2; d >= 0; --d) {
      ++coord[d];
      for (std::size_t k = 0; k < strides.size(); ++k) off[k] += (*strides[k])[d];
      if (coord[d] < shape[d]) break;
      for (std::size_t k = 0; k < strides.size(); ++k) off[k] -= coord[d] * (*strides[k])[d];
      coord[d] = 0;
    }
  }
}

int64_t numel_of(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

// ---- dtype conversion ----

struct bf16_t { uint16_t v; };
struct f16_t { uint16_t v; };

inline float bits_to_float(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }
inline uint32_t float_to_bits(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }

inline float bf16_to_float(uint16_t h) { return bits_to_float(static_cast<uint32_t>(h) << 16); }
inline uint16_t float_to_bf16(float f) {
  uint32_t u = float_to_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);  // NaN
  u += 0x7fffu + ((u >> 16) & 1u);  // round to nearest even
  return static_cast<uint16_t>(u >> 16);
}

inline float f16_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  if (exp == 0) {
    if (mant == 0) return bits_to_float(sign);
    // subnormal: value = mant * 2^-24
    const float v = static_cast<float>(mant) * 5.9604644775390625e-8f;
    return sign ? -v : v;
  }
  if (exp == 31) return bits_to_float(sign | 0x7f800000u | (mant << 13));
  return bits_to_float(sign | ((exp + 112) << 23) | (mant << 13));
}

inline uint16_t float_to_f16(float f) {
  const uint32_t u = float_to_bits(f);
  const uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
  const uint32_t absu = u & 0x7fffffffu;
  if (absu > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u);  // NaN
  if (absu >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // overflow -> inf
  if (absu < 0x38800000u) {  // subnormal or zero in half
    const float a = bits_to_float(absu);
    // round(a / 2^-24) to nearest even
    const float scaled = a * 16777216.0f;
    float r = std::nearbyint(scaled);
    return static_cast<uint16_t>(sign | static_cast<uint16_t>(r));
  }
  uint32_t mant = absu & 0x7fffffu;
  uint32_t exp = (absu >> 23) - 112;
  uint32_t h = (exp << 10) | (mant >> 13);
  const uint32_t rest = mant & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;  // may carry into exponent: fine
  return static_cast<uint16_t>(sign | h);
}

template <typename T> inline double to_double(T v) { return static_cast<double>(v); }
template <> inline double to_double<bf16_t>(bf16_t v) { return bf16_to_float(v.v); }
template <> inline double to_double<f16_t>(f16_t v) { return f16_to_float(v.v); }

template <typename T> inline T from_double(double v) { return static_cast<T>(v); }
template <> inline bf16_t from_double<bf16_t>(double v) { return bf16_t{float_to_bf16(static_cast<float>(v))}; }
template <> inline f16_t from_double<f16_t>(double v) { return f16_t{float_to_f16(static_cast<float>(v))}; }
template <> inline bool from_double<bool>(double v) { return v != 0.0; }
template <> inline int32_t from_double<int32_t>(double v) { return v != v ? 0 : static_cast<int32_t>(std::max(-2147483648.0, std::min(2147483647.0, v))); }
template <> inline int64_t from_double<int64_t>(double v) { return v != v ? 0 : static_cast<int64_t>(std::max(-9.2233720368547758e18, std::min(9.2233720368547748e18, v))); }
template <> inline int8_t from_double<int8_t>(double v) { return v != v ? 0 : static_cast<int8_t>(static_cast<int64_t>(std::max(-1e18, std::min(1e18, v)))); }
template <> inline uint8_t from_double<uint8_t>(double v) { return v != v ? 0 : static_cast<uint8_t>(static_cast<int64_t>(std::max(-1e18, std::min(1e18, v)))); }

template <typename D, typename S> inline D convert(S v) { return from_double<D>(to_double<S>(v)); }
template <> inline float convert<float, bf16_t>(bf16_t v) { return bf16_to_float(v.v); }
template <> inline float convert<float, f16_t>(f16_t v) { return f16_to_float(v.v); }
template <> inline bf16_t convert<bf16_t, float>(float v) { return bf16_t{float_to_bf16(v)}; }
template <> inline f16_t convert<f16_t, float>(float v) { return f16_t{float_to_f16(v)}; }
template <> inline int64_t convert<int64_t, int64_t>(int64_t v) { return v; }

// Calls fn with a null pointer of the C++ type for a dtype code.
template <typename F>
void with_type(int dtype, F fn) {
  switch (dtype) {
    case kFloat32: fn(static_cast<float*>(nullptr)); break;
    case kFloat64: fn(static_cast<double*>(nullptr)); break;
    case kBFloat16: fn(static_cast<bf16_t*>(nullptr)); break;
    case kFloat16: fn(static_cast<f16_t*>(nullptr)); break;
    case kInt32: fn(static_cast<int32_t*>(nullptr)); break;
    case kInt64: fn(static_cast<int64_t*>(nullptr)); break;
    case kInt8: fn(static_cast<int8_t*>(nullptr)); break;
    case kUInt8: fn(static_cast<uint8_t*>(nullptr)); break;
    case kBool: fn(static_cast<bool*>(nullptr)); break;
    default: break;
  }
}

// ---- copy / cast ----

// tensorCopy(src, srcOff, srcStrides, dst, dstOff, dstStrides, shape)
Napi::Value Copy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Storage* src = storage_arg(info, 0, "tensorCopy");
  Storage* dst = storage_arg(info, 3, "tensorCopy");
  std::vector<int64_t> ss = vec_arg(info, 2), ds = vec_arg(info, 5), shape = vec_arg(info, 6);
  const int64_t n = numel_of(shape);
  if (n == 0) return env.Undefined();
  const char* sp = src->at(env, int_arg(info, 1), "tensorCopy");
  char* dp = dst->at(env, int_arg(info, 4), "tensorCopy");
  coalesce(shape, {&ss, &ds});
  const int64_t cols = shape.back();
  const int64_t rows = n / cols;
  const int64_t srow = ss.back(), drow = ds.back();
  const std::vector<const std::vector<int64_t>*> st = {&ss, &ds};
  with_type(src->dtype(), [&](auto* sz) {
    using S = std::remove_pointer_t<decltype(sz)>;
    with_type(dst->dtype(), [&](auto* dz) {
      using D = std::remove_pointer_t<decltype(dz)>;
      const S* s = reinterpret_cast<const S*>(sp);
      D* d = reinterpret_cast<D*>(dp);
      const int64_t grain = std::max<int64_t>(1, kGrain / cols);
      parallel_for(0, rows, grain, [&](int64_t r0, int64_t r1) {
        for_rows(shape, st, r0, r1, [&](const int64_t* off) {
          const S* sr = s + off[0];
          D* dr = d + off[1];
          if constexpr (std::is_same_v<S, D>) {
            if (srow == 1 && drow == 1) {
              std::memcpy(dr, sr, static_cast<std::size_t>(cols) * sizeof(S));
              return;
            }
            for (int64_t i = 0; i < cols; ++i) dr[i * drow] = sr[i * srow];
          } else {
            for (int64_t i = 0; i < cols; ++i) dr[i * drow] = convert<D, S>(sr[i * srow]);
          }
        });
      });
    });
  });
  return env.Undefined();
}

// ---- elementwise ----

// tensorBinary(op, a, aOff, aStrides, b, bOff, bStrides, out, outOff, shape); out contiguous.
Napi::Value Binary(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int op = static_cast<int>(int_arg(info, 0));
  Storage* a = storage_arg(info, 1, "tensorBinary");
  Storage* b = storage_arg(info, 4, "tensorBinary");
  Storage* o = storage_arg(info, 7, "tensorBinary");
  require_float(env, a, "tensorBinary");
  require_same(env, a, b, "tensorBinary");
  require_same(env, a, o, "tensorBinary");
  std::vector<int64_t> as = vec_arg(info, 3), bs = vec_arg(info, 6), shape = vec_arg(info, 9);
  const int64_t n = numel_of(shape);
  if (n == 0) return env.Undefined();
  std::vector<int64_t> os(shape.size());
  {
    int64_t s = 1;
    for (int d = static_cast<int>(shape.size()) - 1; d >= 0; --d) { os[d] = s; s *= shape[d]; }
  }
  const char* ap = a->at(env, int_arg(info, 2), "tensorBinary");
  const char* bp = b->at(env, int_arg(info, 5), "tensorBinary");
  char* op_ = o->at(env, int_arg(info, 8), "tensorBinary");
  coalesce(shape, {&as, &bs, &os});
  const int64_t cols = shape.back();
  const int64_t rows = n / cols;
  const int64_t sa = as.back(), sb = bs.back();
  const std::vector<const std::vector<int64_t>*> st = {&as, &bs};
  auto run = [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    const T* pa = reinterpret_cast<const T*>(ap);
    const T* pb = reinterpret_cast<const T*>(bp);
    T* po = reinterpret_cast<T*>(op_);
    if (rows == 1) {
      parallel_for(0, cols, kGrain, [&](int64_t c0, int64_t c1) {
        NBF_DISPATCH(k_binary_row, op, pa + c0 * sa, sa, pb + c0 * sb, sb, po + c0, c1 - c0);
      });
      return;
    }
    const int64_t grain = std::max<int64_t>(1, kGrain / cols);
    parallel_for(0, rows, grain, [&](int64_t r0, int64_t r1) {
      int64_t r = r0;
      for_rows(shape, st, r0, r1, [&](const int64_t* off) {
        NBF_DISPATCH(k_binary_row, op, pa + off[0], sa, pb + off[1], sb, po + r * cols, cols);
        ++r;
      });
    });
  };
  if (a->dtype() == kFloat32) run(static_cast<float*>(nullptr));
  else run(static_cast<double*>(nullptr));
  return env.Undefined();
}

// tensorUnary(op, x, xOff, out, outOff, n)
Napi::Value Unary(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int op = static_cast<int>(int_arg(info, 0));
  Storage* x = storage_arg(info, 1, "tensorUnary");
  Storage* y = storage_arg(info, 3, "tensorUnary");
  require_float(env, x, "tensorUnary");
  require_same(env, x, y, "tensorUnary");
  const int64_t n = int_arg(info, 5);
  const char* xp = x->at(env, int_arg(info, 2), "tensorUnary");
  char* yp = y->at(env, int_arg(info, 4), "tensorUnary");
  auto run = [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    const T* px = reinterpret_cast<const T*>(xp);
    T* py = reinterpret_cast<T*>(yp);
    parallel_for(0, n, kGrain / 4, [&](int64_t i0, int64_t i1) { NBF_DISPATCH(k_unary, op, px + i0, py + i0, i1 - i0); });
  };
  if (x->dtype() == kFloat32) run(static_cast<float*>(nullptr));
  else run(static_cast<double*>(nullptr));
  return env.Undefined();
}

// tensorUnaryBackward(op, x, xOff, y, yOff, gy, gyOff, gx, gxOff, n)
Napi::Value UnaryBackward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int op = static_cast<int>(int_arg(info, 0));
  Storage* x = storage_arg(info, 1, "tensorUnaryBackward");
  Storage* y = storage_arg(info, 3, "tensorUnaryBackward");
  Storage* gy = storage_arg(info, 5, "tensorUnaryBackward");
  Storage* gx = storage_arg(info, 7, "tensorUnaryBackward");
  require_float(env, x, "tensorUnaryBackward");
  require_same(env, x, y, "tensorUnaryBackward");
  require_same(env, x, gy, "tensorUnaryBackward");
  require_same(env, x, gx, "tensorUnaryBackward");
  const int64_t n = int_arg(info, 9);
  const char* xp = x->at(env, int_arg(info, 2), "tensorUnaryBackward");
  const char* yp = y->at(env, int_arg(info, 4), "tensorUnaryBackward");
  const char* gyp = gy->at(env, int_arg(info, 6), "tensorUnaryBackward");
  char* gxp = gx->at(env, int_arg(info, 8), "tensorUnaryBackward");
  auto run = [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    const T* px = reinterpret_cast<const T*>(xp);
    const T* py = reinterpret_cast<const T*>(yp);
    const T* pg = reinterpret_cast<const T*>(gyp);
    T* po = reinterpret_cast<T*>(gxp);
    parallel_for(0, n, kGrain / 4, [&](int64_t i0, int64_t i1) {
      NBF_DISPATCH(k_unary_backward, op, px + i0, py + i0, pg + i0, po + i0, i1 - i0);
    });
  };
  if (x->dtype() == kFloat32) run(static_cast<float*>(nullptr));
  else run(static_cast<double*>(nullptr));
  return env.Undefined();
}

// ---- reductions ----

// tensorReduce(op, x, xOff, outer, red, inner, out, outOff, correction)
// x is contiguous [outer, red, inner]; out is [outer, inner] (int64 for argmax/argmin).
// op: 0 sum, 1 mean, 2 max, 3 min, 4 argmax, 5 argmin, 6 var
Napi::Value Reduce(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int op = static_cast<int>(int_arg(info, 0));
  Storage* x = storage_arg(info, 1, "tensorReduce");
  Storage* o = storage_arg(info, 6, "tensorReduce");
  require_float(env, x, "tensorReduce");
  const bool arg = op == 4 || op == 5;
  if (arg ? o->dtype() != kInt64 : o->dtype() != x->dtype()) {
    throw Napi::TypeError::New(env, "tensorReduce: wrong output dtype");
  }
  const int64_t outer = int_arg(info, 3), red = int_arg(info, 4), inner = int_arg(info, 5);
  const double correction = num_arg(info, 8);
  const char* xp = x->at(env, int_arg(info, 2), "tensorReduce");
  char* op_ = o->at(env, int_arg(info, 7), "tensorReduce");
  auto run = [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    const T* px = reinterpret_cast<const T*>(xp);
    T* po = reinterpret_cast<T*>(op_);
    int64_t* pi = reinterpret_cast<int64_t*>(op_);
    // One output element: reduce red values at stride `inner`.
    auto one = [&](int64_t oi, int64_t ii) {
      const T* p = px + oi * red * inner + ii;
      const int64_t out_index = oi * inner + ii;
      switch (op) {
        case 0:
        case 1: {
          double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
          int64_t r = 0;
          if (inner == 1) {
            for (; r + 4 <= red; r += 4) {
              s0 += static_cast<double>(p[r]); s1 += static_cast<double>(p[r + 1]);
              s2 += static_cast<double>(p[r + 2]); s3 += static_cast<double>(p[r + 3]);
            }
          }
          for (; r < red; ++r) s0 += static_cast<double>(p[r * inner]);
          double s = (s0 + s1) + (s2 + s3);
          if (op == 1) s /= static_cast<double>(red);
          po[out_index] = static_cast<T>(s);
          break;
        }
        case 2:
        case 3:
        case 4:
        case 5: {
          const bool is_max = op == 2 || op == 4;
          T best = p[0];
          int64_t bi = 0;
          for (int64_t r = 1; r < red; ++r) {
            const T v = p[r * inner];
            if (best != best) break;  // NaN propagates
            if (v != v || (is_max ? v > best : v < best)) { best = v; bi = r; }
          }
          if (op <= 3) po[out_index] = best;
          else pi[out_index] = bi;
          break;
        }
        case 6: {
          double mean = 0;
          for (int64_t r = 0; r < red; ++r) mean += static_cast<double>(p[r * inner]);
          mean /= static_cast<double>(red);
          double ss = 0;
          for (int64_t r = 0; r < red; ++r) {
            const double d = static_cast<double>(p[r * inner]) - mean;
            ss += d * d;
          }
          po[out_index] = static_cast<T>(ss / std::max(0.0, static_cast<double>(red) - correction));
          break;
        }
        default: break;
      }
    };
    const int64_t total = outer * inner;
    const int64_t grain = std::max<int64_t>(1, kGrain / std::max<int64_t>(1, red));
    if (inner == 1) {
      parallel_for(0, outer, grain, [&](int64_t a, int64_t b) { for (int64_t i = a; i < b; ++i) one(i, 0); });
    } else {
      parallel_for(0, total, grain, [&](int64_t a, int64_t b) {
        for (int64_t i = a; i < b; ++i) one(i / inner, i % inner);
      });
    }
  };
  if (red == 0) throw Napi::RangeError::New(env, "tensorReduce: cannot reduce over an empty dimension");
  if (x->dtype() == kFloat32) run(static_cast<float*>(nullptr));
  else run(static_cast<double*>(nullptr));
  return env.Undefined();
}

// ---- softmax ----

// tensorSoftmax(log, x, xOff, out, outOff, rows, n)
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const bool log = info[0].ToBoolean().Value();
  Storage* x = storage_arg(info, 1, "tensorSoftmax");
  Storage* y = storage_arg(info, 3, "tensorSoftmax");
  require_float(env, x, "tensorSoftmax");
  require_same(env, x, y, "tensorSoftmax");
  const int64_t rows = int_arg(info, 5), n = int_arg(info, 6);
  const char* xp = x->at(env, int_arg(info, 2), "tensorSoftmax");
  char* yp = y->at(env, int_arg(info, 4), "tensorSoftmax");
  if (rows == 0 || n == 0) return env.Undefined();
  auto run = [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    const T* px = reinterpret_cast<const T*>(xp);
    T* py = reinterpret_cast<T*>(yp);
    parallel_for(0, rows, std::max<int64_t>(1, kGrain / n), [&](int64_t r0, int64_t r1) {
      NBF_DISPATCH(k_softmax, log, px + r0 * n, py + r0 * n, r1 - r0, n);
    });
  };
  if (x->dtype() == kFloat32) run(static_cast<float*>(nullptr));
  else run(static_cast<double*>(nullptr));
  return env.Undefined();
}

// tensorSoftmaxBackward(log, y, yOff, gy, gyOff, gx, gxOff, rows, n)
Napi::Value SoftmaxBackward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const bool log = info[0].ToBoolean().Value();
  Storage* y = storage_arg(info, 1, "tensorSoftmaxBackward");
  Storage* gy = storage_arg(info, 3, "tensorSoftmaxBackward");
  Storage* gx = storage_arg(info, 5, "tensorSoftmaxBackward");
  require_float(env, y, "tensorSoftmaxBackward");
  require_same(env, y, gy, "tensorSoftmaxBackward");
  require_same(env, y, gx, "tensorSoftmaxBackward");
  const int64_t rows = int_arg(info, 7), n = int_arg(info, 8);
  const char* yp = y->at(env, int_arg(info, 2), "tensorSoftmaxBackward");
  const char* gyp = gy->at(env, int_arg(info, 4), "tensorSoftmaxBackward");
  char* gxp = gx->at(env, int_arg(info, 6), "tensorSoftmaxBackward");
  if (rows == 0 || n == 0) return env.Undefined();
  auto run = [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    const T* py = reinterpret_cast<const T*>(yp);
    const T* pg = reinterpret_cast<const T*>(gyp);
    T* po = reinterpret_cast<T*>(gxp);
    parallel_for(0, rows, std::max<int64_t>(1, kGrain / n), [&](int64_t r0, int64_t r1) {
      NBF_DISPATCH(k_softmax_backward, log, py + r0 * n, pg + r0 * n, po + r0 * n, r1 - r0, n);
    });
  };
  if (y->dtype() == kFloat32) run(static_cast<float*>(nullptr));
  else run(static_cast<double*>(nullptr));
  return env.Undefined();
}

// ---- matmul ----

void gemm_any(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
              int64_t ldb, float* c, int64_t ldc) {
  nbforge::gemm_f32(ta, tb, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
}
void gemm_any(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const double* a, int64_t lda, const double* b,
              int64_t ldb, double* c, int64_t ldc) {
  nbforge::gemm_f64(ta, tb, m, n, k, 1.0, a, lda, b, ldb, 0.0, c, ldc);
}

// tensorMatmul(a, aOff, aBatchStride, lda, transA, b, bOff, bBatchStride, ldb, transB,
//              out, outOff, batch, m, n, k); out is contiguous [batch, m, n].
Napi::Value Matmul(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Storage* a = storage_arg(info, 0, "tensorMatmul");
  Storage* b = storage_arg(info, 5, "tensorMatmul");
  Storage* o = storage_arg(info, 10, "tensorMatmul");
  require_float(env, a, "tensorMatmul");
  require_same(env, a, b, "tensorMatmul");
  require_same(env, a, o, "tensorMatmul");
  const int64_t abs_ = int_arg(info, 2), lda = int_arg(info, 3);
  const bool ta = info[4].ToBoolean().Value();
  const int64_t bbs = int_arg(info, 7), ldb = int_arg(info, 8);
  const bool tb = info[9].ToBoolean().Value();
  const int64_t batch = int_arg(info, 12), m = int_arg(info, 13), n = int_arg(info, 14), k = int_arg(info, 15);
  const char* ap = a->at(env, int_arg(info, 1), "tensorMatmul");
  const char* bp = b->at(env, int_arg(info, 6), "tensorMatmul");
  char* op_ = o->at(env, int_arg(info, 11), "tensorMatmul");
  if (batch == 0 || m == 0 || n == 0) return env.Undefined();
  auto run = [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    const T* pa = reinterpret_cast<const T*>(ap);
    const T* pb = reinterpret_cast<const T*>(bp);
    T* pc = reinterpret_cast<T*>(op_);
    if (k == 0) {
      std::fill(pc, pc + batch * m * n, T(0));
      return;
    }
    auto one = [&](int64_t i) { gemm_any(ta, tb, m, n, k, pa + i * abs_, lda, pb + i * bbs, ldb, pc + i * m * n, n); };
    const bool small = m * n * k < 64 * 64 * 64;
    if (batch > 1 && small) {
      parallel_for(0, batch, 1, [&](int64_t i0, int64_t i1) { for (int64_t i = i0; i < i1; ++i) one(i); });
    } else {
      for (int64_t i = 0; i < batch; ++i) one(i);
    }
  };
  if (a->dtype() == kFloat32) run(static_cast<float*>(nullptr));
  else run(static_cast<double*>(nullptr));
  return env.Undefined();
}

// ---- creation ----

// tensorFill(out, off, n, value)
Napi::Value Fill(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Storage* o = storage_arg(info, 0, "tensorFill");
  const int64_t n = int_arg(info, 2);
  const double v = num_arg(info, 3);
  char* p = o->at(env, int_arg(info, 1), "tensorFill");
  with_type(o->dtype(), [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    const T value = from_double<T>(v);
    T* d = reinterpret_cast<T*>(p);
    parallel_for(0, n, kGrain, [&](int64_t i0, int64_t i1) { std::fill(d + i0, d + i1, value); });
  });
  return env.Undefined();
}

// tensorArange(out, off, n, start, step)
Napi::Value Arange(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Storage* o = storage_arg(info, 0, "tensorArange");
  const int64_t n = int_arg(info, 2);
  const double start = num_arg(info, 3), step = num_arg(info, 4);
  char* p = o->at(env, int_arg(info, 1), "tensorArange");
  with_type(o->dtype(), [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    T* d = reinterpret_cast<T*>(p);
    parallel_for(0, n, kGrain, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) d[i] = from_double<T>(start + static_cast<double>(i) * step);
    });
  });
  return env.Undefined();
}

// ---- random: Philox4x32-10, counter based, so any block can be computed independently ----

// tensorRandom(kind, out, off, n, seedLo, seedHi, counter, a, b) -> blocks used
// kind 0: uniform [a, b); kind 1: normal(mean a, std b). float32: 4 values per
// block, float64: 2 values per block.
Napi::Value Random(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int kind = static_cast<int>(int_arg(info, 0));
  Storage* o = storage_arg(info, 1, "tensorRandom");
  require_float(env, o, "tensorRandom");
  const int64_t n = int_arg(info, 3);
  Philox ph{static_cast<uint32_t>(int_arg(info, 4)), static_cast<uint32_t>(int_arg(info, 5))};
  const uint64_t counter = static_cast<uint64_t>(int_arg(info, 6));
  const double pa = num_arg(info, 7), pb = num_arg(info, 8);
  char* p = o->at(env, int_arg(info, 2), "tensorRandom");
  const bool f32 = o->dtype() == kFloat32;
  const int64_t per = f32 ? 4 : 2;
  const int64_t blocks = (n + per - 1) / per;
  constexpr double kTwoPi = 6.283185307179586;
  parallel_for(0, blocks, 4096, [&](int64_t b0, int64_t b1) {
    for (int64_t blk = b0; blk < b1; ++blk) {
      uint32_t r[4];
      ph.block(counter + static_cast<uint64_t>(blk), r);
      double v[4] = {0, 0, 0, 0};
      if (f32) {
        for (int j = 0; j < 4; ++j) v[j] = unit_from_u32(r[j]);
        if (kind == 1) {
          for (int j = 0; j < 4; j += 2) {
            const double rad = std::sqrt(-2.0 * std::log(1.0 - v[j]));
            const double th = kTwoPi * v[j + 1];
            v[j] = rad * std::cos(th);
            v[j + 1] = rad * std::sin(th);
          }
        }
      } else {
        v[0] = unit_from_u64(r[0], r[1]);
        v[1] = unit_from_u64(r[2], r[3]);
        if (kind == 1) {
          const double rad = std::sqrt(-2.0 * std::log(1.0 - v[0]));
          const double th = kTwoPi * v[1];
          v[0] = rad * std::cos(th);
          v[1] = rad * std::sin(th);
        }
      }
      for (int64_t j = 0; j < per; ++j) {
        const int64_t i = blk * per + j;
        if (i >= n) break;
        const double x = kind == 1 ? pa + pb * v[j] : pa + (pb - pa) * v[j];
        if (f32) reinterpret_cast<float*>(p)[i] = static_cast<float>(x);
        else reinterpret_cast<double*>(p)[i] = x;
      }
    }
  });
  return Napi::Number::New(env, static_cast<double>(blocks));
}

// tensorKernelPath([name]) -> the path in use: "avx2" or "portable". Passing
// "portable", "avx2" or "auto" selects one (tests run both).
Napi::Value KernelPath(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() > 0 && info[0].IsString()) {
    const std::string s = info[0].As<Napi::String>().Utf8Value();
    if (s == "portable") g_path = 1;
    else if (s == "avx2" || s == "auto") g_path = 0;
    else throw Napi::TypeError::New(env, "tensorKernelPath: expected 'portable', 'avx2' or 'auto', got '" + s + "'");
  }
  return Napi::String::New(env, use_avx2() ? "avx2" : "portable");
}

void RegisterTensorKernels(Napi::Env env, Napi::Object exports) {
  exports.Set("tensorCopy", Napi::Function::New(env, Copy, "tensorCopy"));
  exports.Set("tensorBinary", Napi::Function::New(env, Binary, "tensorBinary"));
  exports.Set("tensorUnary", Napi::Function::New(env, Unary, "tensorUnary"));
  exports.Set("tensorUnaryBackward", Napi::Function::New(env, UnaryBackward, "tensorUnaryBackward"));
  exports.Set("tensorReduce", Napi::Function::New(env, Reduce, "tensorReduce"));
  exports.Set("tensorSoftmax", Napi::Function::New(env, Softmax, "tensorSoftmax"));
  exports.Set("tensorSoftmaxBackward", Napi::Function::New(env, SoftmaxBackward, "tensorSoftmaxBackward"));
  exports.Set("tensorMatmul", Napi::Function::New(env, Matmul, "tensorMatmul"));
  exports.Set("tensorFill", Napi::Function::New(env, Fill, "tensorFill"));
  exports.Set("tensorArange", Napi::Function::New(env, Arange, "tensorArange"));
  exports.Set("tensorRandom", Napi::Function::New(env, Random, "tensorRandom"));
  exports.Set("tensorKernelPath", Napi::Function::New(env, KernelPath, "tensorKernelPath"));
}

}  // namespace

NBFORGE_REGISTER_MODULE(RegisterTensorKernels);

// For the other kernel files (attention.cc): float32 softmax of contiguous rows
// on the path kernelPath() chose (declared in nn_common.h).
void softmax_rows_f32(const float* x, float* y, int64_t rows, int64_t n) {
  NBF_DISPATCH(k_softmax, false, x, y, rows, n);
}

bool kernel_path_avx2() { return use_avx2(); }

}  // namespace tensor
}  // namespace nbforge
