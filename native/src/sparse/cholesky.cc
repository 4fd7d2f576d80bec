// Our sparse Cholesky: the up-looking algorithm of Davis, "Direct Methods for
// Sparse Linear Systems" (SIAM 2006), ch. 4. The symbolic analysis (ordering,
// elimination tree, column counts, where each entry of A lands) is done once;
// factor() then only redoes the arithmetic, row k of L at a time, from the
// elimination-tree reach of row k.
#include <cmath>
#include <limits>

#include "parallel.h"
#include "sparse/sparse.h"

namespace nbforge {
namespace sparse {

namespace {

class NativeFactorization final : public Factorization {
 public:
  NativeFactorization(int64_t n, const int32_t* indptr, const int32_t* indices) : n_(n) {
    perm_ = minimum_degree(n, indptr, indices);
    pinv_.assign(n, 0);
    for (int64_t k = 0; k < n; ++k) pinv_[perm_[k]] = static_cast<int32_t>(k);
    // C = P A Pᵀ by columns of its upper triangle; source_[q] is the entry of A.
    const int64_t nnz = indptr[n];
    cp_.assign(n + 1, 0);
    for (int64_t i = 0; i < n; ++i)
      for (int32_t p = indptr[i]; p < indptr[i + 1]; ++p)
        ++cp_[std::max(pinv_[i], pinv_[indices[p]]) + 1];
    for (int64_t k = 0; k < n; ++k) cp_[k + 1] += cp_[k];
    ci_.resize(nnz);
    source_.resize(nnz);
    {
      std::vector<int64_t> next(cp_.begin(), cp_.end() - 1);
      for (int64_t i = 0; i < n; ++i)
        for (int32_t p = indptr[i]; p < indptr[i + 1]; ++p) {
          const int32_t a = pinv_[i], b = pinv_[indices[p]];
          const int64_t q = next[std::max(a, b)]++;
          ci_[q] = std::min(a, b);
          source_[q] = p;
        }
    }
    // Elimination tree (Liu), with path compression through `ancestor`.
    parent_.assign(n, -1);
    std::vector<int32_t> ancestor(n, -1);
    for (int64_t k = 0; k < n; ++k)
      for (int64_t q = cp_[k]; q < cp_[k + 1]; ++q)
        for (int32_t i = ci_[q]; i != -1 && i < k;) {
          const int32_t up = ancestor[i];
          ancestor[i] = static_cast<int32_t>(k);
          if (up == -1) parent_[i] = static_cast<int32_t>(k);
          i = up;
        }
    // Column counts of L from the row patterns (each row's reach in the tree).
    lp_.assign(n + 1, 0);
    std::vector<int32_t> stack(n), mark(n, -1);
    for (int64_t k = 0; k < n; ++k) {
      const int64_t top = reach(k, stack.data(), mark.data());
      for (int64_t t = top; t < n; ++t) ++lp_[stack[t] + 1];
      ++lp_[k + 1];  // the diagonal
    }
    for (int64_t k = 0; k < n; ++k) lp_[k + 1] += lp_[k];
    li_.resize(lp_[n]);
    lx_.resize(lp_[n]);
  }

  int64_t factor(const double* values, double shift, double* pivot_value) override {
    const int64_t n = n_;
    std::vector<int64_t> next(lp_.begin(), lp_.end() - 1);
    std::vector<double> x(n, 0.0);
    std::vector<int32_t> stack(n), mark(n, -1);
    for (int64_t k = 0; k < n; ++k) {
      const int64_t top = reach(k, stack.data(), mark.data());
      for (int64_t q = cp_[k]; q < cp_[k + 1]; ++q) x[ci_[q]] = values[source_[q]];
      double d = x[k] + shift;
      x[k] = 0.0;
      for (int64_t t = top; t < n; ++t) {
        const int32_t i = stack[t];
        const double lki = x[i] / lx_[lp_[i]];
        x[i] = 0.0;
        for (int64_t p = lp_[i] + 1; p < next[i]; ++p) x[li_[p]] -= lx_[p] * lki;
        d -= lki * lki;
        const int64_t p = next[i]++;
        li_[p] = static_cast<int32_t>(k);
        lx_[p] = lki;
      }
      if (!(d > 0.0) || !std::isfinite(d)) {
        *pivot_value = d;
        return perm_[k];
      }
      const int64_t p = next[k]++;
      li_[p] = static_cast<int32_t>(k);
      lx_[p] = std::sqrt(d);
    }
    return -1;
  }

  void solve(double* b, int64_t k) const override {
    const int64_t n = n_;
    auto one = [&](double* rhs, std::vector<double>& x) {
      for (int64_t i = 0; i < n; ++i) x[i] = rhs[perm_[i]];
      for (int64_t j = 0; j < n; ++j) {  // L y = P b
        const double xj = x[j] /= lx_[lp_[j]];
        for (int64_t p = lp_[j] + 1; p < lp_[j + 1]; ++p) x[li_[p]] -= lx_[p] * xj;
      }
      for (int64_t j = n - 1; j >= 0; --j) {  // Lᵀ z = y
        double s = x[j];
        for (int64_t p = lp_[j] + 1; p < lp_[j + 1]; ++p) s -= lx_[p] * x[li_[p]];
        x[j] = s / lx_[lp_[j]];
      }
      for (int64_t i = 0; i < n; ++i) rhs[perm_[i]] = x[i];
    };
    parallel_for(0, k, 1, [&](int64_t c0, int64_t c1) {
      std::vector<double> x(n);
      for (int64_t c = c0; c < c1; ++c) one(b + c * n, x);
    });
  }

  int64_t nnz() const override { return lp_[n_]; }
  int64_t size() const override { return n_; }

 private:
  // Pattern of row k of L (Davis's cs_ereach): the tree paths from each
  // entry of column k of C up to k, left in stack[top..n) in topological order.
  int64_t reach(int64_t k, int32_t* stack, int32_t* mark) const {
    const int64_t n = n_;
    int64_t top = n;
    mark[k] = static_cast<int32_t>(k);
    for (int64_t q = cp_[k]; q < cp_[k + 1]; ++q) {
      int32_t i = ci_[q];
      if (i > k) continue;
      int64_t len = 0;
      int32_t* path = stack;  // the path is built at the bottom, then moved to the top
      for (; mark[i] != k; i = parent_[i]) {
        path[len++] = i;
        mark[i] = static_cast<int32_t>(k);
      }
      while (len > 0) stack[--top] = path[--len];
    }
    return top;
  }

  int64_t n_;
  std::vector<int32_t> perm_, pinv_, parent_;
  std::vector<int64_t> cp_, lp_, source_;
  std::vector<int32_t> ci_, li_;
  std::vector<double> lx_;
};

}  // namespace

std::unique_ptr<Factorization> analyze_native(int64_t n, const int32_t* indptr,
                                              const int32_t* indices) {
  return std::make_unique<NativeFactorization>(n, indptr, indices);
}

}  // namespace sparse
}  // namespace nbforge
