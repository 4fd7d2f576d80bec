// Assembly of the landmark-SLAM data matrix pieces (kernel/src/slam/data-matrix.ts
// explains the algebra): the rotation block L(G̃ρ) + Σ', the translation
// Laplacian B and the coupling V, with every landmark eliminated in closed
// form one at a time (Holmes & Barfoot, RA-L 2023, Eq. 17a–c). Entries are
// summed into d×d (or d, or 1) blocks keyed by a pair of poses; the key index
// is a dense n×n table when that is small, else a hash map, so the cost is
// linear in the number of landmarks (times their observations squared).
#include <napi.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

#include "registry.h"

namespace {

class PairBlocks {
 public:
  PairBlocks(int64_t n, int size) : n_(n), size_(size), dense_(n * n <= (int64_t{1} << 24)) {
    if (dense_) slot_.assign(n * n, -1);
  }
  // Block (i, j), created zero on first use; valid until the next call.
  double* at(int64_t i, int64_t j) {
    const int64_t key = i * n_ + j;
    int32_t s;
    if (dense_) {
      s = slot_[key];
      if (s < 0) s = slot_[key] = add(key);
    } else {
      auto it = map_.find(key);
      s = it != map_.end() ? it->second : (map_[key] = add(key));
    }
    return data_.data() + static_cast<int64_t>(s) * size_;
  }
  const std::vector<int64_t>& keys() const { return keys_; }
  const double* block(size_t s) const { return data_.data() + s * size_; }

 private:
  int32_t add(int64_t key) {
    keys_.push_back(key);
    data_.resize(data_.size() + size_, 0.0);
    return static_cast<int32_t>(keys_.size() - 1);
  }
  int64_t n_;
  int size_;
  bool dense_;
  std::vector<int32_t> slot_;
  std::unordered_map<int64_t, int32_t> map_;
  std::vector<int64_t> keys_;
  std::vector<double> data_;
};

struct Triplets {
  std::vector<int32_t> row, col;
  std::vector<double> value;
  void push(int64_t r, int64_t c, double v) {
    row.push_back(static_cast<int32_t>(r));
    col.push_back(static_cast<int32_t>(c));
    value.push_back(v);
  }
  Napi::Object to_js(Napi::Env env) const {
    Napi::Object o = Napi::Object::New(env);
    auto r = Napi::Int32Array::New(env, row.size());
    auto c = Napi::Int32Array::New(env, col.size());
    auto v = Napi::Float64Array::New(env, value.size());
    if (!row.empty()) {
      std::memcpy(r.Data(), row.data(), row.size() * sizeof(int32_t));
      std::memcpy(c.Data(), col.data(), col.size() * sizeof(int32_t));
      std::memcpy(v.Data(), value.data(), value.size() * sizeof(double));
    }
    o.Set("row", r);
    o.Set("col", c);
    o.Set("value", v);
    return o;
  }
};

template <typename T>
const T* typed(const Napi::CallbackInfo& info, size_t k, napi_typedarray_type type, size_t want,
               const char* name) {
  const Napi::Value v = info[k];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type ||
      v.As<Napi::TypedArray>().ElementLength() != want)
    throw Napi::TypeError::New(info.Env(), std::string("sparseSlamAssemble: '") + name +
                                               "' has the wrong type or length");
  return reinterpret_cast<const T*>(
      static_cast<const uint8_t*>(v.As<Napi::TypedArray>().ArrayBuffer().Data()) +
      v.As<Napi::TypedArray>().ByteOffset());
}

// sparseSlamAssemble(d, n, L, poseIJ, poseR, poseT, poseWeights, lmIK, lmY, lmNu)
//  -> { rotation (triplets, connection Laplacian first), connectionCount,
//       laplacian (grounded, upper), coupling (grounded, (n-1)×dn) }
Napi::Value Assemble(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 10 || !info[3].IsTypedArray() || !info[7].IsTypedArray())
    throw Napi::TypeError::New(env, "sparseSlamAssemble: expected (d, n, L, poseIJ, poseR, poseT, poseWeights, lmIK, lmY, lmNu)");
  const int d = info[0].As<Napi::Number>().Int32Value();
  const int64_t n = info[1].As<Napi::Number>().Int64Value();
  const int64_t L = info[2].As<Napi::Number>().Int64Value();
  const size_t E = info[3].As<Napi::TypedArray>().ElementLength() / 2;
  const size_t M = info[7].As<Napi::TypedArray>().ElementLength() / 2;
  const int dd = d * d;
  const int32_t* ij = typed<int32_t>(info, 3, napi_int32_array, 2 * E, "poseIJ");
  const double* pr = typed<double>(info, 4, napi_float64_array, E * dd, "poseR");
  const double* pt = typed<double>(info, 5, napi_float64_array, E * d, "poseT");
  const double* pw = typed<double>(info, 6, napi_float64_array, 2 * E, "poseWeights");
  const int32_t* ik = typed<int32_t>(info, 7, napi_int32_array, 2 * M, "lmIK");
  const double* ly = typed<double>(info, 8, napi_float64_array, M * d, "lmY");
  const double* nu = typed<double>(info, 9, napi_float64_array, M, "lmNu");

  PairBlocks sigma(n, dd), lap(n, 1), coup(n, d);
  Triplets rot;
  for (size_t e = 0; e < E; ++e) {
    const int64_t i = ij[2 * e], j = ij[2 * e + 1];
    const double kappa = pw[2 * e], tau = pw[2 * e + 1];
    const double* R = pr + e * dd;
    const double* t = pt + e * d;
    // κ‖R_j − R_i R̃‖²: κI on both diagonal blocks (SE-Sync), −κR̃ at (i, j).
    for (int a = 0; a < d; ++a) {
      rot.push(i * d + a, i * d + a, kappa);
      rot.push(j * d + a, j * d + a, kappa);
      for (int b = 0; b < d; ++b) {
        if (i < j) rot.push(i * d + a, j * d + b, -kappa * R[a * d + b]);
        else rot.push(j * d + b, i * d + a, -kappa * R[a * d + b]);
      }
    }
    // τ‖t_j − t_i − R_i t̃‖².
    double* s = sigma.at(i, i);
    for (int a = 0; a < d; ++a)
      for (int b = 0; b < d; ++b) s[a * d + b] += tau * t[a] * t[b];
    *lap.at(i, i) += tau;
    *lap.at(j, j) += tau;
    *lap.at(std::min(i, j), std::max(i, j)) -= tau;
    double* vj = coup.at(j, i);
    for (int a = 0; a < d; ++a) vj[a] += tau * t[a];
    double* vi = coup.at(i, i);
    for (int a = 0; a < d; ++a) vi[a] -= tau * t[a];
  }
  const size_t connection = rot.value.size();

  // Landmark observations grouped by landmark (counting sort).
  std::vector<int64_t> start(L + 1, 0);
  for (size_t e = 0; e < M; ++e) ++start[ik[2 * e + 1] + 1];
  for (int64_t k = 0; k < L; ++k) start[k + 1] += start[k];
  std::vector<int64_t> order(M);
  {
    std::vector<int64_t> next(start.begin(), start.end() - 1);
    for (size_t e = 0; e < M; ++e) order[next[ik[2 * e + 1]]++] = static_cast<int64_t>(e);
  }
  std::vector<double> weight(L, 0.0);
  for (size_t e = 0; e < M; ++e) {
    const int64_t i = ik[2 * e];
    const double w = nu[e];
    const double* y = ly + e * d;
    weight[ik[2 * e + 1]] += w;
    double* s = sigma.at(i, i);
    for (int a = 0; a < d; ++a)
      for (int b = 0; b < d; ++b) s[a * d + b] += w * y[a] * y[b];
    *lap.at(i, i) += w;
    double* v = coup.at(i, i);
    for (int a = 0; a < d; ++a) v[a] -= w * y[a];
  }
  // Each landmark's Schur complement over its observations (Eq. 17a–c).
  for (int64_t k = 0; k < L; ++k) {
    const double W = weight[k];
    if (!(W > 0)) continue;  // unobserved: not in the cost
    for (int64_t p = start[k]; p < start[k + 1]; ++p) {
      const int64_t ea = order[p];
      const int64_t ia = ik[2 * ea];
      const double* ya = ly + ea * d;
      for (int64_t q = start[k]; q < start[k + 1]; ++q) {
        const int64_t eb = order[q];
        const int64_t ib = ik[2 * eb];
        const double* yb = ly + eb * d;
        const double w = nu[ea] * nu[eb] / W;
        double* v = coup.at(ia, ib);  // V'[i_a, block i_b] += w y_bᵀ   (17b)
        for (int a = 0; a < d; ++a) v[a] += w * yb[a];
        if (ia > ib) continue;  // symmetric terms once, upper
        *lap.at(ia, ib) -= w;      // B'[i_a, i_b] −= w                (17a)
        double* s = sigma.at(ia, ib);  // Σ'[i_a, i_b] −= w y_a y_bᵀ   (17c)
        for (int a = 0; a < d; ++a)
          for (int b = 0; b < d; ++b) s[a * d + b] -= w * ya[a] * yb[b];
      }
    }
  }

  // Emit: Σ' after the connection Laplacian; B and V with pose 0 grounded.
  for (size_t s = 0; s < sigma.keys().size(); ++s) {
    const int64_t i = sigma.keys()[s] / n, j = sigma.keys()[s] % n;
    const double* blk = sigma.block(s);
    for (int a = 0; a < d; ++a)
      for (int b = (i == j ? a : 0); b < d; ++b) {
        // A diagonal block gathers both orders of every pair: symmetrise it.
        const double v = i == j ? 0.5 * (blk[a * d + b] + blk[b * d + a]) : blk[a * d + b];
        rot.push(i * d + a, j * d + b, v);
      }
  }
  Triplets laplacian, coupling;
  for (size_t s = 0; s < lap.keys().size(); ++s) {
    const int64_t i = lap.keys()[s] / n, j = lap.keys()[s] % n;
    if (i > 0 && j > 0) laplacian.push(i - 1, j - 1, *lap.block(s));
  }
  for (size_t s = 0; s < coup.keys().size(); ++s) {
    const int64_t i = coup.keys()[s] / n, j = coup.keys()[s] % n;
    if (i == 0) continue;
    for (int a = 0; a < d; ++a) coupling.push(i - 1, j * d + a, coup.block(s)[a]);
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("rotation", rot.to_js(env));
  out.Set("connectionCount", Napi::Number::New(env, static_cast<double>(connection)));
  out.Set("laplacian", laplacian.to_js(env));
  out.Set("coupling", coupling.to_js(env));
  return out;
}

void RegisterSlamAssembly(Napi::Env env, Napi::Object exports) {
  exports.Set("sparseSlamAssemble", Napi::Function::New(env, Assemble));
}

NBFORGE_REGISTER_MODULE(RegisterSlamAssembly);

}  // namespace
