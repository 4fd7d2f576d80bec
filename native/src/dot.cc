#include "dot.h"

#include "cpu_features.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define NBFORGE_HAVE_AVX2_KERNEL 1
#include <immintrin.h>
#endif

namespace nbforge {

double dot_f64_scalar(const double* a, const double* b, std::size_t n) {
  // Four independent sums keep the FPU pipeline busy without -ffast-math.
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < n; ++i) s0 += a[i] * b[i];
  return (s0 + s1) + (s2 + s3);
}

#ifdef NBFORGE_HAVE_AVX2_KERNEL
// Compiled for AVX2+FMA regardless of the build's -march, so the same binary
// runs everywhere; dot_f64 calls it only on CPUs that support it.
__attribute__((target("avx2,fma")))
double dot_f64_avx2(const double* a, const double* b, std::size_t n) {
  __m256d acc0 = _mm256_setzero_pd();
  __m256d acc1 = _mm256_setzero_pd();
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    acc0 = _mm256_fmadd_pd(_mm256_loadu_pd(a + i), _mm256_loadu_pd(b + i), acc0);
    acc1 = _mm256_fmadd_pd(_mm256_loadu_pd(a + i + 4), _mm256_loadu_pd(b + i + 4), acc1);
  }
  alignas(32) double lanes[4];
  _mm256_store_pd(lanes, _mm256_add_pd(acc0, acc1));
  double sum = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}
#else
double dot_f64_avx2(const double* a, const double* b, std::size_t n) {
  return dot_f64_scalar(a, b, n);
}
#endif

double dot_f64(const double* a, const double* b, std::size_t n) {
  return cpu_has_avx2_fma() ? dot_f64_avx2(a, b, n) : dot_f64_scalar(a, b, n);
}

}  // namespace nbforge
