// Dense dot products over contiguous float64 arrays.
#pragma once

#include <cstddef>

namespace nbforge {

// Portable kernel: any CPU, any compiler.
double dot_f64_scalar(const double* a, const double* b, std::size_t n);

// AVX2+FMA kernel; call only when cpu_has_avx2_fma() is true.
double dot_f64_avx2(const double* a, const double* b, std::size_t n);

// Picks the fastest kernel this CPU supports.
double dot_f64(const double* a, const double* b, std::size_t n);

}  // namespace nbforge
