// Tensor storage: a 64-byte-aligned buffer from a caching allocator, owned by a
// JavaScript object (Storage). dispose() returns the buffer to the cache at once;
// the object's finalizer does so when dispose() was never called.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace nbforge {
namespace tensor {

// dtype codes shared with kernel/src/tensor/dtype.ts.
enum DType : int {
  kFloat32 = 0,
  kFloat64 = 1,
  kBFloat16 = 2,
  kFloat16 = 3,
  kInt32 = 4,
  kInt64 = 5,
  kInt8 = 6,
  kUInt8 = 7,
  kBool = 8,
};

std::size_t dtype_size(int dtype);
const char* dtype_name(int dtype);

// The caching allocator (size-bucketed free lists).
void* cache_alloc(std::size_t bytes, std::size_t* rounded);
void cache_free(void* ptr, std::size_t rounded);

class Storage : public Napi::ObjectWrap<Storage> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  explicit Storage(const Napi::CallbackInfo& info);
  ~Storage() override;

  int dtype() const { return dtype_; }
  int64_t numel() const { return numel_; }
  bool disposed() const { return data_ == nullptr && numel_ > 0; }
  // Element pointer at `offset` elements; throws a JS error if disposed.
  char* at(Napi::Env env, int64_t offset, const char* what);

 private:
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  Napi::Value Reset(const Napi::CallbackInfo& info);
  void allocate(const Napi::CallbackInfo& info);
  Napi::Value Write(const Napi::CallbackInfo& info);
  Napi::Value Read(const Napi::CallbackInfo& info);
  Napi::Value GetNumel(const Napi::CallbackInfo& info);
  Napi::Value GetDtype(const Napi::CallbackInfo& info);
  Napi::Value GetBytes(const Napi::CallbackInfo& info);
  Napi::Value GetDisposed(const Napi::CallbackInfo& info);
  void release(Napi::Env* env);

  char* data_ = nullptr;
  std::size_t rounded_ = 0;
  int64_t numel_ = 0;
  int dtype_ = 0;
  bool released_ = true;
  napi_env env_ = nullptr;
};

// Unwraps argument `index` as a live Storage (throws a TypeError otherwise).
Storage* storage_arg(const Napi::CallbackInfo& info, std::size_t index, const char* fn);

}  // namespace tensor
}  // namespace nbforge
