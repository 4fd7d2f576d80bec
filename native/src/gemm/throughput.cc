#include "gemm/throughput.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>

#include "cpu_features.h"
#include "parallel.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define NBFORGE_THROUGHPUT_AVX2 1
#include <immintrin.h>
#endif

namespace nbforge {
namespace {

// Elements per parallel chunk: big enough that the pool's hand-off is noise.
constexpr int64_t kGrain = 1 << 16;

#ifdef NBFORGE_THROUGHPUT_AVX2
// 12 independent accumulator chains (more than latency x throughput of any
// current core); returns the FLOPs done. The results feed a sink so the loop stays.
__attribute__((target("avx2,fma"))) double fma_loop_avx2(int64_t iterations, float* sink) {
  __m256 x = _mm256_set1_ps(0.999999f);
  __m256 y = _mm256_set1_ps(1e-7f);
  __m256 r0 = _mm256_set1_ps(0.0f), r1 = _mm256_set1_ps(0.1f), r2 = _mm256_set1_ps(0.2f),
         r3 = _mm256_set1_ps(0.3f), r4 = _mm256_set1_ps(0.4f), r5 = _mm256_set1_ps(0.5f),
         r6 = _mm256_set1_ps(0.6f), r7 = _mm256_set1_ps(0.7f), r8 = _mm256_set1_ps(0.8f),
         r9 = _mm256_set1_ps(0.9f), r10 = _mm256_set1_ps(1.0f), r11 = _mm256_set1_ps(1.1f);
  for (int64_t i = 0; i < iterations; ++i) {
    r0 = _mm256_fmadd_ps(r0, x, y);
    r1 = _mm256_fmadd_ps(r1, x, y);
    r2 = _mm256_fmadd_ps(r2, x, y);
    r3 = _mm256_fmadd_ps(r3, x, y);
    r4 = _mm256_fmadd_ps(r4, x, y);
    r5 = _mm256_fmadd_ps(r5, x, y);
    r6 = _mm256_fmadd_ps(r6, x, y);
    r7 = _mm256_fmadd_ps(r7, x, y);
    r8 = _mm256_fmadd_ps(r8, x, y);
    r9 = _mm256_fmadd_ps(r9, x, y);
    r10 = _mm256_fmadd_ps(r10, x, y);
    r11 = _mm256_fmadd_ps(r11, x, y);
    __asm__ volatile("" : "+x"(r0), "+x"(r1), "+x"(r2), "+x"(r3), "+x"(r4), "+x"(r5));
  }
  __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(r0, r1), _mm256_add_ps(r2, r3)),
                           _mm256_add_ps(_mm256_add_ps(r4, r5), _mm256_add_ps(r6, r7)));
  s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(r8, r9), _mm256_add_ps(r10, r11)));
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, s);
  *sink = lanes[0];
  return static_cast<double>(iterations) * 12 * 8 * 2;
}

__attribute__((target("avx2,fma"))) void add_avx2(const float* a, const float* b, float* out,
                                                  int64_t n) {
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256 x0 = _mm256_add_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    const __m256 x1 = _mm256_add_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
    const __m256 x2 = _mm256_add_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16));
    const __m256 x3 = _mm256_add_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24));
    _mm256_storeu_ps(out + i, x0);
    _mm256_storeu_ps(out + i + 8, x1);
    _mm256_storeu_ps(out + i + 16, x2);
    _mm256_storeu_ps(out + i + 24, x3);
  }
  for (; i < n; ++i) out[i] = a[i] + b[i];
}

// For arrays far beyond the caches: non-temporal stores skip reading the
// destination lines before writing them (a third less memory traffic for add).
__attribute__((target("avx2,fma"))) void add_avx2_stream(const float* a, const float* b,
                                                         float* out, int64_t n) {
  int64_t i = 0;
  for (; i < n && (reinterpret_cast<uintptr_t>(out + i) & 31) != 0; ++i) out[i] = a[i] + b[i];
  for (; i + 16 <= n; i += 16) {
    _mm256_stream_ps(out + i, _mm256_add_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
    _mm256_stream_ps(out + i + 8, _mm256_add_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8)));
  }
  _mm_sfence();
  for (; i < n; ++i) out[i] = a[i] + b[i];
}

__attribute__((target("avx2,fma"))) void copy_avx2_stream(const float* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i < n && (reinterpret_cast<uintptr_t>(dst + i) & 31) != 0; ++i) dst[i] = src[i];
  for (; i + 32 <= n; i += 32) {
    const __m256 x0 = _mm256_loadu_ps(src + i), x1 = _mm256_loadu_ps(src + i + 8);
    const __m256 x2 = _mm256_loadu_ps(src + i + 16), x3 = _mm256_loadu_ps(src + i + 24);
    _mm256_stream_ps(dst + i, x0);
    _mm256_stream_ps(dst + i + 8, x1);
    _mm256_stream_ps(dst + i + 16, x2);
    _mm256_stream_ps(dst + i + 24, x3);
  }
  _mm_sfence();
  for (; i < n; ++i) dst[i] = src[i];
}
#endif

// Above this many elements (of each array) the stores stream past the caches.
constexpr int64_t kStreamElements = int64_t(1) << 22;

double fma_loop_portable(int64_t iterations, float* sink) {
  float r[16];
  for (int j = 0; j < 16; ++j) r[j] = 0.1f * j;
  const float x = 0.999999f, y = 1e-7f;
  for (int64_t i = 0; i < iterations; ++i)
    for (int j = 0; j < 16; ++j) r[j] = r[j] * x + y;
  float s = 0;
  for (int j = 0; j < 16; ++j) s += r[j];
  *sink = s;
  return static_cast<double>(iterations) * 16 * 2;
}

void add_portable(const float* a, const float* b, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}

}  // namespace

double fma_peak_gflops(double seconds, bool portable) {
  const int threads = num_threads();
  bool avx2 = false;
#ifdef NBFORGE_THROUGHPUT_AVX2
  avx2 = cpu_has_avx2_fma() && !portable;
#endif
  auto loop = [&](int64_t iterations, float* sink) {
#ifdef NBFORGE_THROUGHPUT_AVX2
    if (avx2) return fma_loop_avx2(iterations, sink);
#endif
    return fma_loop_portable(iterations, sink);
  };
  // Calibrate a chunk of about 20 ms on one thread, then run one chunk per
  // thread at once; the best of several rounds is the peak.
  float sink = 0;
  int64_t iterations = 1 << 16;
  for (;;) {
    const auto t0 = std::chrono::steady_clock::now();
    loop(iterations, &sink);
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (dt > 0.02 || iterations > (int64_t(1) << 34)) break;
    iterations *= 2;
  }
  double best = 0;
  const auto start = std::chrono::steady_clock::now();
  do {
    std::atomic<double> flops{0};
    const auto t0 = std::chrono::steady_clock::now();
    parallel_for(0, threads, 1, [&](int64_t lo, int64_t hi) {
      float local = 0;
      double f = 0;
      for (int64_t t = lo; t < hi; ++t) f += loop(iterations, &local);
      double expected = flops.load();
      while (!flops.compare_exchange_weak(expected, expected + f)) {
      }
      sink += local * 0;  // races are harmless: the value is never used
    });
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, flops.load() / dt / 1e9);
  } while (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < seconds);
  static volatile float keep;
  keep = sink;
  (void)keep;
  return best;
}

void add_f32(const float* a, const float* b, float* out, int64_t n, bool portable) {
  bool avx2 = false;
#ifdef NBFORGE_THROUGHPUT_AVX2
  avx2 = cpu_has_avx2_fma() && !portable;
#endif
  parallel_for(0, n, kGrain, [&](int64_t lo, int64_t hi) {
#ifdef NBFORGE_THROUGHPUT_AVX2
    if (avx2 && n >= kStreamElements) return add_avx2_stream(a + lo, b + lo, out + lo, hi - lo);
    if (avx2) return add_avx2(a + lo, b + lo, out + lo, hi - lo);
#endif
    add_portable(a + lo, b + lo, out + lo, hi - lo);
  });
}

void copy_f32(const float* src, float* dst, int64_t n) {
  parallel_for(0, n, kGrain, [&](int64_t lo, int64_t hi) {
#ifdef NBFORGE_THROUGHPUT_AVX2
    if (n >= kStreamElements && cpu_has_avx2_fma()) return copy_avx2_stream(src + lo, dst + lo, hi - lo);
#endif
    std::memcpy(dst + lo, src + lo, sizeof(float) * static_cast<std::size_t>(hi - lo));
  });
}

}  // namespace nbforge
