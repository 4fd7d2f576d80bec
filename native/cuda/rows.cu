// Row kernels over the last dimension, one thread block per row: softmax and
// log-softmax (+ backward), sum/mean/max (layer/rms norm: nn.cu). Same
// semantics as the CPU kernels (loops.inc, kernels.cc, norm.cc): the row max is
// subtracted before exp, sums and norm statistics accumulate in double, NaN
// propagates through max.
#include <cfloat>

#include "common.cuh"
#include "device_util.cuh"

namespace {

using nbf::block_sum;
using nbf::max_nan;

__device__ __forceinline__ float block_max(float v, float* scratch) { return nbf::block_max_nan(v, scratch); }

// T: float or double; the row sum is double either way.
template <typename T>
__global__ void softmax_kernel(int log, const T* __restrict__ x, T* __restrict__ y, int64_t n) {
  __shared__ T ts[32];
  __shared__ double ds[32];
  const T* xr = x + int64_t(blockIdx.x) * n;
  T* yr = y + int64_t(blockIdx.x) * n;
  T m = T(-INFINITY);
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) m = max_nan(m, xr[i]);
  m = nbf::block_max_nan(m, ts);
  double s = 0;
  if (log) {
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) s += double(exp(xr[i] - m));
    s = block_sum(s, ds);
    const T lse = m + T(::log(s));
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) yr[i] = xr[i] - lse;
  } else {
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) s += double(exp(xr[i] - m));
    s = block_sum(s, ds);
    const T inv = T(1.0 / s);
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) yr[i] = exp(xr[i] - m) * inv;
  }
}

template <typename T>
__global__ void softmax_backward_kernel(int log, const T* __restrict__ y, const T* __restrict__ gy,
                                        T* __restrict__ gx, int64_t n) {
  __shared__ double ds[32];
  const int64_t off = int64_t(blockIdx.x) * n;
  const T* yr = y + off;
  const T* gr = gy + off;
  T* out = gx + off;
  double s = 0;
  if (log) {
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) s += double(gr[i]);
    const T st = T(block_sum(s, ds));
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) out[i] = gr[i] - exp(yr[i]) * st;
  } else {
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) s += double(gr[i]) * double(yr[i]);
    const T st = T(block_sum(s, ds));
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

int check_rows(int64_t rows, int64_t n, const char* name) {
  if (rows < 0 || n < 0) return nbf::invalid(name);
  if (rows > 2147483647LL) return nbf::invalid("row kernels: more than 2^31-1 rows");
  return 0;
}

}  // namespace

NBF_API int nbf_cuda_softmax(int log, int dtype, const void* x, void* y, int64_t rows, int64_t n) {
  if (int rc = check_rows(rows, n, "nbf_cuda_softmax: negative size")) return rc;
  if (rows == 0 || n == 0) return 0;
  if (dtype == nbf::kF32) {
    softmax_kernel<float><<<static_cast<unsigned>(rows), nbf::row_threads(n)>>>(log, static_cast<const float*>(x), static_cast<float*>(y), n);
  } else if (dtype == nbf::kF64) {
    softmax_kernel<double><<<static_cast<unsigned>(rows), nbf::row_threads(n)>>>(log, static_cast<const double*>(x), static_cast<double*>(y), n);
  } else {
    return nbf::invalid("nbf_cuda_softmax: float32 or float64");
  }
  return nbf::launched("nbf_cuda_softmax");
}

NBF_API int nbf_cuda_softmax_backward(int log, int dtype, const void* y, const void* gy, void* gx, int64_t rows, int64_t n) {
  if (int rc = check_rows(rows, n, "nbf_cuda_softmax_backward: negative size")) return rc;
  if (rows == 0 || n == 0) return 0;
  const unsigned grid = static_cast<unsigned>(rows);
  if (dtype == nbf::kF32) {
    softmax_backward_kernel<float><<<grid, nbf::row_threads(n)>>>(log, static_cast<const float*>(y), static_cast<const float*>(gy),
                                                                  static_cast<float*>(gx), n);
  } else if (dtype == nbf::kF64) {
    softmax_backward_kernel<double><<<grid, nbf::row_threads(n)>>>(log, static_cast<const double*>(y), static_cast<const double*>(gy),
                                                                   static_cast<double*>(gx), n);
  } else {
    return nbf::invalid("nbf_cuda_softmax_backward: float32 or float64");
  }
  return nbf::launched("nbf_cuda_softmax_backward");
}

NBF_API int nbf_cuda_softmax_f32(int log, const float* x, float* y, int64_t rows, int64_t n) {
  return nbf_cuda_softmax(log, nbf::kF32, x, y, rows, n);
}

NBF_API int nbf_cuda_softmax_backward_f32(int log, const float* y, const float* gy, float* gx, int64_t rows, int64_t n) {
  return nbf_cuda_softmax_backward(log, nbf::kF32, y, gy, gx, rows, n);
}

NBF_API int nbf_cuda_reduce_last_f32(int op, const float* x, float* y, int64_t rows, int64_t n) {
  if (op < 0 || op > 2) return nbf::invalid("nbf_cuda_reduce_last_f32: op must be 0 (sum), 1 (mean) or 2 (max)");
  if (int rc = check_rows(rows, n, "nbf_cuda_reduce_last_f32: negative size")) return rc;
  if (n == 0 && rows > 0) return nbf::invalid("nbf_cuda_reduce_last_f32: cannot reduce over an empty dimension");
  if (rows == 0) return 0;
  reduce_kernel<<<static_cast<unsigned>(rows), nbf::row_threads(n)>>>(op, x, y, n);
  return nbf::launched("nbf_cuda_reduce_last_f32");
}
