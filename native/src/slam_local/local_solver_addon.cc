// JavaScript bindings of the landmark-SLAM local solver's arithmetic
// (argument checks and handles only; the algebra is in local_solver.cc).
#include <napi.h>

#include <cstring>
#include <memory>
#include <string>

#include "registry.h"
#include "slam_local/local_solver.h"

namespace {

using nbforge::slam_local::Edges;
using nbforge::slam_local::Estimate;
using nbforge::slam_local::Pattern;

struct Handle {
  Edges edges;
  std::unique_ptr<Pattern> pattern;
};

[[noreturn]] void fail(Napi::Env env, const std::string& fn, const std::string& msg) {
  throw Napi::TypeError::New(env, fn + ": " + msg);
}

int64_t integer(const Napi::CallbackInfo& info, size_t k, const std::string& fn, const char* name) {
  if (!info[k].IsNumber()) fail(info.Env(), fn, std::string("'") + name + "' must be a number");
  return info[k].As<Napi::Number>().Int64Value();
}

template <typename T, napi_typedarray_type kind>
const T* typed(const Napi::CallbackInfo& info, size_t k, const std::string& fn, const char* name, size_t want,
               const char* type) {
  const Napi::Value v = info[k];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != kind)
    fail(info.Env(), fn, std::string("'") + name + "' must be a " + type);
  auto a = v.As<Napi::TypedArrayOf<T>>();
  if (a.ElementLength() != want)
    throw Napi::RangeError::New(info.Env(), fn + ": '" + name + "' must hold " + std::to_string(want) +
                                                " numbers, got " + std::to_string(a.ElementLength()));
  return a.Data();
}

const double* f64(const Napi::CallbackInfo& info, size_t k, const std::string& fn, const char* name, size_t want) {
  return typed<double, napi_float64_array>(info, k, fn, name, want, "Float64Array");
}
double* f64_out(const Napi::CallbackInfo& info, size_t k, const std::string& fn, const char* name, size_t want) {
  return const_cast<double*>(f64(info, k, fn, name, want));
}
// A Float64Array of `want` numbers, or null (→ nullptr).
double* f64_or_null(const Napi::CallbackInfo& info, size_t k, const std::string& fn, const char* name, size_t want) {
  if (info[k].IsNull() || info[k].IsUndefined()) return nullptr;
  return f64_out(info, k, fn, name, want);
}

Handle& handle_arg(const Napi::CallbackInfo& info, const std::string& fn, bool need_pattern) {
  if (!info[0].IsExternal()) fail(info.Env(), fn, "expected a handle from slamLocalCreate");
  Handle& h = *info[0].As<Napi::External<Handle>>().Data();
  if (need_pattern && !h.pattern) throw Napi::Error::New(info.Env(), fn + ": call slamLocalPattern(handle) first");
  return h;
}

// The estimate (R, t, m) at arguments k, k+1, k+2.
Estimate estimate_args(const Napi::CallbackInfo& info, size_t k, const std::string& fn, const Edges& e) {
  const size_t d = e.d;
  return {f64(info, k, fn, "R", e.n * d * d), f64(info, k + 1, fn, "t", e.n * d),
          f64(info, k + 2, fn, "landmarks", e.L * d)};
}

// slamLocalCreate(d, n, L, poseIJ, poseR, poseT, poseWeights, lmIK, lmY, lmNu, who?) -> handle;
// errors start with `who` (the public function that asked) when given.
Napi::Value Create(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string fn = info[10].IsString() ? info[10].As<Napi::String>().Utf8Value() : "slamLocalCreate";
  auto h = std::make_unique<Handle>();
  Edges& e = h->edges;
  const int64_t d = integer(info, 0, fn, "d");
  if (d != 2 && d != 3) throw Napi::RangeError::New(env, fn + ": d must be 2 or 3, got " + std::to_string(d));
  e.d = static_cast<int>(d);
  e.n = integer(info, 1, fn, "n");
  e.L = integer(info, 2, fn, "L");
  if (!info[3].IsTypedArray() || !info[7].IsTypedArray()) fail(env, fn, "'poseIJ' and 'lmIK' must be Int32Arrays");
  const size_t E = info[3].As<Napi::TypedArray>().ElementLength() / 2;
  const size_t M = info[7].As<Napi::TypedArray>().ElementLength() / 2;
  const int32_t* ij = typed<int32_t, napi_int32_array>(info, 3, fn, "poseIJ", 2 * E, "Int32Array");
  const double* R = f64(info, 4, fn, "poseR", E * d * d);
  const double* t = f64(info, 5, fn, "poseT", E * d);
  const double* w = f64(info, 6, fn, "poseWeights", 2 * E);
  const int32_t* ik = typed<int32_t, napi_int32_array>(info, 7, fn, "lmIK", 2 * M, "Int32Array");
  const double* y = f64(info, 8, fn, "lmY", M * d);
  const double* nu = f64(info, 9, fn, "lmNu", M);
  e.pose_ij.assign(ij, ij + 2 * E);
  e.pose_R.assign(R, R + E * d * d);
  e.pose_t.assign(t, t + E * d);
  e.pose_w.assign(w, w + 2 * E);
  e.lm_ik.assign(ik, ik + 2 * M);
  e.lm_y.assign(y, y + M * d);
  e.lm_nu.assign(nu, nu + M);
  const std::string bad = nbforge::slam_local::check_edges(e);
  if (!bad.empty()) throw Napi::RangeError::New(env, fn + ": " + bad);
  return Napi::External<Handle>::New(env, h.release(), [](Napi::Env, Handle* p) { delete p; });
}

// slamLocalPattern(handle) -> { indptr, indices, unknowns, reduced: { indptr, indices, unknowns } }:
// JᵀJ's upper CSR pattern, and that of the pose system left when the landmarks are eliminated.
Napi::Value PatternOf(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Handle& h = handle_arg(info, "slamLocalPattern", false);
  if (!h.pattern) h.pattern = std::make_unique<Pattern>(nbforge::slam_local::build_pattern(h.edges));
  const Pattern& p = *h.pattern;
  Napi::Int32Array indptr = Napi::Int32Array::New(env, p.indptr.size());
  std::memcpy(indptr.Data(), p.indptr.data(), sizeof(int32_t) * p.indptr.size());
  Napi::Int32Array indices = Napi::Int32Array::New(env, p.indices.size());
  std::memcpy(indices.Data(), p.indices.data(), sizeof(int32_t) * p.indices.size());
  Napi::Object out = Napi::Object::New(env);
  out.Set("indptr", indptr);
  out.Set("indices", indices);
  out.Set("unknowns", Napi::Number::New(env, static_cast<double>(p.unknowns)));
  const auto& r = p.reduced;
  Napi::Int32Array rptr = Napi::Int32Array::New(env, r.indptr.size());
  std::memcpy(rptr.Data(), r.indptr.data(), sizeof(int32_t) * r.indptr.size());
  Napi::Int32Array ridx = Napi::Int32Array::New(env, r.indices.size());
  std::memcpy(ridx.Data(), r.indices.data(), sizeof(int32_t) * r.indices.size());
  Napi::Object reduced = Napi::Object::New(env);
  reduced.Set("indptr", rptr);
  reduced.Set("indices", ridx);
  reduced.Set("unknowns", Napi::Number::New(env, static_cast<double>(r.unknowns)));
  out.Set("reduced", reduced);
  return out;
}

// slamLocalLinearise(handle, R, t, landmarks, values, gradient, curvature | null)
Napi::Value Linearise(const Napi::CallbackInfo& info) {
  const std::string fn = "slamLocalLinearise";
  Handle& h = handle_arg(info, fn, true);
  const Edges& e = h.edges;
  const Pattern& p = *h.pattern;
  const Estimate x = estimate_args(info, 1, fn, e);
  const int k = e.d == 2 ? 1 : 3;
  double* values = f64_out(info, 4, fn, "values", p.indices.size());
  double* gradient = f64_out(info, 5, fn, "gradient", p.unknowns);
  double* curvature = f64_or_null(info, 6, fn, "curvature", e.n * k * k);
  nbforge::slam_local::linearise(e, p, x, values, gradient, curvature);
  return info.Env().Undefined();
}

// slamLocalCost(handle, R, t, landmarks, poseCost | null, lmCost | null) -> [rotation, translation, landmark]
Napi::Value Cost(const Napi::CallbackInfo& info) {
  const std::string fn = "slamLocalCost";
  Handle& h = handle_arg(info, fn, false);
  const Edges& e = h.edges;
  const Estimate x = estimate_args(info, 1, fn, e);
  double* pose_cost = f64_or_null(info, 4, fn, "poseCost", e.pose_count());
  double* lm_cost = f64_or_null(info, 5, fn, "lmCost", e.lm_count());
  Napi::Float64Array terms = Napi::Float64Array::New(info.Env(), 3);
  nbforge::slam_local::cost_terms(e, x, terms.Data(), pose_cost, lm_cost);
  return terms;
}

// slamLocalRetract(handle, R, t, landmarks, delta, alpha, outR, outT, outLandmarks): x ⊞ αδ.
Napi::Value Retract(const Napi::CallbackInfo& info) {
  const std::string fn = "slamLocalRetract";
  Handle& h = handle_arg(info, fn, true);
  const Edges& e = h.edges;
  const Estimate x = estimate_args(info, 1, fn, e);
  const double* delta = f64(info, 4, fn, "delta", h.pattern->unknowns);
  if (!info[5].IsNumber()) fail(info.Env(), fn, "'alpha' must be a number");
  const double alpha = info[5].As<Napi::Number>().DoubleValue();
  const size_t d = e.d;
  double* R = f64_out(info, 6, fn, "outR", e.n * d * d);
  double* t = f64_out(info, 7, fn, "outT", e.n * d);
  double* m = f64_out(info, 8, fn, "outLandmarks", e.L * d);
  if (R == x.R || t == x.t || (m == x.m && e.L > 0)) fail(info.Env(), fn, "the outputs must not be the inputs");
  nbforge::slam_local::retract(e, x, delta, alpha, R, t, m);
  return info.Env().Undefined();
}

// slamLocalScaling(handle, values, D): Marquardt's floored diag(JᵀJ).
Napi::Value Scaling(const Napi::CallbackInfo& info) {
  const std::string fn = "slamLocalScaling";
  Handle& h = handle_arg(info, fn, true);
  const Pattern& p = *h.pattern;
  nbforge::slam_local::scaling(p, f64(info, 1, fn, "values", p.indices.size()), f64_out(info, 2, fn, "D", p.unknowns));
  return info.Env().Undefined();
}

// slamLocalReduce(handle, values, curvature | null, D, lambda, gradient, S, rhs) -> boolean:
// the damped normal equations with the landmarks eliminated (false: a landmark block is not positive definite).
Napi::Value Reduce(const Napi::CallbackInfo& info) {
  const std::string fn = "slamLocalReduce";
  Handle& h = handle_arg(info, fn, true);
  const Edges& e = h.edges;
  Pattern& p = *h.pattern;
  const int k = e.d == 2 ? 1 : 3;
  const double* values = f64(info, 1, fn, "values", p.indices.size());
  const double* curvature = f64_or_null(info, 2, fn, "curvature", e.n * k * k);
  const double* D = f64(info, 3, fn, "D", p.unknowns);
  if (!info[4].IsNumber()) fail(info.Env(), fn, "'lambda' must be a number");
  const double lambda = info[4].As<Napi::Number>().DoubleValue();
  const double* gradient = f64(info, 5, fn, "gradient", p.unknowns);
  double* S = f64_out(info, 6, fn, "S", p.reduced.indices.size());
  double* rhs = f64_out(info, 7, fn, "rhs", p.reduced.unknowns);
  return Napi::Boolean::New(info.Env(), nbforge::slam_local::reduce(e, p, values, curvature, D, lambda, gradient, S, rhs));
}

// slamLocalBackSubstitute(handle, values, gradient, reducedSolution, out): all unknowns after slamLocalReduce.
Napi::Value BackSubstitute(const Napi::CallbackInfo& info) {
  const std::string fn = "slamLocalBackSubstitute";
  Handle& h = handle_arg(info, fn, true);
  const Pattern& p = *h.pattern;
  const double* values = f64(info, 1, fn, "values", p.indices.size());
  const double* gradient = f64(info, 2, fn, "gradient", p.unknowns);
  const double* pose = f64(info, 3, fn, "reducedSolution", p.reduced.unknowns);
  double* out = f64_out(info, 4, fn, "out", p.unknowns);
  nbforge::slam_local::back_substitute(h.edges, p, values, gradient, pose, out);
  return info.Env().Undefined();
}

// slamLocalStepStats(handle, gradient, delta | null, D | null, t, landmarks) -> [‖g‖∞, gᵀδ, δᵀDδ, δᵀδ, ‖x_t,m‖²]
Napi::Value StepStats(const Napi::CallbackInfo& info) {
  const std::string fn = "slamLocalStepStats";
  Handle& h = handle_arg(info, fn, true);
  const Edges& e = h.edges;
  const size_t u = h.pattern->unknowns;
  const double* g = f64(info, 1, fn, "gradient", u);
  const double* delta = f64_or_null(info, 2, fn, "delta", u);
  const double* D = delta != nullptr ? f64(info, 3, fn, "D", u) : nullptr;
  const double* t = f64(info, 4, fn, "t", e.n * e.d);
  const double* m = f64(info, 5, fn, "landmarks", e.L * e.d);
  Napi::Float64Array out = Napi::Float64Array::New(info.Env(), 5);
  nbforge::slam_local::step_stats(u, g, delta, D, e.n * e.d, t, e.L * e.d, m, out.Data());
  return out;
}

void RegisterSlamLocal(Napi::Env env, Napi::Object exports) {
  exports.Set("slamLocalCreate", Napi::Function::New(env, Create));
  exports.Set("slamLocalPattern", Napi::Function::New(env, PatternOf));
  exports.Set("slamLocalLinearise", Napi::Function::New(env, Linearise));
  exports.Set("slamLocalCost", Napi::Function::New(env, Cost));
  exports.Set("slamLocalRetract", Napi::Function::New(env, Retract));
  exports.Set("slamLocalScaling", Napi::Function::New(env, Scaling));
  exports.Set("slamLocalReduce", Napi::Function::New(env, Reduce));
  exports.Set("slamLocalBackSubstitute", Napi::Function::New(env, BackSubstitute));
  exports.Set("slamLocalStepStats", Napi::Function::New(env, StepStats));
}

NBFORGE_REGISTER_MODULE(RegisterSlamLocal);

}  // namespace
