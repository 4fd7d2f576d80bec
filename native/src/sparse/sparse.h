// Sparse Cholesky for symmetric positive definite matrices given by their
// upper triangle in CSR form (equivalently the lower triangle in CSC form).
// Two implementations behind one interface: ours (ordering.cc + cholesky.cc)
// and SuiteSparse's CHOLMOD, loaded at run time (cholmod.cc).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace nbforge {
namespace sparse {

// A fill-reducing ordering of the symmetric pattern: perm[new] = old.
// Approximate minimum degree (Amestoy, Davis & Duff 1996) on the quotient
// graph, after merging indistinguishable rows (the d×d blocks of SLAM).
std::vector<int32_t> minimum_degree(int64_t n, const int32_t* indptr, const int32_t* indices);

class Factorization {
 public:
  virtual ~Factorization() = default;
  // Factors A + shift·I with A's values in the analysed pattern. Returns -1,
  // or the row of A whose pivot was not positive (its value in *pivot_value).
  virtual int64_t factor(const double* values, double shift, double* pivot_value) = 0;
  // Solves in place for k right-hand sides stored column-major (n×k).
  virtual void solve(double* b, int64_t k) const = 0;
  virtual int64_t nnz() const = 0;
  virtual int64_t size() const = 0;
};

std::unique_ptr<Factorization> analyze_native(int64_t n, const int32_t* indptr,
                                              const int32_t* indices);

// nullptr when libcholmod is not available (see cholmod_version()).
std::unique_ptr<Factorization> analyze_cholmod(int64_t n, const int32_t* indptr,
                                               const int32_t* indices);

// "3.0.14" when CHOLMOD was loaded, else an empty string.
std::string cholmod_version();

}  // namespace sparse
}  // namespace nbforge
