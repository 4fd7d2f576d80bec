// Indexing kernels: gather (also index_select, whose index is broadcast),
// scatter / scatter_add (also index_add, the backward of gather and
// index_select) and where (also masked_fill). Copies move elements by size, so
// every dtype works; scatter_add adds in the element's own type. Indices are
// int64 and are checked before anything is written.
#include <napi.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "parallel.h"
#include "registry.h"
#include "tensor/indexing_util.h"
#include "tensor/storage.h"

namespace nbforge {
namespace tensor {
namespace {

using namespace ixutil;

constexpr int64_t kGrain = 16384;

// Throws a RangeError naming the first index outside [0, size).
void check_indices(Napi::Env env, const int64_t* ip, const std::vector<int64_t>& shape, const std::vector<int64_t>& is,
                   int64_t size, int64_t dim, const std::string& what) {
  const int64_t n = numel_of(shape);
  int64_t bad = -1, badv = 0;
  const std::vector<int64_t>* const st[1] = {&is};
  int64_t i = 0;
  walk<1>(shape, st, 0, n, [&](const int64_t* off, const int64_t*) {
    const int64_t v = ip[off[0]];
    if (bad < 0 && (v < 0 || v >= size)) { bad = i; badv = v; }
    ++i;
  });
  if (bad >= 0) throw_index_out_of_range(env, shape, bad, badv, dim, size, what);
}

Storage* int64_arg(const Napi::CallbackInfo& info, std::size_t i, const char* fn) {
  Storage* s = storage_arg(info, i, fn);
  if (s->dtype() != kInt64) throw Napi::TypeError::New(info.Env(), std::string(fn) + ": indices must be int64");
  return s;
}

// tensorGather(x, xOff, xStrides, idx, idxOff, idxStrides, out, shape, dim, dimSize, what)
// out (contiguous, shape) [..., i, ...] = x[..., idx[..., i, ...], ...] along dim.
Napi::Value Gather(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Storage* x = storage_arg(info, 0, "tensorGather");
  Storage* idx = int64_arg(info, 3, "tensorGather");
  Storage* o = storage_arg(info, 6, "tensorGather");
  if (x->dtype() != o->dtype()) throw Napi::TypeError::New(env, "tensorGather: input and output dtypes differ");
  std::vector<int64_t> xs = vec_arg(info, 2), is = vec_arg(info, 5), shape = vec_arg(info, 7);
  const int64_t dim = int_arg(info, 8), size = int_arg(info, 9);
  const std::string what = info[10].As<Napi::String>().Utf8Value();
  const int64_t n = numel_of(shape);
  if (n == 0) return env.Undefined();
  const char* xp = x->at(env, int_arg(info, 1), "tensorGather");
  const int64_t* ip = reinterpret_cast<const int64_t*>(idx->at(env, int_arg(info, 4), "tensorGather"));
  char* op = o->at(env, 0, "tensorGather");
  check_indices(env, ip, shape, is, size, dim, what);
  const int64_t dstride = xs[dim];
  xs[dim] = 0;
  with_size(dtype_size(x->dtype()), [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    const T* px = reinterpret_cast<const T*>(xp);
    T* po = reinterpret_cast<T*>(op);
    const std::vector<int64_t>* const st[2] = {&xs, &is};
    parallel_for(0, n, kGrain, [&](int64_t i0, int64_t i1) {
      int64_t i = i0;
      walk<2>(shape, st, i0, i1, [&](const int64_t* off, const int64_t*) {
        po[i++] = px[off[0] + ip[off[1]] * dstride];
      });
    });
  });
  return env.Undefined();
}

// tensorScatter(mode, out, outOff, outStrides, idx, idxOff, idxStrides, src, srcOff, srcStrides, shape, dim, dimSize, what)
// For every position p of shape: out[p with p[dim] = idx[p]] = src[p] (mode 0) or += src[p] (mode 1).
// Runs in index order on one thread, so repeated indices are deterministic.
Napi::Value Scatter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int mode = static_cast<int>(int_arg(info, 0));
  Storage* o = storage_arg(info, 1, "tensorScatter");
  Storage* idx = int64_arg(info, 4, "tensorScatter");
  Storage* s = storage_arg(info, 7, "tensorScatter");
  if (o->dtype() != s->dtype()) throw Napi::TypeError::New(env, "tensorScatter: source and output dtypes differ");
  std::vector<int64_t> os = vec_arg(info, 3), is = vec_arg(info, 6), ss = vec_arg(info, 9), shape = vec_arg(info, 10);
  const int64_t dim = int_arg(info, 11), size = int_arg(info, 12);
  const std::string what = info[13].As<Napi::String>().Utf8Value();
  const int64_t n = numel_of(shape);
  if (n == 0) return env.Undefined();
  char* op = o->at(env, int_arg(info, 2), "tensorScatter");
  const int64_t* ip = reinterpret_cast<const int64_t*>(idx->at(env, int_arg(info, 5), "tensorScatter"));
  const char* sp = s->at(env, int_arg(info, 8), "tensorScatter");
  check_indices(env, ip, shape, is, size, dim, what);
  const int64_t dstride = os[dim];
  os[dim] = 0;
  const std::vector<int64_t>* const st[3] = {&os, &is, &ss};
  if (mode == 0) {
    with_size(dtype_size(o->dtype()), [&](auto* tag) {
      using T = std::remove_pointer_t<decltype(tag)>;
      T* po = reinterpret_cast<T*>(op);
      const T* ps = reinterpret_cast<const T*>(sp);
      walk<3>(shape, st, 0, n, [&](const int64_t* off, const int64_t*) { po[off[0] + ip[off[1]] * dstride] = ps[off[2]]; });
    });
    return env.Undefined();
  }
  const bool ok = with_arith(o->dtype(), [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    T* po = reinterpret_cast<T*>(op);
    const T* ps = reinterpret_cast<const T*>(sp);
    walk<3>(shape, st, 0, n, [&](const int64_t* off, const int64_t*) {
      T& d = po[off[0] + ip[off[1]] * dstride];
      if constexpr (std::is_same_v<T, bool>) d = d || ps[off[2]];
      else d = static_cast<T>(d + ps[off[2]]);
    });
  });
  if (!ok) throw Napi::TypeError::New(env, std::string("tensorScatter: cannot add ") + dtype_name(o->dtype()) + " in place; convert to float32");
  return env.Undefined();
}

// tensorWhere(cond, cOff, cStrides, a, aOff, aStrides, b, bOff, bStrides, out, shape)
// out (contiguous) = cond ? a : b, every operand read through (broadcast) strides.
Napi::Value Where(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Storage* c = storage_arg(info, 0, "tensorWhere");
  Storage* a = storage_arg(info, 3, "tensorWhere");
  Storage* b = storage_arg(info, 6, "tensorWhere");
  Storage* o = storage_arg(info, 9, "tensorWhere");
  if (c->dtype() != kBool && c->dtype() != kUInt8) throw Napi::TypeError::New(env, "tensorWhere: the condition must be bool");
  if (a->dtype() != b->dtype() || a->dtype() != o->dtype()) throw Napi::TypeError::New(env, "tensorWhere: operand dtypes differ");
  std::vector<int64_t> cs = vec_arg(info, 2), as = vec_arg(info, 5), bs = vec_arg(info, 8), shape = vec_arg(info, 10);
  const int64_t n = numel_of(shape);
  if (n == 0) return env.Undefined();
  const uint8_t* cp = reinterpret_cast<const uint8_t*>(c->at(env, int_arg(info, 1), "tensorWhere"));
  const char* ap = a->at(env, int_arg(info, 4), "tensorWhere");
  const char* bp = b->at(env, int_arg(info, 7), "tensorWhere");
  char* op = o->at(env, 0, "tensorWhere");
  with_size(dtype_size(a->dtype()), [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    const T* pa = reinterpret_cast<const T*>(ap);
    const T* pb = reinterpret_cast<const T*>(bp);
    T* po = reinterpret_cast<T*>(op);
    const std::vector<int64_t>* const st[3] = {&cs, &as, &bs};
    parallel_for(0, n, kGrain, [&](int64_t i0, int64_t i1) {
      int64_t i = i0;
      walk<3>(shape, st, i0, i1, [&](const int64_t* off, const int64_t*) {
        po[i++] = cp[off[0]] ? pa[off[1]] : pb[off[2]];
      });
    });
  });
  return env.Undefined();
}

void RegisterIndexing(Napi::Env env, Napi::Object exports) {
  exports.Set("tensorGather", Napi::Function::New(env, Gather, "tensorGather"));
  exports.Set("tensorScatter", Napi::Function::New(env, Scatter, "tensorScatter"));
  exports.Set("tensorWhere", Napi::Function::New(env, Where, "tensorWhere"));
}

}  // namespace

NBFORGE_REGISTER_MODULE(RegisterIndexing);

}  // namespace tensor
}  // namespace nbforge
