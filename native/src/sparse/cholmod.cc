// SuiteSparse's CHOLMOD behind the Factorization interface. The library is
// opened with dlopen at run time, so the addon builds and runs without it;
// its header, where the build finds one, gives the struct layouts. Without
// the header (or the library) the "cholmod" backend reports itself absent.
#include <dlfcn.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "sparse/sparse.h"

#if __has_include(<suitesparse/cholmod.h>)
#include <suitesparse/cholmod.h>
#define NBFORGE_CHOLMOD_HEADER 1
#endif

namespace nbforge {
namespace sparse {

#ifndef NBFORGE_CHOLMOD_HEADER

std::string cholmod_version() { return ""; }
std::unique_ptr<Factorization> analyze_cholmod(int64_t, const int32_t*, const int32_t*) {
  return nullptr;
}

#else

namespace {

// The few entry points we call, resolved once.
struct Cholmod {
  int (*start)(cholmod_common*) = nullptr;
  int (*finish)(cholmod_common*) = nullptr;
  cholmod_factor* (*analyze)(cholmod_sparse*, cholmod_common*) = nullptr;
  int (*factorize_p)(cholmod_sparse*, double*, int*, size_t, cholmod_factor*,
                     cholmod_common*) = nullptr;
  cholmod_dense* (*solve)(int, cholmod_factor*, cholmod_dense*, cholmod_common*) = nullptr;
  int (*free_factor)(cholmod_factor**, cholmod_common*) = nullptr;
  int (*free_dense)(cholmod_dense**, cholmod_common*) = nullptr;
  int (*version)(int*) = nullptr;
  std::string version_text;
  bool ok = false;
};

const Cholmod& library() {
  static const Cholmod lib = [] {
    Cholmod c;
    // Only the major version whose header we compiled against: struct layouts
    // differ between majors.
    const std::string soname = "libcholmod.so." + std::to_string(CHOLMOD_MAIN_VERSION);
    void* h = dlopen(soname.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (h == nullptr) return c;
    auto sym = [&](auto& fn, const char* name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(h, name));
      return fn != nullptr;
    };
    if (!sym(c.start, "cholmod_start") || !sym(c.finish, "cholmod_finish") ||
        !sym(c.analyze, "cholmod_analyze") || !sym(c.factorize_p, "cholmod_factorize_p") ||
        !sym(c.solve, "cholmod_solve") || !sym(c.free_factor, "cholmod_free_factor") ||
        !sym(c.free_dense, "cholmod_free_dense") || !sym(c.version, "cholmod_version"))
      return c;
    int v[3] = {0, 0, 0};
    c.version(v);
    if (v[0] != CHOLMOD_MAIN_VERSION) return c;
    c.version_text = std::to_string(v[0]) + "." + std::to_string(v[1]) + "." + std::to_string(v[2]);
    c.ok = true;
    return c;
  }();
  return lib;
}

class CholmodFactorization final : public Factorization {
 public:
  CholmodFactorization(int64_t n, const int32_t* indptr, const int32_t* indices)
      : n_(n), p_(indptr, indptr + n + 1), i_(indices, indices + indptr[n]) {
    const Cholmod& lib = library();
    lib.start(&common_);
    // Supernodal LLᵀ always: a simplicial LDLᵀ would accept some indefinite matrices.
    common_.supernodal = CHOLMOD_SUPERNODAL;
    common_.print = 0;
    common_.error_handler = nullptr;
    std::vector<double> ones(i_.size(), 1.0);
    cholmod_sparse a = view(ones.data());
    factor_ = lib.analyze(&a, &common_);
    if (factor_ == nullptr) throw std::runtime_error("cholmod_analyze failed (out of memory?)");
  }
  ~CholmodFactorization() override {
    const Cholmod& lib = library();
    if (factor_ != nullptr) lib.free_factor(&factor_, &common_);
    lib.finish(&common_);
  }

  int64_t factor(const double* values, double shift, double* pivot_value) override {
    cholmod_sparse a = view(const_cast<double*>(values));
    double beta[2] = {shift, 0.0};
    library().factorize_p(&a, beta, nullptr, 0, factor_, &common_);
    if (common_.status == CHOLMOD_NOT_POSDEF || factor_->minor < factor_->n) {
      const int* perm = static_cast<const int*>(factor_->Perm);
      *pivot_value = std::numeric_limits<double>::quiet_NaN();  // CHOLMOD does not report it
      return perm != nullptr ? perm[factor_->minor] : static_cast<int64_t>(factor_->minor);
    }
    if (common_.status < CHOLMOD_OK) throw std::runtime_error("cholmod_factorize failed");
    return -1;
  }

  void solve(double* b, int64_t k) const override {
    if (k == 0) return;
    cholmod_dense rhs{};
    rhs.nrow = n_;
    rhs.ncol = k;
    rhs.nzmax = n_ * k;
    rhs.d = n_;
    rhs.x = b;
    rhs.xtype = CHOLMOD_REAL;
    rhs.dtype = CHOLMOD_DOUBLE;
    cholmod_dense* x = library().solve(CHOLMOD_A, factor_, &rhs, &common_);
    if (x == nullptr) throw std::runtime_error("cholmod_solve failed");
    std::memcpy(b, x->x, sizeof(double) * n_ * k);
    library().free_dense(&x, &common_);
  }

  int64_t nnz() const override {
    if (factor_->is_super) return static_cast<int64_t>(factor_->xsize);
    return static_cast<int64_t>(factor_->nzmax);
  }
  int64_t size() const override { return n_; }

 private:
  // Our upper CSR is CHOLMOD's lower CSC (stype -1) of the same symmetric matrix.
  cholmod_sparse view(double* values) {
    cholmod_sparse a{};
    a.nrow = n_;
    a.ncol = n_;
    a.nzmax = i_.size();
    a.p = p_.data();
    a.i = i_.data();
    a.x = values;
    a.stype = -1;
    a.itype = CHOLMOD_INT;
    a.xtype = CHOLMOD_REAL;
    a.dtype = CHOLMOD_DOUBLE;
    a.sorted = 1;
    a.packed = 1;
    return a;
  }

  int64_t n_;
  std::vector<int32_t> p_, i_;
  mutable cholmod_common common_{};
  cholmod_factor* factor_ = nullptr;
};

}  // namespace

std::string cholmod_version() { return library().ok ? library().version_text : ""; }

std::unique_ptr<Factorization> analyze_cholmod(int64_t n, const int32_t* indptr,
                                               const int32_t* indices) {
  if (!library().ok) return nullptr;
  return std::make_unique<CholmodFactorization>(n, indptr, indices);
}

#endif

}  // namespace sparse
}  // namespace nbforge
