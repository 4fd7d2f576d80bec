// Dense and sparse linear algebra in float64, on row-major contiguous buffers.
// One algorithm per file; the JavaScript bindings live in linalg_addon.cc.
// References: G. H. Golub and C. F. Van Loan, Matrix Computations, 4th ed. (GVL).
#pragma once

#include <cstdint>
#include <vector>

namespace nbforge {
namespace linalg {

// ---- cholesky.cc -----------------------------------------------------------
// Factors the symmetric positive definite n x n matrix A (lower triangle read)
// as A = L L^T and writes L (zeros above the diagonal) to `l`.
// Returns -1 on success, or the index k of the first pivot that is not
// positive (or not finite); *pivot_value then holds that pivot.
int64_t cholesky(const double* a, int64_t n, double* l, double* pivot_value);

// ---- triangular.cc ---------------------------------------------------------
// Solves op(T) X = B for X, T n x n triangular, B n x nrhs (row-major), in place
// in `b`. op(T) = T or T^T. `lower` says which triangle of T is read; with
// `unit_diagonal` the diagonal is taken as ones and not read.
// Returns -1 on success, or the index of the first zero diagonal entry.
int64_t solve_triangular(const double* t, int64_t n, double* b, int64_t nrhs, bool lower,
                         bool transpose, bool unit_diagonal);

// ---- eigh.cc ---------------------------------------------------------------
// Eigendecomposition of the symmetric n x n matrix A (lower triangle read):
// A = V diag(w) V^T, w ascending, V's columns orthonormal eigenvectors
// (row-major n x n). Returns false if the QL iteration did not converge.
bool eigh(const double* a, int64_t n, double* w, double* v);

// ---- qr.cc -----------------------------------------------------------------
// Reduced Householder QR of the m x n matrix A: A = Q R with k = min(m, n),
// Q m x k with orthonormal columns and R k x n upper triangular (row-major).
void qr(const double* a, int64_t m, int64_t n, double* q, double* r);

// ---- svd.cc ----------------------------------------------------------------
// Thin SVD of the m x n matrix A: A = U diag(s) V^T with k = min(m, n),
// U m x k, s descending and non-negative, VT k x n (row-major). U and V have
// orthonormal columns even where A is rank deficient.
// Returns false if the Jacobi sweeps did not converge.
bool svd(const double* a, int64_t m, int64_t n, double* u, double* s, double* vt);

// ---- sparse.cc -------------------------------------------------------------
// A compressed sparse row matrix (32-bit indices: nnz < 2^31). With `symmetric`, only the upper triangle
// (col >= row) is stored, and the t_* arrays index the strictly upper part by
// column (its CSC form, i.e. the mirrored lower triangle by row) so that a
// product runs in parallel over rows without write conflicts.
struct Csr {
  int64_t rows = 0, cols = 0;
  bool symmetric = false;
  std::vector<int32_t> indptr;   // rows + 1
  std::vector<int32_t> indices;  // nnz, ascending within each row
  std::vector<double> values;    // nnz
  std::vector<int32_t> t_indptr;   // symmetric only: rows + 1
  std::vector<int32_t> t_indices;  // symmetric only: row index of each mirrored entry
  std::vector<int32_t> t_position; // symmetric only: its position in `values`
};

// Builds a CSR matrix from COO triplets, summing duplicates. Indices must be
// in range (and col >= row when symmetric); the caller checks.
Csr csr_from_triplets(int64_t rows, int64_t cols, const int32_t* ri, const int32_t* ci,
                      const double* v, int64_t count, bool symmetric);

// Builds the mirrored index (t_*) of a symmetric upper-triangle CSR matrix.
void csr_build_transpose_index(int64_t n, const int32_t* indptr, const int32_t* indices,
                               std::vector<int32_t>& t_indptr, std::vector<int32_t>& t_indices,
                               std::vector<int32_t>& t_position);

// Y = A X with X cols x k and Y rows x k, both row-major. Parallel over rows;
// the result does not depend on the number of threads. The t_* pointers are
// used only when `symmetric`.
void csr_matmul(int64_t rows, const int32_t* indptr, const int32_t* indices,
                const double* values, bool symmetric, const int32_t* t_indptr,
                const int32_t* t_indices, const int32_t* t_position, const double* x,
                int64_t k, double* y);

}  // namespace linalg
}  // namespace nbforge
