// Small helpers shared by the indexing, sampling and quantization kernels
// (indexing.cc, sampling.cc, quantize.cc, and their CUDA bindings in
// cuda_tensor.cc): argument unwrapping, an n-d walk over several strided
// operands and the out-of-range index error. Header-only, internal linkage.
#pragma once

#include "tensor/philox.h"

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

// "[i,j,...]": the coordinates of row-major element `linear` of shape.
inline std::string coord_str(const std::vector<int64_t>& shape, int64_t linear) {
  std::vector<int64_t> c(shape.size());
  for (int d = static_cast<int>(shape.size()) - 1; d >= 0; --d) {
    c[d] = shape[d] == 0 ? 0 : linear % shape[d];
    linear = shape[d] == 0 ? 0 : linear / shape[d];
  }
  std::string s = "[";
  for (std::size_t d = 0; d < c.size(); ++d) s += (d ? "," : "") + std::to_string(c[d]);
  return s + "]";
}

// The RangeError for index `value` at row-major position `pos` of an index
// tensor of shape, outside [0, size) of dimension dim (the cpu and cuda checks say the same).
[[noreturn]] inline void throw_index_out_of_range(Napi::Env env, const std::vector<int64_t>& shape, int64_t pos, int64_t value,
                                                  int64_t dim, int64_t size, const std::string& what) {
  throw Napi::RangeError::New(env, what + ": index " + std::to_string(value) + " at position " + coord_str(shape, pos) +
                                       " is out of range for dimension " + std::to_string(dim) + " of size " + std::to_string(size) +
                                       "; indices must lie in 0.." + std::to_string(size - 1));
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

// The generator is shared with the other random ops.
using ::nbforge::tensor::Philox;
inline double unit_double(uint32_t hi, uint32_t lo) { return unit_from_u64(hi, lo); }

}  // namespace ixutil
}  // namespace tensor
}  // namespace nbforge
