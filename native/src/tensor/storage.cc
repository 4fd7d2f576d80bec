#include "tensor/storage.h"

#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <vector>

#include "registry.h"

namespace nbforge {
namespace tensor {

std::size_t dtype_size(int dtype) {
  switch (dtype) {
    case kFloat32: return 4;
    case kFloat64: return 8;
    case kBFloat16: return 2;
    case kFloat16: return 2;
    case kInt32: return 4;
    case kInt64: return 8;
    case kInt8: return 1;
    case kUInt8: return 1;
    case kBool: return 1;
    default: return 0;
  }
}

const char* dtype_name(int dtype) {
  static const char* names[] = {"float32", "float64", "bfloat16", "float16", "int32",
                                "int64",   "int8",    "uint8",    "bool"};
  return dtype >= 0 && dtype <= 8 ? names[dtype] : "unknown";
}

namespace {

constexpr std::size_t kAlign = 64;
constexpr std::size_t kMaxCachedBytes = std::size_t(2) << 30;  // beyond this, free for real

struct Cache {
  std::mutex mutex;
  std::map<std::size_t, std::vector<void*>> free_lists;  // rounded size -> free blocks
  std::size_t cached_bytes = 0;
  std::size_t live_bytes = 0;
  int64_t live_storages = 0;
};

Cache& cache() {
  static Cache* c = new Cache();  // never destroyed: finalizers may run at exit
  return *c;
}

// Small blocks round up to a power of two (>= 64 B); large ones to a 64 KiB multiple.
std::size_t round_size(std::size_t bytes) {
  if (bytes <= kAlign) return kAlign;
  if (bytes <= (std::size_t(1) << 20)) {
    std::size_t r = kAlign;
    while (r < bytes) r <<= 1;
    return r;
  }
  const std::size_t page = std::size_t(1) << 16;
  return (bytes + page - 1) / page * page;
}

}  // namespace

void* cache_alloc(std::size_t bytes, std::size_t* rounded) {
  const std::size_t r = round_size(bytes);
  *rounded = r;
  Cache& c = cache();
  {
    std::lock_guard<std::mutex> lock(c.mutex);
    auto it = c.free_lists.find(r);
    if (it != c.free_lists.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      c.cached_bytes -= r;
      c.live_bytes += r;
      ++c.live_storages;
      return p;
    }
  }
  void* p = std::aligned_alloc(kAlign, r);
  if (p == nullptr) return nullptr;
  std::lock_guard<std::mutex> lock(c.mutex);
  c.live_bytes += r;
  ++c.live_storages;
  return p;
}

void cache_free(void* ptr, std::size_t rounded) {
  if (ptr == nullptr) return;
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  c.live_bytes -= rounded;
  --c.live_storages;
  if (c.cached_bytes + rounded <= kMaxCachedBytes) {
    c.free_lists[rounded].push_back(ptr);
    c.cached_bytes += rounded;
  } else {
    std::free(ptr);
  }
}

static void empty_cache() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  for (auto& entry : c.free_lists)
    for (void* p : entry.second) std::free(p);
  c.free_lists.clear();
  c.cached_bytes = 0;
}

// new Storage(dtype, numel, zero)
Storage::Storage(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Storage>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber()) {
    throw Napi::TypeError::New(env, "Storage(dtype, numel[, zero]): dtype and numel must be numbers");
  }
  env_ = env;
  allocate(info);
}

// Takes a fresh buffer for (dtype, numel[, zero]) from info[0..2].
void Storage::allocate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber()) {
    throw Napi::TypeError::New(env, "Storage(dtype, numel[, zero]): dtype and numel must be numbers");
  }
  const int dtype = info[0].As<Napi::Number>().Int32Value();
  const double n = info[1].As<Napi::Number>().DoubleValue();
  if (dtype_size(dtype) == 0) throw Napi::TypeError::New(env, "Storage: unknown dtype code " + std::to_string(dtype));
  if (!(n >= 0) || n > 9.0e15) throw Napi::RangeError::New(env, "Storage: numel must be a non-negative integer");
  const std::size_t bytes = static_cast<std::size_t>(n) * dtype_size(dtype);
  std::size_t rounded = 0;
  char* data = static_cast<char*>(cache_alloc(bytes, &rounded));
  if (data == nullptr) {
    throw Napi::Error::New(env, "Storage: out of memory allocating " + std::to_string(bytes) + " bytes");
  }
  dtype_ = dtype;
  numel_ = static_cast<int64_t>(n);
  data_ = data;
  rounded_ = rounded;
  released_ = false;
  const bool zero = info.Length() > 2 && info[2].ToBoolean().Value();
  if (zero) std::memset(data_, 0, bytes);
  Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(rounded_));
}

// reset(dtype, numel[, zero]): gives a disposed Storage a new buffer, so
// TypeScript can recycle wrapper objects instead of creating one per tensor.
Napi::Value Storage::Reset(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  release(&env);
  allocate(info);
  return env.Undefined();
}

void Storage::release(Napi::Env* env) {
  if (released_) return;
  released_ = true;
  cache_free(data_, rounded_);
  data_ = nullptr;
  if (env != nullptr) Napi::MemoryManagement::AdjustExternalMemory(*env, -static_cast<int64_t>(rounded_));
}

Storage::~Storage() {
  if (!released_) {
    const int64_t bytes = static_cast<int64_t>(rounded_);
    release(nullptr);
    int64_t ignored = 0;
    napi_adjust_external_memory(env_, -bytes, &ignored);
  }
}

char* Storage::at(Napi::Env env, int64_t offset, const char* what) {
  if (released_) {
    throw Napi::Error::New(env, std::string(what) + ": a tensor's storage was used after dispose()");
  }
  if (offset < 0 || offset > numel_) throw Napi::RangeError::New(env, std::string(what) + ": offset out of range");
  return data_ + offset * static_cast<int64_t>(dtype_size(dtype_));
}

Napi::Value Storage::Dispose(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  release(&env);
  return env.Undefined();
}

// write(typedArray, offsetElements): copies the array's bytes in.
Napi::Value Storage::Write(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray()) throw Napi::TypeError::New(env, "Storage.write: expected a typed array");
  Napi::TypedArray arr = info[0].As<Napi::TypedArray>();
  const int64_t offset = info.Length() > 1 ? info[1].As<Napi::Number>().Int64Value() : 0;
  const std::size_t es = dtype_size(dtype_);
  if (arr.ElementSize() != es) {
    throw Napi::TypeError::New(env, std::string("Storage.write: a ") + dtype_name(dtype_) +
                                        " storage takes " + std::to_string(es) + "-byte elements");
  }
  const int64_t count = static_cast<int64_t>(arr.ElementLength());
  if (offset < 0 || offset + count > numel_) throw Napi::RangeError::New(env, "Storage.write: out of range");
  char* dst = at(env, offset, "Storage.write");
  const char* src = static_cast<const char*>(arr.ArrayBuffer().Data()) + arr.ByteOffset();
  std::memcpy(dst, src, static_cast<std::size_t>(count) * es);
  return env.Undefined();
}

// read(offsetElements, count) -> ArrayBuffer copy
Napi::Value Storage::Read(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int64_t offset = info[0].As<Napi::Number>().Int64Value();
  const int64_t count = info[1].As<Napi::Number>().Int64Value();
  if (offset < 0 || count < 0 || offset + count > numel_) throw Napi::RangeError::New(env, "Storage.read: out of range");
  const std::size_t bytes = static_cast<std::size_t>(count) * dtype_size(dtype_);
  const char* src = at(env, offset, "Storage.read");
  Napi::ArrayBuffer buf = Napi::ArrayBuffer::New(env, bytes);
  if (bytes) std::memcpy(buf.Data(), src, bytes);
  return buf;
}

Napi::Value Storage::GetNumel(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(numel_)); }
Napi::Value Storage::GetDtype(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), dtype_); }
Napi::Value Storage::GetBytes(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(rounded_)); }
Napi::Value Storage::GetDisposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), released_); }

static Napi::FunctionReference* g_storage_ctor = nullptr;

void Storage::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(env, "TensorStorage",
                                    {InstanceMethod<&Storage::Dispose>("dispose"),
                                     InstanceMethod<&Storage::Reset>("reset"),
                                     InstanceMethod<&Storage::Write>("write"),
                                     InstanceMethod<&Storage::Read>("read"),
                                     InstanceAccessor<&Storage::GetNumel>("numel"),
                                     InstanceAccessor<&Storage::GetDtype>("dtype"),
                                     InstanceAccessor<&Storage::GetBytes>("bytes"),
                                     InstanceAccessor<&Storage::GetDisposed>("disposed")});
  g_storage_ctor = new Napi::FunctionReference(Napi::Persistent(ctor));
  exports.Set("TensorStorage", ctor);
}

Storage* storage_arg(const Napi::CallbackInfo& info, std::size_t index, const char* fn) {
  Napi::Value v = info[index];
  if (!v.IsObject() || g_storage_ctor == nullptr ||
      !v.As<Napi::Object>().InstanceOf(g_storage_ctor->Value())) {
    throw Napi::TypeError::New(info.Env(), std::string(fn) + ": argument " + std::to_string(index) +
                                               " must be a Storage");
  }
  return Storage::Unwrap(v.As<Napi::Object>());
}

static Napi::Value MemoryStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  Napi::Object o = Napi::Object::New(env);
  o.Set("liveStorages", Napi::Number::New(env, static_cast<double>(c.live_storages)));
  o.Set("liveBytes", Napi::Number::New(env, static_cast<double>(c.live_bytes)));
  o.Set("cachedBytes", Napi::Number::New(env, static_cast<double>(c.cached_bytes)));
  return o;
}

static Napi::Value EmptyCache(const Napi::CallbackInfo& info) {
  empty_cache();
  return info.Env().Undefined();
}

static void RegisterStorage(Napi::Env env, Napi::Object exports) {
  Storage::Init(env, exports);
  exports.Set("tensorMemoryStats", Napi::Function::New(env, MemoryStats, "tensorMemoryStats"));
  exports.Set("tensorEmptyCache", Napi::Function::New(env, EmptyCache, "tensorEmptyCache"));
}

NBFORGE_REGISTER_MODULE(RegisterStorage);

}  // namespace tensor
}  // namespace nbforge
