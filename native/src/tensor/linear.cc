// Fused linear layer: out = x · op(W) + b, and its backward, on the GEMM.
// Forward writes the bias into each output row and lets the GEMM accumulate
// onto it (beta = 1), instead of a product followed by a broadcast add.
// Backward makes the input gradient and the weight gradient as one GEMM each,
// the weight gradient directly in W's stored layout ([out, in] for
// torch.nn.Linear, [in, out] for GPT-2's Conv1D), and the bias gradient as
// column sums of the output gradient split by column blocks among the threads
// (a reduction over rows that the generic reduce kernel walks slowly).
#include <napi.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

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
