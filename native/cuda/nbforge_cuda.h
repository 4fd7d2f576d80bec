// Plain C ABI of libnbforge_cuda.so: the CUDA kernels of nbforge's tensor core.
//
// The addon never links against this library; native/src/cuda_loader.cc opens it
// with dlopen when asked, so the addon builds and runs on machines without nvcc
// or without a GPU. Every function returns 0 on success and a CUDA error code
// (cudaError_t, > 0) otherwise; nbf_cuda_error_string() names the last error.
// Pointers named d_* are device pointers from nbf_cuda_malloc. All float32.
//
// Op codes are the CPU kernels' codes (native/src/tensor/loops.inc), so one
// dispatch table serves both devices:
//   binary: 0 add, 1 sub, 2 mul, 3 div, 4 pow, 5 maximum, 6 minimum, 7 eq, 8 ne,
//           9 lt, 10 le, 11 gt, 12 ge (NaN propagates through maximum/minimum)
//   unary:  0 neg, 1 exp, 2 log, 3 sqrt, 4 rsqrt, 5 tanh, 6 sigmoid, 7 relu,
//           8 gelu (tanh approximation), 9 gelu (erf), 10 silu, 11 abs
//   reduce: 0 sum, 1 mean, 2 max (NaN propagates), over the last dimension
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NBF_CUDA_ABI_VERSION 1
#define NBF_CUDA_MAX_DIMS 8

int nbf_cuda_abi_version(void);
// Number of CUDA devices (> 0), or 0 where there is no usable GPU or driver.
// Never aborts; the reason for 0 is in nbf_cuda_error_string().
int nbf_cuda_available(void);
// Name and compute capability of device 0, e.g. "NVIDIA H200 (sm_90)".
int nbf_cuda_device_name(char* buffer, int length);
const char* nbf_cuda_error_string(void);

int nbf_cuda_malloc(void** d_ptr, size_t bytes);
int nbf_cuda_free(void* d_ptr);
// kind: 0 host->device, 1 device->host, 2 device->device.
int nbf_cuda_memcpy(void* dst, const void* src, size_t bytes, int kind);
int nbf_cuda_memset(void* d_ptr, int value, size_t bytes);
int nbf_cuda_synchronize(void);

// out[i] = a[i] op b[i] over the broadcast shape `shape` (ndim <= 8); a and b are
// read through element strides (0 on broadcast dimensions); out is contiguous.
int nbf_cuda_binary_f32(int op, int ndim, const int64_t* shape, const float* d_a,
                        const int64_t* a_strides, const float* d_b, const int64_t* b_strides,
                        float* d_out);
// Same-shape contiguous shortcuts.
int nbf_cuda_add_f32(const float* d_a, const float* d_b, float* d_out, int64_t n);
int nbf_cuda_sub_f32(const float* d_a, const float* d_b, float* d_out, int64_t n);
int nbf_cuda_mul_f32(const float* d_a, const float* d_b, float* d_out, int64_t n);
int nbf_cuda_div_f32(const float* d_a, const float* d_b, float* d_out, int64_t n);

int nbf_cuda_unary_f32(int op, const float* d_x, float* d_y, int64_t n);
// gx = gy * d op(x)/dx from the saved input x and output y (as the CPU kernel).
int nbf_cuda_unary_backward_f32(int op, const float* d_x, const float* d_y, const float* d_gy,
                                float* d_gx, int64_t n);

// Softmax (log = 0) or log-softmax (log = 1) of each contiguous row of length n.
int nbf_cuda_softmax_f32(int log, const float* d_x, float* d_y, int64_t rows, int64_t n);
int nbf_cuda_softmax_backward_f32(int log, const float* d_y, const float* d_gy, float* d_gx,
                                  int64_t rows, int64_t n);

// y[r] = reduce(x[r, 0..n)) for op 0 sum, 1 mean, 2 max; sums accumulate in double.
int nbf_cuda_reduce_last_f32(int op, const float* d_x, float* d_y, int64_t rows, int64_t n);

// layer_norm (rms = 0) or rms_norm (rms = 1) over rows of length n:
// y = xhat * w + b with w, b optional (NULL); mean and rstd (per row) optional.
int nbf_cuda_norm_f32(int rms, const float* d_x, const float* d_w, const float* d_b, float* d_y,
                      float* d_mean, float* d_rstd, int64_t rows, int64_t n, double eps);

// Row-major C[m,n] = alpha * op(A)[m,k] * op(B)[k,n] + beta * C, op = transpose
// when trans_* != 0 (then A is stored [k,m], B is [n,k]). beta == 0 never reads C.
// Uses cuBLAS when libcublas could be opened at run time, else our tiled kernel.
int nbf_cuda_sgemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                   const float* d_a, int64_t lda, const float* d_b, int64_t ldb, float beta,
                   float* d_c, int64_t ldc);
// 0: our kernel, 1: cuBLAS. nbf_cuda_set_gemm_backend(0) forces ours (for checks);
// set 1 to use cuBLAS again where it was found. Returns the backend now in use.
int nbf_cuda_gemm_backend(void);
int nbf_cuda_set_gemm_backend(int backend);
// Always our tiled kernel.
int nbf_cuda_sgemm_tiled(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                         const float* d_a, int64_t lda, const float* d_b, int64_t ldb,
                         float beta, float* d_c, int64_t ldc);

#ifdef __cplusplus
}
#endif
