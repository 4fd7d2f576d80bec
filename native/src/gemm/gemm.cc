// Our GEMM: the BLIS/Goto loop nest.
//
//   for jc in N by NC:                    B block (KC x NC) lives in L3
//     for pc in K by KC:
//       pack op(B)[pc, jc] into NR-wide panels
//       for ic in M by MC:                A block (MC x KC) lives in L2
//         pack op(A)[ic, pc] into MR-tall panels
//         for jr in NC by NR:             B micro-panel (KC x NR) lives in L1
//           for ir in MC by MR:
//             micro-kernel: MR x NR tile of C in registers, KC rank-1 updates
//
// Threads: one pool hand-off per product. Usually the rows of C are split
// between the threads, which share each packed B block (each packs a share of
// its panels; two spin-barrier meetings per block). When M is too short, C is
// cut by columns too and each thread runs the whole nest on its own block.
//
// The micro-kernels are 6x16 (float) and 6x8 (double) with AVX2+FMA, picked at
// run time, and 4x8 / 4x4 plain C++ elsewhere. Edge tiles run the same kernel
// into a scratch tile, then copy the valid part. beta applies on the first
// KC step only; beta == 0 never reads C (so NaNs in C do not leak through).
#include "gemm/gemm.h"

#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <thread>

#include "cpu_features.h"
#include "gemm/backend.h"
#include "parallel.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define NBFORGE_GEMM_AVX2 1
#include <immintrin.h>
#endif

namespace nbforge {
namespace gemm {
namespace {

// ---------------------------------------------------------------------------
// Run-time state.

std::atomic<bool> g_force_portable{false};
std::atomic<int> g_backend{static_cast<int>(Backend::Nbforge)};
// Row-split threads share one packed B (NBFORGE_GEMM_SHARE_B=0 turns it off, to compare).
std::atomic<bool> g_share_b{[] {
  const char* env = std::getenv("NBFORGE_GEMM_SHARE_B");
  return !(env && env[0] == '0');
}()};

// Defaults tuned on a 2-core Zen (48 KiB L1d, 1 MiB L2, 32 MiB L3); see bench/tensor.mjs.
std::atomic<int64_t> g_f32_mc{144}, g_f32_kc{384}, g_f32_nc{4080};
std::atomic<int64_t> g_f64_mc{96}, g_f64_kc{256}, g_f64_nc{2040};

// ---------------------------------------------------------------------------
// Aligned scratch buffers, one set per thread, grown on demand and kept.

struct Scratch {
  void* ptr = nullptr;
  std::size_t bytes = 0;
  ~Scratch() { std::free(ptr); }
  void* get(std::size_t need) {
    if (need > bytes) {
      std::free(ptr);
      bytes = (need + 4095) & ~static_cast<std::size_t>(4095);
      ptr = std::aligned_alloc(64, bytes);
      if (!ptr) {
        bytes = 0;
        throw std::bad_alloc();
      }
    }
    return ptr;
  }
};

thread_local Scratch t_pack_a;
thread_local Scratch t_pack_b;

// ---------------------------------------------------------------------------
// Packing. op(A) is M x K: element (i, p) is a[i*lda + p], or a[p*lda + i] when
// transposed. Panels of MR rows are stored k-major: dst[p*MR + i], zero-padded.

template <typename T, int MR>
void pack_a(bool trans, const T* a, int64_t lda, int64_t i0, int64_t mc, int64_t p0, int64_t kc,
            T* dst) {
  for (int64_t ir = 0; ir < mc; ir += MR) {
    const int64_t rows = std::min<int64_t>(MR, mc - ir);
    T* d = dst + ir * kc;
    if (!trans) {
      const T* src[MR];
      for (int i = 0; i < MR; ++i) src[i] = a + (i0 + ir + std::min<int64_t>(i, rows - 1)) * lda + p0;
      if (rows == MR) {
        for (int64_t p = 0; p < kc; ++p)
          for (int i = 0; i < MR; ++i) d[p * MR + i] = src[i][p];
      } else {
        for (int64_t p = 0; p < kc; ++p)
          for (int i = 0; i < MR; ++i) d[p * MR + i] = i < rows ? src[i][p] : T(0);
      }
    } else {
      const T* src = a + p0 * lda + i0 + ir;
      if (rows == MR) {
        for (int64_t p = 0; p < kc; ++p)
          for (int i = 0; i < MR; ++i) d[p * MR + i] = src[p * lda + i];
      } else {
        for (int64_t p = 0; p < kc; ++p)
          for (int i = 0; i < MR; ++i) d[p * MR + i] = i < rows ? src[p * lda + i] : T(0);
      }
    }
  }
}

// op(B) is K x N: element (p, j) is b[p*ldb + j], or b[j*ldb + p] when transposed.
// Packs the NR-wide panels [panel_begin, panel_end) of columns j0.. j0+nc.
template <typename T, int NR>
void pack_b(bool trans, const T* b, int64_t ldb, int64_t p0, int64_t kc, int64_t j0, int64_t nc,
            int64_t panel_begin, int64_t panel_end, T* dst) {
  for (int64_t panel = panel_begin; panel < panel_end; ++panel) {
    const int64_t jr = panel * NR;
    const int64_t cols = std::min<int64_t>(NR, nc - jr);
    T* d = dst + jr * kc;
    if (!trans) {
      const T* src = b + p0 * ldb + j0 + jr;
      if (cols == NR) {
        for (int64_t p = 0; p < kc; ++p)
          for (int j = 0; j < NR; ++j) d[p * NR + j] = src[p * ldb + j];
      } else {
        for (int64_t p = 0; p < kc; ++p)
          for (int j = 0; j < NR; ++j) d[p * NR + j] = j < cols ? src[p * ldb + j] : T(0);
      }
    } else {
      const T* src[NR];
      for (int j = 0; j < NR; ++j) src[j] = b + (j0 + jr + std::min<int64_t>(j, cols - 1)) * ldb + p0;
      if (cols == NR) {
        for (int64_t p = 0; p < kc; ++p)
          for (int j = 0; j < NR; ++j) d[p * NR + j] = src[j][p];
      } else {
        for (int64_t p = 0; p < kc; ++p)
          for (int j = 0; j < NR; ++j) d[p * NR + j] = j < cols ? src[j][p] : T(0);
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Micro-kernels: C[0:MR, 0:NR] = alpha * sum_p a[p*MR + i] * b[p*NR + j] + beta * C
// (C not read when beta == 0).

template <typename T>
using MicroKernel = void (*)(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, T alpha, T beta);

template <typename T, int MR, int NR>
void micro_portable(int64_t kc, const T* a, const T* b, T* c, int64_t ldc, T alpha, T beta) {
  T acc[MR][NR] = {};
  for (int64_t p = 0; p < kc; ++p) {
    for (int i = 0; i < MR; ++i) {
      const T ai = a[p * MR + i];
      for (int j = 0; j < NR; ++j) acc[i][j] += ai * b[p * NR + j];
    }
  }
  for (int i = 0; i < MR; ++i) {
    T* ci = c + i * ldc;
    if (beta == T(0)) {
      for (int j = 0; j < NR; ++j) ci[j] = alpha * acc[i][j];
    } else {
      for (int j = 0; j < NR; ++j) ci[j] = alpha * acc[i][j] + beta * ci[j];
    }
  }
}

#ifdef NBFORGE_GEMM_AVX2

#define NBFORGE_F32_ROW(i)                          \
  {                                                 \
    const __m256 ai = _mm256_broadcast_ss(a + (i)); \
    c##i##0 = _mm256_fmadd_ps(ai, b0, c##i##0);     \
    c##i##1 = _mm256_fmadd_ps(ai, b1, c##i##1);     \
  }
#define NBFORGE_F32_STEP                        \
  {                                             \
    const __m256 b0 = _mm256_load_ps(b);        \
    const __m256 b1 = _mm256_load_ps(b + 8);    \
    NBFORGE_F32_ROW(0)                          \
    NBFORGE_F32_ROW(1)                          \
    NBFORGE_F32_ROW(2)                          \
    NBFORGE_F32_ROW(3)                          \
    NBFORGE_F32_ROW(4)                          \
    NBFORGE_F32_ROW(5)                          \
    a += 6;                                     \
    b += 16;                                    \
  }
#define NBFORGE_F32_STORE(i)                                                              \
  {                                                                                       \
    float* ci = c + (i) * ldc;                                                            \
    if (beta == 0.0f) {                                                                   \
      _mm256_storeu_ps(ci, _mm256_mul_ps(va, c##i##0));                                   \
      _mm256_storeu_ps(ci + 8, _mm256_mul_ps(va, c##i##1));                               \
    } else {                                                                              \
      _mm256_storeu_ps(ci, _mm256_fmadd_ps(va, c##i##0, _mm256_mul_ps(vb, _mm256_loadu_ps(ci)))); \
      _mm256_storeu_ps(ci + 8,                                                            \
                       _mm256_fmadd_ps(va, c##i##1, _mm256_mul_ps(vb, _mm256_loadu_ps(ci + 8)))); \
    }                                                                                     \
  }

__attribute__((target("avx2,fma"))) void micro_f32_6x16_avx2(int64_t kc, const float* a,
                                                              const float* b, float* c,
                                                              int64_t ldc, float alpha,
                                                              float beta) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (int i = 0; i < 6; ++i) _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
  int64_t p = 0;
  for (; p + 4 <= kc; p += 4) {
    _mm_prefetch(reinterpret_cast<const char*>(a + 96), _MM_HINT_T0);
    NBFORGE_F32_STEP
    NBFORGE_F32_STEP
    _mm_prefetch(reinterpret_cast<const char*>(a + 96), _MM_HINT_T0);
    NBFORGE_F32_STEP
    NBFORGE_F32_STEP
  }
  for (; p < kc; ++p) NBFORGE_F32_STEP
  const __m256 va = _mm256_set1_ps(alpha);
  const __m256 vb = _mm256_set1_ps(beta);
  NBFORGE_F32_STORE(0)
  NBFORGE_F32_STORE(1)
  NBFORGE_F32_STORE(2)
  NBFORGE_F32_STORE(3)
  NBFORGE_F32_STORE(4)
  NBFORGE_F32_STORE(5)
}

#define NBFORGE_F64_ROW(i)                          \
  {                                                 \
    const __m256d ai = _mm256_broadcast_sd(a + (i)); \
    c##i##0 = _mm256_fmadd_pd(ai, b0, c##i##0);     \
    c##i##1 = _mm256_fmadd_pd(ai, b1, c##i##1);     \
  }
#define NBFORGE_F64_STEP                        \
  {                                             \
    const __m256d b0 = _mm256_load_pd(b);       \
    const __m256d b1 = _mm256_load_pd(b + 4);   \
    NBFORGE_F64_ROW(0)                          \
    NBFORGE_F64_ROW(1)                          \
    NBFORGE_F64_ROW(2)                          \
    NBFORGE_F64_ROW(3)                          \
    NBFORGE_F64_ROW(4)                          \
    NBFORGE_F64_ROW(5)                          \
    a += 6;                                     \
    b += 8;                                     \
  }
#define NBFORGE_F64_STORE(i)                                                              \
  {                                                                                       \
    double* ci = c + (i) * ldc;                                                           \
    if (beta == 0.0) {                                                                    \
      _mm256_storeu_pd(ci, _mm256_mul_pd(va, c##i##0));                                   \
      _mm256_storeu_pd(ci + 4, _mm256_mul_pd(va, c##i##1));                               \
    } else {                                                                              \
      _mm256_storeu_pd(ci, _mm256_fmadd_pd(va, c##i##0, _mm256_mul_pd(vb, _mm256_loadu_pd(ci)))); \
      _mm256_storeu_pd(ci + 4,                                                            \
                       _mm256_fmadd_pd(va, c##i##1, _mm256_mul_pd(vb, _mm256_loadu_pd(ci + 4)))); \
    }                                                                                     \
  }

__attribute__((target("avx2,fma"))) void micro_f64_6x8_avx2(int64_t kc, const double* a,
                                                             const double* b, double* c,
                                                             int64_t ldc, double alpha,
                                                             double beta) {
  __m256d c00 = _mm256_setzero_pd(), c01 = _mm256_setzero_pd();
  __m256d c10 = _mm256_setzero_pd(), c11 = _mm256_setzero_pd();
  __m256d c20 = _mm256_setzero_pd(), c21 = _mm256_setzero_pd();
  __m256d c30 = _mm256_setzero_pd(), c31 = _mm256_setzero_pd();
  __m256d c40 = _mm256_setzero_pd(), c41 = _mm256_setzero_pd();
  __m256d c50 = _mm256_setzero_pd(), c51 = _mm256_setzero_pd();
  for (int i = 0; i < 6; ++i) _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
  int64_t p = 0;
  for (; p + 4 <= kc; p += 4) {
    _mm_prefetch(reinterpret_cast<const char*>(a + 48), _MM_HINT_T0);
    NBFORGE_F64_STEP
    NBFORGE_F64_STEP
    _mm_prefetch(reinterpret_cast<const char*>(a + 48), _MM_HINT_T0);
    NBFORGE_F64_STEP
    NBFORGE_F64_STEP
  }
  for (; p < kc; ++p) NBFORGE_F64_STEP
  const __m256d va = _mm256_set1_pd(alpha);
  const __m256d vb = _mm256_set1_pd(beta);
  NBFORGE_F64_STORE(0)
  NBFORGE_F64_STORE(1)
  NBFORGE_F64_STORE(2)
  NBFORGE_F64_STORE(3)
  NBFORGE_F64_STORE(4)
  NBFORGE_F64_STORE(5)
}

// Packing compiled for AVX2 too. The two gathers (row-major A into 6-row
// panels, transposed B into 16-column panels) transpose 8x8 blocks in registers.
__attribute__((target("avx2,fma"))) inline void transpose8x8(__m256& x0, __m256& x1, __m256& x2,
                                                              __m256& x3, __m256& x4, __m256& x5,
                                                              __m256& x6, __m256& x7) {
  const __m256 t0 = _mm256_unpacklo_ps(x0, x1), t1 = _mm256_unpackhi_ps(x0, x1);
  const __m256 t2 = _mm256_unpacklo_ps(x2, x3), t3 = _mm256_unpackhi_ps(x2, x3);
  const __m256 t4 = _mm256_unpacklo_ps(x4, x5), t5 = _mm256_unpackhi_ps(x4, x5);
  const __m256 t6 = _mm256_unpacklo_ps(x6, x7), t7 = _mm256_unpackhi_ps(x6, x7);
  const __m256 s0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 s1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 s2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 s3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 s4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 s5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 s6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 s7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
  x0 = _mm256_permute2f128_ps(s0, s4, 0x20);
  x1 = _mm256_permute2f128_ps(s1, s5, 0x20);
  x2 = _mm256_permute2f128_ps(s2, s6, 0x20);
  x3 = _mm256_permute2f128_ps(s3, s7, 0x20);
  x4 = _mm256_permute2f128_ps(s0, s4, 0x31);
  x5 = _mm256_permute2f128_ps(s1, s5, 0x31);
  x6 = _mm256_permute2f128_ps(s2, s6, 0x31);
  x7 = _mm256_permute2f128_ps(s3, s7, 0x31);
}

__attribute__((target("avx2,fma"))) void pack_a_f32_avx2(bool t, const float* a, int64_t lda,
                                                          int64_t i0, int64_t mc, int64_t p0,
                                                          int64_t kc, float* dst) {
  if (t) return pack_a<float, 6>(t, a, lda, i0, mc, p0, kc, dst);
  int64_t ir = 0;
  for (; ir + 6 <= mc; ir += 6) {
    const float* r = a + (i0 + ir) * lda + p0;
    float* d = dst + ir * kc;
    int64_t p = 0;
    // Each column of 6 is stored as 8 floats; the 2 extra land where the next
    // column (or the next panel, or the buffer's slack) is written afterwards.
    for (; p + 8 <= kc; p += 8) {
      __m256 x0 = _mm256_loadu_ps(r + p), x1 = _mm256_loadu_ps(r + lda + p);
      __m256 x2 = _mm256_loadu_ps(r + 2 * lda + p), x3 = _mm256_loadu_ps(r + 3 * lda + p);
      __m256 x4 = _mm256_loadu_ps(r + 4 * lda + p), x5 = _mm256_loadu_ps(r + 5 * lda + p);
      __m256 x6 = _mm256_setzero_ps(), x7 = _mm256_setzero_ps();
      transpose8x8(x0, x1, x2, x3, x4, x5, x6, x7);
      float* o = d + p * 6;
      _mm256_storeu_ps(o, x0);
      _mm256_storeu_ps(o + 6, x1);
      _mm256_storeu_ps(o + 12, x2);
      _mm256_storeu_ps(o + 18, x3);
      _mm256_storeu_ps(o + 24, x4);
      _mm256_storeu_ps(o + 30, x5);
      _mm256_storeu_ps(o + 36, x6);
      _mm256_storeu_ps(o + 42, x7);
    }
    for (; p < kc; ++p)
      for (int i = 0; i < 6; ++i) d[p * 6 + i] = r[i * lda + p];
  }
  if (ir < mc) pack_a<float, 6>(t, a, lda, i0 + ir, mc - ir, p0, kc, dst + ir * kc);
}

__attribute__((target("avx2,fma"))) void pack_b_f32_avx2(bool t, const float* b, int64_t ldb,
                                                          int64_t p0, int64_t kc, int64_t j0,
                                                          int64_t nc, int64_t pb, int64_t pe,
                                                          float* dst) {
  if (!t) return pack_b<float, 16>(t, b, ldb, p0, kc, j0, nc, pb, pe, dst);
  for (int64_t panel = pb; panel < pe; ++panel) {
    const int64_t jr = panel * 16;
    if (jr + 16 > nc) {
      pack_b<float, 16>(t, b, ldb, p0, kc, j0, nc, panel, panel + 1, dst);
      continue;
    }
    float* d = dst + jr * kc;
    int64_t p = 0;
    for (; p + 8 <= kc; p += 8) {
      for (int half = 0; half < 2; ++half) {
        const float* r = b + (j0 + jr + 8 * half) * ldb + p0 + p;
        __m256 x0 = _mm256_loadu_ps(r), x1 = _mm256_loadu_ps(r + ldb);
        __m256 x2 = _mm256_loadu_ps(r + 2 * ldb), x3 = _mm256_loadu_ps(r + 3 * ldb);
        __m256 x4 = _mm256_loadu_ps(r + 4 * ldb), x5 = _mm256_loadu_ps(r + 5 * ldb);
        __m256 x6 = _mm256_loadu_ps(r + 6 * ldb), x7 = _mm256_loadu_ps(r + 7 * ldb);
        transpose8x8(x0, x1, x2, x3, x4, x5, x6, x7);
        float* o = d + p * 16 + 8 * half;
        _mm256_store_ps(o, x0);
        _mm256_store_ps(o + 16, x1);
        _mm256_store_ps(o + 32, x2);
        _mm256_store_ps(o + 48, x3);
        _mm256_store_ps(o + 64, x4);
        _mm256_store_ps(o + 80, x5);
        _mm256_store_ps(o + 96, x6);
        _mm256_store_ps(o + 112, x7);
      }
    }
    for (; p < kc; ++p)
      for (int j = 0; j < 16; ++j) d[p * 16 + j] = b[(j0 + jr + j) * ldb + p0 + p];
  }
}
__attribute__((target("avx2,fma"))) void pack_a_f64_avx2(bool t, const double* a, int64_t lda,
                                                          int64_t i0, int64_t mc, int64_t p0,
                                                          int64_t kc, double* dst) {
  pack_a<double, 6>(t, a, lda, i0, mc, p0, kc, dst);
}
__attribute__((target("avx2,fma"))) void pack_b_f64_avx2(bool t, const double* b, int64_t ldb,
                                                          int64_t p0, int64_t kc, int64_t j0,
                                                          int64_t nc, int64_t pb, int64_t pe,
                                                          double* dst) {
  pack_b<double, 8>(t, b, ldb, p0, kc, j0, nc, pb, pe, dst);
}
#endif  // NBFORGE_GEMM_AVX2

template <typename T>
using PackA = void (*)(bool, const T*, int64_t, int64_t, int64_t, int64_t, int64_t, T*);
template <typename T>
using PackB = void (*)(bool, const T*, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,
                       int64_t, T*);

template <typename T>
struct KernelSet {
  int mr;
  int nr;
  MicroKernel<T> micro;
  PackA<T> pack_a;
  PackB<T> pack_b;
};

// ---------------------------------------------------------------------------
// C = beta * C (for k == 0 or alpha == 0); beta == 0 writes zeros without reading.

template <typename T>
void scale_c(int64_t m, int64_t n, T beta, T* c, int64_t ldc) {
  if (beta == T(1)) return;
  parallel_for(0, m, std::max<int64_t>(1, 16384 / std::max<int64_t>(n, 1)), [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      T* ci = c + i * ldc;
      if (beta == T(0)) {
        std::fill(ci, ci + n, T(0));
      } else {
        for (int64_t j = 0; j < n; ++j) ci[j] *= beta;
      }
    }
  });
}

int64_t round_up(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

// One thread's share: the whole loop nest over a block of C, packing into this
// thread's own buffers.
template <typename T>
void gemm_serial(const KernelSet<T>& ks, Blocking blk, bool trans_a, bool trans_b, int64_t m,
                 int64_t n, int64_t k, T alpha, const T* a, int64_t lda, const T* b, int64_t ldb,
                 T beta, T* c, int64_t ldc) {
  const int mr = ks.mr;
  const int nr = ks.nr;
  const int64_t kc_max = std::max<int64_t>(1, blk.kc);
  const int64_t nc_max = std::max<int64_t>(nr, blk.nc / nr * nr);
  const int64_t mc_max = std::max<int64_t>(mr, blk.mc / mr * mr);
  const int64_t nc_alloc = std::min<int64_t>(nc_max, round_up(n, nr));
  const int64_t kc_alloc = std::min<int64_t>(kc_max, k);
  const int64_t mc_alloc = std::min<int64_t>(mc_max, round_up(m, mr));
  T* packed_b = static_cast<T*>(t_pack_b.get(sizeof(T) * nc_alloc * kc_alloc + 64));
  T* packed_a = static_cast<T*>(t_pack_a.get(sizeof(T) * mc_alloc * kc_alloc + 64));
  alignas(64) T tile[8 * 16];
  for (int64_t jc = 0; jc < n; jc += nc_max) {
    const int64_t nc = std::min<int64_t>(nc_max, n - jc);
    const int64_t panels = (nc + nr - 1) / nr;
    for (int64_t pc = 0; pc < k; pc += kc_max) {
      const int64_t kc = std::min<int64_t>(kc_max, k - pc);
      const T beta_step = pc == 0 ? beta : T(1);
      ks.pack_b(trans_b, b, ldb, pc, kc, jc, nc, 0, panels, packed_b);
      for (int64_t ic = 0; ic < m; ic += mc_max) {
        const int64_t mcb = std::min<int64_t>(mc_max, m - ic);
        ks.pack_a(trans_a, a, lda, ic, mcb, pc, kc, packed_a);
        for (int64_t panel = 0; panel < panels; ++panel) {
          const int64_t jr = panel * nr;
          const int64_t cols = std::min<int64_t>(nr, nc - jr);
          const T* bp = packed_b + jr * kc;
          for (int64_t ir = 0; ir < mcb; ir += mr) {
            const int64_t rows = std::min<int64_t>(mr, mcb - ir);
            const T* ap = packed_a + ir * kc;
            T* cp = c + (ic + ir) * ldc + jc + jr;
            if (rows == mr && cols == nr) {
              ks.micro(kc, ap, bp, cp, ldc, alpha, beta_step);
            } else {
              ks.micro(kc, ap, bp, tile, nr, alpha, T(0));
              for (int64_t i = 0; i < rows; ++i) {
                T* ci = cp + i * ldc;
                const T* ti = tile + i * nr;
                if (beta_step == T(0)) {
                  for (int64_t j = 0; j < cols; ++j) ci[j] = ti[j];
                } else {
                  for (int64_t j = 0; j < cols; ++j) ci[j] = ti[j] + beta_step * ci[j];
                }
              }
            }
          }
        }
      }
    }
  }
}

// A barrier for the threads of one parallel_for whose chunks each run on their
// own thread: spins briefly, then yields (the machine may be oversubscribed).
class SpinBarrier {
 public:
  explicit SpinBarrier(int parties) : parties_(parties) {}
  void wait() {
    const int generation = generation_.load(std::memory_order_acquire);
    if (arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 == parties_) {
      arrived_.store(0, std::memory_order_relaxed);
      generation_.fetch_add(1, std::memory_order_release);
      return;
    }
    for (int spins = 0; generation_.load(std::memory_order_acquire) == generation; ++spins) {
      if (spins < 4000) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
      } else {
        std::this_thread::yield();
      }
    }
  }

 private:
  const int parties_;
  std::atomic<int> arrived_{0};
  std::atomic<int> generation_{0};
};

// Rows of C split between `parts` threads that share one packed B block: each
// packs its share of the B panels, all meet, each multiplies its rows against
// the whole block, all meet again before the next block overwrites it.
template <typename T>
void gemm_shared_b(const KernelSet<T>& ks, Blocking blk, int parts, bool trans_a, bool trans_b,
                   int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda, const T* b,
                   int64_t ldb, T beta, T* c, int64_t ldc) {
  const int mr = ks.mr;
  const int nr = ks.nr;
  const int64_t kc_max = std::max<int64_t>(1, blk.kc);
  const int64_t nc_max = std::max<int64_t>(nr, blk.nc / nr * nr);
  const int64_t mc_max = std::max<int64_t>(mr, blk.mc / mr * mr);
  const int64_t nc_alloc = std::min<int64_t>(nc_max, round_up(n, nr));
  const int64_t kc_alloc = std::min<int64_t>(kc_max, k);
  T* packed_b = static_cast<T*>(t_pack_b.get(sizeof(T) * nc_alloc * kc_alloc + 64));
  const int64_t rows_per_part = round_up((m + parts - 1) / parts, mr);
  SpinBarrier barrier(parts);
  parallel_for(0, parts, 1, [&](int64_t lo, int64_t hi) {
    if (hi - lo != 1) {
      // Run inline (a nested call): no partners to meet, so no sharing.
      gemm_serial(ks, blk, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
      return;
    }
    const int64_t part = lo;
    const int64_t r0 = std::min<int64_t>(m, part * rows_per_part);
    const int64_t r1 = std::min<int64_t>(m, r0 + rows_per_part);
    const int64_t mc_alloc = std::min<int64_t>(mc_max, round_up(std::max<int64_t>(r1 - r0, 1), mr));
    T* packed_a = static_cast<T*>(t_pack_a.get(sizeof(T) * mc_alloc * kc_alloc + 64));
    alignas(64) T tile[8 * 16];
    for (int64_t jc = 0; jc < n; jc += nc_max) {
      const int64_t nc = std::min<int64_t>(nc_max, n - jc);
      const int64_t panels = (nc + nr - 1) / nr;
      const int64_t share = (panels + parts - 1) / parts;
      for (int64_t pc = 0; pc < k; pc += kc_max) {
        const int64_t kc = std::min<int64_t>(kc_max, k - pc);
        const T beta_step = pc == 0 ? beta : T(1);
        const int64_t pb = std::min<int64_t>(panels, part * share);
        const int64_t pe = std::min<int64_t>(panels, pb + share);
        if (pb < pe) ks.pack_b(trans_b, b, ldb, pc, kc, jc, nc, pb, pe, packed_b);
        barrier.wait();
        for (int64_t ic = r0; ic < r1; ic += mc_max) {
          const int64_t mcb = std::min<int64_t>(mc_max, r1 - ic);
          ks.pack_a(trans_a, a, lda, ic, mcb, pc, kc, packed_a);
          for (int64_t panel = 0; panel < panels; ++panel) {
            const int64_t jr = panel * nr;
            const int64_t cols = std::min<int64_t>(nr, nc - jr);
            const T* bp = packed_b + jr * kc;
            for (int64_t ir = 0; ir < mcb; ir += mr) {
              const int64_t rows = std::min<int64_t>(mr, mcb - ir);
              const T* ap = packed_a + ir * kc;
              T* cp = c + (ic + ir) * ldc + jc + jr;
              if (rows == mr && cols == nr) {
                ks.micro(kc, ap, bp, cp, ldc, alpha, beta_step);
              } else {
                ks.micro(kc, ap, bp, tile, nr, alpha, T(0));
                for (int64_t i = 0; i < rows; ++i) {
                  T* ci = cp + i * ldc;
                  const T* ti = tile + i * nr;
                  if (beta_step == T(0)) {
                    for (int64_t j = 0; j < cols; ++j) ci[j] = ti[j];
                  } else {
                    for (int64_t j = 0; j < cols; ++j) ci[j] = ti[j] + beta_step * ci[j];
                  }
                }
              }
            }
          }
        }
        barrier.wait();
      }
    }
  });
}

// C is cut into a grid of blocks, one per thread, and each thread runs the
// whole loop nest on its block: one hand-off to the pool per GEMM, no barrier
// between packing and computing. Each thread packs the part of A and B its
// block needs (the duplicated packing is O(1/block size) of the arithmetic).
template <typename T>
void gemm_packed(const KernelSet<T>& ks, Blocking blk, bool trans_a, bool trans_b, int64_t m,
                 int64_t n, int64_t k, T alpha, const T* a, int64_t lda, const T* b, int64_t ldb,
                 T beta, T* c, int64_t ldc) {
  const int threads = num_threads();
  const double flops = 2.0 * double(m) * double(n) * double(k);
  // Rows first (each thread then streams all of B once); columns when M is short.
  int64_t tm = 1, tn = 1;
  if (threads > 1 && flops >= 2.0 * 48 * 48 * 48) {
    tm = std::max<int64_t>(1, std::min<int64_t>(threads, m / (4 * ks.mr)));
    tn = std::max<int64_t>(1, std::min<int64_t>(threads / tm, n / (2 * ks.nr)));
  }
  if (tm * tn == 1) {
    gemm_serial(ks, blk, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  if (tn == 1 && g_share_b.load()) {
    gemm_shared_b(ks, blk, static_cast<int>(tm), trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb,
                  beta, c, ldc);
    return;
  }
  const int64_t rows = round_up((m + tm - 1) / tm, ks.mr);
  const int64_t cols = round_up((n + tn - 1) / tn, ks.nr);
  parallel_for(0, tm * tn, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t task = lo; task < hi; ++task) {
      const int64_t i0 = (task / tn) * rows;
      const int64_t j0 = (task % tn) * cols;
      if (i0 >= m || j0 >= n) continue;
      const T* ab = trans_a ? a + i0 : a + i0 * lda;
      const T* bb = trans_b ? b + j0 * ldb : b + j0;
      gemm_serial(ks, blk, trans_a, trans_b, std::min(rows, m - i0), std::min(cols, n - j0), k,
                  alpha, ab, lda, bb, ldb, beta, c + i0 * ldc + j0, ldc);
    }
  });
}

template <typename T>
bool trivial(int64_t m, int64_t n, int64_t k, T alpha, T beta, T* c, int64_t ldc) {
  if (m <= 0 || n <= 0) return true;
  if (k <= 0 || alpha == T(0)) {
    scale_c(m, n, beta, c, ldc);
    return true;
  }
  return false;
}

// ---------------------------------------------------------------------------
// The system CBLAS, loaded at run time.

enum { kCblasRowMajor = 101, kCblasNoTrans = 111, kCblasTrans = 112 };
using CblasSgemm = void (*)(int, int, int, int, int, int, float, const float*, int, const float*,
                            int, float, float*, int);
using CblasDgemm = void (*)(int, int, int, int, int, int, double, const double*, int,
                            const double*, int, double, double*, int);
using SetThreads = void (*)(int);

struct Blas {
  std::string library;
  CblasSgemm sgemm = nullptr;
  CblasDgemm dgemm = nullptr;
  SetThreads set_threads = nullptr;
};

const Blas& blas() {
  static const Blas loaded = [] {
    Blas result;
    for (const char* name : {"libopenblas.so.0", "libopenblas.so", "libcblas.so.3", "libblas.so.3"}) {
      void* handle = dlopen(name, RTLD_NOW | RTLD_LOCAL);
      if (!handle) continue;
      auto s = reinterpret_cast<CblasSgemm>(dlsym(handle, "cblas_sgemm"));
      auto d = reinterpret_cast<CblasDgemm>(dlsym(handle, "cblas_dgemm"));
      if (s && d) {
        result.library = name;
        result.sgemm = s;
        result.dgemm = d;
        result.set_threads = reinterpret_cast<SetThreads>(dlsym(handle, "openblas_set_num_threads"));
        return result;
      }
      dlclose(handle);
    }
    return result;
  }();
  return loaded;
}

bool fits_int(int64_t x) { return x <= std::numeric_limits<int>::max(); }

template <typename T>
bool use_blas(int64_t m, int64_t n, int64_t k, int64_t lda, int64_t ldb, int64_t ldc) {
  if (g_backend.load() != static_cast<int>(Backend::Blas)) return false;
  const Blas& lib = blas();
  if (!lib.sgemm) return false;
  if (!(fits_int(m) && fits_int(n) && fits_int(k) && fits_int(lda) && fits_int(ldb) && fits_int(ldc)))
    return false;
  if (lib.set_threads) {
    static std::atomic<int> configured{0};
    const int want = num_threads();
    if (configured.exchange(want) != want) lib.set_threads(want);
  }
  return true;
}

KernelSet<float> kernels_f32() {
#ifdef NBFORGE_GEMM_AVX2
  if (using_avx2()) return {6, 16, micro_f32_6x16_avx2, pack_a_f32_avx2, pack_b_f32_avx2};
#endif
  return {4, 8, micro_portable<float, 4, 8>, pack_a<float, 4>, pack_b<float, 8>};
}

KernelSet<double> kernels_f64() {
#ifdef NBFORGE_GEMM_AVX2
  if (using_avx2()) return {6, 8, micro_f64_6x8_avx2, pack_a_f64_avx2, pack_b_f64_avx2};
#endif
  return {4, 4, micro_portable<double, 4, 4>, pack_a<double, 4>, pack_b<double, 4>};
}

}  // namespace

std::vector<std::string> available_backends() {
  std::vector<std::string> names{"nbforge"};
  if (blas().sgemm) names.push_back("blas");
  return names;
}

std::string blas_library() { return blas().library; }

bool set_backend(Backend b) {
  if (b == Backend::Blas && !blas().sgemm) return false;
  g_backend.store(static_cast<int>(b));
  return true;
}

Backend backend() { return static_cast<Backend>(g_backend.load()); }

void force_portable(bool on) { g_force_portable.store(on); }
bool portable_forced() { return g_force_portable.load(); }
bool using_avx2() { return cpu_has_avx2_fma() && !g_force_portable.load(); }

Blocking blocking_f32() { return {g_f32_mc.load(), g_f32_kc.load(), g_f32_nc.load()}; }
Blocking blocking_f64() { return {g_f64_mc.load(), g_f64_kc.load(), g_f64_nc.load()}; }
void set_blocking_f32(Blocking b) {
  if (b.mc > 0) g_f32_mc.store(b.mc);
  if (b.kc > 0) g_f32_kc.store(b.kc);
  if (b.nc > 0) g_f32_nc.store(b.nc);
}
void set_blocking_f64(Blocking b) {
  if (b.mc > 0) g_f64_mc.store(b.mc);
  if (b.kc > 0) g_f64_kc.store(b.kc);
  if (b.nc > 0) g_f64_nc.store(b.nc);
}

}  // namespace gemm

void gemm_f32(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
              const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
              int64_t ldc) {
  if (gemm::trivial(m, n, k, alpha, beta, c, ldc)) return;
  if (gemm::use_blas<float>(m, n, k, lda, ldb, ldc)) {
    gemm::blas().sgemm(gemm::kCblasRowMajor, trans_a ? gemm::kCblasTrans : gemm::kCblasNoTrans,
                       trans_b ? gemm::kCblasTrans : gemm::kCblasNoTrans, int(m), int(n), int(k),
                       alpha, a, int(lda), b, int(ldb), beta, c, int(ldc));
    return;
  }
  gemm::gemm_packed(gemm::kernels_f32(), gemm::blocking_f32(), trans_a, trans_b, m, n, k, alpha, a,
                    lda, b, ldb, beta, c, ldc);
}

void gemm_f64(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
              const double* a, int64_t lda, const double* b, int64_t ldb, double beta, double* c,
              int64_t ldc) {
  if (gemm::trivial(m, n, k, alpha, beta, c, ldc)) return;
  if (gemm::use_blas<double>(m, n, k, lda, ldb, ldc)) {
    gemm::blas().dgemm(gemm::kCblasRowMajor, trans_a ? gemm::kCblasTrans : gemm::kCblasNoTrans,
                       trans_b ? gemm::kCblasTrans : gemm::kCblasNoTrans, int(m), int(n), int(k),
                       alpha, a, int(lda), b, int(ldb), beta, c, int(ldc));
    return;
  }
  gemm::gemm_packed(gemm::kernels_f64(), gemm::blocking_f64(), trans_a, trans_b, m, n, k, alpha, a,
                    lda, b, ldb, beta, c, ldc);
}

}  // namespace nbforge
