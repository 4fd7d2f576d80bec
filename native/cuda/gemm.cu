// SGEMM: cuBLAS where libcublas can be opened at run time (dlopen; the library
// is never a link-time dependency), otherwise our own tiled shared-memory kernel.
//
// Our kernel: 128x128 block tile, k-step 8, 256 threads, each thread an 8x8
// register tile; A is staged transposed in shared memory so both operands are
// read as float4 in the inner loop. Double-buffered shared memory, so one
// __syncthreads per k-step. Edges are zero-padded, any m, n, k, lda, ldb work.
#include <dlfcn.h>

#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "common.cuh"

namespace {

constexpr int BM = 128, BN = 128, BK = 8, TM = 8, TN = 8, THREADS = 256;

// Element (i, p) of op(A) [m,k] and (p, j) of op(B) [k,n], row-major storage.
template <bool TA>
__device__ __forceinline__ float load_a(const float* a, int64_t lda, int64_t i, int64_t p) {
  return TA ? a[p * lda + i] : a[i * lda + p];
}
template <bool TB>
__device__ __forceinline__ float load_b(const float* b, int64_t ldb, int64_t p, int64_t j) {
  return TB ? b[j * ldb + p] : b[p * ldb + j];
}

// Each thread loads 4 elements of the A tile (BM x BK) and 4 of the B tile (BK x BN),
// walking along the operand's contiguous direction so global reads coalesce.
template <bool TA, bool TB>
__device__ __forceinline__ void load_tiles(const float* __restrict__ a, int64_t lda, const float* __restrict__ b,
                                           int64_t ldb, int64_t m, int64_t n, int64_t k, int64_t m0, int64_t n0,
                                           int64_t k0, float ra[4], float rb[4]) {
  const int tid = threadIdx.x;
#pragma unroll
  for (int c = 0; c < 4; ++c) {
    int64_t i, p;
    if (TA) { p = tid / 32; i = (tid % 32) * 4 + c; }   // contiguous along i
    else    { i = tid / 2;  p = (tid % 2) * 4 + c; }    // contiguous along p
    const int64_t gi = m0 + i, gp = k0 + p;
    ra[c] = (gi < m && gp < k) ? load_a<TA>(a, lda, gi, gp) : 0.0f;
  }
#pragma unroll
  for (int c = 0; c < 4; ++c) {
    int64_t p, j;
    if (TB) { j = tid / 2;  p = (tid % 2) * 4 + c; }    // contiguous along p
    else    { p = tid / 32; j = (tid % 32) * 4 + c; }   // contiguous along j
    const int64_t gp = k0 + p, gj = n0 + j;
    rb[c] = (gp < k && gj < n) ? load_b<TB>(b, ldb, gp, gj) : 0.0f;
  }
}

template <bool TA, bool TB>
__device__ __forceinline__ void store_tiles(float (*As)[BM], float (*Bs)[BN], const float ra[4], const float rb[4]) {
  const int tid = threadIdx.x;
#pragma unroll
  for (int c = 0; c < 4; ++c) {
    int i, p;
    if (TA) { p = tid / 32; i = (tid % 32) * 4 + c; }
    else    { i = tid / 2;  p = (tid % 2) * 4 + c; }
    As[p][i] = ra[c];
  }
#pragma unroll
  for (int c = 0; c < 4; ++c) {
    int p, j;
    if (TB) { j = tid / 2;  p = (tid % 2) * 4 + c; }
    else    { p = tid / 32; j = (tid % 32) * 4 + c; }
    Bs[p][j] = rb[c];
  }
}

template <bool TA, bool TB>
__global__ void __launch_bounds__(THREADS) sgemm_tiled(int64_t m, int64_t n, int64_t k, float alpha,
                                                       const float* __restrict__ a, int64_t lda,
                                                       const float* __restrict__ b, int64_t ldb, float beta,
                                                       float* __restrict__ c, int64_t ldc, int64_t stride_a,
                                                       int64_t stride_b, int64_t stride_c) {
  // blockIdx.z: the batch entry (strided batched GEMM; 0 strides for one GEMM).
  a += int64_t(blockIdx.z) * stride_a;
  b += int64_t(blockIdx.z) * stride_b;
  c += int64_t(blockIdx.z) * stride_c;
  __shared__ __align__(16) float As[2][BK][BM];
  __shared__ __align__(16) float Bs[2][BK][BN];
  const int64_t m0 = int64_t(blockIdx.y) * BM, n0 = int64_t(blockIdx.x) * BN;
  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
  // Thread rows: ty*4 + {0..3} and 64 + ty*4 + {0..3}; columns likewise with tx,
  // so a warp's float4 shared-memory reads are conflict-free.
  float acc[TM][TN];
#pragma unroll
  for (int i = 0; i < TM; ++i)
#pragma unroll
    for (int j = 0; j < TN; ++j) acc[i][j] = 0.0f;

  float ra[4], rb[4];
  load_tiles<TA, TB>(a, lda, b, ldb, m, n, k, m0, n0, 0, ra, rb);
  store_tiles<TA, TB>(As[0], Bs[0], ra, rb);
  __syncthreads();
  int buf = 0;
  for (int64_t k0 = 0; k0 < k; k0 += BK) {
    const bool more = k0 + BK < k;
    if (more) load_tiles<TA, TB>(a, lda, b, ldb, m, n, k, m0, n0, k0 + BK, ra, rb);
#pragma unroll
    for (int p = 0; p < BK; ++p) {
      float av[TM], bv[TN];
      const float4 a0 = *reinterpret_cast<const float4*>(&As[buf][p][ty * 4]);
      const float4 a1 = *reinterpret_cast<const float4*>(&As[buf][p][64 + ty * 4]);
      const float4 b0 = *reinterpret_cast<const float4*>(&Bs[buf][p][tx * 4]);
      const float4 b1 = *reinterpret_cast<const float4*>(&Bs[buf][p][64 + tx * 4]);
      av[0] = a0.x; av[1] = a0.y; av[2] = a0.z; av[3] = a0.w;
      av[4] = a1.x; av[5] = a1.y; av[6] = a1.z; av[7] = a1.w;
      bv[0] = b0.x; bv[1] = b0.y; bv[2] = b0.z; bv[3] = b0.w;
      bv[4] = b1.x; bv[5] = b1.y; bv[6] = b1.z; bv[7] = b1.w;
#pragma unroll
      for (int i = 0; i < TM; ++i)
#pragma unroll
        for (int j = 0; j < TN; ++j) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
    }
    if (more) {
      store_tiles<TA, TB>(As[buf ^ 1], Bs[buf ^ 1], ra, rb);
      __syncthreads();
      buf ^= 1;
    }
  }
#pragma unroll
  for (int i = 0; i < TM; ++i) {
    const int64_t gi = m0 + (i < 4 ? ty * 4 + i : 64 + ty * 4 + (i - 4));
    if (gi >= m) continue;
#pragma unroll
    for (int j = 0; j < TN; ++j) {
      const int64_t gj = n0 + (j < 4 ? tx * 4 + j : 64 + tx * 4 + (j - 4));
      if (gj >= n) continue;
      float* out = c + gi * ldc + gj;
      *out = beta == 0.0f ? alpha * acc[i][j] : alpha * acc[i][j] + beta * *out;
    }
  }
}

// float64: a plain 16x16 shared-memory tile, one output per thread (float64 on
// the GPU serves checks such as gradcheck, not speed; cuBLAS is used where found).
constexpr int DT = 16;

template <bool TA, bool TB>
__global__ void dgemm_tiled(int64_t m, int64_t n, int64_t k, double alpha, const double* __restrict__ a, int64_t lda,
                            const double* __restrict__ b, int64_t ldb, double beta, double* __restrict__ c, int64_t ldc,
                            int64_t stride_a, int64_t stride_b, int64_t stride_c) {
  __shared__ double As[DT][DT + 1];
  __shared__ double Bs[DT][DT + 1];
  a += int64_t(blockIdx.z) * stride_a;
  b += int64_t(blockIdx.z) * stride_b;
  c += int64_t(blockIdx.z) * stride_c;
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int64_t i = int64_t(blockIdx.y) * DT + ty, j = int64_t(blockIdx.x) * DT + tx;
  double acc = 0;
  for (int64_t k0 = 0; k0 < k; k0 += DT) {
    const int64_t pa = k0 + tx, pb = k0 + ty;
    As[ty][tx] = (i < m && pa < k) ? (TA ? a[pa * lda + i] : a[i * lda + pa]) : 0.0;
    Bs[ty][tx] = (pb < k && j < n) ? (TB ? b[j * ldb + pb] : b[pb * ldb + j]) : 0.0;
    __syncthreads();
#pragma unroll
    for (int q = 0; q < DT; ++q) acc = fma(As[ty][q], Bs[q][tx], acc);
    __syncthreads();
  }
  if (i < m && j < n) {
    double* out = c + i * ldc + j;
    *out = beta == 0.0 ? alpha * acc : alpha * acc + beta * *out;
  }
}

// ---- cuBLAS through dlopen ----
using cublasHandle = void*;
using CreateFn = int (*)(cublasHandle*);
using SgemmFn = int (*)(cublasHandle, int, int, int, int, int, const float*, const float*, int, const float*, int,
                        const float*, float*, int);
using SgemmBatchedFn = int (*)(cublasHandle, int, int, int, int, int, const float*, const float*, int, long long,
                               const float*, int, long long, const float*, float*, int, long long, int);
using DgemmBatchedFn = int (*)(cublasHandle, int, int, int, int, int, const double*, const double*, int, long long,
                               const double*, int, long long, const double*, double*, int, long long, int);

struct Cublas {
  void* lib = nullptr;
  cublasHandle handle = nullptr;
  SgemmFn sgemm = nullptr;
  SgemmBatchedFn sgemm_batched = nullptr;
  DgemmBatchedFn dgemm_batched = nullptr;
  std::string path;  // what dlopen opened
  bool use = false;
};

Cublas& cublas() {
  static Cublas state;
  static std::once_flag once;
  std::call_once(once, [] {
    // $NBF_CUBLAS (a file) first, then the loader's search path, then the usual
    // toolkit folders, which are often not on it.
    std::vector<std::string> candidates;
    if (const char* env = std::getenv("NBF_CUBLAS"); env != nullptr && *env != '\0') candidates.push_back(env);
    const char* names[] = {"libcublas.so", "libcublas.so.13", "libcublas.so.12", "libcublas.so.11"};
    for (const char* name : names) candidates.push_back(name);
    for (const char* var : {"CUDA_HOME", "CUDA_PATH"}) {
      const char* dir = std::getenv(var);
      if (dir == nullptr || *dir == '\0') continue;
      for (const char* name : names) candidates.push_back(std::string(dir) + "/lib64/" + name);
    }
    for (const char* dir : {"/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib", "/usr/local/cuda/targets/sbsa-linux/lib"}) {
      for (const char* name : names) candidates.push_back(std::string(dir) + "/" + name);
    }
    for (const std::string& path : candidates) {
      state.lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (state.lib != nullptr) {
        state.path = path;
        break;
      }
    }
    if (state.lib == nullptr) return;
    auto create = reinterpret_cast<CreateFn>(dlsym(state.lib, "cublasCreate_v2"));
    state.sgemm = reinterpret_cast<SgemmFn>(dlsym(state.lib, "cublasSgemm_v2"));
    state.sgemm_batched = reinterpret_cast<SgemmBatchedFn>(dlsym(state.lib, "cublasSgemmStridedBatched"));
    state.dgemm_batched = reinterpret_cast<DgemmBatchedFn>(dlsym(state.lib, "cublasDgemmStridedBatched"));
    if (create == nullptr || state.sgemm == nullptr || create(&state.handle) != 0) {
      state.handle = nullptr;
      return;
    }
    state.use = true;
  });
  return state;
}

}  // namespace

NBF_API int nbf_cuda_sgemm_batched_tiled(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                                         const float* a, int64_t lda, int64_t stride_a, const float* b, int64_t ldb,
                                         int64_t stride_b, float beta, float* c, int64_t ldc, int64_t stride_c,
                                         int64_t batch) {
  if (m < 0 || n < 0 || k < 0 || batch < 0) return nbf::invalid("nbf_cuda_sgemm: negative size");
  if (m == 0 || n == 0 || batch == 0) return 0;
  const int64_t gy = (m + BM - 1) / BM, gx = (n + BN - 1) / BN;
  if (gy > 65535) return nbf::invalid("nbf_cuda_sgemm: m above 65535*128");
  // gridDim.z is at most 65535: longer batches run in chunks.
  for (int64_t b0 = 0; b0 < batch; b0 += 65535) {
    const int64_t nb = batch - b0 < 65535 ? batch - b0 : 65535;
    const float* ab = a + b0 * stride_a;
    const float* bb = b + b0 * stride_b;
    float* cb = c + b0 * stride_c;
    const dim3 grid(static_cast<unsigned>(gx), static_cast<unsigned>(gy), static_cast<unsigned>(nb));
    if (!trans_a && !trans_b) sgemm_tiled<false, false><<<grid, THREADS>>>(m, n, k, alpha, ab, lda, bb, ldb, beta, cb, ldc, stride_a, stride_b, stride_c);
    else if (!trans_a && trans_b) sgemm_tiled<false, true><<<grid, THREADS>>>(m, n, k, alpha, ab, lda, bb, ldb, beta, cb, ldc, stride_a, stride_b, stride_c);
    else if (trans_a && !trans_b) sgemm_tiled<true, false><<<grid, THREADS>>>(m, n, k, alpha, ab, lda, bb, ldb, beta, cb, ldc, stride_a, stride_b, stride_c);
    else sgemm_tiled<true, true><<<grid, THREADS>>>(m, n, k, alpha, ab, lda, bb, ldb, beta, cb, ldc, stride_a, stride_b, stride_c);
  }
  return nbf::launched("nbf_cuda_sgemm_tiled");
}

NBF_API int nbf_cuda_sgemm_tiled(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                                 const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                                 int64_t ldc) {
  return nbf_cuda_sgemm_batched_tiled(trans_a, trans_b, m, n, k, alpha, a, lda, 0, b, ldb, 0, beta, c, ldc, 0, 1);
}

NBF_API int nbf_cuda_gemm_backend(void) { return cublas().use ? 1 : 0; }

// The cuBLAS library that was opened ("" when none).
NBF_API const char* nbf_cuda_gemm_library(void) { return cublas().path.c_str(); }

NBF_API int nbf_cuda_set_gemm_backend(int backend) {
  Cublas& s = cublas();
  s.use = backend == 1 && s.handle != nullptr;
  return s.use ? 1 : 0;
}

NBF_API int nbf_cuda_sgemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                           int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  Cublas& s = cublas();
  const int64_t kMax = 2147483647LL;
  if (s.use && m <= kMax && n <= kMax && k <= kMax && lda <= kMax && ldb <= kMax && ldc <= kMax && m > 0 &&
      n > 0) {
    // Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: swap operands.
    const int status = s.sgemm(s.handle, trans_b ? 1 : 0, trans_a ? 1 : 0, int(n), int(m), int(k), &alpha, b,
                               int(ldb), a, int(lda), &beta, c, int(ldc));
    if (status == 0) return 0;
    return nbf::invalid("nbf_cuda_sgemm: cublasSgemm_v2 failed");
  }
  return nbf_cuda_sgemm_tiled(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

// Strided batched: C_i = alpha op(A_i) op(B_i) + beta C_i with X_i = X + i * stride_x.
NBF_API int nbf_cuda_sgemm_batched(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                                   int64_t lda, int64_t stride_a, const float* b, int64_t ldb, int64_t stride_b, float beta,
                                   float* c, int64_t ldc, int64_t stride_c, int64_t batch) {
  Cublas& s = cublas();
  const int64_t kMax = 2147483647LL;
  if (s.use && s.sgemm_batched != nullptr && m <= kMax && n <= kMax && k <= kMax && lda <= kMax && ldb <= kMax &&
      ldc <= kMax && batch <= kMax && m > 0 && n > 0 && batch > 0) {
    const int status = s.sgemm_batched(s.handle, trans_b ? 1 : 0, trans_a ? 1 : 0, int(n), int(m), int(k), &alpha, b,
                                       int(ldb), stride_b, a, int(lda), stride_a, &beta, c, int(ldc), stride_c, int(batch));
    if (status == 0) return 0;
    return nbf::invalid("nbf_cuda_sgemm_batched: cublasSgemmStridedBatched failed");
  }
  return nbf_cuda_sgemm_batched_tiled(trans_a, trans_b, m, n, k, alpha, a, lda, stride_a, b, ldb, stride_b, beta, c, ldc,
                                      stride_c, batch);
}

NBF_API int nbf_cuda_dgemm_batched_tiled(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, double alpha,
                                         const double* a, int64_t lda, int64_t stride_a, const double* b, int64_t ldb,
                                         int64_t stride_b, double beta, double* c, int64_t ldc, int64_t stride_c,
                                         int64_t batch) {
  if (m < 0 || n < 0 || k < 0 || batch < 0) return nbf::invalid("nbf_cuda_dgemm: negative size");
  if (m == 0 || n == 0 || batch == 0) return 0;
  const int64_t gy = (m + DT - 1) / DT, gx = (n + DT - 1) / DT;
  if (gy > 65535) return nbf::invalid("nbf_cuda_dgemm: m above 65535*16");
  const dim3 block(DT, DT);
  for (int64_t b0 = 0; b0 < batch; b0 += 65535) {
    const int64_t nb = batch - b0 < 65535 ? batch - b0 : 65535;
    const double* ab = a + b0 * stride_a;
    const double* bb = b + b0 * stride_b;
    double* cb = c + b0 * stride_c;
    const dim3 grid(static_cast<unsigned>(gx), static_cast<unsigned>(gy), static_cast<unsigned>(nb));
    if (!trans_a && !trans_b) dgemm_tiled<false, false><<<grid, block>>>(m, n, k, alpha, ab, lda, bb, ldb, beta, cb, ldc, stride_a, stride_b, stride_c);
    else if (!trans_a && trans_b) dgemm_tiled<false, true><<<grid, block>>>(m, n, k, alpha, ab, lda, bb, ldb, beta, cb, ldc, stride_a, stride_b, stride_c);
    else if (trans_a && !trans_b) dgemm_tiled<true, false><<<grid, block>>>(m, n, k, alpha, ab, lda, bb, ldb, beta, cb, ldc, stride_a, stride_b, stride_c);
    else dgemm_tiled<true, true><<<grid, block>>>(m, n, k, alpha, ab, lda, bb, ldb, beta, cb, ldc, stride_a, stride_b, stride_c);
  }
  return nbf::launched("nbf_cuda_dgemm_tiled");
}

// float64 strided batched GEMM: cuBLAS where found, else the tile above.
NBF_API int nbf_cuda_dgemm_batched(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, double alpha, const double* a,
                                   int64_t lda, int64_t stride_a, const double* b, int64_t ldb, int64_t stride_b, double beta,
                                   double* c, int64_t ldc, int64_t stride_c, int64_t batch) {
  Cublas& s = cublas();
  const int64_t kMax = 2147483647LL;
  if (s.use && s.dgemm_batched != nullptr && m <= kMax && n <= kMax && k <= kMax && lda <= kMax && ldb <= kMax &&
      ldc <= kMax && batch <= kMax && m > 0 && n > 0 && batch > 0) {
    const int status = s.dgemm_batched(s.handle, trans_b ? 1 : 0, trans_a ? 1 : 0, int(n), int(m), int(k), &alpha, b,
                                       int(ldb), stride_b, a, int(lda), stride_a, &beta, c, int(ldc), stride_c, int(batch));
    if (status == 0) return 0;
    return nbf::invalid("nbf_cuda_dgemm_batched: cublasDgemmStridedBatched failed");
  }
  return nbf_cuda_dgemm_batched_tiled(trans_a, trans_b, m, n, k, alpha, a, lda, stride_a, b, ldb, stride_b, beta, c, ldc,
                                      stride_c, batch);
}

