// Fused cross-entropy over rows of logits: log-softmax and NLL in one pass per
// row (log-sum-exp in double), with ignore_index and label smoothing, exactly as
// torch.nn.functional.cross_entropy defines them:
//   loss_i = (1 - e) * (lse - z[t]) + (e / C) * sum_c (lse - z[c]);  0 where t == ignore
//   mean: sum_i loss_i / #(t != ignore);  sum: sum_i loss_i;  none: loss_i
// The gradient, recomputed from the logits (nothing but them is saved):
//   dloss_i/dz[c] = p[c] - (1 - e) [c == t] - e / C
// Also the dropout mask: uniform samples u become (u >= p) / (1 - p) in place.
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "parallel.h"
#include "registry.h"
#include "tensor/nn_common.h"
#include "tensor/storage.h"

namespace nbforge {
namespace tensor {
namespace {

using namespace nn;

template <typename T>
inline double row_lse(const T* z, int64_t n) {
  double m = -std::numeric_limits<double>::infinity();
  for (int64_t c = 0; c < n; ++c) m = std::max(m, static_cast<double>(z[c]));
  if (!std::isfinite(m)) return m;
  double s = 0;
  for (int64_t c = 0; c < n; ++c) s += std::exp(static_cast<double>(z[c]) - m);
  return m + std::log(s);
}

// Checks targets; returns how many are not ignored.
int64_t check_targets(Napi::Env env, const char* tp, bool i64, int64_t rows, int64_t n, int64_t ignore) {
  int64_t count = 0;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t t = index_at(tp, i64, r);
    if (t == ignore) continue;
    if (t < 0 || t >= n) {
      throw Napi::RangeError::New(env, "cross_entropy: target " + std::to_string(t) + " at position " + std::to_string(r) +
                                           " is not a class index in [0, " + std::to_string(n) +
                                           ") nor ignore_index " + std::to_string(ignore));
    }
    ++count;
  }
  return count;
}

// tensorCrossEntropy(x, xOff, tgt, tgtOff, out, outOff, rows, n, ignore, smoothing, reduction) -> count
// reduction: 0 none (out has rows elements), 1 mean, 2 sum (out has one element).
Napi::Value CrossEntropy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "cross_entropy";
  Storage* x = storage_arg(info, 0, fn);
  Storage* tg = storage_arg(info, 2, fn);
  Storage* o = storage_arg(info, 4, fn);
  require_float(env, x, fn);
  require_index(env, tg, fn);
  require_same(env, x, o, fn);
  const int64_t rows = int_arg(info, 6), n = int_arg(info, 7), ignore = int_arg(info, 8);
  const double eps = num_arg(info, 9);
  const int reduction = static_cast<int>(int_arg(info, 10));
  const bool i64 = tg->dtype() == kInt64;
  const char* tp = rows > 0 ? tg->at(env, int_arg(info, 3), fn) : nullptr;
  const int64_t count = check_targets(env, tp, i64, rows, n, ignore);
  auto run = [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    const T* px = rows > 0 ? ptr<T>(env, x, int_arg(info, 1), fn) : nullptr;
    T* po = ptr<T>(env, o, int_arg(info, 5), fn);
    std::vector<double> loss(static_cast<std::size_t>(rows));
    parallel_for(0, rows, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, n)), [&](int64_t r0, int64_t r1) {
      std::vector<float> prob(std::is_same_v<T, float> ? static_cast<std::size_t>(n) : 0);
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t t = index_at(tp, i64, r);
        if (t == ignore) { loss[r] = 0; continue; }
        const T* z = px + r * n;
        double lse;
        if constexpr (std::is_same_v<T, float>) {
          // float32: lse = z[t] - log p[t] from the vectorised softmax row; a p[t] near
          // float32's underflow (loss > ~69) takes the exact double loop instead
          softmax_rows_f32(z, prob.data(), 1, n);
          lse = prob[t] > 1e-30f ? static_cast<double>(z[t]) - std::log(static_cast<double>(prob[t])) : row_lse(z, n);
        } else {
          lse = row_lse(z, n);
        }
        double l = (1.0 - eps) * (lse - static_cast<double>(z[t]));
        if (eps != 0) {
          double s = 0;
          for (int64_t c = 0; c < n; ++c) s += lse - static_cast<double>(z[c]);
          l += eps / static_cast<double>(n) * s;
        }
        loss[r] = l;
      }
    });
    if (reduction == 0) {
      for (int64_t r = 0; r < rows; ++r) po[r] = static_cast<T>(loss[r]);
    } else {
      double s = 0;
      for (int64_t r = 0; r < rows; ++r) s += loss[r];
      po[0] = static_cast<T>(reduction == 1 ? s / static_cast<double>(count) : s);
    }
  };
  if (x->dtype() == kFloat32) run(static_cast<float*>(nullptr));
  else run(static_cast<double*>(nullptr));
  return Napi::Number::New(env, static_cast<double>(count));
}

// tensorCrossEntropyBackward(x, xOff, tgt, tgtOff, gy, gyOff, gx, gxOff, rows, n, ignore, smoothing, reduction)
// gy: one element (mean/sum) or rows elements (none).
Napi::Value CrossEntropyBackward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "cross_entropy backward";
  Storage* x = storage_arg(info, 0, fn);
  Storage* tg = storage_arg(info, 2, fn);
  Storage* gy = storage_arg(info, 4, fn);
  Storage* gx = storage_arg(info, 6, fn);
  require_float(env, x, fn);
  require_index(env, tg, fn);
  require_same(env, x, gy, fn);
  require_same(env, x, gx, fn);
  const int64_t rows = int_arg(info, 8), n = int_arg(info, 9), ignore = int_arg(info, 10);
  const double eps = num_arg(info, 11);
  const int reduction = static_cast<int>(int_arg(info, 12));
  if (rows == 0 || n == 0) return env.Undefined();
  const bool i64 = tg->dtype() == kInt64;
  const char* tp = tg->at(env, int_arg(info, 3), fn);
  const double count = static_cast<double>(check_targets(env, tp, i64, rows, n, ignore));
  auto run = [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    const T* px = ptr<T>(env, x, int_arg(info, 1), fn);
    const T* pg = ptr<T>(env, gy, int_arg(info, 5), fn);
    T* po = ptr<T>(env, gx, int_arg(info, 7), fn);
    const double scalar = reduction == 0 ? 0.0 : static_cast<double>(pg[0]) / (reduction == 1 ? count : 1.0);
    const double off = eps / static_cast<double>(n);
    parallel_for(0, rows, std::max<int64_t>(1, 16384 / n), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t t = index_at(tp, i64, r);
        const T* z = px + r * n;
        T* g = po + r * n;
        if (t == ignore) {
          std::fill(g, g + n, T(0));
          continue;
        }
        const double s = reduction == 0 ? static_cast<double>(pg[r]) : scalar;
        if constexpr (std::is_same_v<T, float>) {
          // float32: the vectorised softmax row (the language-model head's [tokens, vocab]
          // logits make this the hot loop of a training step), then the affine correction
          softmax_rows_f32(z, g, 1, n);
          const float fs = static_cast<float>(s), foff = static_cast<float>(off);
          for (int64_t c = 0; c < n; ++c) g[c] = fs * (g[c] - foff);
          g[t] -= static_cast<float>(s * (1.0 - eps));
          continue;
        }
        const double lse = row_lse(z, n);
        for (int64_t c = 0; c < n; ++c) {
          const double p = std::exp(static_cast<double>(z[c]) - lse);
          g[c] = static_cast<T>(s * (p - off - (c == t ? 1.0 - eps : 0.0)));
        }
      }
    });
  };
  if (x->dtype() == kFloat32) run(static_cast<float*>(nullptr));
  else run(static_cast<double*>(nullptr));
  return env.Undefined();
}

// tensorDropoutMask(u, off, n, p): u[i] = u[i] >= p ? 1 / (1 - p) : 0 (all zero when p >= 1).
Napi::Value DropoutMask(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "dropout";
  Storage* u = storage_arg(info, 0, fn);
  require_float(env, u, fn);
  const int64_t n = int_arg(info, 2);
  const double p = num_arg(info, 3);
  if (n == 0) return env.Undefined();
  auto run = [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    T* pu = ptr<T>(env, u, int_arg(info, 1), fn);
    const T keep = p >= 1 ? T(0) : static_cast<T>(1.0 / (1.0 - p));
    const T tp = static_cast<T>(p);
    parallel_for(0, n, 32768, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) pu[i] = pu[i] >= tp ? keep : T(0);
    });
  };
  if (u->dtype() == kFloat32) run(static_cast<float*>(nullptr));
  else run(static_cast<double*>(nullptr));
  return env.Undefined();
}

void RegisterLoss(Napi::Env env, Napi::Object exports) {
  exports.Set("tensorCrossEntropy", Napi::Function::New(env, CrossEntropy, "tensorCrossEntropy"));
  exports.Set("tensorCrossEntropyBackward", Napi::Function::New(env, CrossEntropyBackward, "tensorCrossEntropyBackward"));
  exports.Set("tensorDropoutMask", Napi::Function::New(env, DropoutMask, "tensorDropoutMask"));
}

}  // namespace

NBFORGE_REGISTER_MODULE(RegisterLoss);

}  // namespace tensor
}  // namespace nbforge
