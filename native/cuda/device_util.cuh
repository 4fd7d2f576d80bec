// Device helpers shared by the kernels: warp/block reductions (one thread block
// per row; blockDim.x a multiple of 32, at most 1024), the row kernels' launch
// size, and Philox4x32-10 (word for word native/src/tensor/philox.h, so a seed
// and counter give the CPU's random numbers).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace nbf {

template <typename T>
__device__ __forceinline__ T warp_sum(T v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// Block-wide sum; every thread gets it. `scratch` holds 32 values.
template <typename T>
__device__ __forceinline__ T block_sum(T v, T* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
  v = warp_sum(v);
  __syncthreads();  // scratch may still be read from a previous call
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < warps ? scratch[lane] : T(0);
  return warp_sum(v);
}

// max that propagates NaN (the CPU kernels' max).
template <typename T>
__device__ __forceinline__ T max_nan(T a, T b) { return (a != a || a > b) ? a : b; }

// Block-wide NaN-propagating max.
template <typename T>
__device__ __forceinline__ T block_max_nan(T v, T* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
  for (int o = 16; o > 0; o >>= 1) v = max_nan(v, __shfl_xor_sync(0xffffffffu, v, o));
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < warps ? scratch[lane] : T(-INFINITY);
  for (int o = 16; o > 0; o >>= 1) v = max_nan(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Block-wide max of doubles that skips NaN (as std::max(m, x) in a loop does).
__device__ __forceinline__ double block_fmax(double v, double* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
  for (int o = 16; o > 0; o >>= 1) v = fmax(v, __shfl_xor_sync(0xffffffffu, v, o));
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < warps ? scratch[lane] : -INFINITY;
  for (int o = 16; o > 0; o >>= 1) v = fmax(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Threads for one block per row of n: about 4 elements each, a multiple of 32, 32..1024.
inline int row_threads(int64_t n) {
  int64_t t = (n + 3) / 4;
  t = (t + 31) / 32 * 32;
  return static_cast<int>(t < 32 ? 32 : (t > 1024 ? 1024 : t));
}

// Four 32-bit random words for one counter value under key (k0, k1).
__device__ __forceinline__ void philox_block(uint32_t k0, uint32_t k1, uint64_t counter, uint32_t out[4]) {
  uint32_t c0 = uint32_t(counter), c1 = uint32_t(counter >> 32), c2 = 0, c3 = 0, a = k0, b = k1;
#pragma unroll
  for (int r = 0; r < 10; ++r) {
    const uint32_t hi0 = __umulhi(0xD2511F53u, c0), lo0 = 0xD2511F53u * c0;
    const uint32_t hi1 = __umulhi(0xCD9E8D57u, c2), lo1 = 0xCD9E8D57u * c2;
    c0 = hi1 ^ c1 ^ a;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ b;
    c3 = lo0;
    a += 0x9E3779B9u;
    b += 0xBB67AE85u;
  }
  out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

}  // namespace nbf
