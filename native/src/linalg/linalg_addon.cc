// JavaScript bindings of the float64 linear algebra: argument checking and
// conversion only; the arithmetic lives in the kernels (one file each).
// Matrices cross as row-major Float64Arrays with explicit dimensions.
#include <napi.h>

#include <cmath>
#include <cstdio>
#include <string>

#include "linalg/linalg.h"
#include "registry.h"

namespace {

using nbforge::linalg::Csr;

std::string fmt(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", x);
  return buf;
}

[[noreturn]] void type_error(Napi::Env env, const std::string& msg) {
  throw Napi::TypeError::New(env, msg);
}
[[noreturn]] void range_error(Napi::Env env, const std::string& msg) {
  throw Napi::RangeError::New(env, msg);
}

Napi::Float64Array f64_arg(const Napi::CallbackInfo& info, size_t i, const char* fn,
                           const char* name) {
  const Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
    type_error(info.Env(), std::string(fn) + ": argument '" + name +
                               "' must be a Float64Array; wrap plain arrays with "
                               "Float64Array.from(values)");
  return v.As<Napi::Float64Array>();
}

Napi::Int32Array i32_arg(const Napi::CallbackInfo& info, size_t i, const char* fn,
                         const char* name) {
  const Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    type_error(info.Env(), std::string(fn) + ": argument '" + name +
                               "' must be an Int32Array; wrap plain arrays with "
                               "Int32Array.from(values)");
  return v.As<Napi::Int32Array>();
}

// A non-negative integer dimension below 2^31.
int64_t dim_arg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name) {
  const Napi::Value v = info[i];
  const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1.0;
  if (!v.IsNumber() || !(d >= 0) || d != std::floor(d) || d > 2147483647.0)
    type_error(info.Env(), std::string(fn) + ": argument '" + name +
                               "' must be a non-negative integer (a dimension)");
  return static_cast<int64_t>(d);
}

bool bool_arg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name) {
  const Napi::Value v = info[i];
  if (!v.IsBoolean())
    type_error(info.Env(), std::string(fn) + ": argument '" + name + "' must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

void expect_size(Napi::Env env, const char* fn, const char* what, int64_t rows, int64_t cols,
                 size_t got) {
  if (static_cast<int64_t>(got) != rows * cols)
    range_error(env, std::string(fn) + ": expected " + what + " " + std::to_string(rows) + "x" +
                         std::to_string(cols) + " matrix as " + std::to_string(rows * cols) +
                         " values, got " + std::to_string(got));
}

void expect_finite(Napi::Env env, const char* fn, const double* a, int64_t rows, int64_t cols,
                   const char* name = nullptr) {
  for (int64_t i = 0; i < rows * cols; ++i)
    if (!std::isfinite(a[i]))
      range_error(env, std::string(fn) + ": entry [" + std::to_string(i / cols) + ", " +
                           std::to_string(i % cols) + "]" +
                           (name ? std::string(" of '") + name + "'" : std::string()) + " is " +
                           fmt(a[i]) + "; the matrix must hold finite numbers only");
}

// Symmetric up to rounding: |a_ij - a_ji| <= 1e-10 max|a|.
void expect_symmetric(Napi::Env env, const char* fn, const double* a, int64_t n) {
  double scale = 0.0;
  for (int64_t i = 0; i < n * n; ++i) scale = std::max(scale, std::fabs(a[i]));
  const double tol = 1e-10 * scale;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < i; ++j)
      if (!(std::fabs(a[i * n + j] - a[j * n + i]) <= tol))
        range_error(env, std::string(fn) + ": matrix is not symmetric: a[" + std::to_string(i) +
                             ", " + std::to_string(j) + "] = " + fmt(a[i * n + j]) + " but a[" +
                             std::to_string(j) + ", " + std::to_string(i) + "] = " +
                             fmt(a[j * n + i]) + "; pass (A + Aᵀ)/2 or check the input");
}

// linalgCholesky(a, n) -> L (n x n, lower triangular)
Napi::Value Cholesky(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "cholesky";
  const Napi::Float64Array a = f64_arg(info, 0, fn, "a");
  const int64_t n = dim_arg(info, 1, fn, "n");
  expect_size(env, fn, "a square", n, n, a.ElementLength());
  expect_finite(env, fn, a.Data(), n, n);
  expect_symmetric(env, fn, a.Data(), n);
  Napi::Float64Array l = Napi::Float64Array::New(env, static_cast<size_t>(n * n));
  double pivot = 0.0;
  const int64_t k = nbforge::linalg::cholesky(a.Data(), n, l.Data(), &pivot);
  if (k >= 0) {
    Napi::Error err = Napi::Error::New(
        env, "cholesky: matrix is not positive definite (pivot " + std::to_string(k) + " is " +
                 fmt(pivot) + "); add a diagonal shift or check the input");
    err.Value().Set("pivot", Napi::Number::New(env, static_cast<double>(k)));
    err.Value().Set("pivotValue", Napi::Number::New(env, pivot));
    throw err;
  }
  return l;
}

// linalgSolveTriangular(t, n, b, nrhs, lower, transpose, unitDiagonal) -> X (n x nrhs)
Napi::Value SolveTriangular(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "solveTriangular";
  const Napi::Float64Array t = f64_arg(info, 0, fn, "t");
  const int64_t n = dim_arg(info, 1, fn, "n");
  const Napi::Float64Array b = f64_arg(info, 2, fn, "b");
  const int64_t nrhs = dim_arg(info, 3, fn, "nrhs");
  const bool lower = bool_arg(info, 4, fn, "lower");
  const bool transpose = bool_arg(info, 5, fn, "transpose");
  const bool unit = bool_arg(info, 6, fn, "unitDiagonal");
  expect_size(env, fn, "a square triangular", n, n, t.ElementLength());
  expect_size(env, fn, "a right-hand side", n, nrhs, b.ElementLength());
  expect_finite(env, fn, t.Data(), n, n, "t");
  expect_finite(env, fn, b.Data(), n, nrhs, "b");
  Napi::Float64Array x = Napi::Float64Array::New(env, b.ElementLength());
  std::copy(b.Data(), b.Data() + b.ElementLength(), x.Data());
  const int64_t k =
      nbforge::linalg::solve_triangular(t.Data(), n, x.Data(), nrhs, lower, transpose, unit);
  if (k >= 0) {
    Napi::Error err = Napi::Error::New(
        env, "solveTriangular: matrix is singular (diagonal entry " + std::to_string(k) +
                 " is 0); check the factor, or pass unitDiagonal if its diagonal is implicit ones");
    err.Value().Set("index", Napi::Number::New(env, static_cast<double>(k)));
    throw err;
  }
  return x;
}

// linalgEigh(a, n) -> { values (n), vectors (n x n, eigenvectors as columns) }
Napi::Value Eigh(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "eigh";
  const Napi::Float64Array a = f64_arg(info, 0, fn, "a");
  const int64_t n = dim_arg(info, 1, fn, "n");
  expect_size(env, fn, "a square", n, n, a.ElementLength());
  expect_finite(env, fn, a.Data(), n, n);
  expect_symmetric(env, fn, a.Data(), n);
  Napi::Float64Array w = Napi::Float64Array::New(env, static_cast<size_t>(n));
  Napi::Float64Array v = Napi::Float64Array::New(env, static_cast<size_t>(n * n));
  if (!nbforge::linalg::eigh(a.Data(), n, w.Data(), v.Data()))
    throw Napi::Error::New(env, "eigh: the QL iteration did not converge; check the input scale");
  Napi::Object out = Napi::Object::New(env);
  out.Set("values", w);
  out.Set("vectors", v);
  return out;
}

// linalgQr(a, m, n) -> { q (m x k), r (k x n) }, k = min(m, n)
Napi::Value Qr(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "qr";
  const Napi::Float64Array a = f64_arg(info, 0, fn, "a");
  const int64_t m = dim_arg(info, 1, fn, "rows");
  const int64_t n = dim_arg(info, 2, fn, "cols");
  expect_size(env, fn, "a", m, n, a.ElementLength());
  expect_finite(env, fn, a.Data(), m, n);
  const int64_t k = std::min(m, n);
  Napi::Float64Array q = Napi::Float64Array::New(env, static_cast<size_t>(m * k));
  Napi::Float64Array r = Napi::Float64Array::New(env, static_cast<size_t>(k * n));
  nbforge::linalg::qr(a.Data(), m, n, q.Data(), r.Data());
  Napi::Object out = Napi::Object::New(env);
  out.Set("q", q);
  out.Set("r", r);
  return out;
}

// linalgSvd(a, m, n) -> { u (m x k), s (k), vt (k x n) }, k = min(m, n)
Napi::Value Svd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "svd";
  const Napi::Float64Array a = f64_arg(info, 0, fn, "a");
  const int64_t m = dim_arg(info, 1, fn, "rows");
  const int64_t n = dim_arg(info, 2, fn, "cols");
  expect_size(env, fn, "a", m, n, a.ElementLength());
  expect_finite(env, fn, a.Data(), m, n);
  const int64_t k = std::min(m, n);
  Napi::Float64Array u = Napi::Float64Array::New(env, static_cast<size_t>(m * k));
  Napi::Float64Array s = Napi::Float64Array::New(env, static_cast<size_t>(k));
  Napi::Float64Array vt = Napi::Float64Array::New(env, static_cast<size_t>(k * n));
  if (!nbforge::linalg::svd(a.Data(), m, n, u.Data(), s.Data(), vt.Data()))
    throw Napi::Error::New(env, "svd: the Jacobi sweeps did not converge; check the input scale");
  Napi::Object out = Napi::Object::New(env);
  out.Set("u", u);
  out.Set("s", s);
  out.Set("vt", vt);
  return out;
}

Napi::Int32Array to_i32(Napi::Env env, const std::vector<int32_t>& v) {
  Napi::Int32Array out = Napi::Int32Array::New(env, v.size());
  std::copy(v.begin(), v.end(), out.Data());
  return out;
}

void set_transpose_index(Napi::Env env, Napi::Object out, const Csr& c) {
  out.Set("tIndptr", to_i32(env, c.t_indptr));
  out.Set("tIndices", to_i32(env, c.t_indices));
  out.Set("tPosition", to_i32(env, c.t_position));
}

// linalgCsrFromTriplets(rows, cols, rowIndex, colIndex, values, symmetric)
//   -> { indptr, indices, values, and for symmetric: tIndptr, tIndices, tPosition }
Napi::Value CsrFromTriplets(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "SparseMatrix.fromTriplets";
  const int64_t rows = dim_arg(info, 0, fn, "rows");
  const int64_t cols = dim_arg(info, 1, fn, "cols");
  const Napi::Int32Array ri = i32_arg(info, 2, fn, "rowIndex");
  const Napi::Int32Array ci = i32_arg(info, 3, fn, "colIndex");
  const Napi::Float64Array v = f64_arg(info, 4, fn, "values");
  const bool symmetric = bool_arg(info, 5, fn, "symmetric");
  const size_t count = v.ElementLength();
  if (ri.ElementLength() != count || ci.ElementLength() != count)
    range_error(env, std::string(fn) + ": rowIndex, colIndex and values must have one entry per "
                                       "triplet; got " + std::to_string(ri.ElementLength()) +
                         ", " + std::to_string(ci.ElementLength()) + " and " +
                         std::to_string(count));
  if (symmetric && rows != cols)
    range_error(env, std::string(fn) + ": a symmetric matrix must be square; got " +
                         std::to_string(rows) + "x" + std::to_string(cols));
  for (size_t t = 0; t < count; ++t) {
    const int32_t i = ri.Data()[t], j = ci.Data()[t];
    if (i < 0 || i >= rows || j < 0 || j >= cols)
      range_error(env, std::string(fn) + ": triplet " + std::to_string(t) + " is at (" +
                           std::to_string(i) + ", " + std::to_string(j) +
                           "), outside the " + std::to_string(rows) + "x" +
                           std::to_string(cols) + " matrix");
    if (symmetric && j < i)
      range_error(env, std::string(fn) + ": symmetric storage takes the upper triangle "
                                         "(row <= col), but triplet " + std::to_string(t) +
                           " is at (" + std::to_string(i) + ", " + std::to_string(j) +
                           "); give it as (" + std::to_string(j) + ", " + std::to_string(i) +
                           "), or drop it if its mirror is already there");
    if (!std::isfinite(v.Data()[t]))
      range_error(env, std::string(fn) + ": triplet " + std::to_string(t) + " has value " +
                           fmt(v.Data()[t]) + "; values must be finite");
  }
  const Csr c = nbforge::linalg::csr_from_triplets(rows, cols, ri.Data(), ci.Data(), v.Data(),
                                                   static_cast<int64_t>(count), symmetric);
  Napi::Object out = Napi::Object::New(env);
  out.Set("indptr", to_i32(env, c.indptr));
  out.Set("indices", to_i32(env, c.indices));
  Napi::Float64Array values = Napi::Float64Array::New(env, c.values.size());
  std::copy(c.values.begin(), c.values.end(), values.Data());
  out.Set("values", values);
  if (symmetric) set_transpose_index(env, out, c);
  return out;
}

// Checks CSR arrays (rows + 1 offsets from 0, ascending unique in-range columns
// per row, upper triangle when symmetric); returns the mirrored index when
// symmetric, else an empty object.
// linalgCsrCheck(rows, cols, indptr, indices, values, symmetric)
Napi::Value CsrCheck(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "SparseMatrix.fromCsr";
  const int64_t rows = dim_arg(info, 0, fn, "rows");
  const int64_t cols = dim_arg(info, 1, fn, "cols");
  const Napi::Int32Array indptr = i32_arg(info, 2, fn, "indptr");
  const Napi::Int32Array indices = i32_arg(info, 3, fn, "indices");
  const Napi::Float64Array values = f64_arg(info, 4, fn, "values");
  const bool symmetric = bool_arg(info, 5, fn, "symmetric");
  const std::string f(fn);
  if (static_cast<int64_t>(indptr.ElementLength()) != rows + 1)
    range_error(env, f + ": indptr must have rows + 1 = " + std::to_string(rows + 1) +
                         " entries, got " + std::to_string(indptr.ElementLength()));
  if (symmetric && rows != cols)
    range_error(env, f + ": a symmetric matrix must be square; got " + std::to_string(rows) +
                         "x" + std::to_string(cols));
  const int32_t* p = indptr.Data();
  const int32_t* ix = indices.Data();
  if (p[0] != 0) range_error(env, f + ": indptr[0] must be 0, got " + std::to_string(p[0]));
  for (int64_t i = 0; i < rows; ++i)
    if (p[i + 1] < p[i])
      range_error(env, f + ": indptr must not decrease, but indptr[" + std::to_string(i + 1) +
                           "] = " + std::to_string(p[i + 1]) + " < indptr[" + std::to_string(i) +
                           "] = " + std::to_string(p[i]));
  const size_t nnz = static_cast<size_t>(p[rows]);
  if (indices.ElementLength() != nnz || values.ElementLength() != nnz)
    range_error(env, f + ": indptr[rows] = " + std::to_string(nnz) +
                         " entries, but indices has " + std::to_string(indices.ElementLength()) +
                         " and values " + std::to_string(values.ElementLength()));
  for (int64_t i = 0; i < rows; ++i)
    for (int32_t q = p[i]; q < p[i + 1]; ++q) {
      const int32_t j = ix[q];
      if (j < 0 || j >= cols)
        range_error(env, f + ": row " + std::to_string(i) + " has column " + std::to_string(j) +
                             ", outside 0.." + std::to_string(cols - 1));
      if (q > p[i] && j <= ix[q - 1])
        range_error(env, f + ": row " + std::to_string(i) +
                             "'s columns must be strictly ascending (no duplicates); build "
                             "from triplets to sum duplicates");
      if (symmetric && j < i)
        range_error(env, f + ": symmetric storage takes the upper triangle, but row " +
                             std::to_string(i) + " has column " + std::to_string(j));
    }
  Napi::Object out = Napi::Object::New(env);
  if (symmetric) {
    Csr c;
    nbforge::linalg::csr_build_transpose_index(rows, p, ix, c.t_indptr, c.t_indices,
                                               c.t_position);
    set_transpose_index(env, out, c);
  }
  return out;
}

// linalgCsrMatmul(rows, cols, indptr, indices, values, symmetric, tIndptr, tIndices,
//                 tPosition, x, k[, out]) -> Y = A X (rows x k); X is cols x k.
// The structure is trusted (built or checked by the functions above); sizes are checked.
Napi::Value CsrMatmul(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "SparseMatrix.matmul";
  const int64_t rows = dim_arg(info, 0, fn, "rows");
  const int64_t cols = dim_arg(info, 1, fn, "cols");
  const Napi::Int32Array indptr = i32_arg(info, 2, fn, "indptr");
  const Napi::Int32Array indices = i32_arg(info, 3, fn, "indices");
  const Napi::Float64Array values = f64_arg(info, 4, fn, "values");
  const bool symmetric = bool_arg(info, 5, fn, "symmetric");
  const Napi::Int32Array tp = i32_arg(info, 6, fn, "tIndptr");
  const Napi::Int32Array ti = i32_arg(info, 7, fn, "tIndices");
  const Napi::Int32Array tq = i32_arg(info, 8, fn, "tPosition");
  const Napi::Float64Array x = f64_arg(info, 9, fn, "x");
  const int64_t k = dim_arg(info, 10, fn, "k");
  if (static_cast<int64_t>(indptr.ElementLength()) != rows + 1 ||
      indices.ElementLength() != values.ElementLength() ||
      (symmetric && static_cast<int64_t>(tp.ElementLength()) != rows + 1))
    range_error(env, std::string(fn) + ": inconsistent sparse structure; build the matrix with "
                                       "SparseMatrix.fromTriplets or fromCsr");
  if (static_cast<int64_t>(x.ElementLength()) != cols * k)
    range_error(env, std::string(fn) + ": x must hold " + std::to_string(cols) + "x" +
                         std::to_string(k) + " = " + std::to_string(cols * k) +
                         " values (one row per matrix column), got " +
                         std::to_string(x.ElementLength()));
  Napi::Float64Array y;
  if (info.Length() > 11 && !info[11].IsUndefined()) {
    y = f64_arg(info, 11, fn, "out");
    if (static_cast<int64_t>(y.ElementLength()) != rows * k)
      range_error(env, std::string(fn) + ": out must hold " + std::to_string(rows * k) +
                           " values, got " + std::to_string(y.ElementLength()));
    if (y.ArrayBuffer() == x.ArrayBuffer() &&
        y.ByteOffset() < x.ByteOffset() + x.ByteLength() &&
        x.ByteOffset() < y.ByteOffset() + y.ByteLength())
      range_error(env, std::string(fn) + ": out must not overlap x; pass a separate array");
  } else {
    y = Napi::Float64Array::New(env, static_cast<size_t>(rows * k));
  }
  nbforge::linalg::csr_matmul(rows, indptr.Data(), indices.Data(), values.Data(), symmetric,
                              tp.Data(), ti.Data(), tq.Data(), x.Data(), k, y.Data());
  return y;
}

void RegisterLinalg(Napi::Env env, Napi::Object exports) {
  exports.Set("linalgCholesky", Napi::Function::New(env, Cholesky, "linalgCholesky"));
  exports.Set("linalgSolveTriangular",
              Napi::Function::New(env, SolveTriangular, "linalgSolveTriangular"));
  exports.Set("linalgEigh", Napi::Function::New(env, Eigh, "linalgEigh"));
  exports.Set("linalgQr", Napi::Function::New(env, Qr, "linalgQr"));
  exports.Set("linalgSvd", Napi::Function::New(env, Svd, "linalgSvd"));
  exports.Set("linalgCsrFromTriplets",
              Napi::Function::New(env, CsrFromTriplets, "linalgCsrFromTriplets"));
  exports.Set("linalgCsrCheck", Napi::Function::New(env, CsrCheck, "linalgCsrCheck"));
  exports.Set("linalgCsrMatmul", Napi::Function::New(env, CsrMatmul, "linalgCsrMatmul"));
}

}  // namespace

NBFORGE_REGISTER_MODULE(RegisterLinalg);
