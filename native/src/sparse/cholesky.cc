// Our sparse Cholesky: multifrontal with fundamental supernodes (Duff & Reid
// 1983; Liu, "The multifrontal method for sparse matrix solution", SIAM
// Review 1992). The symbolic analysis — fill-reducing ordering, postordered
// elimination tree, column counts, supernodes and their row structures — is
// done once; factor() then only redoes the arithmetic. Each supernode's
// frontal matrix is dense: the entries of A and its children's update
// matrices are added in, its pivot columns are factored in place, and what
// remains is the update matrix passed to its parent. Dense inner loops run
// down contiguous columns; a large update matrix is one gemm (gemm/gemm.h).
#include <algorithm>
#include <cmath>

#include "gemm/gemm.h"
#include "parallel.h"
#include "sparse/sparse.h"

namespace nbforge {
namespace sparse {

namespace {

// Elimination tree of the upper pattern given by columns (rows <= column),
// with path compression (Liu).
std::vector<int32_t> etree(int64_t n, const std::vector<int64_t>& cp, const std::vector<int32_t>& ci) {
  std::vector<int32_t> parent(n, -1), ancestor(n, -1);
  for (int64_t k = 0; k < n; ++k)
    for (int64_t q = cp[k]; q < cp[k + 1]; ++q)
      for (int32_t i = ci[q]; i != -1 && i < k;) {
        const int32_t up = ancestor[i];
        ancestor[i] = static_cast<int32_t>(k);
        if (up == -1) parent[i] = static_cast<int32_t>(k);
        i = up;
      }
  return parent;
}

// Postorder of a forest (children visited in increasing order).
std::vector<int32_t> postorder(int64_t n, const std::vector<int32_t>& parent) {
  std::vector<int32_t> head(n, -1), next(n, -1), stack, post;
  post.reserve(n);
  for (int64_t j = n - 1; j >= 0; --j) {
    if (parent[j] == -1) continue;
    next[j] = head[parent[j]];
    head[parent[j]] = static_cast<int32_t>(j);
  }
  for (int64_t root = 0; root < n; ++root) {
    if (parent[root] != -1) continue;
    stack.push_back(static_cast<int32_t>(root));
    while (!stack.empty()) {
      const int32_t p = stack.back();
      const int32_t child = head[p];
      if (child == -1) {
        stack.pop_back();
        post.push_back(p);
      } else {
        head[p] = next[child];
        stack.push_back(child);
      }
    }
  }
  return post;
}

class MultifrontalFactorization final : public Factorization {
 public:
  MultifrontalFactorization(int64_t n, const int32_t* indptr, const int32_t* indices) : n_(n) {
    // Fill-reducing order, then postorder its elimination tree so that every
    // subtree (and so every supernode) is a contiguous range of columns.
    std::vector<int32_t> order = minimum_degree(n, indptr, indices);
    pinv_.assign(n, 0);
    for (int64_t k = 0; k < n; ++k) pinv_[order[k]] = static_cast<int32_t>(k);
    permute(indptr, indices);
    {
      const std::vector<int32_t> post = postorder(n, etree(n, cp_, ci_));
      perm_.resize(n);
      for (int64_t k = 0; k < n; ++k) perm_[k] = order[post[k]];
      for (int64_t k = 0; k < n; ++k) pinv_[perm_[k]] = static_cast<int32_t>(k);
      permute(indptr, indices);
    }
    parent_ = etree(n, cp_, ci_);

    // Row patterns of L (each row's reach in the tree) give the column counts.
    std::vector<int32_t> stack(n), mark(n, -1);
    std::vector<int64_t> count(n, 1);
    for (int64_t k = 0; k < n; ++k) {
      const int64_t top = reach(k, stack.data(), mark.data());
      for (int64_t t = top; t < n; ++t) ++count[stack[t]];
    }
    // Fundamental supernodes: j joins j-1's when j-1 is j's only child and
    // column j-1 is column j's pattern plus the diagonal.
    std::vector<int32_t> children(n, 0);
    for (int64_t j = 0; j < n; ++j)
      if (parent_[j] != -1) ++children[parent_[j]];
    super_of_.assign(n, 0);
    first_.clear();
    for (int64_t j = 0; j < n; ++j) {
      const bool join = j > 0 && parent_[j - 1] == j && children[j] == 1 && count[j - 1] == count[j] + 1;
      if (!join) first_.push_back(static_cast<int32_t>(j));
      super_of_[j] = static_cast<int32_t>(first_.size() - 1);
    }
    const int64_t S = static_cast<int64_t>(first_.size());
    first_.push_back(static_cast<int32_t>(n));
    // Row structure of each supernode = the pattern of its first column.
    std::vector<std::vector<int32_t>> rows(S);
    for (int64_t s = 0; s < S; ++s) rows[s].push_back(first_[s]);
    std::fill(mark.begin(), mark.end(), -1);
    for (int64_t i = 0; i < n; ++i) {
      const int64_t top = reach(i, stack.data(), mark.data());
      for (int64_t t = top; t < n; ++t) {
        const int32_t j = stack[t];
        if (first_[super_of_[j]] == j) rows[super_of_[j]].push_back(static_cast<int32_t>(i));
      }
    }
    amalgamate(rows);
    const int64_t supernodes = static_cast<int64_t>(rows.size());
    // Flatten; each structure is sorted.
    sp_.assign(supernodes + 1, 0);
    lp_.assign(supernodes + 1, 0);
    nnz_ = 0;
    for (int64_t s = 0; s < supernodes; ++s) {
      const int64_t m = static_cast<int64_t>(rows[s].size());
      const int64_t k = first_[s + 1] - first_[s];
      sp_[s + 1] = sp_[s] + m;
      lp_[s + 1] = lp_[s] + m * k;
      nnz_ += m * k - k * (k - 1) / 2;
    }
    structure_.resize(sp_[supernodes]);
    for (int64_t s = 0; s < supernodes; ++s) std::copy(rows[s].begin(), rows[s].end(), structure_.begin() + sp_[s]);
    lx_.resize(lp_[supernodes]);
    // Each supernode's children, for the extend-add.
    child_start_.assign(supernodes + 1, 0);
    for (int64_t c = 0; c < supernodes; ++c)
      if (super_parent_[c] >= 0) ++child_start_[super_parent_[c] + 1];
    for (int64_t p = 0; p < supernodes; ++p) child_start_[p + 1] += child_start_[p];
    child_index_.resize(child_start_[supernodes]);
    std::vector<int64_t> next(child_start_.begin(), child_start_.end() - 1);
    for (int64_t c = 0; c < supernodes; ++c)
      if (super_parent_[c] >= 0) child_index_[next[super_parent_[c]]++] = static_cast<int32_t>(c);
  }

  int64_t factor(const double* values, double shift, double* pivot_value) override {
    const int64_t S = static_cast<int64_t>(first_.size()) - 1;
    std::vector<double> front;
    std::vector<int32_t> position(n_, -1);
    // Update matrices waiting for their parent (lower triangles, column-major).
    std::vector<std::vector<double>> pending(S);
    for (int64_t s = 0; s < S; ++s) {
      const int32_t f = first_[s];
      const int64_t k = first_[s + 1] - f;
      const int32_t* st = structure_.data() + sp_[s];
      const int64_t m = sp_[s + 1] - sp_[s];
      front.assign(m * m, 0.0);
      for (int64_t r = 0; r < m; ++r) position[st[r]] = static_cast<int32_t>(r);
      // Entries of A in the pivot columns (row >= column), shift on the diagonal.
      for (int64_t c = 0; c < k; ++c) {
        const int64_t col = f + c;
        for (int64_t q = rp_[col]; q < rp_[col + 1]; ++q) front[position[ri_[q]] + c * m] += values[rsource_[q]];
        front[c + c * m] += shift;
      }
      // Children's update matrices (extend-add).
      for (int64_t q = child_start_[s]; q < child_start_[s + 1]; ++q) {
        const int32_t child = child_index_[q];
        const int64_t ck = first_[child + 1] - first_[child];
        const int32_t* cs = structure_.data() + sp_[child] + ck;
        const int64_t cu = sp_[child + 1] - sp_[child] - ck;
        const std::vector<double>& u = pending[child];
        for (int64_t b = 0; b < cu; ++b) {
          const int64_t pb = position[cs[b]];
          double* dst = front.data() + pb * m;
          for (int64_t a = b; a < cu; ++a) dst[position[cs[a]]] += u[a + b * cu];
        }
        std::vector<double>().swap(pending[child]);
      }
      // Factor the k pivot columns (a panel: the updates stay within them)...
      for (int64_t c = 0; c < k; ++c) {
        double* colc = front.data() + c * m;
        const double d = colc[c];
        if (!(d > 0.0) || !std::isfinite(d)) {
          *pivot_value = d;
          return perm_[f + c];
        }
        const double l = std::sqrt(d);
        colc[c] = l;
        for (int64_t r = c + 1; r < m; ++r) colc[r] /= l;
        for (int64_t c2 = c + 1; c2 < k; ++c2) {
          const double a = colc[c2];
          if (a == 0.0) continue;
          double* col2 = front.data() + c2 * m;
          for (int64_t r = c2; r < m; ++r) col2[r] -= colc[r] * a;
        }
      }
      // ...then the update matrix U = F22 − L21 L21ᵀ in one product. Read as
      // row-major, the column-major front holds L21ᵀ (k×u, stride m) at column
      // k of its first k rows, so U −= (L21ᵀ)ᵀ L21ᵀ is one gemm for large fronts.
      const int64_t u = m - k;
      if (u > 0) {
        double* w = front.data() + k;           // L21ᵀ: row c is column c's rows k..m−1
        double* c22 = front.data() + k * m + k;  // U (symmetric; both triangles filled)
        if (k >= 4 && u * u * k >= 65536) {
          gemm_f64(true, false, u, u, k, -1.0, w, m, w, m, 1.0, c22, m);
        } else {
          for (int64_t c = 0; c < k; ++c) {
            const double* colc = front.data() + c * m;
            for (int64_t b = k; b < m; ++b) {
              const double a = colc[b];
              if (a == 0.0) continue;
              double* col2 = front.data() + b * m;
              for (int64_t r = b; r < m; ++r) col2[r] -= colc[r] * a;
            }
          }
        }
      }
      double* L = lx_.data() + lp_[s];
      for (int64_t c = 0; c < k; ++c) std::copy(front.data() + c * m, front.data() + (c + 1) * m, L + c * m);
      if (u > 0 && super_parent_[s] >= 0) {
        std::vector<double>& out = pending[s];
        out.assign(u * u, 0.0);
        for (int64_t b = 0; b < u; ++b)
          for (int64_t a = b; a < u; ++a) out[a + b * u] = front[(k + a) + (k + b) * m];
      }
    }
    return -1;
  }

  // Relaxed amalgamation (Ashcraft & Grimes 1989; CHOLMOD's default rules):
  // a supernode merges into its parent when it is the parent's last child
  // (their columns are adjacent) and the merged supernode stays small or
  // mostly nonzero. The explicit zeros buy larger dense fronts and fewer
  // extend-adds. Rewrites rows (one structure per supernode), first_,
  // super_of_ and super_parent_.
  void amalgamate(std::vector<std::vector<int32_t>>& rows) {
    const int64_t S = static_cast<int64_t>(rows.size());
    std::vector<int32_t> start(first_.begin(), first_.end() - 1), cols(S), alias(S), up(S, -1);
    std::vector<int64_t> zeros(S, 0);
    for (int64_t s = 0; s < S; ++s) {
      cols[s] = first_[s + 1] - first_[s];
      alias[s] = static_cast<int32_t>(s);
      const int32_t last = first_[s + 1] - 1;
      if (parent_[last] != -1) up[s] = super_of_[parent_[last]];
    }
    auto find = [&](int32_t x) {
      while (alias[x] != x) x = alias[x] = alias[alias[x]];
      return x;
    };
    for (int64_t s = 0; s < S; ++s) {
      if (up[s] < 0) continue;
      const int32_t p = find(up[s]);
      if (start[s] + cols[s] != start[p]) continue;  // not the parent's last child
      const int64_t ms = static_cast<int64_t>(rows[s].size()), mp = static_cast<int64_t>(rows[p].size());
      const int64_t k = cols[s] + cols[p], m = cols[s] + mp;
      const int64_t z = zeros[s] + zeros[p] + cols[s] * (cols[s] + mp - ms);
      const double fraction = static_cast<double>(z) / static_cast<double>(m * k - k * (k - 1) / 2);
      if (!(k <= 4 || (k <= 16 && fraction < 0.8) || (k <= 48 && fraction < 0.1) || fraction < 0.05)) continue;
      std::vector<int32_t> merged;
      merged.reserve(m);
      for (int32_t c = 0; c < cols[s]; ++c) merged.push_back(start[s] + c);
      merged.insert(merged.end(), rows[p].begin(), rows[p].end());
      rows[p].swap(merged);
      std::vector<int32_t>().swap(rows[s]);
      start[p] = start[s];
      cols[p] = static_cast<int32_t>(k);
      zeros[p] = z;
      alias[s] = p;
    }
    // Survivors keep their order, which is also the order of their columns.
    std::vector<int32_t> renumber(S, -1);
    std::vector<std::vector<int32_t>> kept;
    first_.clear();
    for (int64_t s = 0; s < S; ++s) {
      if (alias[s] != s) continue;
      renumber[s] = static_cast<int32_t>(kept.size());
      first_.push_back(start[s]);
      kept.push_back(std::move(rows[s]));
    }
    first_.push_back(static_cast<int32_t>(n_));
    super_parent_.assign(kept.size(), -1);
    for (int64_t s = 0; s < S; ++s)
      if (alias[s] == s && up[s] >= 0) super_parent_[renumber[s]] = renumber[find(up[s])];
    for (size_t t = 0; t < kept.size(); ++t)
      for (int32_t j = first_[t]; j < first_[t + 1]; ++j) super_of_[j] = static_cast<int32_t>(t);
    rows.swap(kept);
  }

  void solve(double* b, int64_t k) const override {
    parallel_for(0, k, 1, [&](int64_t c0, int64_t c1) {
      std::vector<double> x(n_);
      for (int64_t c = c0; c < c1; ++c) solve_one(b + c * n_, x);
    });
  }

  int64_t nnz() const override { return nnz_; }
  int64_t size() const override { return n_; }

 private:
  void solve_one(double* rhs, std::vector<double>& x) const {
    const int64_t S = static_cast<int64_t>(first_.size()) - 1;
    for (int64_t i = 0; i < n_; ++i) x[i] = rhs[perm_[i]];
    for (int64_t s = 0; s < S; ++s) {  // L y = P b
      const int32_t f = first_[s];
      const int64_t k = first_[s + 1] - f, m = sp_[s + 1] - sp_[s];
      const int32_t* st = structure_.data() + sp_[s];
      const double* L = lx_.data() + lp_[s];
      for (int64_t c = 0; c < k; ++c) {
        const double xc = x[f + c] /= L[c + c * m];
        for (int64_t r = c + 1; r < m; ++r) x[st[r]] -= L[r + c * m] * xc;
      }
    }
    for (int64_t s = S - 1; s >= 0; --s) {  // Lᵀ z = y
      const int32_t f = first_[s];
      const int64_t k = first_[s + 1] - f, m = sp_[s + 1] - sp_[s];
      const int32_t* st = structure_.data() + sp_[s];
      const double* L = lx_.data() + lp_[s];
      for (int64_t c = k - 1; c >= 0; --c) {
        double t = x[f + c];
        for (int64_t r = c + 1; r < m; ++r) t -= L[r + c * m] * x[st[r]];
        x[f + c] = t / L[c + c * m];
      }
    }
    for (int64_t i = 0; i < n_; ++i) rhs[perm_[i]] = x[i];
  }

  // C = P A Pᵀ by columns of its upper triangle (cp_, ci_: for the tree) and by
  // rows of its upper triangle (rp_, ri_: the lower columns the fronts read),
  // each entry remembering its position in A's values.
  void permute(const int32_t* indptr, const int32_t* indices) {
    const int64_t n = n_, nnz = indptr[n];
    cp_.assign(n + 1, 0);
    rp_.assign(n + 1, 0);
    for (int64_t i = 0; i < n; ++i)
      for (int32_t p = indptr[i]; p < indptr[i + 1]; ++p) {
        const int32_t a = pinv_[i], b = pinv_[indices[p]];
        ++cp_[std::max(a, b) + 1];
        ++rp_[std::min(a, b) + 1];
      }
    for (int64_t k = 0; k < n; ++k) {
      cp_[k + 1] += cp_[k];
      rp_[k + 1] += rp_[k];
    }
    ci_.resize(nnz);
    ri_.resize(nnz);
    rsource_.resize(nnz);
    std::vector<int64_t> cnext(cp_.begin(), cp_.end() - 1), rnext(rp_.begin(), rp_.end() - 1);
    for (int64_t i = 0; i < n; ++i)
      for (int32_t p = indptr[i]; p < indptr[i + 1]; ++p) {
        const int32_t a = pinv_[i], b = pinv_[indices[p]];
        const int32_t lo = std::min(a, b), hi = std::max(a, b);
        ci_[cnext[hi]++] = lo;
        const int64_t q = rnext[lo]++;
        ri_[q] = hi;
        rsource_[q] = p;
      }
  }

  // Pattern of row k of L (Davis's cs_ereach) in stack[top..n).
  int64_t reach(int64_t k, int32_t* stack, int32_t* mark) const {
    int64_t top = n_;
    mark[k] = static_cast<int32_t>(k);
    for (int64_t q = cp_[k]; q < cp_[k + 1]; ++q) {
      int32_t i = ci_[q];
      int64_t len = 0;
      for (; mark[i] != k; i = parent_[i]) {
        stack[len++] = i;
        mark[i] = static_cast<int32_t>(k);
      }
      while (len > 0) stack[--top] = stack[--len];
    }
    return top;
  }

  int64_t n_;
  int64_t nnz_ = 0;
  std::vector<int32_t> perm_, pinv_, parent_;
  std::vector<int64_t> cp_, rp_, rsource_;
  std::vector<int32_t> ci_, ri_;
  std::vector<int32_t> first_, super_of_, super_parent_, structure_;
  std::vector<int64_t> sp_, lp_;
  std::vector<double> lx_;
  std::vector<int64_t> child_start_;
  std::vector<int32_t> child_index_;
};

}  // namespace

std::unique_ptr<Factorization> analyze_native(int64_t n, const int32_t* indptr,
                                              const int32_t* indices) {
  return std::make_unique<MultifrontalFactorization>(n, indptr, indices);
}

}  // namespace sparse
}  // namespace nbforge
