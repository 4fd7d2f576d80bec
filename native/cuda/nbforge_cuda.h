// Plain C ABI of libnbforge_cuda.so: the CUDA kernels of nbforge's tensor core.
//
// The addon never links against this library; native/src/cuda_loader.cc opens it
// with dlopen when asked, so the addon builds and runs on machines without nvcc
// or without a GPU. Every function returns 0 on success and a CUDA error code
// (cudaError_t, > 0) otherwise; nbf_cuda_error_string() names the last error.
// Pointers named d_* (and every data pointer below) are device pointers from
// nbf_cuda_malloc; int64_t* arrays of shapes and strides are host arrays. dtype
// arguments use the tensor core's codes (0 float32, 1 float64, 2 bfloat16,
// 3 float16, 4 int32, 5 int64, 6 int8, 7 uint8, 8 bool); math runs in float32
// or float64 (bfloat16/float16 are converted to float32 by nbf_cuda_copy).
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

#define NBF_CUDA_ABI_VERSION 2
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
// The cuBLAS library opened ("" when none): $NBF_CUBLAS, the loader's search path,
// $CUDA_HOME/lib64, $CUDA_PATH/lib64 or /usr/local/cuda's library folders.
const char* nbf_cuda_gemm_library(void);
int nbf_cuda_set_gemm_backend(int backend);
// Always our tiled kernel.
int nbf_cuda_sgemm_tiled(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                         const float* d_a, int64_t lda, const float* d_b, int64_t ldb,
                         float beta, float* d_c, int64_t ldc);

// ---- ABI 2: the rest of the tensor core's kernel set ----

// Strided copy with dtype conversion (any dtypes; ndim <= 8).
int nbf_cuda_copy(int src_dtype, const void* src, const int64_t* src_strides, int dst_dtype, void* dst,
                  const int64_t* dst_strides, int ndim, const int64_t* shape);
int nbf_cuda_fill(int dtype, void* d, int64_t n, double value);
int nbf_cuda_arange(int dtype, void* d, int64_t n, double start, double step);
// Philox4x32-10 as the CPU path: kind 0 uniform [a, b), 1 normal(a, b); float32
// takes 4 values per counter step, float64 2; *blocks_used = counter steps taken.
int nbf_cuda_random(int kind, int dtype, void* d, int64_t n, uint32_t seed_lo, uint32_t seed_hi, uint64_t counter,
                    double a, double b, int64_t* blocks_used);
// In place: u = u >= p ? 1 / (1 - p) : 0.
int nbf_cuda_dropout_mask(int dtype, void* u, int64_t n, double p);

// float32/float64 versions of the elementwise kernels above.
int nbf_cuda_binary(int op, int dtype, int ndim, const int64_t* shape, const void* d_a, const int64_t* a_strides,
                    const void* d_b, const int64_t* b_strides, void* d_out);
int nbf_cuda_unary(int op, int dtype, const void* x, void* y, int64_t n);
int nbf_cuda_unary_backward(int op, int dtype, const void* x, const void* y, const void* gy, void* gx, int64_t n);

// float32/float64 softmax (log 0) / log-softmax (log 1) of contiguous rows, and backward from y.
int nbf_cuda_softmax(int log, int dtype, const void* x, void* y, int64_t rows, int64_t n);
int nbf_cuda_softmax_backward(int log, int dtype, const void* y, const void* gy, void* gx, int64_t rows, int64_t n);

// x contiguous [outer, red, inner] -> out [outer, inner]; op 0 sum, 1 mean, 2 max,
// 3 min, 4 argmax, 5 argmin (int64 out), 6 var (divides by red - correction).
int nbf_cuda_reduce(int op, int dtype, const void* x, void* out, int64_t outer, int64_t red, int64_t inner,
                    double correction);

// Strided batched SGEMM (X_i = X + i * stride_x), cuBLAS where found, else tiled.
int nbf_cuda_sgemm_batched(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                           int64_t lda, int64_t stride_a, const float* b, int64_t ldb, int64_t stride_b, float beta,
                           float* c, int64_t ldc, int64_t stride_c, int64_t batch);
// float64 strided batched GEMM: cuBLAS where found, else a plain 16x16 tile.
int nbf_cuda_dgemm_batched(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, double alpha, const double* a,
                           int64_t lda, int64_t stride_a, const double* b, int64_t ldb, int64_t stride_b, double beta,
                           double* c, int64_t ldc, int64_t stride_c, int64_t batch);
int nbf_cuda_dgemm_batched_tiled(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, double alpha,
                                 const double* a, int64_t lda, int64_t stride_a, const double* b, int64_t ldb,
                                 int64_t stride_b, double beta, double* c, int64_t ldc, int64_t stride_c, int64_t batch);
int nbf_cuda_sgemm_batched_tiled(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                                 const float* a, int64_t lda, int64_t stride_a, const float* b, int64_t ldb,
                                 int64_t stride_b, float beta, float* c, int64_t ldc, int64_t stride_c, int64_t batch);

// The first index (row-major position over shape) outside [0, size), skipping
// `ignore` when has_ignore: *bad_position = -1 when all are in range.
int nbf_cuda_check_index(int idx_dtype, const void* idx, int ndim, const int64_t* shape, const int64_t* strides,
                         int64_t size, int has_ignore, int64_t ignore, int64_t* bad_position, int64_t* bad_value);

// layer_norm (rms 0) / rms_norm (rms 1) over rows of n; w, b, stats optional;
// stats: float64 [rows, 2] (mean, rstd). The backward recomputes stats when null;
// gx, gw, gb optional (gw, gb summed over rows in order).
int nbf_cuda_norm(int dtype, int rms, const void* x, const void* w, const void* b, void* y, double* stats, int64_t rows,
                  int64_t n, double eps);
int nbf_cuda_norm_backward(int dtype, int rms, const void* x, const void* w, const void* gy, void* gx, void* gw, void* gb,
                           const double* stats, int64_t rows, int64_t n, double eps);

// out[i, :] = w[idx[i], :] (elements of elem_bytes); backward zeroes gw then adds
// gy's rows at their indices (atomics), skipping `padding` (-1: none).
int nbf_cuda_embedding(int idx_dtype, const void* idx, int64_t count, const void* w, int elem_bytes, int64_t dim,
                       void* out);
int nbf_cuda_embedding_backward(int dtype, int idx_dtype, const void* idx, int64_t count, const void* gy, int64_t num,
                                int64_t dim, void* gw, int64_t padding);

// Fused cross-entropy with ignore_index and label smoothing; reduction 0 none,
// 1 mean (over `count` targets not ignored), 2 sum.
int nbf_cuda_cross_entropy(int dtype, const void* x, int tgt_dtype, const void* tgt, void* out, int64_t rows, int64_t n,
                           int64_t ignore, double smoothing, int reduction, int64_t count);
int nbf_cuda_cross_entropy_backward(int dtype, const void* x, int tgt_dtype, const void* tgt, const void* gy, void* gx,
                                    int64_t rows, int64_t n, int64_t ignore, double smoothing, int reduction,
                                    int64_t count);

// Causal scaled-dot-product attention (float32 or float64, contiguous operands, mask optional).
int nbf_cuda_attention(int dtype, const void* q, const void* k, const void* v, const void* mask, void* out,
                       int64_t batch, int64_t lq, int64_t lk, int64_t d, int64_t dv, double scale, int causal);
int nbf_cuda_attention_backward(int dtype, const void* q, const void* k, const void* v, const void* mask,
                                const void* go, void* gq, void* gk, void* gv, int64_t batch, int64_t lq, int64_t lk,
                                int64_t d, int64_t dv, double scale, int causal);

// Rotary position embedding, "rotate half" layout: x, out [batch, heads, time, dim];
// cos, sin [table_batch ? batch : 1, time, dim]; backward applies the transposed rotation.
int nbf_cuda_rotary(int dtype, int backward, const void* x, const void* cos, const void* sin, void* out, int64_t batch,
                    int64_t heads, int64_t time, int64_t dim, int table_batch);

// Indexing (idx int64, checked first); elementwise moves by element size.
int nbf_cuda_gather(int elem_bytes, const void* x, const int64_t* x_strides, const int64_t* idx,
                    const int64_t* idx_strides, void* out, int ndim, const int64_t* shape, int dim);
int nbf_cuda_scatter(int mode, int dtype, void* out, const int64_t* out_strides, const int64_t* idx,
                     const int64_t* idx_strides, const void* src, const int64_t* src_strides, int ndim,
                     const int64_t* shape, int dim);
int nbf_cuda_where(const uint8_t* cond, const int64_t* c_strides, int elem_bytes, const void* a, const int64_t* a_strides,
                   const void* b, const int64_t* b_strides, void* out, int ndim, const int64_t* shape);
int nbf_cuda_topk(int dtype, const void* x, int64_t rows, int64_t n, int64_t k, int largest, int64_t* out);
int nbf_cuda_multinomial(const double* p, int64_t rows, int64_t n, int64_t samples, int replacement, int64_t* out,
                         uint32_t seed_lo, uint32_t seed_hi, uint64_t counter, int64_t* bad_row, int* bad_kind,
                         int64_t* bad_col, double* bad_value);
// Block-wise absmax int8 / int4 (two per byte, low nibble first) with float32 scales.
int nbf_cuda_quantize(int bits, const float* x, int64_t n, int64_t block, void* data, float* scales);
int nbf_cuda_dequantize(int bits, const void* data, const float* scales, int64_t n, int64_t block, float* out);

#ifdef __cplusplus
}
#endif
