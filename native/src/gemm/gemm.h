// General matrix multiply, the heart of the tensor core.
//   C = alpha * op(A) * op(B) + beta * C,   op(X) = X or X^T,
// all matrices row-major; op(A) is M x K, op(B) is K x N, C is M x N, and lda,
// ldb, ldc are the row strides (in elements) of A, B and C as stored.
#pragma once

#include <cstdint>

namespace nbforge {

void gemm_f32(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
              const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
              int64_t ldc);

void gemm_f64(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
              const double* a, int64_t lda, const double* b, int64_t ldb, double beta, double* c,
              int64_t ldc);

}  // namespace nbforge
