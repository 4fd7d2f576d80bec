// Causal scaled-dot-product attention, float32 and float64, with the CPU kernel's
// semantics (attention.cc): q [batch, Lq, D], k [batch, Lk, D], v [batch, Lk, Dv],
// an optional additive mask [batch, Lq, Lk] (all contiguous), causal masking
// aligned to the end of the keys (query i sees keys j <= i + Lk - Lq, so one
// query attends to a whole KV cache). Run as batched GEMMs around a masked
// softmax row kernel; the backward recomputes the probabilities:
//   S = scale Q K^T + M, P = softmax(S), O = P V
//   dV = P^T dO, dP = dO V^T, dS = P (dP - rowsum(P dP)), dQ = scale dS K, dK = scale dS^T Q
// A row that sees no key gives NaN (as PyTorch) in the forward and no gradient.
#include "common.cuh"
#include "device_util.cuh"

extern "C" int nbf_cuda_sgemm_batched(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                                      const float* a, int64_t lda, int64_t stride_a, const float* b, int64_t ldb,
                                      int64_t stride_b, float beta, float* c, int64_t ldc, int64_t stride_c,
                                      int64_t batch);
extern "C" int nbf_cuda_dgemm_batched(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, double alpha,
                                      const double* a, int64_t lda, int64_t stride_a, const double* b, int64_t ldb,
                                      int64_t stride_b, double beta, double* c, int64_t ldc, int64_t stride_c,
                                      int64_t batch);
extern "C" int nbf_cuda_softmax_backward(int log, int dtype, const void* y, const void* gy, void* gx, int64_t rows,
                                         int64_t n);

namespace {

using nbf::block_sum;
using nbf::max_nan;

// The batched GEMM of T (both row-major, strided).
int gemm(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda, int64_t sa,
         const float* b, int64_t ldb, int64_t sb, float* c, int64_t ldc, int64_t sc, int64_t batch) {
  return nbf_cuda_sgemm_batched(ta, tb, m, n, k, alpha, a, lda, sa, b, ldb, sb, 0.0f, c, ldc, sc, batch);
}
int gemm(int ta, int tb, int64_t m, int64_t n, int64_t k, double alpha, const double* a, int64_t lda, int64_t sa,
         const double* b, int64_t ldb, int64_t sb, double* c, int64_t ldc, int64_t sc, int64_t batch) {
  return nbf_cuda_dgemm_batched(ta, tb, m, n, k, alpha, a, lda, sa, b, ldb, sb, 0.0, c, ldc, sc, batch);
}
template <typename T> constexpr int dtype_of();
template <> constexpr int dtype_of<float>() { return nbf::kF32; }
template <> constexpr int dtype_of<double>() { return nbf::kF64; }

// In place: row (b, i) of s [batch*lq, lk] (already scale QK^T) becomes its probabilities.
template <typename T>
__global__ void masked_softmax(T* __restrict__ s, const T* __restrict__ mask, int64_t lq, int64_t lk, int causal,
                               int zero_empty) {
  __shared__ T ts[32];
  __shared__ double ds[32];
  const int64_t row = blockIdx.x, i = row % lq;
  T* sr = s + row * lk;
  const T* mr = mask != nullptr ? mask + row * lk : nullptr;
  const int64_t limit = causal ? i + (lk - lq) : lk - 1;  // last visible key
  if (limit < 0) {
    const T fill = zero_empty ? T(0) : T(NAN);
    for (int64_t j = threadIdx.x; j < lk; j += blockDim.x) sr[j] = fill;
    return;
  }
  const int64_t seen = limit + 1 < lk ? limit + 1 : lk;
  T m = T(-INFINITY);
  for (int64_t j = threadIdx.x; j < seen; j += blockDim.x) {
    const T v = sr[j] + (mr != nullptr ? mr[j] : T(0));
    sr[j] = v;
    m = max_nan(m, v);
  }
  m = nbf::block_max_nan(m, ts);
  double sum = 0;
  for (int64_t j = threadIdx.x; j < seen; j += blockDim.x) sum += double(exp(sr[j] - m));
  sum = block_sum(sum, ds);
  const T inv = T(1.0 / sum);
  for (int64_t j = threadIdx.x; j < lk; j += blockDim.x) sr[j] = j < seen ? exp(sr[j] - m) * inv : T(0);
}

// P [batch, lq, lk] = softmax(scale Q K^T + M) with causal limits.
template <typename T>
int probabilities(const T* q, const T* k, const T* mask, T* p, int64_t batch, int64_t lq, int64_t lk, int64_t d, T scale,
                  int causal, int zero_empty) {
  if (int rc = gemm(0, 1, lq, lk, d, scale, q, d, lq * d, k, d, lk * d, p, lk, lq * lk, batch)) return rc;
  const int64_t rows = batch * lq;
  if (rows > 2147483647LL) return nbf::invalid("nbf_cuda_attention: too many rows");
  masked_softmax<T><<<unsigned(rows), nbf::row_threads(lk)>>>(p, mask, lq, lk, causal, zero_empty);
  return nbf::launched("nbf_cuda_attention softmax");
}

template <typename T>
int forward(const T* q, const T* k, const T* v, const T* mask, T* out, int64_t batch, int64_t lq, int64_t lk, int64_t d,
            int64_t dv, double scale, int causal) {
  auto* p = static_cast<T*>(nbf::scratch(nbf::kScratchAttention, size_t(batch * lq * lk) * sizeof(T)));
  if (p == nullptr) return static_cast<int>(cudaErrorMemoryAllocation);
  int rc = probabilities<T>(q, k, mask, p, batch, lq, lk, d, T(scale), causal, 0);
  if (rc == 0) rc = gemm(0, 0, lq, dv, lk, T(1), p, lk, lq * lk, v, dv, lk * dv, out, dv, lq * dv, batch);
  return rc;
}

template <typename T>
int backward(const T* q, const T* k, const T* v, const T* mask, const T* go, T* gq, T* gk, T* gv, int64_t batch, int64_t lq,
             int64_t lk, int64_t d, int64_t dv, double scale, int causal) {
  if (lq == 0 || lk == 0) {
    cudaMemset(gq, 0, size_t(batch * lq * d) * sizeof(T));
    cudaMemset(gk, 0, size_t(batch * lk * d) * sizeof(T));
    cudaMemset(gv, 0, size_t(batch * lk * dv) * sizeof(T));
    return nbf::launched("nbf_cuda_attention_backward");
  }
  // One scratch buffer for P, dP and dS (softmax_backward must not run in place: restrict pointers).
  const size_t plen = size_t(batch * lq * lk);
  auto* p = static_cast<T*>(nbf::scratch(nbf::kScratchAttention, 3 * plen * sizeof(T)));
  if (p == nullptr) return static_cast<int>(cudaErrorMemoryAllocation);
  T* dp = p + plen;
  T* dsc = p + 2 * plen;
  const T sc = T(scale);
  int rc = probabilities<T>(q, k, mask, p, batch, lq, lk, d, sc, causal, 1);
  // dV = P^T dO
  if (rc == 0) rc = gemm(1, 0, lk, dv, lq, T(1), p, lk, lq * lk, go, dv, lq * dv, gv, dv, lk * dv, batch);
  // dP = dO V^T
  if (rc == 0) rc = gemm(0, 1, lq, lk, dv, T(1), go, dv, lq * dv, v, dv, lk * dv, dp, lk, lq * lk, batch);
  // dS = P (dP - rowsum(P dP))
  if (rc == 0) rc = nbf_cuda_softmax_backward(0, dtype_of<T>(), p, dp, dsc, batch * lq, lk);
  // dQ = scale dS K, dK = scale dS^T Q
  if (rc == 0) rc = gemm(0, 0, lq, d, lk, sc, dsc, lk, lq * lk, k, d, lk * d, gq, d, lq * d, batch);
  if (rc == 0) rc = gemm(1, 0, lk, d, lq, sc, dsc, lk, lq * lk, q, d, lq * d, gk, d, lk * d, batch);
  return rc;
}

}  // namespace

NBF_API int nbf_cuda_attention(int dtype, const void* q, const void* k, const void* v, const void* mask, void* out,
                               int64_t batch, int64_t lq, int64_t lk, int64_t d, int64_t dv, double scale, int causal) {
  if (batch < 0 || lq < 0 || lk < 0 || d < 0 || dv < 0) return nbf::invalid("nbf_cuda_attention: negative size");
  if (batch == 0 || lq == 0 || dv == 0) return 0;
  if (lk == 0) return nbf::invalid("nbf_cuda_attention: no keys (Lk = 0)");
  if (dtype == nbf::kF32)
    return forward<float>(static_cast<const float*>(q), static_cast<const float*>(k), static_cast<const float*>(v),
                          static_cast<const float*>(mask), static_cast<float*>(out), batch, lq, lk, d, dv, scale, causal);
  if (dtype == nbf::kF64)
    return forward<double>(static_cast<const double*>(q), static_cast<const double*>(k), static_cast<const double*>(v),
                           static_cast<const double*>(mask), static_cast<double*>(out), batch, lq, lk, d, dv, scale, causal);
  return nbf::invalid("nbf_cuda_attention: float32 or float64");
}

// gq [batch, lq, d], gk [batch, lk, d], gv [batch, lk, dv]: contiguous, overwritten.
NBF_API int nbf_cuda_attention_backward(int dtype, const void* q, const void* k, const void* v, const void* mask,
                                        const void* go, void* gq, void* gk, void* gv, int64_t batch, int64_t lq, int64_t lk,
                                        int64_t d, int64_t dv, double scale, int causal) {
  if (batch < 0 || lq < 0 || lk < 0 || d < 0 || dv < 0) return nbf::invalid("nbf_cuda_attention_backward: negative size");
  if (batch == 0) return 0;
  if (dtype == nbf::kF32)
    return backward<float>(static_cast<const float*>(q), static_cast<const float*>(k), static_cast<const float*>(v),
                           static_cast<const float*>(mask), static_cast<const float*>(go), static_cast<float*>(gq),
                           static_cast<float*>(gk), static_cast<float*>(gv), batch, lq, lk, d, dv, scale, causal);
  if (dtype == nbf::kF64)
    return backward<double>(static_cast<const double*>(q), static_cast<const double*>(k), static_cast<const double*>(v),
                            static_cast<const double*>(mask), static_cast<const double*>(go), static_cast<double*>(gq),
                            static_cast<double*>(gk), static_cast<double*>(gv), batch, lq, lk, d, dv, scale, causal);
  return nbf::invalid("nbf_cuda_attention_backward: float32 or float64");
}
