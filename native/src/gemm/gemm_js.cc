// The JavaScript face of GEMM and the throughput kernels: argument checking
// and conversion only; the arithmetic lives in gemm.cc and throughput.cc.
//
//   gemmF32(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)   (Float32Array)
//   gemmF64(...)                                                            (Float64Array)
//   gemmBackends() -> ["nbforge", "blas"?]; gemmBackend(); setGemmBackend(name); blasLibrary()
//   forcePortable(on) (test hook); gemmKernel() -> "avx2" | "portable"
//   gemmBlocking(dtype) -> {mc, kc, nc}; setGemmBlocking(dtype, {mc?, kc?, nc?}) (tuning hook)
//   numThreads(); setNumThreads(n)
//   addF32(a, b, out); copyF32(src, dst); fmaPeakGflops(seconds?)
#include <napi.h>

#include <cmath>
#include <string>

#include "gemm/backend.h"
#include "gemm/gemm.h"
#include "gemm/throughput.h"
#include "parallel.h"
#include "registry.h"

namespace {

using nbforge::gemm::Backend;

[[noreturn]] void throw_type(const Napi::Env& env, const std::string& message) {
  throw Napi::TypeError::New(env, message);
}
[[noreturn]] void throw_range(const Napi::Env& env, const std::string& message) {
  throw Napi::RangeError::New(env, message);
}

bool expect_bool(const Napi::CallbackInfo& info, std::size_t index, const std::string& fn,
                 const char* name) {
  if (!info[index].IsBoolean())
    throw_type(info.Env(), fn + ": argument '" + name + "' must be a boolean (true to transpose)");
  return info[index].As<Napi::Boolean>().Value();
}

double expect_number(const Napi::CallbackInfo& info, std::size_t index, const std::string& fn,
                     const char* name) {
  if (!info[index].IsNumber())
    throw_type(info.Env(), fn + ": argument '" + name + "' must be a number");
  return info[index].As<Napi::Number>().DoubleValue();
}

int64_t expect_size(const Napi::CallbackInfo& info, std::size_t index, const std::string& fn,
                    const char* name, int64_t minimum) {
  const double v = expect_number(info, index, fn, name);
  if (!(std::floor(v) == v) || v < static_cast<double>(minimum) || v > 9007199254740991.0)
    throw_range(info.Env(), fn + ": argument '" + name + "' must be an integer >= " +
                                std::to_string(minimum) + ", got " + info[index].ToString().Utf8Value());
  return static_cast<int64_t>(v);
}

template <typename T>
struct ArrayTraits;
template <>
struct ArrayTraits<float> {
  static constexpr napi_typedarray_type kind = napi_float32_array;
  static constexpr const char* name = "Float32Array";
};
template <>
struct ArrayTraits<double> {
  static constexpr napi_typedarray_type kind = napi_float64_array;
  static constexpr const char* name = "Float64Array";
};

template <typename T>
Napi::TypedArrayOf<T> expect_array(const Napi::CallbackInfo& info, std::size_t index,
                                   const std::string& fn, const char* name) {
  const Napi::Value value = info[index];
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != ArrayTraits<T>::kind)
    throw_type(info.Env(), fn + ": argument '" + name + "' must be a " + ArrayTraits<T>::name +
                               "; convert with " + ArrayTraits<T>::name + ".from(values)");
  return value.As<Napi::TypedArrayOf<T>>();
}

// A stored rows x cols matrix with row stride ld must have ld >= cols and
// (rows-1)*ld + cols elements.
void check_matrix(const Napi::Env& env, const std::string& fn, const char* name, const char* ld_name,
                  const char* rows_expr, const char* cols_expr, int64_t rows, int64_t cols,
                  int64_t ld, std::size_t length) {
  if (ld < std::max<int64_t>(cols, 1))
    throw_range(env, fn + ": " + ld_name + " = " + std::to_string(ld) + " is less than " + cols_expr +
                         " = " + std::to_string(cols) + ", the row length of '" + name +
                         "' as stored; pass " + ld_name + " >= " + std::to_string(std::max<int64_t>(cols, 1)));
  if (rows == 0 || cols == 0) return;
  const int64_t need = (rows - 1) * ld + cols;
  if (static_cast<int64_t>(length) < need)
    throw_range(env, fn + ": " + name + " has " + std::to_string(length) + " elements but " + rows_expr +
                         " = " + std::to_string(rows) + " rows of stride " + ld_name + " = " +
                         std::to_string(ld) + " need " + std::to_string(need) + " ((" + rows_expr +
                         "-1)*" + ld_name + "+" + cols_expr + "); pass a larger array or smaller sizes");
}

template <typename T>
Napi::Value Gemm(const Napi::CallbackInfo& info, const std::string& fn,
                 void (*gemm)(bool, bool, int64_t, int64_t, int64_t, T, const T*, int64_t, const T*,
                              int64_t, T, T*, int64_t)) {
  const Napi::Env env = info.Env();
  if (info.Length() != 13)
    throw_type(env, fn + ": expected 13 arguments (transA, transB, m, n, k, alpha, a, lda, b, ldb, "
                         "beta, c, ldc), got " + std::to_string(info.Length()));
  const bool ta = expect_bool(info, 0, fn, "transA");
  const bool tb = expect_bool(info, 1, fn, "transB");
  const int64_t m = expect_size(info, 2, fn, "m", 0);
  const int64_t n = expect_size(info, 3, fn, "n", 0);
  const int64_t k = expect_size(info, 4, fn, "k", 0);
  const T alpha = static_cast<T>(expect_number(info, 5, fn, "alpha"));
  auto a = expect_array<T>(info, 6, fn, "a");
  const int64_t lda = expect_size(info, 7, fn, "lda", 1);
  auto b = expect_array<T>(info, 8, fn, "b");
  const int64_t ldb = expect_size(info, 9, fn, "ldb", 1);
  const T beta = static_cast<T>(expect_number(info, 10, fn, "beta"));
  auto c = expect_array<T>(info, 11, fn, "c");
  const int64_t ldc = expect_size(info, 12, fn, "ldc", 1);
  // As stored: A is m x k (k x m when transposed), B is k x n (n x k when transposed).
  if (!ta) check_matrix(env, fn, "a", "lda", "m", "k", m, k, lda, a.ElementLength());
  else check_matrix(env, fn, "a", "lda", "k", "m", k, m, lda, a.ElementLength());
  if (!tb) check_matrix(env, fn, "b", "ldb", "k", "n", k, n, ldb, b.ElementLength());
  else check_matrix(env, fn, "b", "ldb", "n", "k", n, k, ldb, b.ElementLength());
  check_matrix(env, fn, "c", "ldc", "m", "n", m, n, ldc, c.ElementLength());
  if (c.ArrayBuffer() == a.ArrayBuffer() || c.ArrayBuffer() == b.ArrayBuffer()) {
    const auto* cb = reinterpret_cast<const uint8_t*>(c.Data());
    const auto* ce = cb + c.ByteLength();
    for (const auto& in : {std::make_pair(reinterpret_cast<const uint8_t*>(a.Data()), a.ByteLength()),
                           std::make_pair(reinterpret_cast<const uint8_t*>(b.Data()), b.ByteLength())}) {
      if (in.first < ce && cb < in.first + in.second && m > 0 && n > 0 && k > 0)
        throw_range(env, fn + ": 'c' overlaps an input ('a' or 'b'); write the product to a separate array");
    }
  }
  gemm(ta, tb, m, n, k, alpha, a.Data(), lda, b.Data(), ldb, beta, c.Data(), ldc);
  return env.Undefined();
}

Napi::Value GemmF32(const Napi::CallbackInfo& info) {
  return Gemm<float>(info, "gemmF32", nbforge::gemm_f32);
}
Napi::Value GemmF64(const Napi::CallbackInfo& info) {
  return Gemm<double>(info, "gemmF64", nbforge::gemm_f64);
}

Napi::Value GemmBackends(const Napi::CallbackInfo& info) {
  const auto names = nbforge::gemm::available_backends();
  Napi::Array out = Napi::Array::New(info.Env(), names.size());
  for (std::size_t i = 0; i < names.size(); ++i) out.Set(static_cast<uint32_t>(i), names[i]);
  return out;
}

Napi::Value GemmBackend(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(),
                           nbforge::gemm::backend() == Backend::Blas ? "blas" : "nbforge");
}

Napi::Value SetGemmBackend(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const std::string name = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  if (name == "nbforge") {
    nbforge::gemm::set_backend(Backend::Nbforge);
  } else if (name == "blas") {
    if (!nbforge::gemm::set_backend(Backend::Blas))
      throw Napi::Error::New(env, "setGemmBackend: no system CBLAS was found (tried libopenblas.so.0, "
                                  "libcblas.so.3, libblas.so.3); install one, e.g. "
                                  "`apt-get install libopenblas0-pthread`, or use \"nbforge\"");
  } else {
    throw_type(env, "setGemmBackend: backend must be \"nbforge\" or \"blas\", got " +
                        (info.Length() > 0 ? info[0].ToString().Utf8Value() : std::string("nothing")));
  }
  return env.Undefined();
}

Napi::Value BlasLibrary(const Napi::CallbackInfo& info) {
  const std::string lib = nbforge::gemm::blas_library();
  return lib.empty() ? info.Env().Null() : Napi::String::New(info.Env(), lib);
}

Napi::Value ForcePortable(const Napi::CallbackInfo& info) {
  if (!info[0].IsBoolean()) throw_type(info.Env(), "forcePortable: argument 'on' must be a boolean");
  const bool previous = nbforge::gemm::portable_forced();
  nbforge::gemm::force_portable(info[0].As<Napi::Boolean>().Value());
  return Napi::Boolean::New(info.Env(), previous);
}

Napi::Value GemmKernel(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), nbforge::gemm::using_avx2() ? "avx2" : "portable");
}

std::string expect_dtype(const Napi::CallbackInfo& info, const std::string& fn) {
  const std::string dtype = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  if (dtype != "float32" && dtype != "float64")
    throw_type(info.Env(), fn + ": argument 'dtype' must be \"float32\" or \"float64\"");
  return dtype;
}

Napi::Value GemmBlocking(const Napi::CallbackInfo& info) {
  const std::string dtype = expect_dtype(info, "gemmBlocking");
  const auto b = dtype == "float32" ? nbforge::gemm::blocking_f32() : nbforge::gemm::blocking_f64();
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("mc", static_cast<double>(b.mc));
  out.Set("kc", static_cast<double>(b.kc));
  out.Set("nc", static_cast<double>(b.nc));
  return out;
}

Napi::Value SetGemmBlocking(const Napi::CallbackInfo& info) {
  const std::string dtype = expect_dtype(info, "setGemmBlocking");
  if (!info[1].IsObject())
    throw_type(info.Env(), "setGemmBlocking: argument 'blocking' must be an object {mc?, kc?, nc?}");
  const Napi::Object o = info[1].As<Napi::Object>();
  auto field = [&](const char* key) -> int64_t {
    const Napi::Value v = o.Get(key);
    if (v.IsUndefined()) return 0;
    if (!v.IsNumber() || v.As<Napi::Number>().DoubleValue() < 1)
      throw_range(info.Env(), std::string("setGemmBlocking: '") + key + "' must be a positive integer");
    return v.As<Napi::Number>().Int64Value();
  };
  const nbforge::gemm::Blocking b{field("mc"), field("kc"), field("nc")};
  if (dtype == "float32") nbforge::gemm::set_blocking_f32(b);
  else nbforge::gemm::set_blocking_f64(b);
  return info.Env().Undefined();
}

Napi::Value NumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), nbforge::num_threads());
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  const int64_t n = expect_size(info, 0, "setNumThreads", "n", 1);
  if (n > 1024) throw_range(info.Env(), "setNumThreads: n = " + std::to_string(n) + " is too large; pass 1..1024");
  nbforge::set_num_threads(static_cast<int>(n));
  return info.Env().Undefined();
}

Napi::Value AddF32(const Napi::CallbackInfo& info) {
  auto a = expect_array<float>(info, 0, "addF32", "a");
  auto b = expect_array<float>(info, 1, "addF32", "b");
  auto out = expect_array<float>(info, 2, "addF32", "out");
  if (a.ElementLength() != b.ElementLength() || a.ElementLength() != out.ElementLength())
    throw_range(info.Env(), "addF32: a, b and out have " + std::to_string(a.ElementLength()) + ", " +
                                std::to_string(b.ElementLength()) + " and " +
                                std::to_string(out.ElementLength()) + " elements; all must be equal");
  nbforge::add_f32(a.Data(), b.Data(), out.Data(), static_cast<int64_t>(a.ElementLength()),
                   nbforge::gemm::portable_forced());
  return info.Env().Undefined();
}

Napi::Value CopyF32(const Napi::CallbackInfo& info) {
  auto src = expect_array<float>(info, 0, "copyF32", "src");
  auto dst = expect_array<float>(info, 1, "copyF32", "dst");
  if (src.ElementLength() != dst.ElementLength())
    throw_range(info.Env(), "copyF32: src has " + std::to_string(src.ElementLength()) + " elements but dst has " +
                                std::to_string(dst.ElementLength()) + "; both must be equal");
  nbforge::copy_f32(src.Data(), dst.Data(), static_cast<int64_t>(src.ElementLength()));
  return info.Env().Undefined();
}

Napi::Value FmaPeakGflops(const Napi::CallbackInfo& info) {
  double seconds = 0.5;
  if (info.Length() > 0 && !info[0].IsUndefined()) {
    seconds = expect_number(info, 0, "fmaPeakGflops", "seconds");
    if (!(seconds > 0 && seconds <= 60)) throw_range(info.Env(), "fmaPeakGflops: seconds must be in (0, 60]");
  }
  return Napi::Number::New(info.Env(),
                           nbforge::fma_peak_gflops(seconds, nbforge::gemm::portable_forced()));
}

void RegisterGemm(Napi::Env env, Napi::Object exports) {
  exports.Set("gemmF32", Napi::Function::New(env, GemmF32, "gemmF32"));
  exports.Set("gemmF64", Napi::Function::New(env, GemmF64, "gemmF64"));
  exports.Set("gemmBackends", Napi::Function::New(env, GemmBackends, "gemmBackends"));
  exports.Set("gemmBackend", Napi::Function::New(env, GemmBackend, "gemmBackend"));
  exports.Set("setGemmBackend", Napi::Function::New(env, SetGemmBackend, "setGemmBackend"));
  exports.Set("blasLibrary", Napi::Function::New(env, BlasLibrary, "blasLibrary"));
  exports.Set("forcePortable", Napi::Function::New(env, ForcePortable, "forcePortable"));
  exports.Set("gemmKernel", Napi::Function::New(env, GemmKernel, "gemmKernel"));
  exports.Set("gemmBlocking", Napi::Function::New(env, GemmBlocking, "gemmBlocking"));
  exports.Set("setGemmBlocking", Napi::Function::New(env, SetGemmBlocking, "setGemmBlocking"));
  exports.Set("numThreads", Napi::Function::New(env, NumThreads, "numThreads"));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads, "setNumThreads"));
  exports.Set("addF32", Napi::Function::New(env, AddF32, "addF32"));
  exports.Set("copyF32", Napi::Function::New(env, CopyF32, "copyF32"));
  exports.Set("fmaPeakGflops", Napi::Function::New(env, FmaPeakGflops, "fmaPeakGflops"));
}

NBFORGE_REGISTER_MODULE(RegisterGemm);

}  // namespace
