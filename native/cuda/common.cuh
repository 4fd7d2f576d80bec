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
