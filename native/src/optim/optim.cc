// Optimizer update loops: fused AdamW and SGD steps, and the global gradient
// norm and rescale used by clipGradNorm. One call covers every parameter of a
// group: parameters and gradients are separate storages, the optimizer state
// (AdamW's moments, SGD's momentum buffer) is one flat buffer per group, and
// each parameter owns the segment [stateOffs[i], stateOffs[i] + sizes[i]).
// The arithmetic follows torch.optim's single-tensor float loops step by step
// (decay, moment updates, bias-corrected denominator) so float32 results agree.
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "parallel.h"
#include "registry.h"
#include "tensor/nn_common.h"
#include "tensor/storage.h"

namespace nbforge {
namespace optim {
namespace {

using tensor::Storage;
using tensor::kFloat32;
using tensor::kFloat64;
using tensor::nn::num_arg;

constexpr int64_t kGrain = 1 << 14;

// One segment: a parameter's elements, its gradient and its optimizer state.
struct Segment {
  char* param = nullptr;
  const char* grad = nullptr;
  char* s0 = nullptr;  // first state buffer (AdamW m, SGD momentum)
  char* s1 = nullptr;  // second state buffer (AdamW v)
  int64_t size = 0;
  double step = 0;     // AdamW: this parameter's step count (after the increment)
  bool first = false;  // SGD: the momentum buffer is still empty
};

std::vector<int64_t> int_list(const Napi::CallbackInfo& info, std::size_t i, const char* fn, const char* what) {
  if (!info[i].IsArray()) throw Napi::TypeError::New(info.Env(), std::string(fn) + ": " + what + " must be an array of numbers");
  Napi::Array a = info[i].As<Napi::Array>();
  std::vector<int64_t> out(a.Length());
  for (uint32_t k = 0; k < a.Length(); ++k) out[k] = static_cast<int64_t>(a.Get(k).As<Napi::Number>().DoubleValue());
  return out;
}

std::vector<Storage*> storage_list(const Napi::CallbackInfo& info, std::size_t i, const char* fn, const char* what) {
  if (!info[i].IsArray()) throw Napi::TypeError::New(info.Env(), std::string(fn) + ": " + what + " must be an array of storages");
  Napi::Array a = info[i].As<Napi::Array>();
  std::vector<Storage*> out(a.Length());
  for (uint32_t k = 0; k < a.Length(); ++k) {
    Napi::Value v = a.Get(k);
    if (!v.IsObject()) throw Napi::TypeError::New(info.Env(), std::string(fn) + ": " + what + "[" + std::to_string(k) + "] is not a storage");
    out[k] = Napi::ObjectWrap<Storage>::Unwrap(v.As<Napi::Object>());
    if (out[k] == nullptr) throw Napi::TypeError::New(info.Env(), std::string(fn) + ": " + what + "[" + std::to_string(k) + "] is not a storage");
  }
  return out;
}

// Checks one element range of a storage and returns its address.
char* span(Napi::Env env, Storage* s, int64_t off, int64_t n, int dtype, const char* fn, const char* what) {
  if (s->dtype() != dtype) {
    throw Napi::TypeError::New(env, std::string(fn) + ": " + what + " is " + tensor::dtype_name(s->dtype()) + ", expected " +
                                        tensor::dtype_name(dtype));
  }
  if (off < 0 || n < 0 || off + n > s->numel()) {
    throw Napi::RangeError::New(env, std::string(fn) + ": " + what + " range [" + std::to_string(off) + ", " +
                                         std::to_string(off + n) + ") is outside its storage of " + std::to_string(s->numel()));
  }
  return s->at(env, off, fn);
}

// Reads the shared (params, pOffs, grads, gOffs, sizes) arguments at 0..4 and the
// state buffers; dtype is the parameters' dtype, which everything must share.
std::vector<Segment> segments(const Napi::CallbackInfo& info, const char* fn, Storage* s0, Storage* s1,
                              const std::vector<int64_t>* stateOffs, int* dtype_out) {
  Napi::Env env = info.Env();
  auto params = storage_list(info, 0, fn, "params");
  auto pOffs = int_list(info, 1, fn, "param offsets");
  auto grads = storage_list(info, 2, fn, "grads");
  auto gOffs = int_list(info, 3, fn, "grad offsets");
  auto sizes = int_list(info, 4, fn, "sizes");
  const std::size_t n = params.size();
  if (pOffs.size() != n || grads.size() != n || gOffs.size() != n || sizes.size() != n ||
      (stateOffs != nullptr && stateOffs->size() != n)) {
    throw Napi::RangeError::New(env, std::string(fn) + ": params, grads, offsets and sizes must have the same length");
  }
  const int dtype = n == 0 ? kFloat32 : params[0]->dtype();
  if (dtype != kFloat32 && dtype != kFloat64) {
    throw Napi::TypeError::New(env, std::string(fn) + ": parameters must be float32 or float64, got " + tensor::dtype_name(dtype));
  }
  std::vector<Segment> segs(n);
  for (std::size_t i = 0; i < n; ++i) {
    Segment& s = segs[i];
    s.size = sizes[i];
    s.param = span(env, params[i], pOffs[i], s.size, dtype, fn, "a parameter");
    s.grad = span(env, grads[i], gOffs[i], s.size, dtype, fn, "a gradient");
    if (s0 != nullptr) s.s0 = span(env, s0, (*stateOffs)[i], s.size, dtype, fn, "the state buffer");
    if (s1 != nullptr) s.s1 = span(env, s1, (*stateOffs)[i], s.size, dtype, fn, "the second state buffer");
  }
  *dtype_out = dtype;
  return segs;
}

struct AdamHyper {
  double lr, beta1, beta2, eps, wd;
  bool maximize;
};

template <typename T>
void adamw_segment(const Segment& s, const AdamHyper& h) {
  T* p = reinterpret_cast<T*>(s.param);
  const T* g = reinterpret_cast<const T*>(s.grad);
  T* m = reinterpret_cast<T*>(s.s0);
  T* v = reinterpret_cast<T*>(s.s1);
  // Scalars are formed in double and rounded once, as PyTorch passes them.
  const T decay = static_cast<T>(1.0 - h.lr * h.wd);
  const T b1 = static_cast<T>(h.beta1), a1 = static_cast<T>(1.0 - h.beta1);
  const T b2 = static_cast<T>(h.beta2), a2 = static_cast<T>(1.0 - h.beta2);
  const double bc1 = 1.0 - std::pow(h.beta1, s.step);
  const T bc2_sqrt = static_cast<T>(std::sqrt(1.0 - std::pow(h.beta2, s.step)));
  const T step_size = static_cast<T>(h.lr / bc1);
  const T eps = static_cast<T>(h.eps);
  const T sign = h.maximize ? T(-1) : T(1);
  parallel_for(0, s.size, kGrain, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const T gi = sign * g[i];
      const T pi = p[i] * decay;
      const T mi = m[i] * b1 + gi * a1;
      const T vi = v[i] * b2 + (gi * gi) * a2;
      m[i] = mi;
      v[i] = vi;
      const T denom = std::sqrt(vi) / bc2_sqrt + eps;
      p[i] = pi - step_size * (mi / denom);
    }
  });
}

// optimAdamW(params, pOffs, grads, gOffs, sizes, m, v, stateOffs, steps, lr, beta1, beta2, eps, weightDecay, maximize)
Napi::Value AdamW(const Napi::CallbackInfo& info) {
  const char* fn = "AdamW step";
  Napi::Env env = info.Env();
  Storage* m = tensor::storage_arg(info, 5, fn);
  Storage* v = tensor::storage_arg(info, 6, fn);
  auto stateOffs = int_list(info, 7, fn, "state offsets");
  auto steps = int_list(info, 8, fn, "steps");
  int dtype = kFloat32;
  auto segs = segments(info, fn, m, v, &stateOffs, &dtype);
  if (steps.size() != segs.size()) throw Napi::RangeError::New(env, std::string(fn) + ": one step count per parameter");
  const AdamHyper h{num_arg(info, 9), num_arg(info, 10), num_arg(info, 11), num_arg(info, 12), num_arg(info, 13),
                    info[14].ToBoolean().Value()};
  for (std::size_t i = 0; i < segs.size(); ++i) {
    segs[i].step = static_cast<double>(steps[i]);
    if (dtype == kFloat32) adamw_segment<float>(segs[i], h);
    else adamw_segment<double>(segs[i], h);
  }
  return env.Undefined();
}

struct SgdHyper {
  double lr, momentum, dampening, wd;
  bool nesterov, maximize;
};

template <typename T>
void sgd_segment(const Segment& s, const SgdHyper& h) {
  T* p = reinterpret_cast<T*>(s.param);
  const T* g = reinterpret_cast<const T*>(s.grad);
  T* buf = reinterpret_cast<T*>(s.s0);
  const T wd = static_cast<T>(h.wd), mom = static_cast<T>(h.momentum);
  const T damp = static_cast<T>(1.0 - h.dampening), lr = static_cast<T>(h.lr);
  const bool use_mom = h.momentum != 0, first = s.first, nesterov = h.nesterov;
  const bool decay = h.wd != 0;
  const T sign = h.maximize ? T(-1) : T(1);
  parallel_for(0, s.size, kGrain, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      T d = sign * g[i];
      if (decay) d = d + wd * p[i];
      if (use_mom) {
        // The first step copies the gradient into the buffer (no dampening), as torch.optim.SGD does.
        const T b = first ? d : buf[i] * mom + damp * d;
        buf[i] = b;
        d = nesterov ? d + mom * b : b;
      }
      p[i] = p[i] - lr * d;
    }
  });
}

// optimSGD(params, pOffs, grads, gOffs, sizes, buf|null, stateOffs, first, lr, momentum, dampening, weightDecay, nesterov, maximize)
Napi::Value SGD(const Napi::CallbackInfo& info) {
  const char* fn = "SGD step";
  Napi::Env env = info.Env();
  Storage* buf = tensor::nn::opt_storage(info, 5, fn);
  auto stateOffs = int_list(info, 6, fn, "state offsets");
  auto first = int_list(info, 7, fn, "first-step flags");
  int dtype = kFloat32;
  auto segs = segments(info, fn, buf, nullptr, buf == nullptr ? nullptr : &stateOffs, &dtype);
  if (first.size() != segs.size()) throw Napi::RangeError::New(env, std::string(fn) + ": one first-step flag per parameter");
  const SgdHyper h{num_arg(info, 8), num_arg(info, 9), num_arg(info, 10), num_arg(info, 11),
                   info[12].ToBoolean().Value(), info[13].ToBoolean().Value()};
  if (h.momentum != 0 && buf == nullptr) throw Napi::TypeError::New(env, std::string(fn) + ": momentum needs a buffer");
  for (std::size_t i = 0; i < segs.size(); ++i) {
    segs[i].first = first[i] != 0;
    if (dtype == kFloat32) sgd_segment<float>(segs[i], h);
    else sgd_segment<double>(segs[i], h);
  }
  return env.Undefined();
}

// Reads (tensors, offs, sizes) at 0..2 as segments of any float dtype.
struct Span {
  char* data;
  int64_t size;
  int dtype;
};
std::vector<Span> spans(const Napi::CallbackInfo& info, const char* fn) {
  Napi::Env env = info.Env();
  auto ts = storage_list(info, 0, fn, "tensors");
  auto offs = int_list(info, 1, fn, "offsets");
  auto sizes = int_list(info, 2, fn, "sizes");
  if (offs.size() != ts.size() || sizes.size() != ts.size()) {
    throw Napi::RangeError::New(env, std::string(fn) + ": tensors, offsets and sizes must have the same length");
  }
  std::vector<Span> out(ts.size());
  for (std::size_t i = 0; i < ts.size(); ++i) {
    const int dt = ts[i]->dtype();
    if (dt != kFloat32 && dt != kFloat64) {
      throw Napi::TypeError::New(env, std::string(fn) + ": gradients must be float32 or float64, got " + tensor::dtype_name(dt));
    }
    out[i] = Span{span(env, ts[i], offs[i], sizes[i], dt, fn, "a gradient"), sizes[i], dt};
  }
  return out;
}

template <typename T>
double span_norm(const Span& s, bool inf) {
  const T* x = reinterpret_cast<const T*>(s.data);
  const int64_t chunks = (s.size + kGrain - 1) / kGrain;
  std::vector<double> part(static_cast<std::size_t>(std::max<int64_t>(chunks, 1)), 0.0);
  // Fixed chunks, each summed in order, then the chunk sums in order: the same
  // result whatever the thread count.
  parallel_for(0, chunks, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const int64_t b = c * kGrain, e = std::min(s.size, b + kGrain);
      double acc = 0;
      if (inf) {
        for (int64_t i = b; i < e; ++i) acc = std::max(acc, std::fabs(static_cast<double>(x[i])));
      } else {
        for (int64_t i = b; i < e; ++i) acc += static_cast<double>(x[i]) * static_cast<double>(x[i]);
      }
      part[c] = acc;
    }
  });
  double total = 0;
  for (double v : part) total = inf ? std::max(total, v) : total + v;
  return total;
}

// optimGradNorms(tensors, offs, sizes, inf) -> Float64Array: each tensor's sum of
// squares (or largest magnitude when inf).
Napi::Value GradNorms(const Napi::CallbackInfo& info) {
  auto ss = spans(info, "clipGradNorm");
  const bool inf = info[3].ToBoolean().Value();
  Napi::Float64Array out = Napi::Float64Array::New(info.Env(), ss.size());
  for (std::size_t i = 0; i < ss.size(); ++i) {
    out[i] = ss[i].dtype == kFloat32 ? span_norm<float>(ss[i], inf) : span_norm<double>(ss[i], inf);
  }
  return out;
}

// optimScale(tensors, offs, sizes, factor): x *= factor in place.
Napi::Value Scale(const Napi::CallbackInfo& info) {
  auto ss = spans(info, "clipGradNorm");
  const double f = num_arg(info, 3);
  for (const Span& s : ss) {
    if (s.dtype == kFloat32) {
      float* x = reinterpret_cast<float*>(s.data);
      const float ff = static_cast<float>(f);
      parallel_for(0, s.size, kGrain, [&](int64_t i0, int64_t i1) { for (int64_t i = i0; i < i1; ++i) x[i] *= ff; });
    } else {
      double* x = reinterpret_cast<double*>(s.data);
      parallel_for(0, s.size, kGrain, [&](int64_t i0, int64_t i1) { for (int64_t i = i0; i < i1; ++i) x[i] *= f; });
    }
  }
  return info.Env().Undefined();
}

void Register(Napi::Env env, Napi::Object exports) {
  exports.Set("optimAdamW", Napi::Function::New(env, AdamW, "optimAdamW"));
  exports.Set("optimSGD", Napi::Function::New(env, SGD, "optimSGD"));
  exports.Set("optimGradNorms", Napi::Function::New(env, GradNorms, "optimGradNorms"));
  exports.Set("optimScale", Napi::Function::New(env, Scale, "optimScale"));
}

}  // namespace
NBFORGE_REGISTER_MODULE(Register);
}  // namespace optim
}  // namespace nbforge
