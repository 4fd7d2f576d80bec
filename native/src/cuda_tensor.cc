// The `cuda` device for JavaScript: CudaStorage (device memory through a caching
// allocator, with host transfers) and `cudaKernels`, an object whose functions
// have exactly the names and argument lists of the CPU tensor kernels
// (tensorCopy, tensorBinary, ... in src/tensor/*.cc) but take CudaStorage
// operands and run the kernels of libnbforge_cuda.so (native/cuda/). So an op's
// cuda kernel in TypeScript is its cpu kernel's orchestration over this object.
//
// Nothing here links against CUDA: the library's entry points are looked up
// with dlsym in the handle cuda_loader.cc opened, and only when a GPU exists.
#include <napi.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "../cuda/nbforge_cuda.h"
#include "cuda_api.h"
#include "registry.h"
#include "tensor/indexing_util.h"
#include "tensor/storage.h"

#ifndef _WIN32
#include <dlfcn.h>
#endif

namespace nbforge {
namespace {

using tensor::dtype_name;
using tensor::dtype_size;

// ---- the library's entry points ----
#define NBF_CUDA_FUNCTIONS(X)                                                                              \
  X(nbf_cuda_error_string) X(nbf_cuda_malloc) X(nbf_cuda_free) X(nbf_cuda_memcpy) X(nbf_cuda_memset)       \
  X(nbf_cuda_synchronize) X(nbf_cuda_copy) X(nbf_cuda_fill) X(nbf_cuda_arange) X(nbf_cuda_random)          \
  X(nbf_cuda_dropout_mask) X(nbf_cuda_binary) X(nbf_cuda_unary) X(nbf_cuda_unary_backward) X(nbf_cuda_reduce) \
  X(nbf_cuda_softmax) X(nbf_cuda_softmax_backward) X(nbf_cuda_sgemm_batched) X(nbf_cuda_dgemm_batched)            \
  X(nbf_cuda_check_index)                                                                                  \
  X(nbf_cuda_norm) X(nbf_cuda_norm_backward) X(nbf_cuda_embedding) X(nbf_cuda_embedding_backward)          \
  X(nbf_cuda_cross_entropy) X(nbf_cuda_cross_entropy_backward) X(nbf_cuda_attention)                       \
  X(nbf_cuda_attention_backward) X(nbf_cuda_gather) X(nbf_cuda_scatter) X(nbf_cuda_where) X(nbf_cuda_topk) \
  X(nbf_cuda_multinomial) X(nbf_cuda_quantize) X(nbf_cuda_dequantize) X(nbf_cuda_rotary)

struct Api {
#define NBF_MEMBER(name) decltype(&::name) name = nullptr;
  NBF_CUDA_FUNCTIONS(NBF_MEMBER)
#undef NBF_MEMBER
  bool ok = false;
  std::string reason;
};

const Api& load_api() {
  static Api api;
  static std::once_flag once;
  std::call_once(once, [] {
    void* handle = cuda_library_handle(&api.reason);
    if (handle == nullptr) return;
#ifndef _WIN32
    std::string missing;
#define NBF_LOOKUP(name)                                                       \
  api.name = reinterpret_cast<decltype(api.name)>(dlsym(handle, #name));       \
  if (api.name == nullptr) missing += std::string(missing.empty() ? "" : ", ") + #name;
    NBF_CUDA_FUNCTIONS(NBF_LOOKUP)
#undef NBF_LOOKUP
    if (!missing.empty()) {
      api.reason = "built, but libnbforge_cuda.so lacks " + missing + "; rebuild it with native/cuda/build.sh";
      return;
    }
    api.ok = true;
#endif
  });
  return api;
}

// The library, or a JavaScript Error saying why cuda cannot be used.
const Api& api(Napi::Env env) {
  const Api& a = load_api();
  if (!a.ok) throw Napi::Error::New(env, "cuda is unavailable: " + a.reason);
  return a;
}

void check(Napi::Env env, int rc, const std::string& fn) {
  if (rc != 0) throw Napi::Error::New(env, fn + ": CUDA error: " + load_api().nbf_cuda_error_string());
}

// ---- device memory: a caching allocator (cudaFree synchronises the device, so
// freed blocks are kept per rounded size and reused) ----
struct DeviceCache {
  std::mutex mutex;
  std::map<std::size_t, std::vector<void*>> free_blocks;
  std::size_t live_bytes = 0, cached_bytes = 0, live_storages = 0;
};
DeviceCache& device_cache() {
  static DeviceCache* c = new DeviceCache();  // never destroyed: storages may be finalised at exit
  return *c;
}
std::size_t round_bytes(std::size_t bytes) {
  if (bytes <= 1u << 20) return (bytes + 511) / 512 * 512;
  return (bytes + (2u << 20) - 1) / (2u << 20) * (2u << 20);
}
void* device_alloc(Napi::Env env, std::size_t rounded) {
  DeviceCache& c = device_cache();
  {
    std::lock_guard<std::mutex> lock(c.mutex);
    auto it = c.free_blocks.find(rounded);
    if (it != c.free_blocks.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      c.cached_bytes -= rounded;
      c.live_bytes += rounded;
      ++c.live_storages;
      return p;
    }
  }
  const Api& a = api(env);
  void* p = nullptr;
  int rc = a.nbf_cuda_malloc(&p, rounded);
  if (rc != 0) {  // out of memory: give the cache back and try once more
    {
      std::lock_guard<std::mutex> lock(c.mutex);
      for (auto& kv : c.free_blocks)
        for (void* q : kv.second) a.nbf_cuda_free(q);
      c.free_blocks.clear();
      c.cached_bytes = 0;
    }
    rc = a.nbf_cuda_malloc(&p, rounded);
  }
  check(env, rc, "cuda: allocating " + std::to_string(rounded) + " bytes");
  std::lock_guard<std::mutex> lock(c.mutex);
  c.live_bytes += rounded;
  ++c.live_storages;
  return p;
}
void device_release(void* p, std::size_t rounded) {
  DeviceCache& c = device_cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  c.free_blocks[rounded].push_back(p);
  c.live_bytes -= rounded;
  c.cached_bytes += rounded;
  --c.live_storages;
}

// ---- CudaStorage: the same interface as TensorStorage, on the device ----
class CudaStorage : public Napi::ObjectWrap<CudaStorage> {
 public:
  static Napi::FunctionReference* ctor;
  static void Init(Napi::Env env, Napi::Object exports) {
    Napi::Function f = DefineClass(env, "CudaStorage",
                                   {InstanceMethod<&CudaStorage::Dispose>("dispose"),
                                    InstanceMethod<&CudaStorage::Reset>("reset"),
                                    InstanceMethod<&CudaStorage::Write>("write"),
                                    InstanceMethod<&CudaStorage::Read>("read"),
                                    InstanceAccessor<&CudaStorage::GetNumel>("numel"),
                                    InstanceAccessor<&CudaStorage::GetDtype>("dtype"),
                                    InstanceAccessor<&CudaStorage::GetBytes>("bytes"),
                                    InstanceAccessor<&CudaStorage::GetDisposed>("disposed")});
    ctor = new Napi::FunctionReference(Napi::Persistent(f));
    exports.Set("CudaStorage", f);
  }

  // new CudaStorage(dtype, numel, zero?)
  explicit CudaStorage(const Napi::CallbackInfo& info) : Napi::ObjectWrap<CudaStorage>(info) { allocate(info); }
  ~CudaStorage() override { release(); }

  int dtype() const { return dtype_; }
  int64_t numel() const { return numel_; }
  char* at(Napi::Env env, int64_t offset, const char* what) const {
    if (data_ == nullptr) throw Napi::Error::New(env, std::string(what) + ": a cuda tensor's storage was used after dispose()");
    if (offset < 0 || offset > numel_) throw Napi::RangeError::New(env, std::string(what) + ": offset out of range");
    return data_ + offset * static_cast<int64_t>(dtype_size(dtype_));
  }

 private:
  void allocate(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const int dtype = info[0].As<Napi::Number>().Int32Value();
    const int64_t numel = info[1].As<Napi::Number>().Int64Value();
    const bool zero = info.Length() > 2 && info[2].ToBoolean().Value();
    if (dtype < 0 || dtype > 8 || numel < 0) throw Napi::RangeError::New(env, "CudaStorage: bad dtype or size");
    const Api& a = api(env);
    rounded_ = round_bytes(static_cast<std::size_t>(numel) * dtype_size(dtype));
    data_ = static_cast<char*>(device_alloc(env, rounded_));
    dtype_ = dtype;
    numel_ = numel;
    if (zero && numel > 0) check(env, a.nbf_cuda_memset(data_, 0, static_cast<std::size_t>(numel) * dtype_size(dtype)), "CudaStorage");
  }
  void release() {
    if (data_ != nullptr) device_release(data_, rounded_);
    data_ = nullptr;
  }
  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    release();
    return info.Env().Undefined();
  }
  Napi::Value Reset(const Napi::CallbackInfo& info) {
    release();
    allocate(info);
    return info.Env().Undefined();
  }
  // write(typedArray, offsetElements): host -> device
  Napi::Value Write(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsTypedArray()) throw Napi::TypeError::New(env, "CudaStorage.write: expected a typed array");
    Napi::TypedArray arr = info[0].As<Napi::TypedArray>();
    const int64_t offset = info.Length() > 1 ? info[1].As<Napi::Number>().Int64Value() : 0;
    const std::size_t es = dtype_size(dtype_);
    if (arr.ElementSize() != es) throw Napi::TypeError::New(env, std::string("CudaStorage.write: a ") + dtype_name(dtype_) + " storage takes " + std::to_string(es) + "-byte elements");
    const int64_t count = static_cast<int64_t>(arr.ElementLength());
    if (offset < 0 || offset + count > numel_) throw Napi::RangeError::New(env, "CudaStorage.write: out of range");
    const char* src = static_cast<const char*>(arr.ArrayBuffer().Data()) + arr.ByteOffset();
    if (count > 0) check(env, api(env).nbf_cuda_memcpy(at(env, offset, "CudaStorage.write"), src, static_cast<std::size_t>(count) * es, 0), "CudaStorage.write");
    return env.Undefined();
  }
  // read(offsetElements, count) -> ArrayBuffer copy (device -> host)
  Napi::Value Read(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const int64_t offset = info[0].As<Napi::Number>().Int64Value();
    const int64_t count = info[1].As<Napi::Number>().Int64Value();
    if (offset < 0 || count < 0 || offset + count > numel_) throw Napi::RangeError::New(env, "CudaStorage.read: out of range");
    const std::size_t bytes = static_cast<std::size_t>(count) * dtype_size(dtype_);
    Napi::ArrayBuffer buf = Napi::ArrayBuffer::New(env, bytes);
    if (bytes) check(env, api(env).nbf_cuda_memcpy(buf.Data(), at(env, offset, "CudaStorage.read"), bytes, 1), "CudaStorage.read");
    return buf;
  }
  Napi::Value GetNumel(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(numel_)); }
  Napi::Value GetDtype(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), dtype_); }
  Napi::Value GetBytes(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(rounded_)); }
  Napi::Value GetDisposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), data_ == nullptr); }

  char* data_ = nullptr;
  std::size_t rounded_ = 0;
  int64_t numel_ = 0;
  int dtype_ = 0;
};
Napi::FunctionReference* CudaStorage::ctor = nullptr;

// ---- argument helpers ----
using tensor::ixutil::int_arg;
using tensor::ixutil::num_arg;
using tensor::ixutil::numel_of;
using tensor::ixutil::vec_arg;
bool bool_arg(const Napi::CallbackInfo& info, std::size_t i) { return info[i].ToBoolean().Value(); }

CudaStorage* dev(const Napi::CallbackInfo& info, std::size_t i, const char* fn) {
  Napi::Value v = info[i];
  if (!v.IsObject() || CudaStorage::ctor == nullptr || !v.As<Napi::Object>().InstanceOf(CudaStorage::ctor->Value())) {
    throw Napi::TypeError::New(info.Env(), std::string(fn) + ": argument " + std::to_string(i) + " must be a cuda storage (a tensor on cuda)");
  }
  return CudaStorage::Unwrap(v.As<Napi::Object>());
}
CudaStorage* opt_dev(const Napi::CallbackInfo& info, std::size_t i, const char* fn) {
  if (info.Length() <= i || info[i].IsNull() || info[i].IsUndefined()) return nullptr;
  return dev(info, i, fn);
}
// Device pointer of storage argument i at the element offset in argument i + 1.
char* ptr(const Napi::CallbackInfo& info, std::size_t i, const char* fn) { return dev(info, i, fn)->at(info.Env(), int_arg(info, i + 1), fn); }
char* opt_ptr(const Napi::CallbackInfo& info, std::size_t i, const char* fn) {
  CudaStorage* s = opt_dev(info, i, fn);
  return s == nullptr ? nullptr : s->at(info.Env(), int_arg(info, i + 1), fn);
}

void require(Napi::Env env, bool ok, const std::string& message) {
  if (!ok) throw Napi::TypeError::New(env, message);
}
void require_float(Napi::Env env, const CudaStorage* s, const char* fn) {
  require(env, s->dtype() == tensor::kFloat32 || s->dtype() == tensor::kFloat64,
          std::string(fn) + ": kernel takes float32 or float64, got " + dtype_name(s->dtype()));
}
void require_f32(Napi::Env env, const CudaStorage* s, const char* fn) {
  require(env, s->dtype() == tensor::kFloat32,
          std::string(fn) + ": the kernel takes float32 values, got " +
              dtype_name(s->dtype()) + "; convert with .to(\"float32\") or run on the cpu");
}
void require_dims(Napi::Env env, std::size_t ndim, const char* fn) {
  if (ndim > NBF_CUDA_MAX_DIMS) throw Napi::RangeError::New(env, std::string(fn) + ": cuda kernels take at most 8 dimensions; reshape first");
}

// Index check on the device; returns the bad position (-1 if none) and value.
int64_t first_bad(Napi::Env env, const CudaStorage* idx, const char* ip, const std::vector<int64_t>& shape,
                  const std::vector<int64_t>& strides, int64_t size, bool has_ignore, int64_t ignore, int64_t* value, const char* fn) {
  int64_t pos = -1;
  *value = 0;
  check(env, api(env).nbf_cuda_check_index(idx->dtype(), ip, static_cast<int>(shape.size()), shape.data(), strides.data(), size,
                                           has_ignore ? 1 : 0, ignore, &pos, value), fn);
  return pos;
}

// Drops size-1 dims and merges neighbours that are contiguous in every operand,
// so the device walks fewer dims (and more than 8 dims often fit).
void coalesce(std::vector<int64_t>& shape, std::vector<std::vector<int64_t>*> strides) {
  std::vector<int64_t> out_shape;
  std::vector<std::vector<int64_t>> out(strides.size());
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    bool merge = !out_shape.empty();
    for (std::size_t k = 0; merge && k < strides.size(); ++k) merge = out[k].back() == (*strides[k])[d] * shape[d];
    if (merge) {
      out_shape.back() *= shape[d];
      for (std::size_t k = 0; k < strides.size(); ++k) out[k].back() = (*strides[k])[d];
    } else {
      out_shape.push_back(shape[d]);
      for (std::size_t k = 0; k < strides.size(); ++k) out[k].push_back((*strides[k])[d]);
    }
  }
  shape = out_shape;
  for (std::size_t k = 0; k < strides.size(); ++k) *strides[k] = out[k];
}

// ---- the kernels, with the CPU kernels' argument lists ----

// tensorCopy(src, srcOff, srcStrides, dst, dstOff, dstStrides, shape)
Napi::Value Copy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "tensorCopy (cuda)";
  CudaStorage* s = dev(info, 0, fn);
  CudaStorage* d = dev(info, 3, fn);
  std::vector<int64_t> ss = vec_arg(info, 2), ds = vec_arg(info, 5), shape = vec_arg(info, 6);
  if (numel_of(shape) == 0) return env.Undefined();
  coalesce(shape, {&ss, &ds});
  require_dims(env, shape.size(), fn);
  check(env, api(env).nbf_cuda_copy(s->dtype(), ptr(info, 0, fn), ss.data(), d->dtype(), ptr(info, 3, fn), ds.data(),
                                    static_cast<int>(shape.size()), shape.data()), fn);
  return env.Undefined();
}

// tensorBinary(op, a, aOff, aStrides, b, bOff, bStrides, out, outOff, shape)
Napi::Value Binary(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "tensorBinary (cuda)";
  CudaStorage* a = dev(info, 1, fn);
  CudaStorage* b = dev(info, 4, fn);
  CudaStorage* o = dev(info, 7, fn);
  require_float(env, a, fn);
  require(env, a->dtype() == b->dtype() && a->dtype() == o->dtype(), std::string(fn) + ": operand dtypes differ");
  std::vector<int64_t> as = vec_arg(info, 3), bs = vec_arg(info, 6), shape = vec_arg(info, 9);
  require_dims(env, shape.size(), fn);
  check(env, api(env).nbf_cuda_binary(static_cast<int>(int_arg(info, 0)), a->dtype(), static_cast<int>(shape.size()), shape.data(),
                                      ptr(info, 1, fn), as.data(), ptr(info, 4, fn), bs.data(), ptr(info, 7, fn)), fn);
  return env.Undefined();
}

// tensorUnary(op, x, xOff, out, outOff, n)
Napi::Value Unary(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "tensorUnary (cuda)";
  CudaStorage* x = dev(info, 1, fn);
  require_float(env, x, fn);
  check(env, api(env).nbf_cuda_unary(static_cast<int>(int_arg(info, 0)), x->dtype(), ptr(info, 1, fn), ptr(info, 3, fn), int_arg(info, 5)), fn);
  return env.Undefined();
}

// tensorUnaryBackward(op, x, xOff, y, yOff, gy, gyOff, gx, gxOff, n)
Napi::Value UnaryBackward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "tensorUnaryBackward (cuda)";
  CudaStorage* x = dev(info, 1, fn);
  require_float(env, x, fn);
  check(env, api(env).nbf_cuda_unary_backward(static_cast<int>(int_arg(info, 0)), x->dtype(), ptr(info, 1, fn), ptr(info, 3, fn),
                                              ptr(info, 5, fn), ptr(info, 7, fn), int_arg(info, 9)), fn);
  return env.Undefined();
}

// tensorReduce(op, x, xOff, outer, red, inner, out, outOff, correction)
Napi::Value Reduce(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "tensorReduce (cuda)";
  CudaStorage* x = dev(info, 1, fn);
  require_float(env, x, fn);
  const int op = static_cast<int>(int_arg(info, 0));
  const int64_t red = int_arg(info, 4);
  if (red == 0) throw Napi::RangeError::New(env, "tensorReduce: cannot reduce over an empty dimension");
  CudaStorage* o = dev(info, 6, fn);
  require(env, (op == 4 || op == 5) ? o->dtype() == tensor::kInt64 : o->dtype() == x->dtype(), "tensorReduce: wrong output dtype");
  check(env, api(env).nbf_cuda_reduce(op, x->dtype(), ptr(info, 1, fn), ptr(info, 6, fn), int_arg(info, 3), red, int_arg(info, 5),
                                      num_arg(info, 8)), fn);
  return env.Undefined();
}

// tensorSoftmax(log, x, xOff, out, outOff, rows, n)
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "softmax (cuda)";
  CudaStorage* x = dev(info, 1, fn);
  require_float(env, x, fn);
  check(env, api(env).nbf_cuda_softmax(bool_arg(info, 0) ? 1 : 0, x->dtype(), ptr(info, 1, fn), ptr(info, 3, fn), int_arg(info, 5),
                                       int_arg(info, 6)), fn);
  return env.Undefined();
}

// tensorSoftmaxBackward(log, y, yOff, gy, gyOff, gx, gxOff, rows, n)
Napi::Value SoftmaxBackward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "softmax backward (cuda)";
  CudaStorage* y = dev(info, 1, fn);
  require_float(env, y, fn);
  check(env, api(env).nbf_cuda_softmax_backward(bool_arg(info, 0) ? 1 : 0, y->dtype(), ptr(info, 1, fn), ptr(info, 3, fn),
                                                ptr(info, 5, fn), int_arg(info, 7), int_arg(info, 8)), fn);
  return env.Undefined();
}

// tensorMatmul(a, aOff, aBatchStride, lda, transA, b, bOff, bBatchStride, ldb, transB, out, outOff, batch, m, n, k)
// out: contiguous [batch, m, n].
Napi::Value Matmul(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "matmul (cuda)";
  CudaStorage* a = dev(info, 0, fn);
  require_float(env, a, fn);
  require(env, dev(info, 5, fn)->dtype() == a->dtype() && dev(info, 10, fn)->dtype() == a->dtype(), std::string(fn) + ": operand dtypes differ");
  const char* pa = a->at(env, int_arg(info, 1), fn);
  const char* pb = dev(info, 5, fn)->at(env, int_arg(info, 6), fn);
  char* po = dev(info, 10, fn)->at(env, int_arg(info, 11), fn);
  const int64_t batch = int_arg(info, 12), m = int_arg(info, 13), n = int_arg(info, 14), k = int_arg(info, 15);
  const int ta = bool_arg(info, 4) ? 1 : 0, tb = bool_arg(info, 9) ? 1 : 0;
  if (a->dtype() == tensor::kFloat32) {
    check(env, api(env).nbf_cuda_sgemm_batched(ta, tb, m, n, k, 1.0f, reinterpret_cast<const float*>(pa), int_arg(info, 3), int_arg(info, 2),
                                               reinterpret_cast<const float*>(pb), int_arg(info, 8), int_arg(info, 7), 0.0f,
                                               reinterpret_cast<float*>(po), n, m * n, batch), fn);
  } else {
    check(env, api(env).nbf_cuda_dgemm_batched(ta, tb, m, n, k, 1.0, reinterpret_cast<const double*>(pa), int_arg(info, 3), int_arg(info, 2),
                                               reinterpret_cast<const double*>(pb), int_arg(info, 8), int_arg(info, 7), 0.0,
                                               reinterpret_cast<double*>(po), n, m * n, batch), fn);
  }
  return env.Undefined();
}

// tensorFill(out, off, n, value)
Napi::Value Fill(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "tensorFill (cuda)";
  check(env, api(env).nbf_cuda_fill(dev(info, 0, fn)->dtype(), ptr(info, 0, fn), int_arg(info, 2), num_arg(info, 3)), fn);
  return env.Undefined();
}

// tensorArange(out, off, n, start, step)
Napi::Value Arange(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "tensorArange (cuda)";
  check(env, api(env).nbf_cuda_arange(dev(info, 0, fn)->dtype(), ptr(info, 0, fn), int_arg(info, 2), num_arg(info, 3), num_arg(info, 4)), fn);
  return env.Undefined();
}

// tensorRandom(kind, out, off, n, seedLo, seedHi, counter, a, b) -> counter steps used
Napi::Value Random(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "tensorRandom (cuda)";
  CudaStorage* o = dev(info, 1, fn);
  require_float(env, o, fn);
  int64_t blocks = 0;
  check(env, api(env).nbf_cuda_random(static_cast<int>(int_arg(info, 0)), o->dtype(), ptr(info, 1, fn), int_arg(info, 3),
                                      static_cast<uint32_t>(int_arg(info, 4)), static_cast<uint32_t>(int_arg(info, 5)),
                                      static_cast<uint64_t>(int_arg(info, 6)), num_arg(info, 7), num_arg(info, 8), &blocks), fn);
  return Napi::Number::New(env, static_cast<double>(blocks));
}

// tensorDropoutMask(u, off, n, p)
Napi::Value DropoutMask(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "dropout (cuda)";
  CudaStorage* u = dev(info, 0, fn);
  require_float(env, u, fn);
  check(env, api(env).nbf_cuda_dropout_mask(u->dtype(), ptr(info, 0, fn), int_arg(info, 2), num_arg(info, 3)), fn);
  return env.Undefined();
}

// tensorNorm(rms, x, xOff, w|null, wOff, b|null, bOff, out, outOff, rows, n, eps[, stats|null, statsOff])
Napi::Value Norm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "tensorNorm (cuda)";
  CudaStorage* x = dev(info, 1, fn);
  require_float(env, x, fn);
  CudaStorage* st = info.Length() > 12 ? opt_dev(info, 12, fn) : nullptr;
  if (st != nullptr) require(env, st->dtype() == tensor::kFloat64, std::string(fn) + ": stats must be float64");
  double* pst = st == nullptr ? nullptr : reinterpret_cast<double*>(st->at(env, info.Length() > 13 ? int_arg(info, 13) : 0, fn));
  check(env, api(env).nbf_cuda_norm(x->dtype(), bool_arg(info, 0) ? 1 : 0, ptr(info, 1, fn), opt_ptr(info, 3, fn), opt_ptr(info, 5, fn),
                                    ptr(info, 7, fn), pst, int_arg(info, 9), int_arg(info, 10), num_arg(info, 11)), fn);
  return env.Undefined();
}

// tensorNormBackward(rms, x, xOff, w|null, wOff, gy, gyOff, gx|null, gxOff, gw|null, gwOff, gb|null, gbOff, rows, n, eps[, stats|null, statsOff])
Napi::Value NormBackward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "tensorNormBackward (cuda)";
  CudaStorage* x = dev(info, 1, fn);
  require_float(env, x, fn);
  CudaStorage* st = info.Length() > 16 ? opt_dev(info, 16, fn) : nullptr;
  const double* pst = st == nullptr ? nullptr : reinterpret_cast<const double*>(st->at(env, info.Length() > 17 ? int_arg(info, 17) : 0, fn));
  check(env, api(env).nbf_cuda_norm_backward(x->dtype(), bool_arg(info, 0) ? 1 : 0, ptr(info, 1, fn), opt_ptr(info, 3, fn), ptr(info, 5, fn),
                                             opt_ptr(info, 7, fn), opt_ptr(info, 9, fn), opt_ptr(info, 11, fn), pst, int_arg(info, 13),
                                             int_arg(info, 14), num_arg(info, 15)), fn);
  return env.Undefined();
}

void check_table_indices(Napi::Env env, const CudaStorage* idx, const char* ip, int64_t count, int64_t num, const char* fn) {
  int64_t value = 0;
  const int64_t pos = first_bad(env, idx, ip, {count}, {1}, num, false, 0, &value, fn);
  if (pos >= 0) {
    throw Napi::RangeError::New(env, std::string("embedding: index ") + std::to_string(value) + " at position " + std::to_string(pos) +
                                         " is out of range for a table of " + std::to_string(num) + " rows");
  }
}

// tensorEmbedding(idx, idxOff, count, weight, wOff, num, dim, out, outOff)
Napi::Value Embedding(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "embedding (cuda)";
  CudaStorage* idx = dev(info, 0, fn);
  CudaStorage* w = dev(info, 3, fn);
  const int64_t count = int_arg(info, 2), num = int_arg(info, 5), dim = int_arg(info, 6);
  if (count == 0) return env.Undefined();
  const char* ip = ptr(info, 0, fn);
  check_table_indices(env, idx, ip, count, num, fn);
  check(env, api(env).nbf_cuda_embedding(idx->dtype(), ip, count, ptr(info, 3, fn), static_cast<int>(dtype_size(w->dtype())), dim,
                                         ptr(info, 7, fn)), fn);
  return env.Undefined();
}

// tensorEmbeddingBackward(idx, idxOff, count, gy, gyOff, num, dim, gw, gwOff, paddingIdx)
Napi::Value EmbeddingBackward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "embedding backward (cuda)";
  CudaStorage* idx = dev(info, 0, fn);
  CudaStorage* gy = dev(info, 3, fn);
  require_float(env, gy, fn);
  const int64_t count = int_arg(info, 2), num = int_arg(info, 5), dim = int_arg(info, 6);
  const char* ip = ptr(info, 0, fn);
  if (count > 0) check_table_indices(env, idx, ip, count, num, fn);
  check(env, api(env).nbf_cuda_embedding_backward(gy->dtype(), idx->dtype(), ip, count, ptr(info, 3, fn), num, dim, ptr(info, 7, fn),
                                                  int_arg(info, 9)), fn);
  return env.Undefined();
}

int64_t check_targets(Napi::Env env, const CudaStorage* tg, const char* tp, int64_t rows, int64_t n, int64_t ignore, const char* fn) {
  int64_t value = 0;
  const int64_t pos = first_bad(env, tg, tp, {rows}, {1}, n, true, ignore, &value, fn);
  if (pos >= 0) {
    throw Napi::RangeError::New(env, "cross_entropy: target " + std::to_string(value) + " at position " + std::to_string(pos) +
                                         " is not a class index in [0, " + std::to_string(n) + ") nor ignore_index " + std::to_string(ignore));
  }
  // Targets not ignored: count them by comparing with ignore on the device would
  // need another kernel; the targets are small, so read them back.
  std::vector<char> host(static_cast<std::size_t>(rows) * dtype_size(tg->dtype()));
  if (rows > 0) check(env, api(env).nbf_cuda_memcpy(host.data(), tp, host.size(), 1), fn);
  int64_t count = 0;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t t = tg->dtype() == tensor::kInt64 ? reinterpret_cast<const int64_t*>(host.data())[r]
                                                     : reinterpret_cast<const int32_t*>(host.data())[r];
    count += t != ignore;
  }
  return count;
}

// tensorCrossEntropy(x, xOff, tgt, tgtOff, out, outOff, rows, n, ignore, smoothing, reduction) -> count
Napi::Value CrossEntropy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "cross_entropy (cuda)";
  CudaStorage* x = dev(info, 0, fn);
  CudaStorage* tg = dev(info, 2, fn);
  require_float(env, x, fn);
  const int64_t rows = int_arg(info, 6), n = int_arg(info, 7), ignore = int_arg(info, 8);
  const char* tp = ptr(info, 2, fn);
  const int64_t count = check_targets(env, tg, tp, rows, n, ignore, fn);
  check(env, api(env).nbf_cuda_cross_entropy(x->dtype(), ptr(info, 0, fn), tg->dtype(), tp, ptr(info, 4, fn), rows, n, ignore,
                                             num_arg(info, 9), static_cast<int>(int_arg(info, 10)), count), fn);
  return Napi::Number::New(env, static_cast<double>(count));
}

// tensorCrossEntropyBackward(x, xOff, tgt, tgtOff, gy, gyOff, gx, gxOff, rows, n, ignore, smoothing, reduction)
Napi::Value CrossEntropyBackward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "cross_entropy backward (cuda)";
  CudaStorage* x = dev(info, 0, fn);
  CudaStorage* tg = dev(info, 2, fn);
  require_float(env, x, fn);
  const int64_t rows = int_arg(info, 8), n = int_arg(info, 9), ignore = int_arg(info, 10);
  if (rows == 0 || n == 0) return env.Undefined();
  const char* tp = ptr(info, 2, fn);
  const int64_t count = check_targets(env, tg, tp, rows, n, ignore, fn);
  check(env, api(env).nbf_cuda_cross_entropy_backward(x->dtype(), ptr(info, 0, fn), tg->dtype(), tp, ptr(info, 4, fn), ptr(info, 6, fn),
                                                      rows, n, ignore, num_arg(info, 11), static_cast<int>(int_arg(info, 12)), count), fn);
  return env.Undefined();
}

// tensorAttention(q, qOff, k, kOff, v, vOff, mask|null, maskOff, out, outOff, batch, lq, lk, d, dv, scale, causal)
Napi::Value Attention(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "scaled_dot_product_attention (cuda)";
  CudaStorage* q = dev(info, 0, fn);
  require_float(env, q, fn);
  check(env, api(env).nbf_cuda_attention(q->dtype(), ptr(info, 0, fn), ptr(info, 2, fn), ptr(info, 4, fn), opt_ptr(info, 6, fn),
                                         ptr(info, 8, fn), int_arg(info, 10), int_arg(info, 11), int_arg(info, 12), int_arg(info, 13),
                                         int_arg(info, 14), num_arg(info, 15), bool_arg(info, 16) ? 1 : 0), fn);
  return env.Undefined();
}

// tensorAttentionBackward(q, qOff, k, kOff, v, vOff, mask|null, maskOff, go, goOff, gq, gk, gv, batch, lq, lk, d, dv, scale, causal)
Napi::Value AttentionBackward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "scaled_dot_product_attention backward (cuda)";
  CudaStorage* q = dev(info, 0, fn);
  require_float(env, q, fn);
  char* gq = dev(info, 10, fn)->at(env, 0, fn);
  char* gk = dev(info, 11, fn)->at(env, 0, fn);
  char* gv = dev(info, 12, fn)->at(env, 0, fn);
  check(env, api(env).nbf_cuda_attention_backward(q->dtype(), ptr(info, 0, fn), ptr(info, 2, fn), ptr(info, 4, fn), opt_ptr(info, 6, fn),
                                                  ptr(info, 8, fn), gq, gk, gv, int_arg(info, 13), int_arg(info, 14), int_arg(info, 15),
                                                  int_arg(info, 16), int_arg(info, 17), num_arg(info, 18), bool_arg(info, 19) ? 1 : 0), fn);
  return env.Undefined();
}

void check_dim_indices(Napi::Env env, const CudaStorage* idx, const char* ip, const std::vector<int64_t>& shape,
                       const std::vector<int64_t>& strides, int64_t size, int64_t dim, const std::string& what) {
  int64_t value = 0;
  const int64_t pos = first_bad(env, idx, ip, shape, strides, size, false, 0, &value, what.c_str());
  if (pos >= 0) tensor::ixutil::throw_index_out_of_range(env, shape, pos, value, dim, size, what);
}

// tensorGather(x, xOff, xStrides, idx, idxOff, idxStrides, out, shape, dim, dimSize, what)
Napi::Value Gather(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "tensorGather (cuda)";
  CudaStorage* x = dev(info, 0, fn);
  CudaStorage* idx = dev(info, 3, fn);
  CudaStorage* o = dev(info, 6, fn);
  require(env, idx->dtype() == tensor::kInt64, "tensorGather: indices must be int64");
  require(env, x->dtype() == o->dtype(), "tensorGather: input and output dtypes differ");
  std::vector<int64_t> xs = vec_arg(info, 2), is = vec_arg(info, 5), shape = vec_arg(info, 7);
  require_dims(env, shape.size(), fn);
  const int64_t dim = int_arg(info, 8), size = int_arg(info, 9);
  const std::string what = info[10].As<Napi::String>().Utf8Value();
  if (numel_of(shape) == 0) return env.Undefined();
  const char* ip = ptr(info, 3, fn);
  check_dim_indices(env, idx, ip, shape, is, size, dim, what);
  check(env, api(env).nbf_cuda_gather(static_cast<int>(dtype_size(x->dtype())), ptr(info, 0, fn), xs.data(),
                                      reinterpret_cast<const int64_t*>(ip), is.data(), o->at(env, 0, fn), static_cast<int>(shape.size()),
                                      shape.data(), static_cast<int>(dim)), fn);
  return env.Undefined();
}

// tensorScatter(mode, out, outOff, outStrides, idx, idxOff, idxStrides, src, srcOff, srcStrides, shape, dim, dimSize, what)
Napi::Value Scatter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "tensorScatter (cuda)";
  CudaStorage* o = dev(info, 1, fn);
  CudaStorage* idx = dev(info, 4, fn);
  CudaStorage* s = dev(info, 7, fn);
  require(env, idx->dtype() == tensor::kInt64, "tensorScatter: indices must be int64");
  require(env, o->dtype() == s->dtype(), "tensorScatter: source and output dtypes differ");
  std::vector<int64_t> os = vec_arg(info, 3), is = vec_arg(info, 6), ss = vec_arg(info, 9), shape = vec_arg(info, 10);
  require_dims(env, shape.size(), fn);
  const int64_t dim = int_arg(info, 11), size = int_arg(info, 12);
  const std::string what = info[13].As<Napi::String>().Utf8Value();
  if (numel_of(shape) == 0) return env.Undefined();
  const char* ip = ptr(info, 4, fn);
  check_dim_indices(env, idx, ip, shape, is, size, dim, what);
  check(env, api(env).nbf_cuda_scatter(static_cast<int>(int_arg(info, 0)), o->dtype(), ptr(info, 1, fn), os.data(),
                                       reinterpret_cast<const int64_t*>(ip), is.data(), ptr(info, 7, fn), ss.data(),
                                       static_cast<int>(shape.size()), shape.data(), static_cast<int>(dim)), what);
  return env.Undefined();
}

// tensorWhere(c, cOff, cStrides, a, aOff, aStrides, b, bOff, bStrides, out, shape)
Napi::Value Where(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "tensorWhere (cuda)";
  CudaStorage* c = dev(info, 0, fn);
  CudaStorage* a = dev(info, 3, fn);
  CudaStorage* b = dev(info, 6, fn);
  CudaStorage* o = dev(info, 9, fn);
  require(env, c->dtype() == tensor::kBool || c->dtype() == tensor::kUInt8, "tensorWhere: the condition must be bool");
  require(env, a->dtype() == b->dtype() && a->dtype() == o->dtype(), "tensorWhere: operand dtypes differ");
  std::vector<int64_t> cs = vec_arg(info, 2), as = vec_arg(info, 5), bs = vec_arg(info, 8), shape = vec_arg(info, 10);
  if (numel_of(shape) == 0) return env.Undefined();
  std::vector<int64_t> os = shape;  // the output is contiguous: its strides take part in the merge
  {
    int64_t acc = 1;
    for (int d = static_cast<int>(shape.size()) - 1; d >= 0; --d) { os[d] = acc; acc *= shape[d]; }
  }
  coalesce(shape, {&cs, &as, &bs, &os});
  require_dims(env, shape.size(), fn);
  check(env, api(env).nbf_cuda_where(reinterpret_cast<const uint8_t*>(ptr(info, 0, fn)), cs.data(), static_cast<int>(dtype_size(a->dtype())),
                                     ptr(info, 3, fn), as.data(), ptr(info, 6, fn), bs.data(), o->at(env, 0, fn),
                                     static_cast<int>(shape.size()), shape.data()), fn);
  return env.Undefined();
}

// tensorTopk(x, xOff, rows, n, k, largest, out, outOff)
Napi::Value Topk(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "topk (cuda)";
  CudaStorage* x = dev(info, 0, fn);
  require(env, dev(info, 6, fn)->dtype() == tensor::kInt64, "tensorTopk: the output must be int64");
  check(env, api(env).nbf_cuda_topk(x->dtype(), ptr(info, 0, fn), int_arg(info, 2), int_arg(info, 3), int_arg(info, 4),
                                    bool_arg(info, 5) ? 1 : 0, reinterpret_cast<int64_t*>(ptr(info, 6, fn))), fn);
  return env.Undefined();
}

// tensorMultinomial(p, pOff, rows, n, samples, replacement, out, outOff, seedLo, seedHi, counter, what) -> counter steps used
Napi::Value Multinomial(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "multinomial (cuda)";
  CudaStorage* p = dev(info, 0, fn);
  CudaStorage* o = dev(info, 6, fn);
  require(env, p->dtype() == tensor::kFloat64 && o->dtype() == tensor::kInt64, "tensorMultinomial: takes float64 weights and an int64 output");
  const int64_t rows = int_arg(info, 2), n = int_arg(info, 3), samples = int_arg(info, 4);
  const std::string what = info[11].As<Napi::String>().Utf8Value();
  int64_t bad_row = -1, bad_col = 0;
  int bad_kind = 0;
  double bad_value = 0;
  check(env, api(env).nbf_cuda_multinomial(reinterpret_cast<const double*>(ptr(info, 0, fn)), rows, n, samples, bool_arg(info, 5) ? 1 : 0,
                                           reinterpret_cast<int64_t*>(ptr(info, 6, fn)), static_cast<uint32_t>(int_arg(info, 8)),
                                           static_cast<uint32_t>(int_arg(info, 9)), static_cast<uint64_t>(int_arg(info, 10)), &bad_row,
                                           &bad_kind, &bad_col, &bad_value), fn);
  if (bad_row >= 0) {
    const std::string r = std::to_string(bad_row);
    if (bad_kind == 1) throw Napi::RangeError::New(env, what + ": probabilities must be finite and non-negative; row " + r + " has " + std::to_string(bad_value) + " at column " + std::to_string(bad_col));
    if (bad_kind == 2) throw Napi::RangeError::New(env, what + ": row " + r + " of probabilities sums to 0; every row needs a positive weight");
    throw Napi::RangeError::New(env, what + ": cannot draw " + std::to_string(samples) + " samples without replacement from row " + r +
                                         ", which has only " + std::to_string(bad_col) +
                                         " categories of non-zero probability; draw fewer or pass replacement: true");
  }
  return Napi::Number::New(env, static_cast<double>(rows * samples));
}

// tensorQuantize(bits, x, xOff, n, block, data, scales)
Napi::Value Quantize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "quantize (cuda)";
  require_f32(env, dev(info, 1, fn), fn);
  check(env, api(env).nbf_cuda_quantize(static_cast<int>(int_arg(info, 0)), reinterpret_cast<const float*>(ptr(info, 1, fn)), int_arg(info, 3),
                                        int_arg(info, 4), dev(info, 5, fn)->at(env, 0, fn),
                                        reinterpret_cast<float*>(dev(info, 6, fn)->at(env, 0, fn))), fn);
  return env.Undefined();
}

// tensorDequantize(bits, data, dataOff, scales, scalesOff, n, block, out)
Napi::Value Dequantize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "dequantize (cuda)";
  check(env, api(env).nbf_cuda_dequantize(static_cast<int>(int_arg(info, 0)), ptr(info, 1, fn), reinterpret_cast<const float*>(ptr(info, 3, fn)),
                                          int_arg(info, 5), int_arg(info, 6), reinterpret_cast<float*>(dev(info, 7, fn)->at(env, 0, fn))), fn);
  return env.Undefined();
}

// ---- fused linear and rotary (src/tensor/linear.cc, rotary.cc), composed on the device ----

// C[m, n] = op(A) op(B) (+ C when accumulate), float32 or float64, one GEMM.
void gemm(Napi::Env env, int dtype, bool ta, bool tb, int64_t m, int64_t n, int64_t k, const char* a, int64_t lda, const char* b,
          int64_t ldb, bool accumulate, char* c, int64_t ldc, const char* fn) {
  const Api& x = api(env);
  if (dtype == tensor::kFloat32) {
    check(env, x.nbf_cuda_sgemm_batched(ta, tb, m, n, k, 1.0f, reinterpret_cast<const float*>(a), lda, 0, reinterpret_cast<const float*>(b),
                                        ldb, 0, accumulate ? 1.0f : 0.0f, reinterpret_cast<float*>(c), ldc, 0, 1), fn);
  } else {
    check(env, x.nbf_cuda_dgemm_batched(ta, tb, m, n, k, 1.0, reinterpret_cast<const double*>(a), lda, 0, reinterpret_cast<const double*>(b),
                                        ldb, 0, accumulate ? 1.0 : 0.0, reinterpret_cast<double*>(c), ldc, 0, 1), fn);
  }
}

// tensorLinear(x, xOff, w, wOff, wOutIn, b|null, bOff, out, outOff, rows, in, out)
// out[rows, out] = x[rows, in] · W^T (W [out, in]) or x · W (W [in, out]), plus b: the bias is
// copied into every row and the GEMM accumulates onto it.
Napi::Value Linear(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "linear (cuda)";
  CudaStorage* x = dev(info, 0, fn);
  require_float(env, x, fn);
  require(env, dev(info, 2, fn)->dtype() == x->dtype() && dev(info, 7, fn)->dtype() == x->dtype(), std::string(fn) + ": dtypes differ");
  const bool out_in = bool_arg(info, 4);
  const int64_t rows = int_arg(info, 9), nin = int_arg(info, 10), nout = int_arg(info, 11);
  if (rows == 0 || nout == 0) return env.Undefined();
  char* po = ptr(info, 7, fn);
  const char* pb = opt_ptr(info, 5, fn);
  if (pb != nullptr) {  // bias into every row: a copy with a 0 row stride
    const int64_t shape[2] = {rows, nout}, ss[2] = {0, 1}, ds[2] = {nout, 1};
    check(env, api(env).nbf_cuda_copy(x->dtype(), pb, ss, x->dtype(), po, ds, 2, shape), fn);
  }
  if (nin == 0) {
    if (pb == nullptr) check(env, api(env).nbf_cuda_fill(x->dtype(), po, rows * nout, 0.0), fn);
    return env.Undefined();
  }
  gemm(env, x->dtype(), false, out_in, rows, nout, nin, ptr(info, 0, fn), nin, ptr(info, 2, fn), out_in ? nin : nout, pb != nullptr, po,
       nout, fn);
  return env.Undefined();
}

// tensorLinearBackward(x, xOff, w, wOff, wOutIn, gy, gyOff, gx|null, gw|null, gb|null, rows, in, out)
// gx [rows, in], gw (W's layout), gb [out]: contiguous at offset 0, overwritten.
Napi::Value LinearBackward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "linear backward (cuda)";
  CudaStorage* x = dev(info, 0, fn);
  require_float(env, x, fn);
  const int dt = x->dtype();
  const bool out_in = bool_arg(info, 4);
  const int64_t rows = int_arg(info, 10), nin = int_arg(info, 11), nout = int_arg(info, 12);
  const char* px = ptr(info, 0, fn);
  const char* pw = ptr(info, 2, fn);
  const char* pg = ptr(info, 5, fn);
  CudaStorage* sgx = opt_dev(info, 7, fn);
  CudaStorage* sgw = opt_dev(info, 8, fn);
  CudaStorage* sgb = opt_dev(info, 9, fn);
  const bool empty = rows == 0 || nout == 0;
  if (sgx != nullptr) {  // gx = gy · W (W [out, in]) or gy · W^T (W [in, out])
    char* pgx = sgx->at(env, 0, fn);
    if (empty || nin == 0) check(env, api(env).nbf_cuda_fill(dt, pgx, rows * nin, 0.0), fn);
    else gemm(env, dt, false, !out_in, rows, nin, nout, pg, nout, pw, out_in ? nin : nout, false, pgx, nin, fn);
  }
  if (sgw != nullptr) {
    char* pgw = sgw->at(env, 0, fn);
    if (empty || nin == 0) check(env, api(env).nbf_cuda_fill(dt, pgw, nin * nout, 0.0), fn);
    else if (out_in) gemm(env, dt, true, false, nout, nin, rows, pg, nout, px, nin, false, pgw, nin, fn);  // gy^T · x
    else gemm(env, dt, true, false, nin, nout, rows, px, nin, pg, nout, false, pgw, nout, fn);            // x^T · gy
  }
  if (sgb != nullptr) {  // column sums of gy
    char* pgb = sgb->at(env, 0, fn);
    if (empty) check(env, api(env).nbf_cuda_fill(dt, pgb, nout, 0.0), fn);
    else check(env, api(env).nbf_cuda_reduce(0, dt, pg, pgb, 1, rows, nout, 0.0), fn);
  }
  return env.Undefined();
}

// tensorRotary(backward, x, xOff, cos, cosOff, sin, sinOff, out, outOff, batch, heads, time, dim, tableBatch)
Napi::Value Rotary(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "rotary (cuda)";
  CudaStorage* x = dev(info, 1, fn);
  require_float(env, x, fn);
  check(env, api(env).nbf_cuda_rotary(x->dtype(), bool_arg(info, 0) ? 1 : 0, ptr(info, 1, fn), ptr(info, 3, fn), ptr(info, 5, fn),
                                      ptr(info, 7, fn), int_arg(info, 9), int_arg(info, 10), int_arg(info, 11), int_arg(info, 12),
                                      int_arg(info, 13) > 1 ? 1 : 0), fn);
  return env.Undefined();
}

// ---- transfers between the devices ----

// cudaUpload(cpuStorage, cpuOff, cudaStorage, cudaOff, count): contiguous elements of the same dtype.
Napi::Value Upload(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "to(\"cuda\")";
  tensor::Storage* h = tensor::storage_arg(info, 0, fn);
  CudaStorage* d = dev(info, 2, fn);
  require(env, h->dtype() == d->dtype(), std::string(fn) + ": dtypes differ");
  const int64_t count = int_arg(info, 4);
  if (count <= 0) return env.Undefined();
  check(env, api(env).nbf_cuda_memcpy(ptr(info, 2, fn), h->at(env, int_arg(info, 1), fn), static_cast<std::size_t>(count) * dtype_size(h->dtype()), 0), fn);
  return env.Undefined();
}

// cudaDownload(cudaStorage, cudaOff, cpuStorage, cpuOff, count)
Napi::Value Download(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "to(\"cpu\")";
  CudaStorage* d = dev(info, 0, fn);
  tensor::Storage* h = tensor::storage_arg(info, 2, fn);
  require(env, h->dtype() == d->dtype(), std::string(fn) + ": dtypes differ");
  const int64_t count = int_arg(info, 4);
  if (count <= 0) return env.Undefined();
  check(env, api(env).nbf_cuda_memcpy(h->at(env, int_arg(info, 3), fn), ptr(info, 0, fn), static_cast<std::size_t>(count) * dtype_size(h->dtype()), 1), fn);
  return env.Undefined();
}

Napi::Value MemoryStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  DeviceCache& c = device_cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  Napi::Object o = Napi::Object::New(env);
  o.Set("liveStorages", Napi::Number::New(env, static_cast<double>(c.live_storages)));
  o.Set("liveBytes", Napi::Number::New(env, static_cast<double>(c.live_bytes)));
  o.Set("cachedBytes", Napi::Number::New(env, static_cast<double>(c.cached_bytes)));
  return o;
}

Napi::Value EmptyCache(const Napi::CallbackInfo& info) {
  const Api& a = load_api();
  DeviceCache& c = device_cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  if (a.ok) {
    for (auto& kv : c.free_blocks)
      for (void* p : kv.second) a.nbf_cuda_free(p);
  }
  c.free_blocks.clear();
  c.cached_bytes = 0;
  return info.Env().Undefined();
}

Napi::Value Synchronize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  check(env, api(env).nbf_cuda_synchronize(), "cudaSynchronize");
  return env.Undefined();
}

void RegisterCudaTensor(Napi::Env env, Napi::Object exports) {
  CudaStorage::Init(env, exports);
  Napi::Object k = Napi::Object::New(env);
  k.Set("tensorCopy", Napi::Function::New(env, Copy, "tensorCopy"));
  k.Set("tensorBinary", Napi::Function::New(env, Binary, "tensorBinary"));
  k.Set("tensorUnary", Napi::Function::New(env, Unary, "tensorUnary"));
  k.Set("tensorUnaryBackward", Napi::Function::New(env, UnaryBackward, "tensorUnaryBackward"));
  k.Set("tensorReduce", Napi::Function::New(env, Reduce, "tensorReduce"));
  k.Set("tensorSoftmax", Napi::Function::New(env, Softmax, "tensorSoftmax"));
  k.Set("tensorSoftmaxBackward", Napi::Function::New(env, SoftmaxBackward, "tensorSoftmaxBackward"));
  k.Set("tensorMatmul", Napi::Function::New(env, Matmul, "tensorMatmul"));
  k.Set("tensorFill", Napi::Function::New(env, Fill, "tensorFill"));
  k.Set("tensorArange", Napi::Function::New(env, Arange, "tensorArange"));
  k.Set("tensorRandom", Napi::Function::New(env, Random, "tensorRandom"));
  k.Set("tensorDropoutMask", Napi::Function::New(env, DropoutMask, "tensorDropoutMask"));
  k.Set("tensorNorm", Napi::Function::New(env, Norm, "tensorNorm"));
  k.Set("tensorNormBackward", Napi::Function::New(env, NormBackward, "tensorNormBackward"));
  k.Set("tensorEmbedding", Napi::Function::New(env, Embedding, "tensorEmbedding"));
  k.Set("tensorEmbeddingBackward", Napi::Function::New(env, EmbeddingBackward, "tensorEmbeddingBackward"));
  k.Set("tensorCrossEntropy", Napi::Function::New(env, CrossEntropy, "tensorCrossEntropy"));
  k.Set("tensorCrossEntropyBackward", Napi::Function::New(env, CrossEntropyBackward, "tensorCrossEntropyBackward"));
  k.Set("tensorAttention", Napi::Function::New(env, Attention, "tensorAttention"));
  k.Set("tensorAttentionBackward", Napi::Function::New(env, AttentionBackward, "tensorAttentionBackward"));
  k.Set("tensorGather", Napi::Function::New(env, Gather, "tensorGather"));
  k.Set("tensorScatter", Napi::Function::New(env, Scatter, "tensorScatter"));
  k.Set("tensorWhere", Napi::Function::New(env, Where, "tensorWhere"));
  k.Set("tensorTopk", Napi::Function::New(env, Topk, "tensorTopk"));
  k.Set("tensorMultinomial", Napi::Function::New(env, Multinomial, "tensorMultinomial"));
  k.Set("tensorQuantize", Napi::Function::New(env, Quantize, "tensorQuantize"));
  k.Set("tensorDequantize", Napi::Function::New(env, Dequantize, "tensorDequantize"));
  k.Set("tensorLinear", Napi::Function::New(env, Linear, "tensorLinear"));
  k.Set("tensorLinearBackward", Napi::Function::New(env, LinearBackward, "tensorLinearBackward"));
  k.Set("tensorRotary", Napi::Function::New(env, Rotary, "tensorRotary"));
  exports.Set("cudaKernels", k);
  exports.Set("cudaUpload", Napi::Function::New(env, Upload, "cudaUpload"));
  exports.Set("cudaDownload", Napi::Function::New(env, Download, "cudaDownload"));
  exports.Set("cudaMemoryStats", Napi::Function::New(env, MemoryStats, "cudaMemoryStats"));
  exports.Set("cudaEmptyCache", Napi::Function::New(env, EmptyCache, "cudaEmptyCache"));
  exports.Set("cudaSynchronize", Napi::Function::New(env, Synchronize, "cudaSynchronize"));
}

NBFORGE_REGISTER_MODULE(RegisterCudaTensor);

}  // namespace
}  // namespace nbforge
