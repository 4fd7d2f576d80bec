// Rotary position embedding in the "rotate half" layout (Hugging Face Llama):
//   y[i]     = x[i] cos[i]         - x[i + h] sin[i]
//   y[i + h] = x[i + h] cos[i + h] + x[i] sin[i + h]        (i < h = D / 2)
// and its gradient (the transpose of that rotation):
//   gx[i]     = g[i] cos[i]         + g[i + h] sin[i + h]
//   gx[i + h] = g[i + h] cos[i + h] - g[i] sin[i]
// over rows of x [B, H, T, D] (contiguous) with cos, sin [B or 1, T, D]
// (contiguous), one pass instead of the slices, negation, concatenation,
// products and sum it takes composed from elementwise ops.
#include <napi.h>

#include <algorithm>
#include <cstdint>

#include "parallel.h"
#include "registry.h"
#include "tensor/nn_common.h"
#include "tensor/storage.h"

namespace nbforge {
namespace tensor {
namespace {

using namespace nn;

// tensorRotary(backward, x, xOff, cos, cosOff, sin, sinOff, out, outOff, batch, heads, time, dim, tableBatch)
Napi::Value Rotary(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "rotary";
  const bool backward = info[0].ToBoolean().Value();
  Storage* x = storage_arg(info, 1, fn);
  Storage* c = storage_arg(info, 3, fn);
  Storage* s = storage_arg(info, 5, fn);
  Storage* o = storage_arg(info, 7, fn);
  require_float(env, x, fn);
  require_same(env, x, c, fn);
  require_same(env, x, s, fn);
  require_same(env, x, o, fn);
  const int64_t batch = int_arg(info, 9), heads = int_arg(info, 10), time = int_arg(info, 11), dim = int_arg(info, 12);
  const bool table_batch = int_arg(info, 13) > 1;
  const int64_t rows = batch * heads * time, h = dim / 2;
  if (rows == 0 || dim == 0) return env.Undefined();
  auto run = [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    const T* px = ptr<T>(env, x, int_arg(info, 2), fn);
    const T* pc = ptr<T>(env, c, int_arg(info, 4), fn);
    const T* ps = ptr<T>(env, s, int_arg(info, 6), fn);
    T* po = ptr<T>(env, o, int_arg(info, 8), fn);
    const T sign = backward ? T(-1) : T(1);
    parallel_for(0, rows, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, dim)), [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t t = r % time;
        const int64_t b = r / (heads * time);
        const int64_t tr = (table_batch ? b * time : 0) + t;
        const T* xr = px + r * dim;
        const T* cr = pc + tr * dim;
        const T* sr = ps + tr * dim;
        T* yr = po + r * dim;
        // forward: sin at the output's own index; backward: at the partner's index
        for (int64_t i = 0; i < h; ++i) {
          const T lo = xr[i], hi = xr[i + h];
          yr[i] = lo * cr[i] - sign * hi * (backward ? sr[i + h] : sr[i]);
          yr[i + h] = hi * cr[i + h] + sign * lo * (backward ? sr[i] : sr[i + h]);
        }
      }
    });
  };
  if (x->dtype() == kFloat32) run(static_cast<float*>(nullptr));
  else run(static_cast<double*>(nullptr));
  return env.Undefined();
}

void RegisterRotary(Napi::Env env, Napi::Object exports) {
  exports.Set("tensorRotary", Napi::Function::New(env, Rotary, "tensorRotary"));
}

}  // namespace

NBFORGE_REGISTER_MODULE(RegisterRotary);

}  // namespace tensor
}  // namespace nbforge
