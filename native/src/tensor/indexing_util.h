// Small helpers shared by the indexing, sampling and quantization kernels
// (indexing.cc, sampling.cc, quantize.cc): argument unwrapping and an n-d walk
// over several strided operands. Header-only, internal linkage.
#pragma once

#include <napi.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "tensor/storage.h"

namespace nbforge {
namespace tensor {
namespace ixutil {

inline int64_t int_arg(const Napi::CallbackInfo& info, std::size_t i) {
  return static_cast<int64_t>(info[i].As<Napi::Number>().DoubleValue());
}
inline double num_arg(const Napi::CallbackInfo& info, std::size_t i) { return info[i].As<Napi::Number>().DoubleValue(); }
inline std::vector<int64_t> vec_arg(const Napi::CallbackInfo& info, std::size_t i) {
  Napi::Array a = info[i].As<Napi::Array>();
  std::vector<int64_t> v(a.Length());
  for (uint32_t k = 0; k < a.Length(); ++k) v[k] = static_cast<int64_t>(a.Get(k).As<Napi::Number>().DoubleValue());
  return v;
}
inline int64_t numel_of(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

// Visits elements [i0, i1) of an n-d iteration in row-major order, giving each
// operand's element offset (relative to its base) for every element.
template <std::size_t K, typename F>
void walk(const std::vector<int64_t>& shape, const std::vector<int64_t>* const (&strides)[K], int64_t i0, int64_t i1, F fn) {
  const int nd = static_cast<int>(shape.size());
  std::vector<int64_t> coord(nd > 0 ? nd : 1, 0);
  int64_t off[K] = {};
  int64_t rem = i0;
  for (int d = nd - 1; d >= 0; --d) {
    coord[d] = shape[d] == 0 ? 0 : rem % shape[d];
    rem = shape[d] == 0 ? 0 : rem / shape[d];
    for (std::size_t k = 0; k < K; ++k) off[k] += coord[d] * (*strides[k])[d];
  }
  for (int64_t i = i0; i < i1; ++i) {
    fn(static_cast<const int64_t*>(off), coord.data());
    for (int d = nd - 1; d >= 0; --d) {
      ++coord[d];
      for (std::size_t k = 0; k < K; ++k) off[k] += (*strides[k])[d];
      if (coord[d] < shape[d]) break;
      for (std::size_t k = 0; k < K; ++k) off[k] -= coord[d] * (*strides[k])[d];
      coord[d] = 0;
    }
  }
}

// Calls fn with a null pointer of an unsigned integer type of the element size.
template <typename F>
void with_size(std::size_t bytes, F fn) {
  switch (bytes) {
    case 1: fn(static_cast<uint8_t*>(nullptr)); break;
    case 2: fn(static_cast<uint16_t*>(nullptr)); break;
    case 4: fn(static_cast<uint32_t*>(nullptr)); break;
    default: fn(static_cast<uint64_t*>(nullptr)); break;
  }
}

// Calls fn with a null pointer of the C++ arithmetic type of a dtype code
// (float32, float64 and the integer types; bool as uint8). Returns false for
// bfloat16/float16, which callers convert to float32 first.
template <typename F>
bool with_arith(int dtype, F fn) {
  switch (dtype) {
    case kFloat32: fn(static_cast<float*>(nullptr)); return true;
    case kFloat64: fn(static_cast<double*>(nullptr)); return true;
    case kInt32: fn(static_cast<int32_t*>(nullptr)); return true;
    case kInt64: fn(static_cast<int64_t*>(nullptr)); return true;
    case kInt8: fn(static_cast<int8_t*>(nullptr)); return true;
    case kUInt8: fn(static_cast<uint8_t*>(nullptr)); return true;
    case kBool: fn(static_cast<bool*>(nullptr)); return true;
    default: return false;
  }
}

// Philox4x32-10, the same generator as tensorRandom in kernels.cc.
struct Philox {
  uint32_t k0, k1;
  void block(uint64_t counter, uint32_t out[4]) const {
    uint32_t c0 = static_cast<uint32_t>(counter), c1 = static_cast<uint32_t>(counter >> 32), c2 = 0, c3 = 0;
    uint32_t a = k0, b = k1;
    for (int r = 0; r < 10; ++r) {
      const uint64_t p0 = static_cast<uint64_t>(0xD2511F53u) * c0;
      const uint64_t p1 = static_cast<uint64_t>(0xCD9E8D57u) * c2;
      const uint32_t hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
      const uint32_t hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
      c0 = hi1 ^ c1 ^ a;
      c1 = lo1;
      c2 = hi0 ^ c3 ^ b;
      c3 = lo0;
      a += 0x9E3779B9u;
      b += 0xBB67AE85u;
    }
    out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
  }
};

inline double unit_double(uint32_t hi, uint32_t lo) {
  return static_cast<double>(((static_cast<uint64_t>(hi) << 32) | lo) >> 11) * (1.0 / 9007199254740992.0);
}

}  // namespace ixutil
}  // namespace tensor
}  // namespace nbforge
