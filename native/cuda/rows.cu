// Row kernels over the last dimension, one thread block per row: softmax and
// log-softmax (+ backward), sum/mean/max, layer_norm/rms_norm forward. Same
// semantics as the CPU kernels (loops.inc, kernels.cc, norm.cc): the row max is
// subtracted before exp, sums and norm statistics accumulate in double, NaN
// propagates through max.
#include <cfloat>

#include "common.cuh"

namespace {

template <typename T>
__device__ __forceinline__ T warp_sum(T v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__device__ __forceinline__ float max_nan(float a, float b) { return (a != a || a > b) ? a : b; }

__device__ __forceinline__ float warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = max_nan(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Block-wide reductions; every thread gets the result. `scratch` holds 32 values.
template <typename T>
__device__ T block_sum(T v, T* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
  v = warp_sum(v);
  __syncthreads();  // scratch may still be read from a previous call
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < warps ? scratch[lane] : T(0);
  return warp_sum(v);
}

__device__ float block_max(float v, float* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
  v = warp_max(v);
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < warps ? scratch[lane] : -INFINITY;
  return warp_max(v);
}

__global__ void softmax_kernel(int log, const float* __restrict__ x, float* __restrict__ y, int64_t n) {
  __shared__ float fs[32];
  __shared__ double ds[32];
  const float* xr = x + int64_t(blockIdx.x) * n;
  float* yr = y + int64_t(blockIdx.x) * n;
  float m = -INFINITY;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) m = max_nan(m, xr[i]);
  m = block_max(m, fs);
  double s = 0;
  if (log) {
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) s += double(expf(xr[i] - m));
    s = block_sum(s, ds);
    const float lse = m + float(::log(s));
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) yr[i] = xr[i] - lse;
  } else {
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) s += double(expf(xr[i] - m));
    s = block_sum(s, ds);
    const float inv = float(1.0 / s);
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) yr[i] = expf(xr[i] - m) * inv;
  }
}

__global__ void softmax_backward_kernel(int log, const float* __restrict__ y, const float* __restrict__ gy,
                                        float* __restrict__ gx, int64_t n) {
  __shared__ double ds[32];
  const int64_t off = int64_t(blockIdx.x) * n;
  const float* yr = y + off;
  const float* gr = gy + off;
  float* out = gx + off;
  double s = 0;
  if (log) {
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) s += double(gr[i]);
    const float st = float(block_sum(s, ds));
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) out[i] = gr[i] - expf(yr[i]) * st;
  } else {
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) s += double(gr[i]) * double(yr[i]);
    const float st = float(block_sum(s, ds));
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) out[i] = yr[i] * (gr[i] - st);
  }
}

__global__ void reduce_kernel(int op, const float* __restrict__ x, float* __restrict__ y, int64_t n) {
  __shared__ float fs[32];
  __shared__ double ds[32];
  const float* xr = x + int64_t(blockIdx.x) * n;
  if (op == 2) {
    float m = -INFINITY;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) m = max_nan(m, xr[i]);
    m = block_max(m, fs);
    if (threadIdx.x == 0) y[blockIdx.x] = m;
  } else {
    double s = 0;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) s += double(xr[i]);
    s = block_sum(s, ds);
    if (threadIdx.x == 0) y[blockIdx.x] = float(op == 1 ? s / double(n) : s);
  }
}

__global__ void norm_kernel(int rms, const float* __restrict__ x, const float* __restrict__ w,
                            const float* __restrict__ b, float* __restrict__ y, float* __restrict__ mean_out,
                            float* __restrict__ rstd_out, int64_t n, double eps) {
  __shared__ double ds[32];
  const int64_t off = int64_t(blockIdx.x) * n;
  const float* xr = x + off;
  float* yr = y + off;
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
  const float fm = float(mean), fr = float(rstd);
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    float v = (xr[i] - fm) * fr;
    if (w != nullptr) v *= w[i];
    if (b != nullptr) v += b[i];
    yr[i] = v;
  }
  if (threadIdx.x == 0) {
    if (mean_out != nullptr) mean_out[blockIdx.x] = fm;
    if (rstd_out != nullptr) rstd_out[blockIdx.x] = fr;
  }
}

// Threads per row: enough for ~4 elements each, a multiple of 32, 32..1024.
int threads_for(int64_t n) {
  int64_t t = (n + 3) / 4;
  t = (t + 31) / 32 * 32;
  if (t < 32) t = 32;
  if (t > 1024) t = 1024;
  return static_cast<int>(t);
}

int check_rows(int64_t rows, int64_t n, const char* name) {
  if (rows < 0 || n < 0) return nbf::invalid(name);
  if (rows > 2147483647LL) return nbf::invalid("row kernels: more than 2^31-1 rows");
  return 0;
}

}  // namespace

NBF_API int nbf_cuda_softmax_f32(int log, const float* x, float* y, int64_t rows, int64_t n) {
  if (int rc = check_rows(rows, n, "nbf_cuda_softmax_f32: negative size")) return rc;
  if (rows == 0 || n == 0) return 0;
  softmax_kernel<<<static_cast<unsigned>(rows), threads_for(n)>>>(log, x, y, n);
  return nbf::launched("nbf_cuda_softmax_f32");
}

NBF_API int nbf_cuda_softmax_backward_f32(int log, const float* y, const float* gy, float* gx, int64_t rows,
                                          int64_t n) {
  if (int rc = check_rows(rows, n, "nbf_cuda_softmax_backward_f32: negative size")) return rc;
  if (rows == 0 || n == 0) return 0;
  softmax_backward_kernel<<<static_cast<unsigned>(rows), threads_for(n)>>>(log, y, gy, gx, n);
  return nbf::launched("nbf_cuda_softmax_backward_f32");
}

NBF_API int nbf_cuda_reduce_last_f32(int op, const float* x, float* y, int64_t rows, int64_t n) {
  if (op < 0 || op > 2) return nbf::invalid("nbf_cuda_reduce_last_f32: op must be 0 (sum), 1 (mean) or 2 (max)");
  if (int rc = check_rows(rows, n, "nbf_cuda_reduce_last_f32: negative size")) return rc;
  if (n == 0 && rows > 0) return nbf::invalid("nbf_cuda_reduce_last_f32: cannot reduce over an empty dimension");
  if (rows == 0) return 0;
  reduce_kernel<<<static_cast<unsigned>(rows), threads_for(n)>>>(op, x, y, n);
  return nbf::launched("nbf_cuda_reduce_last_f32");
}

NBF_API int nbf_cuda_norm_f32(int rms, const float* x, const float* w, const float* b, float* y, float* mean,
                              float* rstd, int64_t rows, int64_t n, double eps) {
  if (int rc = check_rows(rows, n, "nbf_cuda_norm_f32: negative size")) return rc;
  if (rows == 0 || n == 0) return 0;
  norm_kernel<<<static_cast<unsigned>(rows), threads_for(n)>>>(rms, x, w, b, y, mean, rstd, n, eps);
  return nbf::launched("nbf_cuda_norm_f32");
}
