// Small helpers shared by the neural-network kernels (norm.cc, embedding.cc,
// loss.cc, dropout.cc, attention.cc): argument unwrapping and dtype checks.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>

#include "tensor/storage.h"

namespace nbforge {
namespace tensor {

// Float32 softmax of `rows` contiguous rows of length n (x may equal y), on the
// kernel path kernelPath() chose (AVX2 or portable); defined in kernels.cc.
void softmax_rows_f32(const float* x, float* y, int64_t rows, int64_t n);

// Whether float32 kernels outside kernels.cc (norm.cc) should take their AVX2/FMA
// copy: true when the CPU has AVX2+FMA and kernelPath() is not "portable".
bool kernel_path_avx2();

namespace nn {

inline int64_t int_arg(const Napi::CallbackInfo& info, std::size_t i) {
  return static_cast<int64_t>(info[i].As<Napi::Number>().DoubleValue());
}
inline double num_arg(const Napi::CallbackInfo& info, std::size_t i) { return info[i].As<Napi::Number>().DoubleValue(); }

// Storage argument `i`, or nullptr when the argument is null/undefined.
inline Storage* opt_storage(const Napi::CallbackInfo& info, std::size_t i, const char* fn) {
  if (info.Length() <= i || info[i].IsNull() || info[i].IsUndefined()) return nullptr;
  return storage_arg(info, i, fn);
}

inline void require_float(Napi::Env env, const Storage* s, const char* fn) {
  if (s->dtype() != kFloat32 && s->dtype() != kFloat64) {
    throw Napi::TypeError::New(env, std::string(fn) + ": kernel takes float32 or float64, got " + dtype_name(s->dtype()));
  }
}
inline void require_same(Napi::Env env, const Storage* a, const Storage* b, const char* fn) {
  if (b != nullptr && a->dtype() != b->dtype()) {
    throw Napi::TypeError::New(env, std::string(fn) + ": dtypes " + dtype_name(a->dtype()) + " and " +
                                        dtype_name(b->dtype()) + " differ");
  }
}
inline void require_index(Napi::Env env, const Storage* s, const char* fn) {
  if (s->dtype() != kInt32 && s->dtype() != kInt64) {
    throw Napi::TypeError::New(env, std::string(fn) + ": indices must be int32 or int64, got " + dtype_name(s->dtype()));
  }
}
// Index i of an int32 or int64 array.
inline int64_t index_at(const char* p, bool i64, int64_t i) {
  return i64 ? reinterpret_cast<const int64_t*>(p)[i] : static_cast<int64_t>(reinterpret_cast<const int32_t*>(p)[i]);
}

template <typename T>
T* ptr(Napi::Env env, Storage* s, int64_t off, const char* fn) {
  return s == nullptr ? nullptr : reinterpret_cast<T*>(s->at(env, off, fn));
}

}  // namespace nn
}  // namespace tensor
}  // namespace nbforge
