// Fused layer_norm and rms_norm over the last n elements of each row: the row
// statistics (accumulated in double), then one pass for the output. The forward
// optionally writes each row's (mean, rstd) into a float64 stats buffer [rows, 2]
// (as PyTorch saves them); the backward reads them when given, else recomputes
// them from x. The row loops
// live in norm_rows.inc, compiled twice (portable, and AVX2/FMA with 8-lane
// float32 rows) and chosen at run time like kernels.cc's (kernelPath()).
//   layer_norm: xhat = (x - mean) * rstd,        rstd = 1/sqrt(var + eps)
//   rms_norm:   xhat = x * rstd,                 rstd = 1/sqrt(mean(x^2) + eps)
//   y = xhat * w + b     (w, b optional)
//   backward, g' = gy * w:
//   layer_norm: gx = rstd * (g' - mean(g') - xhat * mean(g' xhat))
//   rms_norm:   gx = rstd * (g' - xhat * mean(g' xhat))
//   gw = sum_rows gy * xhat,  gb = sum_rows gy
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "parallel.h"
#include "registry.h"
#include "tensor/nn_common.h"
#include "tensor/storage.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace nbforge {
namespace tensor {

namespace norm_portable {
#include "tensor/norm_rows.inc"
}  // namespace norm_portable

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define NBF_HAVE_NORM_AVX2 1
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"
#define NBF_VEC_AVX2 1
namespace norm_avx2 {
#include "tensor/norm_rows.inc"
}  // namespace norm_avx2
#undef NBF_VEC_AVX2
#pragma GCC diagnostic pop
#pragma GCC pop_options
#endif

namespace {

namespace portable = norm_portable;
#ifdef NBF_HAVE_NORM_AVX2
namespace avx2 = norm_avx2;
#endif

using namespace nn;

#ifdef NBF_HAVE_NORM_AVX2
#define NBF_NORM_DISPATCH(fn, ...) \
  (kernel_path_avx2() ? avx2::fn(__VA_ARGS__) : portable::fn(__VA_ARGS__))
#else
#define NBF_NORM_DISPATCH(fn, ...) portable::fn(__VA_ARGS__)
#endif

// The float64 stats buffer's data at off, checked to hold 2 * rows values (null when st is).
double* stats_ptr(Napi::Env env, Storage* st, int64_t off, int64_t rows, const char* fn) {
  if (st == nullptr) return nullptr;
  if (st->dtype() != kFloat64) {
    throw Napi::TypeError::New(env, std::string(fn) + ": the stats buffer must be float64");
  }
  if (off < 0 || st->numel() - off < 2 * rows) {
    throw Napi::RangeError::New(env, std::string(fn) + ": the stats buffer is too small for the rows");
  }
  return ptr<double>(env, st, off, fn);
}

// tensorNorm(rms, x, xOff, w|null, wOff, b|null, bOff, out, outOff, rows, n, eps[, stats|null, statsOff])
// stats: float64 storage of at least statsOff + 2 * rows elements.
Napi::Value NormForward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "tensorNorm";
  const bool rms = info[0].ToBoolean().Value();
  Storage* x = storage_arg(info, 1, fn);
  Storage* w = opt_storage(info, 3, fn);
  Storage* b = opt_storage(info, 5, fn);
  Storage* o = storage_arg(info, 7, fn);
  require_float(env, x, fn);
  require_same(env, x, w, fn);
  require_same(env, x, b, fn);
  require_same(env, x, o, fn);
  const int64_t rows = int_arg(info, 9), n = int_arg(info, 10);
  const double eps = num_arg(info, 11);
  Storage* st = info.Length() > 12 ? opt_storage(info, 12, fn) : nullptr;
  double* pst = stats_ptr(env, st, info.Length() > 13 && st ? int_arg(info, 13) : 0, rows, fn);
  if (rows == 0 || n == 0) return env.Undefined();
  auto run = [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    const T* px = ptr<T>(env, x, int_arg(info, 2), fn);
    const T* pw = ptr<T>(env, w, w ? int_arg(info, 4) : 0, fn);
    const T* pb = ptr<T>(env, b, b ? int_arg(info, 6) : 0, fn);
    T* po = ptr<T>(env, o, int_arg(info, 8), fn);
    parallel_for(0, rows, std::max<int64_t>(1, 16384 / n), [&](int64_t r0, int64_t r1) {
      NBF_NORM_DISPATCH(norm_forward_rows, px, pw, pb, po, pst, r0, r1, n, rms, eps);
    });
  };
  if (x->dtype() == kFloat32) run(static_cast<float*>(nullptr));
  else run(static_cast<double*>(nullptr));
  return env.Undefined();
}

// tensorNormBackward(rms, x, xOff, w|null, wOff, gy, gyOff, gx|null, gxOff, gw|null, gwOff, gb|null, gbOff, rows, n, eps[, stats|null, statsOff])
// stats: the forward's float64 (mean, rstd) per row; recomputed from x when null.
// gw and gb are summed over rows in a fixed number of row blocks (then over the
// blocks in order), so the result does not depend on the thread count.
Napi::Value NormBackward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "tensorNormBackward";
  const bool rms = info[0].ToBoolean().Value();
  Storage* x = storage_arg(info, 1, fn);
  Storage* w = opt_storage(info, 3, fn);
  Storage* gy = storage_arg(info, 5, fn);
  Storage* gx = opt_storage(info, 7, fn);
  Storage* gw = opt_storage(info, 9, fn);
  Storage* gb = opt_storage(info, 11, fn);
  require_float(env, x, fn);
  for (Storage* s : {w, gy, gx, gw, gb}) require_same(env, x, s, fn);
  const int64_t rows = int_arg(info, 13), n = int_arg(info, 14);
  const double eps = num_arg(info, 15);
  Storage* st = info.Length() > 16 ? opt_storage(info, 16, fn) : nullptr;
  const double* pst = stats_ptr(env, st, info.Length() > 17 && st ? int_arg(info, 17) : 0, rows, fn);
  if (n == 0) return env.Undefined();
  auto run = [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    const T* px = ptr<T>(env, x, int_arg(info, 2), fn);
    const T* pw = ptr<T>(env, w, w ? int_arg(info, 4) : 0, fn);
    const T* pg = ptr<T>(env, gy, int_arg(info, 6), fn);
    T* pgx = ptr<T>(env, gx, gx ? int_arg(info, 8) : 0, fn);
    T* pgw = ptr<T>(env, gw, gw ? int_arg(info, 10) : 0, fn);
    T* pgb = ptr<T>(env, gb, gb ? int_arg(info, 12) : 0, fn);
    const bool params = pgw != nullptr || pgb != nullptr;
    const int64_t blocks = std::max<int64_t>(1, std::min<int64_t>(rows, 32));
    std::vector<double> part(params ? static_cast<std::size_t>(blocks * n * 2) : 0, 0.0);
    const int64_t per = (rows + blocks - 1) / std::max<int64_t>(1, blocks);
    parallel_for(0, blocks, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t blk = b0; blk < b1; ++blk) {
        double* pw_acc = params ? part.data() + blk * n * 2 : nullptr;
        double* pb_acc = params ? pw_acc + n : nullptr;
        const int64_t r_end = std::min(rows, (blk + 1) * per);
        if (blk * per >= r_end) continue;
        NBF_NORM_DISPATCH(norm_backward_rows, px, pw, pg, pgx, pw_acc, pb_acc, pst, blk * per, r_end, n, rms, eps);
      }
    });
    if (params) {
      parallel_for(0, n, 1024, [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) {
          double sw = 0, sb = 0;
          for (int64_t blk = 0; blk < blocks; ++blk) {
            sw += part[blk * n * 2 + i];
            sb += part[blk * n * 2 + n + i];
          }
          if (pgw) pgw[i] = static_cast<T>(sw);
          if (pgb) pgb[i] = static_cast<T>(sb);
        }
      });
    }
  };
  if (x->dtype() == kFloat32) run(static_cast<float*>(nullptr));
  else run(static_cast<double*>(nullptr));
  return env.Undefined();
}

void RegisterNorm(Napi::Env env, Napi::Object exports) {
  exports.Set("tensorNorm", Napi::Function::New(env, NormForward, "tensorNorm"));
  exports.Set("tensorNormBackward", Napi::Function::New(env, NormBackward, "tensorNormBackward"));
}

}  // namespace

NBFORGE_REGISTER_MODULE(RegisterNorm);

}  // namespace tensor
}  // namespace nbforge
