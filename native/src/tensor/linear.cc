// Fused linear layer: out = x · op(W) + b, and its backward, on the GEMM.
// Forward writes the bias into each output row and lets the GEMM accumulate
// onto it (beta = 1), instead of a product followed by a broadcast add.
// Backward makes the input gradient and the weight gradient as one GEMM each,
// the weight gradient directly in W's stored layout ([out, in] for
// torch.nn.Linear, [in, out] for GPT-2's Conv1D), and the bias gradient as
// column sums of the output gradient split by column blocks among the threads
// (a reduction over rows that the generic reduce kernel walks slowly).
// A few rows (token-by-token generation) skip the GEMM, whose packing copies
// the whole weight on every call: each weight row is read once and used for
// every input row while it sits in L1.
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define NBFORGE_LINEAR_AVX2 1
#include <immintrin.h>
#endif

#include "gemm/gemm.h"
#include "parallel.h"
#include "registry.h"
#include "tensor/nn_common.h"
#include "tensor/storage.h"

namespace nbforge {
namespace tensor {
namespace {

using namespace nn;

inline void gemm_t(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda, const float* b,
                   int64_t ldb, float beta, float* c, int64_t ldc) {
  gemm_f32(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
inline void gemm_t(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double* a, int64_t lda,
                   const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  gemm_f64(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}


// Rows at most this many take the weight-streaming path instead of the GEMM.
constexpr int64_t kFewRows = 8;

// Output columns per thread for the few-rows path: at least ~1M multiply-adds
// each, so a small layer runs on one thread. These products are bound by memory
// bandwidth, which one thread nearly fills; waking a second costs about what it
// saves, and on a busy machine a late thread stalls every token.
inline int64_t few_rows_grain(int64_t rows, int64_t nin, int64_t floor) {
  return std::max<int64_t>(floor, (int64_t{1} << 20) / std::max<int64_t>(1, rows * nin));
}

// out_in: y[r, o] = b[o] + x[r, :] · W[o, :]; output columns split among threads.
template <typename T>
void few_rows_out_in(const T* x, const T* w, const T* b, T* y, int64_t rows, int64_t nin, int64_t nout) {
  parallel_for(0, nout, few_rows_grain(rows, nin, 16), [&](int64_t o0, int64_t o1) {
    for (int64_t o = o0; o < o1; ++o) {
      const T* wr = w + o * nin;
      for (int64_t r = 0; r < rows; ++r) {
        const T* xr = x + r * nin;
        double acc = 0;
        for (int64_t i = 0; i < nin; ++i) acc += static_cast<double>(xr[i]) * wr[i];
        y[r * nout + o] = static_cast<T>(acc + (b != nullptr ? static_cast<double>(b[o]) : 0.0));
      }
    }
  });
}

#if NBFORGE_LINEAR_AVX2
// float32 dot products 32 lanes at a time with FMA (sums of lanes in float, as a GEMM's
// are), for output columns [o0, o1). A function of its own: lambdas do not inherit
// the target attribute.
__attribute__((target("avx2,fma"))) inline float hsum_avx2(__m256 v) {
  __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s4 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
  s4 = _mm_add_ss(s4, _mm_shuffle_ps(s4, s4, 1));
  return _mm_cvtss_f32(s4);
}

// One output: x[r, :] · W[o, :] (+ b[o]).
__attribute__((target("avx2,fma"))) inline float dot_avx2(const float* xr, const float* wr, int64_t nin) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= nin; i += 32) {
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(xr + i), _mm256_loadu_ps(wr + i), a0);
    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(xr + i + 8), _mm256_loadu_ps(wr + i + 8), a1);
    a2 = _mm256_fmadd_ps(_mm256_loadu_ps(xr + i + 16), _mm256_loadu_ps(wr + i + 16), a2);
    a3 = _mm256_fmadd_ps(_mm256_loadu_ps(xr + i + 24), _mm256_loadu_ps(wr + i + 24), a3);
  }
  for (; i + 8 <= nin; i += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(xr + i), _mm256_loadu_ps(wr + i), a0);
  float acc = hsum_avx2(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  for (; i < nin; ++i) acc += xr[i] * wr[i];
  return acc;
}

// Output columns [o0, o1): blocks of 4 weight rows x 2 input rows share their loads
// (6 loads feed 8 FMAs), the rest one dot product at a time.
__attribute__((target("avx2,fma"))) void out_in_cols_avx2(const float* x, const float* w, const float* b, float* y, int64_t rows,
                                                           int64_t nin, int64_t nout, int64_t o0, int64_t o1) {
  const int64_t vec = nin - nin % 8;
  int64_t o = o0;
  for (; o + 4 <= o1 && rows >= 2 && vec > 0; o += 4) {
    const float* w0 = w + o * nin;
    const float* w1 = w0 + nin;
    const float* w2 = w1 + nin;
    const float* w3 = w2 + nin;
    int64_t r = 0;
    for (; r + 2 <= rows; r += 2) {
      const float* x0 = x + r * nin;
      const float* x1 = x0 + nin;
      __m256 acc[2][4];
      for (auto& row : acc) for (auto& v : row) v = _mm256_setzero_ps();
      for (int64_t i = 0; i < vec; i += 8) {
        const __m256 xa = _mm256_loadu_ps(x0 + i), xb = _mm256_loadu_ps(x1 + i);
        const __m256 wv[4] = {_mm256_loadu_ps(w0 + i), _mm256_loadu_ps(w1 + i), _mm256_loadu_ps(w2 + i), _mm256_loadu_ps(w3 + i)};
        for (int j = 0; j < 4; ++j) {
          acc[0][j] = _mm256_fmadd_ps(xa, wv[j], acc[0][j]);
          acc[1][j] = _mm256_fmadd_ps(xb, wv[j], acc[1][j]);
        }
      }
      const float* wr[4] = {w0, w1, w2, w3};
      for (int rr = 0; rr < 2; ++rr) {
        const float* xr = rr == 0 ? x0 : x1;
        for (int j = 0; j < 4; ++j) {
          float s = hsum_avx2(acc[rr][j]);
          for (int64_t i = vec; i < nin; ++i) s += xr[i] * wr[j][i];
          y[(r + rr) * nout + o + j] = s + (b != nullptr ? b[o + j] : 0.0f);
        }
      }
    }
    for (; r < rows; ++r) {
      for (int j = 0; j < 4; ++j) y[r * nout + o + j] = dot_avx2(x + r * nin, w + (o + j) * nin, nin) + (b != nullptr ? b[o + j] : 0.0f);
    }
  }
  for (; o < o1; ++o) {
    for (int64_t r = 0; r < rows; ++r) y[r * nout + o] = dot_avx2(x + r * nin, w + o * nin, nin) + (b != nullptr ? b[o] : 0.0f);
  }
}

void few_rows_out_in_avx2(const float* x, const float* w, const float* b, float* y, int64_t rows, int64_t nin, int64_t nout) {
  parallel_for(0, nout, few_rows_grain(rows, nin, 16), [&](int64_t o0, int64_t o1) { out_in_cols_avx2(x, w, b, y, rows, nin, nout, o0, o1); });
}
#endif

// in_out: y[r, :] = b + sum_i x[r, i] W[i, :]; column blocks split among threads.
template <typename T>
void few_rows_in_out(const T* x, const T* w, const T* b, T* y, int64_t rows, int64_t nin, int64_t nout) {
  parallel_for(0, nout, few_rows_grain(rows, nin, 256), [&](int64_t c0, int64_t c1) {
    const int64_t width = c1 - c0;
    for (int64_t r = 0; r < rows; ++r) {
      T* yr = y + r * nout + c0;
      if (b != nullptr) std::memcpy(yr, b + c0, static_cast<std::size_t>(width) * sizeof(T));
      else std::fill(yr, yr + width, T(0));
    }
    for (int64_t i = 0; i < nin; ++i) {
      const T* wr = w + i * nout + c0;
      for (int64_t r = 0; r < rows; ++r) {
        const T xv = x[r * nin + i];
        T* yr = y + r * nout + c0;
        for (int64_t c = 0; c < width; ++c) yr[c] += xv * wr[c];
      }
    }
  });
}

#if NBFORGE_LINEAR_AVX2
// in_out for R rows and output columns [c0, c1): 16 columns at a time, the R x 16
// outputs held in registers while i walks down the weight (each 64-byte piece of
// W is read once), then scalar columns for the rest.
template <int R>
__attribute__((target("avx2,fma"))) void in_out_cols_avx2(const float* x, const float* w, const float* b, float* y, int64_t nin,
                                                           int64_t nout, int64_t c0, int64_t c1) {
  int64_t c = c0;
  for (; c + 16 <= c1; c += 16) {
    __m256 acc[R][2];
    for (int r = 0; r < R; ++r) {
      acc[r][0] = b != nullptr ? _mm256_loadu_ps(b + c) : _mm256_setzero_ps();
      acc[r][1] = b != nullptr ? _mm256_loadu_ps(b + c + 8) : _mm256_setzero_ps();
    }
    for (int64_t i = 0; i < nin; ++i) {
      const __m256 w0 = _mm256_loadu_ps(w + i * nout + c);
      const __m256 w1 = _mm256_loadu_ps(w + i * nout + c + 8);
      for (int r = 0; r < R; ++r) {
        const __m256 xv = _mm256_broadcast_ss(x + r * nin + i);
        acc[r][0] = _mm256_fmadd_ps(xv, w0, acc[r][0]);
        acc[r][1] = _mm256_fmadd_ps(xv, w1, acc[r][1]);
      }
    }
    for (int r = 0; r < R; ++r) {
      _mm256_storeu_ps(y + r * nout + c, acc[r][0]);
      _mm256_storeu_ps(y + r * nout + c + 8, acc[r][1]);
    }
  }
  for (; c < c1; ++c) {
    for (int r = 0; r < R; ++r) {
      float acc = b != nullptr ? b[c] : 0.0f;
      for (int64_t i = 0; i < nin; ++i) acc += x[r * nin + i] * w[i * nout + c];
      y[r * nout + c] = acc;
    }
  }
}

template <int R>
void in_out_rows_avx2(const float* x, const float* w, const float* b, float* y, int64_t nin, int64_t nout) {
  parallel_for(0, nout, few_rows_grain(R, nin, 64), [&](int64_t c0, int64_t c1) { in_out_cols_avx2<R>(x, w, b, y, nin, nout, c0, c1); });
}

void few_rows_in_out_avx2(const float* x, const float* w, const float* b, float* y, int64_t rows, int64_t nin, int64_t nout) {
  switch (rows) {
    case 1: in_out_rows_avx2<1>(x, w, b, y, nin, nout); break;
    case 2: in_out_rows_avx2<2>(x, w, b, y, nin, nout); break;
    case 3: in_out_rows_avx2<3>(x, w, b, y, nin, nout); break;
    case 4: in_out_rows_avx2<4>(x, w, b, y, nin, nout); break;
    case 5: in_out_rows_avx2<5>(x, w, b, y, nin, nout); break;
    case 6: in_out_rows_avx2<6>(x, w, b, y, nin, nout); break;
    case 7: in_out_rows_avx2<7>(x, w, b, y, nin, nout); break;
    default: in_out_rows_avx2<8>(x, w, b, y, nin, nout); break;
  }
}
#endif

template <typename T>
void few_rows(bool out_in, const T* x, const T* w, const T* b, T* y, int64_t rows, int64_t nin, int64_t nout) {
#if NBFORGE_LINEAR_AVX2
  if constexpr (std::is_same_v<T, float>) {
    if (kernel_path_avx2()) {
      if (out_in) few_rows_out_in_avx2(x, w, b, y, rows, nin, nout);
      else few_rows_in_out_avx2(x, w, b, y, rows, nin, nout);
      return;
    }
  }
#endif
  if (out_in) few_rows_out_in<T>(x, w, b, y, rows, nin, nout);
  else few_rows_in_out<T>(x, w, b, y, rows, nin, nout);
}

// tensorLinear(x, xOff, w, wOff, wOutIn, b|null, bOff, out, outOff, rows, in, out)
// x: contiguous [rows, in]; w: contiguous [out, in] when wOutIn, else [in, out]; out: [rows, out].
Napi::Value LinearForward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "linear";
  Storage* x = storage_arg(info, 0, fn);
  Storage* w = storage_arg(info, 2, fn);
  const bool out_in = info[4].ToBoolean().Value();
  Storage* b = opt_storage(info, 5, fn);
  Storage* o = storage_arg(info, 7, fn);
  require_float(env, x, fn);
  require_same(env, x, w, fn);
  require_same(env, x, b, fn);
  require_same(env, x, o, fn);
  const int64_t rows = int_arg(info, 9), nin = int_arg(info, 10), nout = int_arg(info, 11);
  if (rows == 0 || nout == 0) return env.Undefined();
  auto run = [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    const T* px = ptr<T>(env, x, int_arg(info, 1), fn);
    const T* pw = ptr<T>(env, w, int_arg(info, 3), fn);
    const T* pb = ptr<T>(env, b, int_arg(info, 6), fn);
    T* po = ptr<T>(env, o, int_arg(info, 8), fn);
    if (rows <= kFewRows && nin > 0) {
      few_rows<T>(out_in, px, pw, pb, po, rows, nin, nout);
      return;
    }
    if (pb != nullptr) {
      parallel_for(0, rows, std::max<int64_t>(1, 32768 / std::max<int64_t>(1, nout)), [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) std::memcpy(po + r * nout, pb, static_cast<std::size_t>(nout) * sizeof(T));
      });
    }
    if (nin == 0) {
      if (pb == nullptr) std::fill(po, po + rows * nout, T(0));
      return;
    }
    // out[rows, out] = x[rows, in] · (W[out, in])ᵀ  or  x · W[in, out]
    gemm_t(false, out_in, rows, nout, nin, T(1), px, nin, pw, out_in ? nin : nout, pb != nullptr ? T(1) : T(0), po, nout);
  };
  if (x->dtype() == kFloat32) run(static_cast<float*>(nullptr));
  else run(static_cast<double*>(nullptr));
  return env.Undefined();
}

// tensorLinearBackward(x, xOff, w, wOff, wOutIn, gy, gyOff, gx|null, gw|null, gb|null, rows, in, out)
// gx [rows, in], gw (W's layout), gb [out]: contiguous at offset 0, overwritten.
Napi::Value LinearBackward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "linear backward";
  Storage* x = storage_arg(info, 0, fn);
  Storage* w = storage_arg(info, 2, fn);
  const bool out_in = info[4].ToBoolean().Value();
  Storage* gy = storage_arg(info, 5, fn);
  Storage* gx = opt_storage(info, 7, fn);
  Storage* gw = opt_storage(info, 8, fn);
  Storage* gb = opt_storage(info, 9, fn);
  require_float(env, x, fn);
  for (Storage* s : {w, gy, gx, gw, gb}) require_same(env, x, s, fn);
  const int64_t rows = int_arg(info, 10), nin = int_arg(info, 11), nout = int_arg(info, 12);
  auto run = [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    const T* px = ptr<T>(env, x, int_arg(info, 1), fn);
    const T* pw = ptr<T>(env, w, int_arg(info, 3), fn);
    const T* pg = ptr<T>(env, gy, int_arg(info, 6), fn);
    T* pgx = ptr<T>(env, gx, 0, fn);
    T* pgw = ptr<T>(env, gw, 0, fn);
    T* pgb = ptr<T>(env, gb, 0, fn);
    const bool empty = rows == 0 || nout == 0;
    if (pgx != nullptr) {
      // gx[rows, in] = gy[rows, out] · W[out, in]   or   gy · (W[in, out])ᵀ
      if (empty || nin == 0) std::fill(pgx, pgx + rows * nin, T(0));
      else gemm_t(false, !out_in, rows, nin, nout, T(1), pg, nout, pw, out_in ? nin : nout, T(0), pgx, nin);
    }
    if (pgw != nullptr) {
      if (empty || nin == 0) std::fill(pgw, pgw + nin * nout, T(0));
      else if (out_in) gemm_t(true, false, nout, nin, rows, T(1), pg, nout, px, nin, T(0), pgw, nin);   // gyᵀ · x
      else gemm_t(true, false, nin, nout, rows, T(1), px, nin, pg, nout, T(0), pgw, nout);             // xᵀ · gy
    }
    if (pgb != nullptr) {
      // column sums: each thread owns a block of columns and walks the rows in order
      parallel_for(0, nout, 64, [&](int64_t c0, int64_t c1) {
        T* acc = pgb + c0;
        const int64_t width = c1 - c0;
        std::fill(acc, acc + width, T(0));
        for (int64_t r = 0; r < rows; ++r) {
          const T* row = pg + r * nout + c0;
          for (int64_t c = 0; c < width; ++c) acc[c] += row[c];
        }
      });
    }
  };
  if (x->dtype() == kFloat32) run(static_cast<float*>(nullptr));
  else run(static_cast<double*>(nullptr));
  return env.Undefined();
}

void RegisterLinear(Napi::Env env, Napi::Object exports) {
  exports.Set("tensorLinear", Napi::Function::New(env, LinearForward, "tensorLinear"));
  exports.Set("tensorLinearBackward", Napi::Function::New(env, LinearBackward, "tensorLinearBackward"));
}

}  // namespace

NBFORGE_REGISTER_MODULE(RegisterLinear);

}  // namespace tensor
}  // namespace nbforge
