// Block-wise symmetric absmax quantization (ZeRO++ qwZ/qgZ): the flattened
// float32 tensor is cut into blocks of `block` elements (the last may be short);
// each block's scale is absmax / qmax (qmax 127 for int8, 7 for int4) and its
// codes are round-half-even(x / scale) clamped to [-qmax, qmax] (0 where the
// block is all zeros). int4 codes are packed two per byte, element 2i in the low
// nibble and 2i+1 in the high nibble, as two's complement. All arithmetic is
// float32 (division, not multiplication by a reciprocal), so a numpy float32
// implementation of the same scheme gives the same codes bit for bit.
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "parallel.h"
#include "registry.h"
#include "tensor/indexing_util.h"
#include "tensor/storage.h"

namespace nbforge {
namespace tensor {
namespace {

using namespace ixutil;

inline int32_t quant(float v, float scale, int32_t qmax) {
  if (scale == 0.0f) return 0;
  const float q = std::nearbyint(v / scale);
  return static_cast<int32_t>(std::min(static_cast<float>(qmax), std::max(static_cast<float>(-qmax), q)));
}

// tensorQuantize(bits, x, xOff, n, block, data, scales): x float32 contiguous;
// data int8 [n] (bits 8) or uint8 [ceil(n/2)] (bits 4); scales float32 [ceil(n/block)].
Napi::Value Quantize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int bits = static_cast<int>(int_arg(info, 0));
  Storage* x = storage_arg(info, 1, "tensorQuantize");
  Storage* d = storage_arg(info, 5, "tensorQuantize");
  Storage* s = storage_arg(info, 6, "tensorQuantize");
  const int64_t n = int_arg(info, 3), block = int_arg(info, 4);
  if (x->dtype() != kFloat32 || s->dtype() != kFloat32) throw Napi::TypeError::New(env, "tensorQuantize: takes float32 values and scales");
  if (bits != 8 && bits != 4) throw Napi::RangeError::New(env, "tensorQuantize: bits must be 8 or 4");
  if (block <= 0 || (bits == 4 && block % 2 != 0)) throw Napi::RangeError::New(env, "tensorQuantize: bad block size");
  if (n == 0) return env.Undefined();
  const float* px = reinterpret_cast<const float*>(x->at(env, int_arg(info, 2), "tensorQuantize"));
  char* pd = d->at(env, 0, "tensorQuantize");
  float* ps = reinterpret_cast<float*>(s->at(env, 0, "tensorQuantize"));
  const int64_t blocks = (n + block - 1) / block;
  const int32_t qmax = bits == 8 ? 127 : 7;
  parallel_for(0, blocks, std::max<int64_t>(1, 16384 / block), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t i0 = b * block, i1 = std::min(n, i0 + block);
      float amax = 0.0f;
      for (int64_t i = i0; i < i1; ++i) amax = std::max(amax, std::fabs(px[i]));
      const float scale = amax / static_cast<float>(qmax);
      ps[b] = scale;
      if (bits == 8) {
        int8_t* q = reinterpret_cast<int8_t*>(pd);
        for (int64_t i = i0; i < i1; ++i) q[i] = static_cast<int8_t>(quant(px[i], scale, qmax));
      } else {
        uint8_t* q = reinterpret_cast<uint8_t*>(pd);
        for (int64_t i = i0; i < i1; i += 2) {
          const uint32_t lo = static_cast<uint32_t>(quant(px[i], scale, qmax)) & 0xfu;
          const uint32_t hi = i + 1 < i1 ? static_cast<uint32_t>(quant(px[i + 1], scale, qmax)) & 0xfu : 0u;
          q[i / 2] = static_cast<uint8_t>(lo | (hi << 4));
        }
      }
    }
  });
  return env.Undefined();
}

// tensorDequantize(bits, data, dataOff, scales, scalesOff, n, block, out): out float32 [n] = code * scale.
Napi::Value Dequantize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int bits = static_cast<int>(int_arg(info, 0));
  Storage* d = storage_arg(info, 1, "tensorDequantize");
  Storage* s = storage_arg(info, 3, "tensorDequantize");
  Storage* o = storage_arg(info, 7, "tensorDequantize");
  const int64_t n = int_arg(info, 5), block = int_arg(info, 6);
  if (s->dtype() != kFloat32 || o->dtype() != kFloat32) throw Napi::TypeError::New(env, "tensorDequantize: takes float32 scales and output");
  if (block <= 0 || (bits != 8 && bits != 4)) throw Napi::RangeError::New(env, "tensorDequantize: bad bits or block size");
  if (n == 0) return env.Undefined();
  const char* pd = d->at(env, int_arg(info, 2), "tensorDequantize");
  const float* ps = reinterpret_cast<const float*>(s->at(env, int_arg(info, 4), "tensorDequantize"));
  float* po = reinterpret_cast<float*>(o->at(env, 0, "tensorDequantize"));
  parallel_for(0, n, 32768, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      int32_t code;
      if (bits == 8) {
        code = reinterpret_cast<const int8_t*>(pd)[i];
      } else {
        const uint32_t byte = reinterpret_cast<const uint8_t*>(pd)[i / 2];
        const uint32_t nib = (i & 1) ? (byte >> 4) & 0xfu : byte & 0xfu;
        code = static_cast<int32_t>(nib) - ((nib & 0x8u) ? 16 : 0);
      }
      po[i] = static_cast<float>(code) * ps[i / block];
    }
  });
  return env.Undefined();
}

void RegisterQuantize(Napi::Env env, Napi::Object exports) {
  exports.Set("tensorQuantize", Napi::Function::New(env, Quantize, "tensorQuantize"));
  exports.Set("tensorDequantize", Napi::Function::New(env, Dequantize, "tensorDequantize"));
}

}  // namespace

NBFORGE_REGISTER_MODULE(RegisterQuantize);

}  // namespace tensor
}  // namespace nbforge
