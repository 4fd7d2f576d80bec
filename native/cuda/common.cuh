// Shared by the .cu files of libnbforge_cuda.so: error recording and launch sizes.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "nbforge_cuda.h"

#define NBF_API extern "C" __attribute__((visibility("default")))

namespace nbf {

// Records err (if any) as the last error; returns it as an int.
int record(cudaError_t err, const char* where);
// Records an invalid-argument error with a message.
int invalid(const char* message);
// The error of the last kernel launch.
inline int launched(const char* where) { return record(cudaGetLastError(), where); }

inline int grid_for(int64_t n, int block) {
  int64_t g = (n + block - 1) / block;
  const int64_t cap = 65535LL * 8;  // grid-stride loops cover the rest
  if (g > cap) g = cap;
  if (g < 1) g = 1;
  return static_cast<int>(g);
}

}  // namespace nbf

namespace nbf {

// dtype codes of the tensor core (native/src/tensor/storage.h).
enum DType : int { kF32 = 0, kF64 = 1, kBF16 = 2, kF16 = 3, kI32 = 4, kI64 = 5, kI8 = 6, kU8 = 7, kBool = 8 };

// Up to K strided operands over one n-d shape (ndim <= 8), passed by value to kernels.
template <int K>
struct Walk {
  int ndim;
  int64_t shape[NBF_CUDA_MAX_DIMS];
  int64_t st[K][NBF_CUDA_MAX_DIMS];
  // Element offsets of linear index i (row-major over shape) in every operand.
  __device__ __forceinline__ void offsets(int64_t i, int64_t off[K]) const {
#pragma unroll
    for (int k = 0; k < K; ++k) off[k] = 0;
    for (int d = ndim - 1; d >= 0; --d) {
      const int64_t c = i % shape[d];
      i /= shape[d];
#pragma unroll
      for (int k = 0; k < K; ++k) off[k] += c * st[k][d];
    }
  }
};

// Fills a Walk from host arrays; returns the element count, or -1 when ndim > 8.
template <int K>
int64_t make_walk(Walk<K>& w, int ndim, const int64_t* shape, const int64_t* const (&strides)[K]) {
  if (ndim < 0 || ndim > NBF_CUDA_MAX_DIMS) return -1;
  int64_t n = 1;
  w.ndim = ndim;
  for (int d = 0; d < ndim; ++d) {
    w.shape[d] = shape[d];
    n *= shape[d];
    for (int k = 0; k < K; ++k) w.st[k][d] = strides[k][d];
  }
  if (ndim == 0) {  // a scalar: one element at offset 0
    w.ndim = 1;
    w.shape[0] = 1;
    for (int k = 0; k < K; ++k) w.st[k][0] = 0;
  }
  return n;
}

#define NBF_GRID_STRIDE(i, n) \
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); i += int64_t(blockDim.x) * gridDim.x)

}  // namespace nbf

namespace nbf {
inline int dtype_bytes(int dt) {
  switch (dt) {
    case kF64: case kI64: return 8;
    case kF32: case kI32: return 4;
    case kBF16: case kF16: return 2;
    default: return 1;
  }
}
}  // namespace nbf

namespace nbf {
// Grow-only device scratch buffers, one per slot, kept for the process's life:
// kernels on the default stream run in order, so a call may reuse the buffer
// the previous call's kernels used without synchronising (cudaFree would).
enum ScratchSlot : int {
  kScratchLoss = 0, kScratchAttention, kScratchStats, kScratchNormOut, kScratchPartials, kScratchDraws, kScratchFlag, kScratchSlots
};
// A device buffer of at least `bytes` for `slot`, or nullptr (the error recorded).
void* scratch(int slot, size_t bytes);
}  // namespace nbf
