// Fused layer_norm and rms_norm over the last n elements of each row: one pass
// for the statistics (accumulated in double), one for the output; the backward
// recomputes the statistics from x, so nothing but x is saved.
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
#include <vector>

#include "parallel.h"
#include "registry.h"
#include "tensor/nn_common.h"
#include "tensor/storage.h"

namespace nbforge {
namespace tensor {
namespace {

using namespace nn;

// Row statistics: mean (0 for rms) and rstd.
template <typename T>
inline void row_stats(const T* x, int64_t n, bool rms, double eps, double* mean, double* rstd) {
  double m = 0;
  if (!rms) {
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
      s0 += static_cast<double>(x[i]); s1 += static_cast<double>(x[i + 1]);
      s2 += static_cast<double>(x[i + 2]); s3 += static_cast<double>(x[i + 3]);
    }
    for (; i < n; ++i) s0 += static_cast<double>(x[i]);
    m = ((s0 + s1) + (s2 + s3)) / static_cast<double>(n);
  }
  double q0 = 0, q1 = 0;
  int64_t i = 0;
  for (; i + 2 <= n; i += 2) {
    const double d0 = static_cast<double>(x[i]) - m, d1 = static_cast<double>(x[i + 1]) - m;
    q0 += d0 * d0;
    q1 += d1 * d1;
  }
  for (; i < n; ++i) {
    const double d = static_cast<double>(x[i]) - m;
    q0 += d * d;
  }
  *mean = m;
  *rstd = 1.0 / std::sqrt((q0 + q1) / static_cast<double>(n) + eps);
}

// tensorNorm(rms, x, xOff, w|null, wOff, b|null, bOff, out, outOff, rows, n, eps)
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
  if (rows == 0 || n == 0) return env.Undefined();
  auto run = [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    const T* px = ptr<T>(env, x, int_arg(info, 2), fn);
    const T* pw = ptr<T>(env, w, w ? int_arg(info, 4) : 0, fn);
    const T* pb = ptr<T>(env, b, b ? int_arg(info, 6) : 0, fn);
    T* po = ptr<T>(env, o, int_arg(info, 8), fn);
    parallel_for(0, rows, std::max<int64_t>(1, 16384 / n), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const T* xr = px + r * n;
        T* yr = po + r * n;
        double mean, rstd;
        row_stats(xr, n, rms, eps, &mean, &rstd);
        const T tm = static_cast<T>(mean), ts = static_cast<T>(rstd);
        if (pw && pb) {
          for (int64_t i = 0; i < n; ++i) yr[i] = (xr[i] - tm) * ts * pw[i] + pb[i];
        } else if (pw) {
          for (int64_t i = 0; i < n; ++i) yr[i] = (xr[i] - tm) * ts * pw[i];
        } else if (pb) {
          for (int64_t i = 0; i < n; ++i) yr[i] = (xr[i] - tm) * ts + pb[i];
        } else {
          for (int64_t i = 0; i < n; ++i) yr[i] = (xr[i] - tm) * ts;
        }
      }
    });
  };
  if (x->dtype() == kFloat32) run(static_cast<float*>(nullptr));
  else run(static_cast<double*>(nullptr));
  return env.Undefined();
}

// tensorNormBackward(rms, x, xOff, w|null, wOff, gy, gyOff, gx|null, gxOff, gw|null, gwOff, gb|null, gbOff, rows, n, eps)
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
      std::vector<double> gp(static_cast<std::size_t>(n));
      for (int64_t blk = b0; blk < b1; ++blk) {
        double* pw_acc = params ? part.data() + blk * n * 2 : nullptr;
        double* pb_acc = params ? pw_acc + n : nullptr;
        const int64_t r_end = std::min(rows, (blk + 1) * per);
        for (int64_t r = blk * per; r < r_end; ++r) {
          const T* xr = px + r * n;
          const T* gr = pg + r * n;
          double mean, rstd;
          row_stats(xr, n, rms, eps, &mean, &rstd);
          if (params) {
            for (int64_t i = 0; i < n; ++i) {
              const double g = static_cast<double>(gr[i]);
              pw_acc[i] += g * (static_cast<double>(xr[i]) - mean) * rstd;
              pb_acc[i] += g;
            }
          }
          if (pgx == nullptr) continue;
          double sg = 0, sgx = 0;
          for (int64_t i = 0; i < n; ++i) {
            const double g = static_cast<double>(gr[i]) * (pw ? static_cast<double>(pw[i]) : 1.0);
            gp[i] = g;
            sg += g;
            sgx += g * (static_cast<double>(xr[i]) - mean) * rstd;
          }
          const double inv_n = 1.0 / static_cast<double>(n);
          const double mg = rms ? 0.0 : sg * inv_n, mgx = sgx * inv_n;
          T* gxr = pgx + r * n;
          for (int64_t i = 0; i < n; ++i) {
            const double xh = (static_cast<double>(xr[i]) - mean) * rstd;
            gxr[i] = static_cast<T>(rstd * (gp[i] - mg - xh * mgx));
          }
        }
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
