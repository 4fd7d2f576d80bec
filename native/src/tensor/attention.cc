// Fused scaled-dot-product attention over [batch, Lq, D] queries and [batch, Lk, D]
// keys / [batch, Lk, Dv] values, with an optional additive mask [batch, Lq, Lk]
// and causal masking aligned to the end of the keys: query i sees keys
// j <= i + (Lk - Lq), so a query of length 1 attends to the whole KV cache and
// Lq == Lk is the usual lower triangle. One row of scores lives in a scratch
// buffer (double) at a time; the backward recomputes the probabilities, so only
// the inputs are saved:
//   s_j = scale q.k_j + m_j,  p = softmax(s),  o = sum_j p_j v_j
//   dv_j += p_j do,  dp_j = do.v_j,  ds_j = p_j (dp_j - sum_l p_l dp_l)
//   dq = scale sum_j ds_j k_j,  dk_j += scale ds_j q
// Batches run in parallel; within one batch the rows run in order, so the
// key/value gradients are summed without races and deterministically.
// float32 runs each batch as GEMMs (gemm_f32, serial inside the batch loop) on
// a [Lq, Lk] score block, with the float32 softmax rows of kernels.cc:
//   S = scale Q K^T (+ mask, causal part set aside), P = softmax(S), O = P V;
//   dV = P^T dO, dP = dO V^T, dS = P (dP - rowsum(P dP)) scale, dQ = dS K, dK = dS^T Q.
// float64 keeps the row-at-a-time loops below (sums in double).
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "gemm/gemm.h"
#include "parallel.h"
#include "registry.h"
#include "tensor/nn_common.h"
#include "tensor/storage.h"

namespace nbforge {
namespace tensor {
namespace {

using namespace nn;

struct Dims {
  int64_t batch, lq, lk, d, dv;
  double scale;
  bool causal;
};

// Fills p[0..len) with the probabilities of row i of batch b; returns len (keys seen).
template <typename T>
int64_t row_probs(const Dims& s, const T* q, const T* k, const T* m, int64_t i, double* p) {
  const int64_t len = s.causal ? std::min(s.lk, std::max<int64_t>(0, i + s.lk - s.lq + 1)) : s.lk;
  double mx = -std::numeric_limits<double>::infinity();
  for (int64_t j = 0; j < len; ++j) {
    const T* kj = k + j * s.d;
    double dot = 0;
    for (int64_t c = 0; c < s.d; ++c) dot += static_cast<double>(q[c]) * static_cast<double>(kj[c]);
    double v = dot * s.scale + (m ? static_cast<double>(m[j]) : 0.0);
    p[j] = v;
    mx = std::max(mx, v);
  }
  if (len == 0 || !std::isfinite(mx)) {
    // every key masked: PyTorch's softmax gives NaN; keep that behaviour
    for (int64_t j = 0; j < len; ++j) p[j] = std::numeric_limits<double>::quiet_NaN();
    return len;
  }
  double sum = 0;
  for (int64_t j = 0; j < len; ++j) sum += (p[j] = std::exp(p[j] - mx));
  for (int64_t j = 0; j < len; ++j) p[j] /= sum;
  return len;
}

// Scores and probabilities of batch b into p [lq, lk] (float32 path). Keys past
// a row's causal limit get probability 0; a row that sees no key is NaN (as the
// float64 path and PyTorch give) unless zero_empty, where it is 0 (the backward:
// such a row contributes nothing). Returns nothing; p is overwritten.
void probs_f32(const Dims& s, const float* q, const float* k, const float* m, float* p, bool zero_empty) {
  gemm_f32(false, true, s.lq, s.lk, s.d, static_cast<float>(s.scale), q, s.d, k, s.d, 0.0f, p, s.lk);
  for (int64_t i = 0; i < s.lq; ++i) {
    float* row = p + i * s.lk;
    const int64_t len = s.causal ? std::min(s.lk, std::max<int64_t>(0, i + s.lk - s.lq + 1)) : s.lk;
    if (m) {
      const float* mr = m + i * s.lk;
      for (int64_t j = 0; j < len; ++j) row[j] += mr[j];
    }
    if (len == 0) {
      std::fill(row, row + s.lk, zero_empty ? 0.0f : std::numeric_limits<float>::quiet_NaN());
      continue;
    }
    softmax_rows_f32(row, row, 1, len);
    std::fill(row + len, row + s.lk, 0.0f);
  }
}

Dims dims_arg(const Napi::CallbackInfo& info, std::size_t i) {
  return Dims{int_arg(info, i), int_arg(info, i + 1), int_arg(info, i + 2), int_arg(info, i + 3), int_arg(info, i + 4),
              num_arg(info, i + 5), info[i + 6].ToBoolean().Value()};
}

// tensorAttention(q, qOff, k, kOff, v, vOff, mask|null, maskOff, out, outOff, batch, lq, lk, d, dv, scale, causal)
Napi::Value AttentionForward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "attention";
  Storage* q = storage_arg(info, 0, fn);
  Storage* k = storage_arg(info, 2, fn);
  Storage* v = storage_arg(info, 4, fn);
  Storage* m = opt_storage(info, 6, fn);
  Storage* o = storage_arg(info, 8, fn);
  require_float(env, q, fn);
  for (Storage* s : {k, v, m, o}) require_same(env, q, s, fn);
  const Dims s = dims_arg(info, 10);
  if (s.batch == 0 || s.lq == 0 || s.dv == 0) return env.Undefined();
  auto run = [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    const T* pq = ptr<T>(env, q, int_arg(info, 1), fn);
    const T* pk = ptr<T>(env, k, int_arg(info, 3), fn);
    const T* pv = ptr<T>(env, v, int_arg(info, 5), fn);
    const T* pm = ptr<T>(env, m, m ? int_arg(info, 7) : 0, fn);
    T* po = ptr<T>(env, o, int_arg(info, 9), fn);
    if constexpr (std::is_same_v<T, float>) {
      parallel_for(0, s.batch, 1, [&](int64_t b0, int64_t b1) {
        std::vector<float> p(static_cast<std::size_t>(s.lq * s.lk));
        for (int64_t b = b0; b < b1; ++b) {
          probs_f32(s, pq + b * s.lq * s.d, pk + b * s.lk * s.d, pm ? pm + b * s.lq * s.lk : nullptr, p.data(), false);
          if (s.lk == 0) {
            std::fill(po + b * s.lq * s.dv, po + (b + 1) * s.lq * s.dv, std::numeric_limits<float>::quiet_NaN());
            continue;
          }
          gemm_f32(false, false, s.lq, s.dv, s.lk, 1.0f, p.data(), s.lk, pv + b * s.lk * s.dv, s.dv, 0.0f, po + b * s.lq * s.dv, s.dv);
        }
      });
      return;
    }
    const int64_t rows = s.batch * s.lq;
    parallel_for(0, rows, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, s.lk * (s.d + s.dv))), [&](int64_t r0, int64_t r1) {
      std::vector<double> p(static_cast<std::size_t>(std::max<int64_t>(1, s.lk)));
      std::vector<double> acc(static_cast<std::size_t>(s.dv));
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t b = r / s.lq, i = r % s.lq;
        const int64_t len = row_probs(s, pq + r * s.d, pk + b * s.lk * s.d, pm ? pm + r * s.lk : nullptr, i, p.data());
        std::fill(acc.begin(), acc.end(), 0.0);
        const T* vb = pv + b * s.lk * s.dv;
        for (int64_t j = 0; j < len; ++j) {
          const double pj = p[j];
          const T* vj = vb + j * s.dv;
          for (int64_t c = 0; c < s.dv; ++c) acc[c] += pj * static_cast<double>(vj[c]);
        }
        T* orow = po + r * s.dv;
        const double fill = len == 0 ? std::numeric_limits<double>::quiet_NaN() : 0.0;
        for (int64_t c = 0; c < s.dv; ++c) orow[c] = static_cast<T>(acc[c] + fill);
      }
    });
  };
  if (q->dtype() == kFloat32) run(static_cast<float*>(nullptr));
  else run(static_cast<double*>(nullptr));
  return env.Undefined();
}

// tensorAttentionBackward(q, qOff, k, kOff, v, vOff, mask|null, maskOff, go, goOff,
//                         gq, gk, gv, batch, lq, lk, d, dv, scale, causal)
// gq, gk, gv: contiguous, offset 0, overwritten.
Napi::Value AttentionBackward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "attention backward";
  Storage* q = storage_arg(info, 0, fn);
  Storage* k = storage_arg(info, 2, fn);
  Storage* v = storage_arg(info, 4, fn);
  Storage* m = opt_storage(info, 6, fn);
  Storage* go = storage_arg(info, 8, fn);
  Storage* gq = storage_arg(info, 10, fn);
  Storage* gk = storage_arg(info, 11, fn);
  Storage* gv = storage_arg(info, 12, fn);
  require_float(env, q, fn);
  for (Storage* s : {k, v, m, go, gq, gk, gv}) require_same(env, q, s, fn);
  const Dims s = dims_arg(info, 13);
  auto run = [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    const T* pq = ptr<T>(env, q, int_arg(info, 1), fn);
    const T* pk = ptr<T>(env, k, int_arg(info, 3), fn);
    const T* pv = ptr<T>(env, v, int_arg(info, 5), fn);
    const T* pm = ptr<T>(env, m, m ? int_arg(info, 7) : 0, fn);
    const T* pgo = ptr<T>(env, go, int_arg(info, 9), fn);
    T* pgq = ptr<T>(env, gq, 0, fn);
    T* pgk = ptr<T>(env, gk, 0, fn);
    T* pgv = ptr<T>(env, gv, 0, fn);
    if constexpr (std::is_same_v<T, float>) {
      parallel_for(0, s.batch, 1, [&](int64_t b0, int64_t b1) {
        std::vector<float> p(static_cast<std::size_t>(s.lq * s.lk)), dp(static_cast<std::size_t>(s.lq * s.lk));
        for (int64_t b = b0; b < b1; ++b) {
          const float* qb = pq + b * s.lq * s.d;
          const float* kb = pk + b * s.lk * s.d;
          const float* vb = pv + b * s.lk * s.dv;
          const float* gob = pgo + b * s.lq * s.dv;
          float* gqb = pgq + b * s.lq * s.d;
          float* gkb = pgk + b * s.lk * s.d;
          float* gvb = pgv + b * s.lk * s.dv;
          if (s.lk == 0) {
            std::fill(gqb, gqb + s.lq * s.d, 0.0f);
            continue;
          }
          probs_f32(s, qb, kb, pm ? pm + b * s.lq * s.lk : nullptr, p.data(), true);
          gemm_f32(true, false, s.lk, s.dv, s.lq, 1.0f, p.data(), s.lk, gob, s.dv, 0.0f, gvb, s.dv);
          gemm_f32(false, true, s.lq, s.lk, s.dv, 1.0f, gob, s.dv, vb, s.dv, 0.0f, dp.data(), s.lk);
          const float sc = static_cast<float>(s.scale);
          for (int64_t i = 0; i < s.lq; ++i) {
            const float* pr = p.data() + i * s.lk;
            float* dr = dp.data() + i * s.lk;
            double delta = 0;
            for (int64_t j = 0; j < s.lk; ++j) delta += static_cast<double>(pr[j]) * static_cast<double>(dr[j]);
            const float dl = static_cast<float>(delta);
            for (int64_t j = 0; j < s.lk; ++j) dr[j] = pr[j] * (dr[j] - dl) * sc;
          }
          gemm_f32(false, false, s.lq, s.d, s.lk, 1.0f, dp.data(), s.lk, kb, s.d, 0.0f, gqb, s.d);
          gemm_f32(true, false, s.lk, s.d, s.lq, 1.0f, dp.data(), s.lk, qb, s.d, 0.0f, gkb, s.d);
        }
      });
      return;
    }
    parallel_for(0, s.batch, 1, [&](int64_t b0, int64_t b1) {
      std::vector<double> p(static_cast<std::size_t>(std::max<int64_t>(1, s.lk)));
      std::vector<double> dk(static_cast<std::size_t>(s.lk * s.d)), dv(static_cast<std::size_t>(s.lk * s.dv));
      std::vector<double> dq(static_cast<std::size_t>(s.d));
      for (int64_t b = b0; b < b1; ++b) {
        std::fill(dk.begin(), dk.end(), 0.0);
        std::fill(dv.begin(), dv.end(), 0.0);
        const T* kb = pk + b * s.lk * s.d;
        const T* vb = pv + b * s.lk * s.dv;
        for (int64_t i = 0; i < s.lq; ++i) {
          const int64_t r = b * s.lq + i;
          const T* qi = pq + r * s.d;
          const T* doi = pgo + r * s.dv;
          const int64_t len = row_probs(s, qi, kb, pm ? pm + r * s.lk : nullptr, i, p.data());
          // dp_j = do.v_j, then ds_j = p_j (dp_j - sum p dp), stored over p
          double delta = 0;
          std::vector<double>& ds = p;  // reuse: keep p_j while computing dp
          std::vector<double> dp(static_cast<std::size_t>(len));
          for (int64_t j = 0; j < len; ++j) {
            const T* vj = vb + j * s.dv;
            double acc = 0;
            for (int64_t c = 0; c < s.dv; ++c) acc += static_cast<double>(doi[c]) * static_cast<double>(vj[c]);
            dp[j] = acc;
            delta += p[j] * acc;
            double* dvj = dv.data() + j * s.dv;
            for (int64_t c = 0; c < s.dv; ++c) dvj[c] += p[j] * static_cast<double>(doi[c]);
          }
          std::fill(dq.begin(), dq.end(), 0.0);
          for (int64_t j = 0; j < len; ++j) {
            const double dsj = ds[j] * (dp[j] - delta) * s.scale;
            const T* kj = kb + j * s.d;
            double* dkj = dk.data() + j * s.d;
            for (int64_t c = 0; c < s.d; ++c) {
              dq[c] += dsj * static_cast<double>(kj[c]);
              dkj[c] += dsj * static_cast<double>(qi[c]);
            }
          }
          T* gqi = pgq + r * s.d;
          for (int64_t c = 0; c < s.d; ++c) gqi[c] = static_cast<T>(dq[c]);
        }
        T* gkb = pgk + b * s.lk * s.d;
        T* gvb = pgv + b * s.lk * s.dv;
        for (int64_t x = 0; x < s.lk * s.d; ++x) gkb[x] = static_cast<T>(dk[x]);
        for (int64_t x = 0; x < s.lk * s.dv; ++x) gvb[x] = static_cast<T>(dv[x]);
      }
    });
  };
  if (q->dtype() == kFloat32) run(static_cast<float*>(nullptr));
  else run(static_cast<double*>(nullptr));
  return env.Undefined();
}

void RegisterAttention(Napi::Env env, Napi::Object exports) {
  exports.Set("tensorAttention", Napi::Function::New(env, AttentionForward, "tensorAttention"));
  exports.Set("tensorAttentionBackward", Napi::Function::New(env, AttentionBackward, "tensorAttentionBackward"));
}

}  // namespace

NBFORGE_REGISTER_MODULE(RegisterAttention);

}  // namespace tensor
}  // namespace nbforge
