// JavaScript bindings of the sparse Cholesky (argument checks and handles
// only; the algorithms live in ordering.cc, cholesky.cc and cholmod.cc).
#include <napi.h>

#include <cstring>
#include <string>

#include "registry.h"
#include "sparse/sparse.h"

namespace {

using nbforge::sparse::Factorization;

struct Handle {
  std::unique_ptr<Factorization> f;
  bool factored = false;
  size_t entries = 0;  // stored entries of the analysed pattern
};

[[noreturn]] void fail(Napi::Env env, const std::string& msg) {
  throw Napi::TypeError::New(env, msg);
}

Napi::Int32Array i32(const Napi::CallbackInfo& info, size_t k, const char* fn, const char* name) {
  const Napi::Value v = info[k];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    fail(info.Env(), std::string(fn) + ": '" + name + "' must be an Int32Array");
  return v.As<Napi::Int32Array>();
}

Napi::Float64Array f64(const Napi::CallbackInfo& info, size_t k, const char* fn, const char* name) {
  const Napi::Value v = info[k];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
    fail(info.Env(), std::string(fn) + ": '" + name + "' must be a Float64Array");
  return v.As<Napi::Float64Array>();
}

// Checks an upper-triangle CSR pattern: monotone offsets, columns in [row, n).
void check_pattern(Napi::Env env, const char* fn, int64_t n, const Napi::Int32Array& indptr,
                   const Napi::Int32Array& indices) {
  const int32_t* ip = indptr.Data();
  const int32_t* ix = indices.Data();
  if (n < 0 || static_cast<int64_t>(indptr.ElementLength()) != n + 1 || ip[0] != 0 ||
      static_cast<size_t>(ip[n]) != indices.ElementLength())
    throw Napi::RangeError::New(env, std::string(fn) + ": indptr must have n+1 offsets ending at nnz");
  for (int64_t i = 0; i < n; ++i) {
    if (ip[i + 1] < ip[i]) throw Napi::RangeError::New(env, std::string(fn) + ": indptr is not monotone");
    for (int32_t p = ip[i]; p < ip[i + 1]; ++p)
      if (ix[p] < i || ix[p] >= n)
        throw Napi::RangeError::New(env, std::string(fn) + ": row " + std::to_string(i) +
                                             " has column " + std::to_string(ix[p]) +
                                             "; expected the upper triangle (column >= row)");
  }
}

Handle& handle_arg(const Napi::CallbackInfo& info, const char* fn) {
  if (!info[0].IsExternal()) fail(info.Env(), std::string(fn) + ": expected a factor handle");
  return *info[0].As<Napi::External<Handle>>().Data();
}

Napi::Value CholmodVersion(const Napi::CallbackInfo& info) {
  const std::string v = nbforge::sparse::cholmod_version();
  if (v.empty()) return info.Env().Null();
  return Napi::String::New(info.Env(), v);
}

// sparseCholeskyAnalyze(backend, n, indptr, indices) -> handle
Napi::Value Analyze(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "sparseCholeskyAnalyze";
  const std::string backend = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  if (!info[1].IsNumber()) fail(env, std::string(fn) + ": n must be a number");
  const int64_t n = info[1].As<Napi::Number>().Int64Value();
  const Napi::Int32Array indptr = i32(info, 2, fn, "indptr");
  const Napi::Int32Array indices = i32(info, 3, fn, "indices");
  check_pattern(env, fn, n, indptr, indices);
  auto* h = new Handle();
  h->entries = indices.ElementLength();
  try {
    if (backend == "native") {
      h->f = nbforge::sparse::analyze_native(n, indptr.Data(), indices.Data());
    } else if (backend == "cholmod") {
      h->f = nbforge::sparse::analyze_cholmod(n, indptr.Data(), indices.Data());
      if (!h->f) throw std::runtime_error("libcholmod is not available");
    } else {
      throw std::runtime_error("unknown backend '" + backend + "'");
    }
  } catch (const std::exception& e) {
    delete h;
    throw Napi::Error::New(env, std::string(fn) + ": " + e.what());
  }
  return Napi::External<Handle>::New(env, h, [](Napi::Env, Handle* p) { delete p; });
}

// sparseCholeskyFactor(handle, values, shift) -> { pivot, value }
Napi::Value Factor(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "sparseCholeskyFactor";
  Handle& h = handle_arg(info, fn);
  const Napi::Float64Array values = f64(info, 1, fn, "values");
  if (values.ElementLength() != h.entries)
    throw Napi::RangeError::New(env, std::string(fn) + ": expected " + std::to_string(h.entries) +
                                         " values (the analysed pattern), got " +
                                         std::to_string(values.ElementLength()));
  const double shift = info[2].As<Napi::Number>().DoubleValue();
  double pivot_value = 0.0;
  int64_t pivot;
  try {
    pivot = h.f->factor(values.Data(), shift, &pivot_value);
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, std::string(fn) + ": " + e.what());
  }
  h.factored = pivot < 0;
  Napi::Object out = Napi::Object::New(env);
  out.Set("pivot", Napi::Number::New(env, static_cast<double>(pivot)));
  out.Set("value", Napi::Number::New(env, pivot_value));
  return out;
}

// sparseCholeskySolve(handle, b, k) -> x (new array, column-major n×k)
Napi::Value Solve(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "sparseCholeskySolve";
  Handle& h = handle_arg(info, fn);
  if (!h.factored) throw Napi::Error::New(env, std::string(fn) + ": the last factorisation failed; refactor first");
  const Napi::Float64Array b = f64(info, 1, fn, "b");
  const int64_t k = info[2].As<Napi::Number>().Int64Value();
  const int64_t n = h.f->size();
  if (static_cast<int64_t>(b.ElementLength()) != n * k)
    throw Napi::RangeError::New(env, std::string(fn) + ": b must hold n*k values");
  Napi::Float64Array x = Napi::Float64Array::New(env, b.ElementLength());
  std::memcpy(x.Data(), b.Data(), sizeof(double) * b.ElementLength());
  try {
    h.f->solve(x.Data(), k);
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, std::string(fn) + ": " + e.what());
  }
  return x;
}

Napi::Value Nnz(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(handle_arg(info, "sparseCholeskyNnz").f->nnz()));
}

// sparseOrdering(n, indptr, indices) -> perm (new -> old)
Napi::Value Ordering(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "sparseOrdering";
  const int64_t n = info[0].As<Napi::Number>().Int64Value();
  const Napi::Int32Array indptr = i32(info, 1, fn, "indptr");
  const Napi::Int32Array indices = i32(info, 2, fn, "indices");
  check_pattern(env, fn, n, indptr, indices);
  const std::vector<int32_t> perm = nbforge::sparse::minimum_degree(n, indptr.Data(), indices.Data());
  Napi::Int32Array out = Napi::Int32Array::New(env, perm.size());
  std::memcpy(out.Data(), perm.data(), sizeof(int32_t) * perm.size());
  return out;
}

void RegisterSparse(Napi::Env env, Napi::Object exports) {
  exports.Set("sparseCholmodVersion", Napi::Function::New(env, CholmodVersion));
  exports.Set("sparseCholeskyAnalyze", Napi::Function::New(env, Analyze));
  exports.Set("sparseCholeskyFactor", Napi::Function::New(env, Factor));
  exports.Set("sparseCholeskySolve", Napi::Function::New(env, Solve));
  exports.Set("sparseCholeskyNnz", Napi::Function::New(env, Nnz));
  exports.Set("sparseOrdering", Napi::Function::New(env, Ordering));
}

NBFORGE_REGISTER_MODULE(RegisterSparse);

}  // namespace
