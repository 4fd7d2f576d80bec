// JavaScript bindings of the staircase's per-block arithmetic (slam.h):
// argument checks and conversion only. Points cross as Float64Arrays holding
// Yt, (d n) x r column-major.
#include <napi.h>

#include <cmath>
#include <string>

#include "registry.h"
#include "slam/slam.h"

namespace {

using nbforge::slam::Manifold;

[[noreturn]] void fail(Napi::Env env, const std::string& msg) {
  throw Napi::TypeError::New(env, msg);
}

Napi::Float64Array f64(const Napi::CallbackInfo& info, size_t i, const char* fn,
                       const char* name, int64_t expected) {
  const Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
    fail(info.Env(), std::string(fn) + ": '" + name + "' must be a Float64Array");
  auto a = v.As<Napi::Float64Array>();
  if (expected >= 0 && static_cast<int64_t>(a.ElementLength()) != expected)
    throw Napi::RangeError::New(info.Env(), std::string(fn) + ": '" + name + "' has " +
                                                std::to_string(a.ElementLength()) +
                                                " values, expected " +
                                                std::to_string(expected));
  return a;
}

int64_t integer(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name) {
  const Napi::Value v = info[i];
  const double x = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
  if (!(x >= 0) || x != std::floor(x) || x > 2147483647.0)
    fail(info.Env(), std::string(fn) + ": '" + name + "' must be a non-negative integer");
  return static_cast<int64_t>(x);
}

double number(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name) {
  if (!info[i].IsNumber()) fail(info.Env(), std::string(fn) + ": '" + name + "' must be a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

struct Shape {
  Manifold m;
  int64_t n;
  int d;
  int64_t r;
  int64_t size() const { return n * d * r; }
};

// (kind, ..., n, d, r) with the three dimensions at `at`.
Shape shape(const Napi::CallbackInfo& info, size_t at, const char* fn) {
  const int64_t kind = integer(info, 0, fn, "kind");
  const int64_t n = integer(info, at, fn, "n");
  const int64_t d = integer(info, at + 1, fn, "d");
  const int64_t r = integer(info, at + 2, fn, "r");
  if (kind > 1) fail(info.Env(), std::string(fn) + ": kind must be 0 (Stiefel) or 1 (sphere)");
  if (d != 2 && d != 3) fail(info.Env(), std::string(fn) + ": d must be 2 or 3");
  if (kind == 1 && d != 2) fail(info.Env(), std::string(fn) + ": the sphere manifold needs d = 2");
  if (kind == 0 && r < d) fail(info.Env(), std::string(fn) + ": St(d, r) needs r >= d");
  if (r < 1 || r > 64) fail(info.Env(), std::string(fn) + ": the rank r must be between 1 and 64");
  return Shape{static_cast<Manifold>(kind), n, static_cast<int>(d), r};
}

// An optional output array at position i (reused by the caller: allocating
// large typed arrays costs more than the arithmetic).
Napi::Float64Array output(const Napi::CallbackInfo& info, size_t i, const char* fn, int64_t size) {
  if (info.Length() > i && !info[i].IsUndefined()) return f64(info, i, fn, "out", size);
  return Napi::Float64Array::New(info.Env(), size);
}

// slamProject(kind, y, v, n, d, r, scale, out?) (out may be v)
Napi::Value Project(const Napi::CallbackInfo& info) {
  const char* fn = "slamProject";
  const Shape s = shape(info, 3, fn);
  auto y = f64(info, 1, fn, "y", s.size());
  auto v = f64(info, 2, fn, "v", s.size());
  auto out = output(info, 7, fn, s.size());
  nbforge::slam::project(s.m, y.Data(), v.Data(), s.n, s.d, s.r, number(info, 6, fn, "scale"),
                         out.Data());
  return out;
}

// slamRetract(kind, y, v, n, d, r)
Napi::Value Retract(const Napi::CallbackInfo& info) {
  const char* fn = "slamRetract";
  const Shape s = shape(info, 3, fn);
  auto y = f64(info, 1, fn, "y", s.size());
  auto v = f64(info, 2, fn, "v", s.size());
  auto out = Napi::Float64Array::New(info.Env(), s.size());
  nbforge::slam::retract(s.m, y.Data(), v.Data(), s.n, s.d, s.r, out.Data());
  return out;
}

// slamLambda(kind, y, g, n, d, r) -> n d d multipliers
Napi::Value Lambda(const Napi::CallbackInfo& info) {
  const char* fn = "slamLambda";
  const Shape s = shape(info, 3, fn);
  auto y = f64(info, 1, fn, "y", s.size());
  auto g = f64(info, 2, fn, "g", s.size());
  auto out = Napi::Float64Array::New(info.Env(), s.n * s.d * s.d);
  nbforge::slam::block_lambda(s.m, y.Data(), g.Data(), s.n, s.d, s.r, out.Data());
  return out;
}

// slamHessian(kind, y, qv, v, lambda, n, d, r, scale, out?) (out may be qv or v)
Napi::Value Hessian(const Napi::CallbackInfo& info) {
  const char* fn = "slamHessian";
  const Shape s = shape(info, 5, fn);
  auto y = f64(info, 1, fn, "y", s.size());
  auto qv = f64(info, 2, fn, "qv", s.size());
  auto v = f64(info, 3, fn, "v", s.size());
  auto lambda = f64(info, 4, fn, "lambda", s.n * s.d * s.d);
  auto out = output(info, 9, fn, s.size());
  nbforge::slam::hessian(s.m, y.Data(), qv.Data(), v.Data(), lambda.Data(), s.n, s.d, s.r,
                         number(info, 8, fn, "scale"), out.Data());
  return out;
}

// slamRound(kind, y, n, d, r) -> n d d rotations, row-major
Napi::Value Round(const Napi::CallbackInfo& info) {
  const char* fn = "slamRound";
  const Shape s = shape(info, 2, fn);
  auto y = f64(info, 1, fn, "y", s.size());
  auto out = Napi::Float64Array::New(info.Env(), s.n * s.d * s.d);
  const bool ok = s.m == nbforge::slam::kStiefel
                      ? nbforge::slam::round_stiefel(y.Data(), s.n, s.d, s.r, out.Data())
                      : nbforge::slam::round_sphere(y.Data(), s.n, s.r, out.Data());
  if (!ok) throw Napi::Error::New(info.Env(), "slamRound: an eigensolve did not converge (non-finite input?)");
  return out;
}

// slamComplexLift(x, n, r) -> 2n x 2r; slamComplexLiftAdjoint(z, n, r) -> 2n x r
Napi::Value ComplexLift(const Napi::CallbackInfo& info) {
  const char* fn = "slamComplexLift";
  const int64_t n = integer(info, 1, fn, "n"), r = integer(info, 2, fn, "r");
  auto x = f64(info, 0, fn, "x", 2 * n * r);
  auto out = Napi::Float64Array::New(info.Env(), 4 * n * r);
  nbforge::slam::complex_lift(x.Data(), n, r, out.Data());
  return out;
}

Napi::Value ComplexLiftAdjoint(const Napi::CallbackInfo& info) {
  const char* fn = "slamComplexLiftAdjoint";
  const int64_t n = integer(info, 1, fn, "n"), r = integer(info, 2, fn, "r");
  auto z = f64(info, 0, fn, "z", 4 * n * r);
  auto out = Napi::Float64Array::New(info.Env(), 2 * n * r);
  nbforge::slam::complex_lift_adjoint(z.Data(), n, r, out.Data());
  return out;
}

// slamBlockApply(lambda, v, n, d, k) -> blockdiag(Λ) V
Napi::Value BlockApply(const Napi::CallbackInfo& info) {
  const char* fn = "slamBlockApply";
  const int64_t n = integer(info, 2, fn, "n"), d = integer(info, 3, fn, "d"), k = integer(info, 4, fn, "k");
  if (d != 2 && d != 3) fail(info.Env(), std::string(fn) + ": d must be 2 or 3");
  auto lambda = f64(info, 0, fn, "lambda", n * d * d);
  auto v = f64(info, 1, fn, "v", n * d * k);
  auto out = Napi::Float64Array::New(info.Env(), n * d * k);
  nbforge::slam::block_apply(lambda.Data(), v.Data(), n, static_cast<int>(d), k, out.Data());
  return out;
}

// slamAxpby(alpha, x, beta, y, out?) -> out = alpha x + beta y (out may alias x or y)
Napi::Value Axpby(const Napi::CallbackInfo& info) {
  const char* fn = "slamAxpby";
  const double alpha = number(info, 0, fn, "alpha"), beta = number(info, 2, fn, "beta");
  auto x = f64(info, 1, fn, "x", -1);
  const int64_t len = x.ElementLength();
  auto y = f64(info, 3, fn, "y", len);
  auto out = info.Length() > 4 && !info[4].IsUndefined() ? f64(info, 4, fn, "out", len)
                                                         : Napi::Float64Array::New(info.Env(), len);
  const double* px = x.Data();
  const double* py = y.Data();
  double* po = out.Data();
  for (int64_t k = 0; k < len; ++k) po[k] = alpha * px[k] + beta * py[k];
  return out;
}

void RegisterSlam(Napi::Env env, Napi::Object exports) {
  exports.Set("slamProject", Napi::Function::New(env, Project, "slamProject"));
  exports.Set("slamRetract", Napi::Function::New(env, Retract, "slamRetract"));
  exports.Set("slamLambda", Napi::Function::New(env, Lambda, "slamLambda"));
  exports.Set("slamHessian", Napi::Function::New(env, Hessian, "slamHessian"));
  exports.Set("slamRound", Napi::Function::New(env, Round, "slamRound"));
  exports.Set("slamComplexLift", Napi::Function::New(env, ComplexLift, "slamComplexLift"));
  exports.Set("slamComplexLiftAdjoint",
              Napi::Function::New(env, ComplexLiftAdjoint, "slamComplexLiftAdjoint"));
  exports.Set("slamBlockApply", Napi::Function::New(env, BlockApply, "slamBlockApply"));
  exports.Set("slamAxpby", Napi::Function::New(env, Axpby, "slamAxpby"));
}

NBFORGE_REGISTER_MODULE(RegisterSlam);

}  // namespace
