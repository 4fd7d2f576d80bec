// Causal scaled-dot-product attention, float32, with the CPU kernel's semantics
// (attention.cc): q [batch, Lq, D], k [batch, Lk, D], v [batch, Lk, Dv], an
// optional additive mask [batch, Lq, Lk] (all contiguous), causal masking aligned
// to the end of the keys (query i sees keys j <= i + Lk - Lq, so one query
// attends to a whole KV cache). Run as batched GEMMs around a masked softmax row
// kernel; the backward recomputes the probabilities:
//   S = scale Q K^T + M, P = softmax(S), O = P V
//   dV = P^T dO, dP = dO V^T, dS = P (dP - rowsum(P dP)), dQ = scale dS K, dK = scale dS^T Q
// A row that sees no key gives NaN (as PyTorch) in the forward and no gradient.
#include "common.cuh"
#include "device_util.cuh"

extern "C" int nbf_cuda_sgemm_batched(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                                      const float* a, int64_t lda, int64_t stride_a, const float* b, int64_t ldb,
                                      int64_t stride_b, float beta, float* c, int64_t ldc, int64_t stride_c,
                                      int64_t batch);
extern "C" int nbf_cuda_softmax_backward_f32(int log, const float* d_y, const float* d_gy, float* d_gx, int64_t rows,
                                             int64_t n);

namespace {

using nbf::block_sum;
using nbf::max_nan;

// In place: row (b, i) of s [batch*lq, lk] (already scale QK^T) becomes its probabilities.
__global__ void masked_softmax(float* __restrict__ s, const float* __restrict__ mask, int64_t lq, int64_t lk, int causal,
                               int zero_empty) {
  __shared__ float fs[32];
  __shared__ double ds[32];
  const int64_t row = blockIdx.x, i = row % lq;
  float* sr = s + row * lk;
  const float* mr = mask != nullptr ? mask + row * lk : nullptr;
  const int64_t limit = causal ? i + (lk - lq) : lk - 1;  // last visible key
  if (limit < 0) {
    const float fill = zero_empty ? 0.0f : NAN;
    for (int64_t j = threadIdx.x; j < lk; j += blockDim.x) sr[j] = fill;
    return;
  }
  const int64_t seen = limit + 1 < lk ? limit + 1 : lk;
  float m = -INFINITY;
  for (int64_t j = threadIdx.x; j < seen; j += blockDim.x) {
    const float v = sr[j] + (mr != nullptr ? mr[j] : 0.0f);
    sr[j] = v;
    m = max_nan(m, v);
  }
  m = nbf::block_max_nan(m, fs);
  double sum = 0;
  for (int64_t j = threadIdx.x; j < seen; j += blockDim.x) sum += double(expf(sr[j] - m));
  sum = block_sum(sum, ds);
  const float inv = float(1.0 / sum);
  for (int64_t j = threadIdx.x; j < lk; j += blockDim.x) sr[j] = j < seen ? expf(sr[j] - m) * inv : 0.0f;
}

// P [batch, lq, lk] = softmax(scale Q K^T + M) with causal limits.
int probabilities(const float* q, const float* k, const float* mask, float* p, int64_t batch, int64_t lq, int64_t lk,
                  int64_t d, float scale, int causal, int zero_empty) {
  if (int rc = nbf_cuda_sgemm_batched(0, 1, lq, lk, d, scale, q, d, lq * d, k, d, lk * d, 0.0f, p, lk, lq * lk, batch)) return rc;
  const int64_t rows = batch * lq;
  if (rows > 2147483647LL) return nbf::invalid("nbf_cuda_attention: too many rows");
  masked_softmax<<<unsigned(rows), nbf::row_threads(lk)>>>(p, mask, lq, lk, causal, zero_empty);
  return nbf::launched("nbf_cuda_attention softmax");
}

}  // namespace

NBF_API int nbf_cuda_attention(const float* q, const float* k, const float* v, const float* mask, float* out, int64_t batch,
                               int64_t lq, int64_t lk, int64_t d, int64_t dv, double scale, int causal) {
  if (batch < 0 || lq < 0 || lk < 0 || d < 0 || dv < 0) return nbf::invalid("nbf_cuda_attention: negative size");
  if (batch == 0 || lq == 0 || dv == 0) return 0;
  if (lk == 0) return nbf::invalid("nbf_cuda_attention: no keys (Lk = 0)");
  auto* p = static_cast<float*>(nbf::scratch(nbf::kScratchAttention, size_t(batch * lq * lk) * sizeof(float)));
  if (p == nullptr) return static_cast<int>(cudaErrorMemoryAllocation);
  int rc = probabilities(q, k, mask, p, batch, lq, lk, d, float(scale), causal, 0);
  if (rc == 0) rc = nbf_cuda_sgemm_batched(0, 0, lq, dv, lk, 1.0f, p, lk, lq * lk, v, dv, lk * dv, 0.0f, out, dv, lq * dv, batch);
  return rc;
}

// gq [batch, lq, d], gk [batch, lk, d], gv [batch, lk, dv]: contiguous, overwritten.
NBF_API int nbf_cuda_attention_backward(const float* q, const float* k, const float* v, const float* mask, const float* go,
                                        float* gq, float* gk, float* gv, int64_t batch, int64_t lq, int64_t lk, int64_t d,
                                        int64_t dv, double scale, int causal) {
  if (batch < 0 || lq < 0 || lk < 0 || d < 0 || dv < 0) return nbf::invalid("nbf_cuda_attention_backward: negative size");
  if (batch == 0) return 0;
  if (lq == 0 || lk == 0) {
    cudaMemset(gq, 0, size_t(batch * lq * d) * sizeof(float));
    cudaMemset(gk, 0, size_t(batch * lk * d) * sizeof(float));
    cudaMemset(gv, 0, size_t(batch * lk * dv) * sizeof(float));
    return nbf::launched("nbf_cuda_attention_backward");
  }
  const size_t plen = size_t(batch * lq * lk);
  // One allocation for P, dP and dS (softmax_backward must not run in place: restrict pointers).
  auto* p = static_cast<float*>(nbf::scratch(nbf::kScratchAttention, 3 * plen * sizeof(float)));
  if (p == nullptr) return static_cast<int>(cudaErrorMemoryAllocation);
  float* dp = p + plen;
  float* dsc = p + 2 * plen;
  const float sc = float(scale);
  int rc = probabilities(q, k, mask, p, batch, lq, lk, d, sc, causal, 1);
  // dV = P^T dO
  if (rc == 0) rc = nbf_cuda_sgemm_batched(1, 0, lk, dv, lq, 1.0f, p, lk, lq * lk, go, dv, lq * dv, 0.0f, gv, dv, lk * dv, batch);
  // dP = dO V^T
  if (rc == 0) rc = nbf_cuda_sgemm_batched(0, 1, lq, lk, dv, 1.0f, go, dv, lq * dv, v, dv, lk * dv, 0.0f, dp, lk, lq * lk, batch);
  // dS = P (dP - rowsum(P dP))
  if (rc == 0) rc = nbf_cuda_softmax_backward_f32(0, p, dp, dsc, batch * lq, lk);
  // dQ = scale dS K, dK = scale dS^T Q
  if (rc == 0) rc = nbf_cuda_sgemm_batched(0, 0, lq, d, lk, sc, dsc, lk, lq * lk, k, d, lk * d, 0.0f, gq, d, lq * d, batch);
  if (rc == 0) rc = nbf_cuda_sgemm_batched(1, 0, lk, d, lq, sc, dsc, lk, lq * lk, q, d, lq * d, 0.0f, gk, d, lk * d, batch);
  return rc;
}
