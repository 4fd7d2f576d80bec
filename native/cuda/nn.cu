// Neural-network kernels with the CPU kernels' semantics (norm.cc, embedding.cc,
// loss.cc): layer_norm / rms_norm forward and backward with float64 (mean, rstd)
// row statistics, embedding lookup and its scatter-add gradient, and fused
// cross-entropy (ignore_index, label smoothing) forward and backward; float32
// and float64. Row statistics and log-sum-exp accumulate in double.
// Also the index check every index-taking kernel runs first (the CPU path
// throws before writing anything; so does ours, from the host wrapper).
#include <cfloat>

#include "common.cuh"
#include "device_util.cuh"

namespace {

using nbf::Walk;
using nbf::block_sum;

int threads_for(int64_t n) { return nbf::row_threads(n); }


__device__ __forceinline__ int64_t index_at(const void* p, bool i64, int64_t i) {
  return i64 ? static_cast<const int64_t*>(p)[i] : int64_t(static_cast<const int32_t*>(p)[i]);
}

// ---- index check ----
__global__ void check_index_kernel(Walk<1> w, const void* idx, bool i64, int64_t size, bool has_ignore, int64_t ignore,
                                   unsigned long long* first_bad, int64_t n) {
  NBF_GRID_STRIDE(i, n) {
    int64_t off[1];
    w.offsets(i, off);
    const int64_t v = index_at(idx, i64, off[0]);
    if (has_ignore && v == ignore) continue;
    if (v < 0 || v >= size) atomicMin(first_bad, static_cast<unsigned long long>(i));
  }
}

// ---- norms ----
template <typename T>
__global__ void norm_fwd(int rms, const T* __restrict__ x, const T* __restrict__ w, const T* __restrict__ b,
                         T* __restrict__ y, double* __restrict__ stats, int64_t n, double eps) {
  __shared__ double ds[32];
  const int64_t off = int64_t(blockIdx.x) * n;
  const T* xr = x + off;
  double mean = 0;
  if (!rms) {
    double s = 0;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) s += double(xr[i]);
    mean = block_sum(s, ds) / double(n);
  }
  double q = 0;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    const double d = double(xr[i]) - mean;
    q += d * d;
  }
  const double rstd = 1.0 / sqrt(block_sum(q, ds) / double(n) + eps);
  const T tm = T(mean), tr = T(rstd);
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    T v = (xr[i] - tm) * tr;
    if (w != nullptr) v *= w[i];
    if (b != nullptr) v += b[i];
    y[off + i] = v;
  }
  if (threadIdx.x == 0 && stats != nullptr) {
    stats[2 * blockIdx.x] = mean;
    stats[2 * blockIdx.x + 1] = rstd;
  }
}

// gx for one row per block; stats must hold (mean, rstd) per row.
template <typename T>
__global__ void norm_bwd_rows(int rms, const T* __restrict__ x, const T* __restrict__ w, const T* __restrict__ gy,
                              T* __restrict__ gx, const double* __restrict__ stats, int64_t n) {
  __shared__ double ds[32];
  const int64_t off = int64_t(blockIdx.x) * n;
  const double mean = stats[2 * blockIdx.x], rstd = stats[2 * blockIdx.x + 1];
  double sg = 0, sgx = 0;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    const double g = double(gy[off + i]) * (w != nullptr ? double(w[i]) : 1.0);
    const double xh = (double(x[off + i]) - mean) * rstd;
    sg += g;
    sgx += g * xh;
  }
  const double mg = rms ? 0.0 : block_sum(sg, ds) / double(n);
  const double mgx = block_sum(sgx, ds) / double(n);
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    const double g = double(gy[off + i]) * (w != nullptr ? double(w[i]) : 1.0);
    const double xh = (double(x[off + i]) - mean) * rstd;
    gx[off + i] = T(rstd * (g - mg - xh * mgx));
  }
}

// gw[c] = sum_r gy[r, c] xhat[r, c], gb[c] = sum_r gy[r, c] in two passes, so the
// result does not depend on scheduling: partial sums over fixed chunks of rows
// (blockIdx.y = chunk; threads along columns, coalesced), then the chunks in order.
template <typename T>
__global__ void norm_bwd_partials(const T* __restrict__ x, const T* __restrict__ gy, const double* __restrict__ stats,
                                  double* __restrict__ part_w, double* __restrict__ part_b, int64_t rows, int64_t n,
                                  int64_t rows_per_chunk) {
  const int64_t c = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c >= n) return;
  const int64_t r0 = int64_t(blockIdx.y) * rows_per_chunk;
  const int64_t r1 = r0 + rows_per_chunk < rows ? r0 + rows_per_chunk : rows;
  double sw = 0, sb = 0;
  for (int64_t r = r0; r < r1; ++r) {
    const double g = double(gy[r * n + c]);
    sw += g * (double(x[r * n + c]) - stats[2 * r]) * stats[2 * r + 1];
    sb += g;
  }
  part_w[int64_t(blockIdx.y) * n + c] = sw;
  part_b[int64_t(blockIdx.y) * n + c] = sb;
}

template <typename T>
__global__ void norm_bwd_finish(const double* __restrict__ part_w, const double* __restrict__ part_b, T* __restrict__ gw,
                                T* __restrict__ gb, int64_t chunks, int64_t n) {
  NBF_GRID_STRIDE(c, n) {
    double sw = 0, sb = 0;
    for (int64_t k = 0; k < chunks; ++k) {
      sw += part_w[k * n + c];
      sb += part_b[k * n + c];
    }
    if (gw != nullptr) gw[c] = T(sw);
    if (gb != nullptr) gb[c] = T(sb);
  }
}

template <typename T>
int norm_weight_grads(const T* x, const T* gy, T* gw, T* gb, const double* stats, int64_t rows, int64_t n) {
  // About 64 rows per chunk, at most 256 chunks: enough blocks to fill the GPU.
  int64_t chunks = (rows + 63) / 64;
  if (chunks > 256) chunks = 256;
  const int64_t per = (rows + chunks - 1) / chunks;
  auto* part = static_cast<double*>(nbf::scratch(nbf::kScratchPartials, size_t(2 * chunks * n) * sizeof(double)));
  if (part == nullptr) return static_cast<int>(cudaErrorMemoryAllocation);
  const dim3 grid(unsigned((n + 255) / 256), unsigned(chunks));
  norm_bwd_partials<T><<<grid, 256>>>(x, gy, stats, part, part + chunks * n, rows, n, per);
  norm_bwd_finish<T><<<nbf::grid_for(n, 256), 256>>>(part, part + chunks * n, gw, gb, chunks, n);
  return nbf::launched("nbf_cuda_norm_backward (weights)");
}

// ---- embedding ----
template <typename E>
__global__ void embedding_fwd(const void* idx, bool i64, const E* __restrict__ w, E* __restrict__ out, int64_t count,
                              int64_t dim) {
  NBF_GRID_STRIDE(i, count * dim) {
    const int64_t r = i / dim, c = i % dim;
    out[i] = w[index_at(idx, i64, r) * dim + c];
  }
}

template <typename T>
__global__ void embedding_bwd(const void* idx, bool i64, const T* __restrict__ gy, T* __restrict__ gw, int64_t count,
                              int64_t dim, int64_t padding) {
  NBF_GRID_STRIDE(i, count * dim) {
    const int64_t r = i / dim, c = i % dim;
    const int64_t row = index_at(idx, i64, r);
    if (row != padding) atomicAdd(&gw[row * dim + c], gy[i]);
  }
}

// ---- cross-entropy ----
template <typename T>
__device__ double row_lse(const T* z, int64_t n, double* ds) {
  double m = -INFINITY;
  for (int64_t c = threadIdx.x; c < n; c += blockDim.x) m = fmax(m, double(z[c]));
  m = nbf::block_fmax(m, ds);
  if (!isfinite(m)) return m;
  double s = 0;
  for (int64_t c = threadIdx.x; c < n; c += blockDim.x) s += exp(double(z[c]) - m);
  return m + log(block_sum(s, ds));
}

template <typename T>
__global__ void ce_rows(const T* __restrict__ x, const void* tgt, bool i64, double* __restrict__ loss, int64_t n,
                        int64_t ignore, double eps) {
  __shared__ double ds[32];
  const int64_t r = blockIdx.x;
  const int64_t t = index_at(tgt, i64, r);
  if (t == ignore) {
    if (threadIdx.x == 0) loss[r] = 0;
    return;
  }
  const T* z = x + r * n;
  const double lse = row_lse(z, n, ds);
  double s = 0;
  if (eps != 0) {
    for (int64_t c = threadIdx.x; c < n; c += blockDim.x) s += lse - double(z[c]);
    s = block_sum(s, ds);
  }
  if (threadIdx.x == 0) loss[r] = (1.0 - eps) * (lse - double(z[t])) + (eps != 0 ? eps / double(n) * s : 0.0);
}

// none: out[r] = loss[r]; mean/sum: one block sums the rows in a fixed order.
template <typename T>
__global__ void ce_finish(const double* __restrict__ loss, T* __restrict__ out, int64_t rows, int reduction, double count) {
  __shared__ double ds[32];
  if (reduction == 0) {
    for (int64_t r = threadIdx.x; r < rows; r += blockDim.x) out[r] = T(loss[r]);
    return;
  }
  double s = 0;
  for (int64_t r = threadIdx.x; r < rows; r += blockDim.x) s += loss[r];
  s = block_sum(s, ds);
  if (threadIdx.x == 0) out[0] = T(reduction == 1 ? s / count : s);
}

template <typename T>
__global__ void ce_bwd(const T* __restrict__ x, const void* tgt, bool i64, const T* __restrict__ gy, T* __restrict__ gx,
                       int64_t n, int64_t ignore, double eps, int reduction, double count) {
  __shared__ double ds[32];
  const int64_t r = blockIdx.x;
  const int64_t t = index_at(tgt, i64, r);
  T* g = gx + r * n;
  if (t == ignore) {
    for (int64_t c = threadIdx.x; c < n; c += blockDim.x) g[c] = T(0);
    return;
  }
  const T* z = x + r * n;
  const double s = reduction == 0 ? double(gy[r]) : double(gy[0]) / (reduction == 1 ? count : 1.0);
  const double lse = row_lse(z, n, ds);
  const double off = eps / double(n);
  for (int64_t c = threadIdx.x; c < n; c += blockDim.x) {
    const double p = exp(double(z[c]) - lse);
    g[c] = T(s * (p - off - (c == t ? 1.0 - eps : 0.0)));
  }
}

// stats [rows, 2] (double) -> float mean and rstd arrays (ABI 1's norm outputs).
__global__ void split_stats(const double* __restrict__ stats, float* __restrict__ mean, float* __restrict__ rstd, int64_t rows) {
  NBF_GRID_STRIDE(r, rows) {
    if (mean != nullptr) mean[r] = float(stats[2 * r]);
    if (rstd != nullptr) rstd[r] = float(stats[2 * r + 1]);
  }
}

bool is_float(int dt) { return dt == nbf::kF32 || dt == nbf::kF64; }
bool is_index(int dt) { return dt == nbf::kI32 || dt == nbf::kI64; }

}  // namespace

NBF_API int nbf_cuda_check_index(int idx_dtype, const void* idx, int ndim, const int64_t* shape, const int64_t* strides,
                                 int64_t size, int has_ignore, int64_t ignore, int64_t* bad_position, int64_t* bad_value) {
  *bad_position = -1;
  if (!is_index(idx_dtype)) return nbf::invalid("nbf_cuda_check_index: indices must be int32 or int64");
  Walk<1> w{};
  const int64_t* const st[1] = {strides};
  const int64_t n = nbf::make_walk(w, ndim, shape, st);
  if (n < 0) return nbf::invalid("nbf_cuda_check_index: more than 8 dimensions");
  if (n == 0) return 0;
  auto* d_first = static_cast<unsigned long long*>(nbf::scratch(nbf::kScratchFlag, sizeof(unsigned long long)));
  if (d_first == nullptr) return static_cast<int>(cudaErrorMemoryAllocation);
  cudaMemset(d_first, 0xff, sizeof(unsigned long long));
  check_index_kernel<<<nbf::grid_for(n, 256), 256>>>(w, idx, idx_dtype == nbf::kI64, size, has_ignore != 0, ignore, d_first, n);
  unsigned long long first = ~0ull;
  int rc = nbf::launched("nbf_cuda_check_index");
  if (rc == 0) rc = nbf::record(cudaMemcpy(&first, d_first, sizeof first, cudaMemcpyDeviceToHost), "cudaMemcpy");
  if (rc != 0 || first == ~0ull) return rc;
  // The offending value, read back from its strided position.
  int64_t lin = int64_t(first), off = 0;
  for (int d = ndim - 1; d >= 0; --d) {
    off += (lin % shape[d]) * strides[d];
    lin /= shape[d];
  }
  *bad_position = int64_t(first);
  if (idx_dtype == nbf::kI64) {
    rc = nbf::record(cudaMemcpy(bad_value, static_cast<const int64_t*>(idx) + off, 8, cudaMemcpyDeviceToHost), "cudaMemcpy");
  } else {
    int32_t v = 0;
    rc = nbf::record(cudaMemcpy(&v, static_cast<const int32_t*>(idx) + off, 4, cudaMemcpyDeviceToHost), "cudaMemcpy");
    *bad_value = v;
  }
  return rc;
}

NBF_API int nbf_cuda_norm(int dtype, int rms, const void* x, const void* w, const void* b, void* y, double* stats,
                          int64_t rows, int64_t n, double eps) {
  if (rows < 0 || n < 0 || rows > 2147483647LL) return nbf::invalid("nbf_cuda_norm: bad size");
  if (rows == 0 || n == 0) return 0;
  if (dtype == nbf::kF32) {
    norm_fwd<float><<<unsigned(rows), threads_for(n)>>>(rms, static_cast<const float*>(x), static_cast<const float*>(w),
                                                        static_cast<const float*>(b), static_cast<float*>(y), stats, n, eps);
  } else if (dtype == nbf::kF64) {
    norm_fwd<double><<<unsigned(rows), threads_for(n)>>>(rms, static_cast<const double*>(x), static_cast<const double*>(w),
                                                         static_cast<const double*>(b), static_cast<double*>(y), stats, n, eps);
  } else {
    return nbf::invalid("nbf_cuda_norm: float32 or float64");
  }
  return nbf::launched("nbf_cuda_norm");
}

// stats may be null: then the row statistics are recomputed first (as the CPU path does).
NBF_API int nbf_cuda_norm_backward(int dtype, int rms, const void* x, const void* w, const void* gy, void* gx, void* gw,
                                   void* gb, const double* stats, int64_t rows, int64_t n, double eps) {
  if (rows < 0 || n < 0 || rows > 2147483647LL) return nbf::invalid("nbf_cuda_norm_backward: bad size");
  if (!is_float(dtype)) return nbf::invalid("nbf_cuda_norm_backward: float32 or float64");
  if (n == 0) return 0;
  const size_t esz = dtype == nbf::kF32 ? 4 : 8;
  if (rows == 0) {  // gradients of w and b are zero
    if (gw != nullptr) cudaMemset(gw, 0, size_t(n) * esz);
    if (gb != nullptr) cudaMemset(gb, 0, size_t(n) * esz);
    return nbf::launched("nbf_cuda_norm_backward");
  }
  if (stats == nullptr) {  // recompute the row statistics (the normalised rows go to a scratch buffer)
    auto* tmp = static_cast<double*>(nbf::scratch(nbf::kScratchStats, size_t(rows) * 2 * sizeof(double)));
    void* ys = nbf::scratch(nbf::kScratchNormOut, size_t(rows) * size_t(n) * esz);
    if (tmp == nullptr || ys == nullptr) return static_cast<int>(cudaErrorMemoryAllocation);
    if (int rc = nbf_cuda_norm(dtype, rms, x, nullptr, nullptr, ys, tmp, rows, n, eps)) return rc;
    stats = tmp;
  }
  int rc = 0;
  if (dtype == nbf::kF32) {
    if (gx != nullptr)
      norm_bwd_rows<float><<<unsigned(rows), threads_for(n)>>>(rms, static_cast<const float*>(x), static_cast<const float*>(w),
                                                              static_cast<const float*>(gy), static_cast<float*>(gx), stats, n);
    if (gw != nullptr || gb != nullptr)
      rc = norm_weight_grads<float>(static_cast<const float*>(x), static_cast<const float*>(gy), static_cast<float*>(gw),
                                    static_cast<float*>(gb), stats, rows, n);
  } else {
    if (gx != nullptr)
      norm_bwd_rows<double><<<unsigned(rows), threads_for(n)>>>(rms, static_cast<const double*>(x), static_cast<const double*>(w),
                                                               static_cast<const double*>(gy), static_cast<double*>(gx), stats, n);
    if (gw != nullptr || gb != nullptr)
      rc = norm_weight_grads<double>(static_cast<const double*>(x), static_cast<const double*>(gy), static_cast<double*>(gw),
                                     static_cast<double*>(gb), stats, rows, n);
  }
  return rc != 0 ? rc : nbf::launched("nbf_cuda_norm_backward");
}

// Indices must have been checked (nbf_cuda_check_index). Copies rows of elem_bytes-sized elements.
NBF_API int nbf_cuda_embedding(int idx_dtype, const void* idx, int64_t count, const void* w, int elem_bytes, int64_t dim,
                               void* out) {
  if (!is_index(idx_dtype)) return nbf::invalid("nbf_cuda_embedding: indices must be int32 or int64");
  const int64_t total = count * dim;
  if (total <= 0) return 0;
  const bool i64 = idx_dtype == nbf::kI64;
  const int grid = nbf::grid_for(total, 256);
  switch (elem_bytes) {
    case 1: embedding_fwd<uint8_t><<<grid, 256>>>(idx, i64, static_cast<const uint8_t*>(w), static_cast<uint8_t*>(out), count, dim); break;
    case 2: embedding_fwd<uint16_t><<<grid, 256>>>(idx, i64, static_cast<const uint16_t*>(w), static_cast<uint16_t*>(out), count, dim); break;
    case 4: embedding_fwd<uint32_t><<<grid, 256>>>(idx, i64, static_cast<const uint32_t*>(w), static_cast<uint32_t*>(out), count, dim); break;
    case 8: embedding_fwd<uint64_t><<<grid, 256>>>(idx, i64, static_cast<const uint64_t*>(w), static_cast<uint64_t*>(out), count, dim); break;
    default: return nbf::invalid("nbf_cuda_embedding: element size must be 1, 2, 4 or 8 bytes");
  }
  return nbf::launched("nbf_cuda_embedding");
}

// gw [num, dim] is zeroed, then gy's rows are added at their indices (atomics: the
// order of additions, hence the last bits of repeated rows, may vary run to run).
NBF_API int nbf_cuda_embedding_backward(int dtype, int idx_dtype, const void* idx, int64_t count, const void* gy, int64_t num,
                                        int64_t dim, void* gw, int64_t padding) {
  if (!is_index(idx_dtype)) return nbf::invalid("nbf_cuda_embedding_backward: indices must be int32 or int64");
  if (!is_float(dtype)) return nbf::invalid("nbf_cuda_embedding_backward: float32 or float64");
  const size_t esz = dtype == nbf::kF32 ? 4 : 8;
  if (int rc = nbf::record(cudaMemset(gw, 0, size_t(num) * size_t(dim) * esz), "cudaMemset")) return rc;
  const int64_t total = count * dim;
  if (total <= 0) return 0;
  const bool i64 = idx_dtype == nbf::kI64;
  const int grid = nbf::grid_for(total, 256);
  if (dtype == nbf::kF32) embedding_bwd<float><<<grid, 256>>>(idx, i64, static_cast<const float*>(gy), static_cast<float*>(gw), count, dim, padding);
  else embedding_bwd<double><<<grid, 256>>>(idx, i64, static_cast<const double*>(gy), static_cast<double*>(gw), count, dim, padding);
  return nbf::launched("nbf_cuda_embedding_backward");
}

// Targets must have been checked (nbf_cuda_check_index with ignore); count = targets not ignored.
NBF_API int nbf_cuda_cross_entropy(int dtype, const void* x, int tgt_dtype, const void* tgt, void* out, int64_t rows, int64_t n,
                                   int64_t ignore, double smoothing, int reduction, int64_t count) {
  if (!is_float(dtype) || !is_index(tgt_dtype)) return nbf::invalid("nbf_cuda_cross_entropy: float logits, int32/int64 targets");
  if (rows > 2147483647LL) return nbf::invalid("nbf_cuda_cross_entropy: too many rows");
  auto* loss = static_cast<double*>(nbf::scratch(nbf::kScratchLoss, size_t(rows > 0 ? rows : 1) * sizeof(double)));
  if (loss == nullptr) return static_cast<int>(cudaErrorMemoryAllocation);
  const bool i64 = tgt_dtype == nbf::kI64;
  if (dtype == nbf::kF32) {
    if (rows > 0) ce_rows<float><<<unsigned(rows), threads_for(n)>>>(static_cast<const float*>(x), tgt, i64, loss, n, ignore, smoothing);
    ce_finish<float><<<1, 1024>>>(loss, static_cast<float*>(out), rows, reduction, double(count));
  } else {
    if (rows > 0) ce_rows<double><<<unsigned(rows), threads_for(n)>>>(static_cast<const double*>(x), tgt, i64, loss, n, ignore, smoothing);
    ce_finish<double><<<1, 1024>>>(loss, static_cast<double*>(out), rows, reduction, double(count));
  }
  return nbf::launched("nbf_cuda_cross_entropy");
}

NBF_API int nbf_cuda_cross_entropy_backward(int dtype, const void* x, int tgt_dtype, const void* tgt, const void* gy, void* gx,
                                            int64_t rows, int64_t n, int64_t ignore, double smoothing, int reduction,
                                            int64_t count) {
  if (!is_float(dtype) || !is_index(tgt_dtype)) return nbf::invalid("nbf_cuda_cross_entropy_backward: float logits, int32/int64 targets");
  if (rows == 0 || n == 0) return 0;
  if (rows > 2147483647LL) return nbf::invalid("nbf_cuda_cross_entropy_backward: too many rows");
  const bool i64 = tgt_dtype == nbf::kI64;
  if (dtype == nbf::kF32)
    ce_bwd<float><<<unsigned(rows), threads_for(n)>>>(static_cast<const float*>(x), tgt, i64, static_cast<const float*>(gy),
                                                      static_cast<float*>(gx), n, ignore, smoothing, reduction, double(count));
  else
    ce_bwd<double><<<unsigned(rows), threads_for(n)>>>(static_cast<const double*>(x), tgt, i64, static_cast<const double*>(gy),
                                                       static_cast<double*>(gx), n, ignore, smoothing, reduction, double(count));
  return nbf::launched("nbf_cuda_cross_entropy_backward");
}

// ABI 1: float32 norm with float mean / rstd outputs (either may be null).
NBF_API int nbf_cuda_norm_f32(int rms, const float* x, const float* w, const float* b, float* y, float* mean, float* rstd,
                              int64_t rows, int64_t n, double eps) {
  if (rows < 0 || n < 0 || rows > 2147483647LL) return nbf::invalid("nbf_cuda_norm_f32: bad size");
  if (rows == 0 || n == 0) return 0;
  double* stats = nullptr;
  if (mean != nullptr || rstd != nullptr) {
    stats = static_cast<double*>(nbf::scratch(nbf::kScratchStats, size_t(rows) * 2 * sizeof(double)));
    if (stats == nullptr) return static_cast<int>(cudaErrorMemoryAllocation);
  }
  if (int rc = nbf_cuda_norm(nbf::kF32, rms, x, w, b, y, stats, rows, n, eps)) return rc;
  if (stats == nullptr) return 0;
  split_stats<<<nbf::grid_for(rows, 256), 256>>>(stats, mean, rstd, rows);
  return nbf::launched("nbf_cuda_norm_f32");
}


// ---- rotary position embedding ("rotate half", as native/src/tensor/rotary.cc) ----
namespace {
template <typename T>
__global__ void rotary_kernel(int backward, const T* __restrict__ x, const T* __restrict__ c, const T* __restrict__ s,
                              T* __restrict__ y, int64_t heads, int64_t time, int64_t dim, int table_batch, int64_t pairs) {
  const int64_t h = dim / 2;
  const T sign = backward ? T(-1) : T(1);
  NBF_GRID_STRIDE(k, pairs) {  // one (row, i < h) pair per step
    const int64_t r = k / h, i = k % h;
    const int64_t t = r % time, b = r / (heads * time);
    const int64_t tr = (table_batch ? b * time : 0) + t;
    const T* xr = x + r * dim;
    const T* cr = c + tr * dim;
    const T* sr = s + tr * dim;
    const T lo = xr[i], hi = xr[i + h];
    // forward: sin at the output's own index; backward: at the partner's index
    y[r * dim + i] = lo * cr[i] - sign * hi * (backward ? sr[i + h] : sr[i]);
    y[r * dim + i + h] = hi * cr[i + h] + sign * lo * (backward ? sr[i] : sr[i + h]);
  }
}
}  // namespace

// x, out [batch, heads, time, dim] contiguous; cos, sin [table_batch > 1 ? batch : 1, time, dim] contiguous.
NBF_API int nbf_cuda_rotary(int dtype, int backward, const void* x, const void* cos, const void* sin, void* out, int64_t batch,
                            int64_t heads, int64_t time, int64_t dim, int table_batch) {
  const int64_t pairs = batch * heads * time * (dim / 2);
  if (pairs <= 0) return 0;
  const int grid = nbf::grid_for(pairs, 256);
  if (dtype == nbf::kF32)
    rotary_kernel<float><<<grid, 256>>>(backward, static_cast<const float*>(x), static_cast<const float*>(cos), static_cast<const float*>(sin),
                                        static_cast<float*>(out), heads, time, dim, table_batch, pairs);
  else if (dtype == nbf::kF64)
    rotary_kernel<double><<<grid, 256>>>(backward, static_cast<const double*>(x), static_cast<const double*>(cos), static_cast<const double*>(sin),
                                         static_cast<double*>(out), heads, time, dim, table_batch, pairs);
  else
    return nbf::invalid("nbf_cuda_rotary: float32 or float64");
  return nbf::launched("nbf_cuda_rotary");
}
