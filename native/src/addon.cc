// The JavaScript face of the addon: argument checking and conversion only;
// the arithmetic lives in the kernels it calls.
#include <napi.h>

#include <string>

#include "cpu_features.h"
#include "dot.h"
#include "registry.h"

namespace {

constexpr const char* kVersion = "0.1.0";

Napi::Float64Array expect_float64_array(const Napi::CallbackInfo& info, std::size_t index,
                                        const char* name) {
  const Napi::Value value = info[index];
  if (!value.IsTypedArray() ||
      value.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    throw Napi::TypeError::New(info.Env(), std::string("dot: argument '") + name +
                                               "' must be a Float64Array; wrap plain arrays "
                                               "with Float64Array.from(values)");
  }
  return value.As<Napi::Float64Array>();
}

Napi::Value Version(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), kVersion);
}

Napi::Value HasAvx2(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), nbforge::cpu_has_avx2_fma());
}

Napi::Value Dot(const Napi::CallbackInfo& info) {
  const Napi::Float64Array a = expect_float64_array(info, 0, "a");
  const Napi::Float64Array b = expect_float64_array(info, 1, "b");
  if (a.ElementLength() != b.ElementLength()) {
    throw Napi::RangeError::New(
        info.Env(), "dot: 'a' has " + std::to_string(a.ElementLength()) + " elements but 'b' has " +
                        std::to_string(b.ElementLength()) + "; both must have the same length");
  }
  return Napi::Number::New(info.Env(), nbforge::dot_f64(a.Data(), b.Data(), a.ElementLength()));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("version", Napi::Function::New(env, Version, "version"));
  exports.Set("hasAvx2", Napi::Function::New(env, HasAvx2, "hasAvx2"));
  exports.Set("dot", Napi::Function::New(env, Dot, "dot"));
  for (nbforge::ModuleInit init : nbforge::registered_modules()) init(env, exports);
  return exports;
}

}  // namespace

namespace nbforge {

std::vector<ModuleInit>& registered_modules() {
  // A function-local static is constructed on first use, whatever the order in
  // which the translation units' registrations run.
  static std::vector<ModuleInit> modules;
  return modules;
}

}  // namespace nbforge

NODE_API_MODULE(nbforge_native, Init)
