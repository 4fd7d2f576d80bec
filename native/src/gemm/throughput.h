// Small kernels the tensor benchmark measures against: the machine's FMA peak,
// memory copy bandwidth and an elementwise add, all on the thread pool.
#pragma once

#include <cstdint>

namespace nbforge {

// Measured single-precision FMA peak of this machine in GFLOP/s: every pool
// thread runs independent 8-wide FMAs on registers for about `seconds`
// (AVX2+FMA where the CPU has it and `portable` is false; scalar otherwise).
double fma_peak_gflops(double seconds, bool portable);

// out[i] = a[i] + b[i], split across the pool (AVX2 where present unless portable).
void add_f32(const float* a, const float* b, float* out, int64_t n, bool portable);

// dst[i] = src[i] split across the pool: memcpy, or AVX2 streaming stores for large arrays.
void copy_f32(const float* src, float* dst, int64_t n);

}  // namespace nbforge
