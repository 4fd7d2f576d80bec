// Compressed sparse row matrices (Saad, "Iterative Methods for Sparse Linear
// Systems", §3.4): construction from COO triplets by a counting sort on rows,
// an insertion sort within each row and a merge of duplicate entries; and the
// product Y = A X over rows in parallel.
//
// Symmetric matrices store only their upper triangle. Row i of A is then row i
// of the stored upper part plus column i of its strictly upper part; the
// t_* arrays index that column by row, so each output row is written by one
// thread and is summed in a fixed order, whatever the number of threads.
#include <algorithm>
#include <numeric>

#include "linalg/linalg.h"
#include "parallel.h"

namespace nbforge {
namespace linalg {

Csr csr_from_triplets(int64_t rows, int64_t cols, const int32_t* ri, const int32_t* ci,
                      const double* v, int64_t count, bool symmetric) {
  Csr out;
  out.rows = rows;
  out.cols = cols;
  out.symmetric = symmetric;
  // Counting sort of the triplets by row (stable: input order kept within a row).
  std::vector<int64_t> start(rows + 1, 0);
  for (int64_t t = 0; t < count; ++t) ++start[ri[t] + 1];
  for (int64_t i = 0; i < rows; ++i) start[i + 1] += start[i];
  std::vector<int32_t> col(count);
  std::vector<double> val(count);
  {
    std::vector<int64_t> next(start.begin(), start.end() - 1);
    for (int64_t t = 0; t < count; ++t) {
      const int64_t p = next[ri[t]]++;
      col[p] = ci[t];
      val[p] = v[t];
    }
  }
  // Sort each row by column and sum duplicates, compacting in place.
  out.indptr.assign(rows + 1, 0);
  int64_t write = 0;
  std::vector<int64_t> perm;
  std::vector<int32_t> row_cols;
  std::vector<double> row_vals;
  for (int64_t i = 0; i < rows; ++i) {
    const int64_t b = start[i], e = start[i + 1];
    perm.resize(e - b);
    std::iota(perm.begin(), perm.end(), b);
    std::stable_sort(perm.begin(), perm.end(), [&](int64_t x, int64_t y) { return col[x] < col[y]; });
    row_cols.clear();
    row_vals.clear();
    for (int64_t p : perm) {
      if (!row_cols.empty() && row_cols.back() == col[p]) {
        row_vals.back() += val[p];
      } else {
        row_cols.push_back(col[p]);
        row_vals.push_back(val[p]);
      }
    }
    for (size_t j = 0; j < row_cols.size(); ++j, ++write) {
      col[write] = row_cols[j];
      val[write] = row_vals[j];
    }
    out.indptr[i + 1] = static_cast<int32_t>(write);
  }
  out.indices.assign(col.begin(), col.begin() + write);
  out.values.assign(val.begin(), val.begin() + write);
  if (symmetric)
    csr_build_transpose_index(rows, out.indptr.data(), out.indices.data(), out.t_indptr,
                              out.t_indices, out.t_position);
  return out;
}

void csr_build_transpose_index(int64_t n, const int32_t* indptr, const int32_t* indices,
                               std::vector<int32_t>& t_indptr, std::vector<int32_t>& t_indices,
                               std::vector<int32_t>& t_position) {
  // Entry (i, j) with j > i of the upper part appears as (j, i) in row j.
  t_indptr.assign(n + 1, 0);
  for (int64_t i = 0; i < n; ++i)
    for (int32_t p = indptr[i]; p < indptr[i + 1]; ++p)
      if (indices[p] > i) ++t_indptr[indices[p] + 1];
  for (int64_t i = 0; i < n; ++i) t_indptr[i + 1] += t_indptr[i];
  t_indices.resize(t_indptr[n]);
  t_position.resize(t_indptr[n]);
  std::vector<int32_t> next(t_indptr.begin(), t_indptr.end() - 1);
  // Rows are visited in order, so each mirrored row comes out sorted.
  for (int64_t i = 0; i < n; ++i)
    for (int32_t p = indptr[i]; p < indptr[i + 1]; ++p) {
      const int32_t j = indices[p];
      if (j <= i) continue;
      const int32_t q = next[j]++;
      t_indices[q] = static_cast<int32_t>(i);
      t_position[q] = p;
    }
}

void csr_matmul(int64_t rows, const int32_t* indptr, const int32_t* indices,
                const double* values, bool symmetric, const int32_t* t_indptr,
                const int32_t* t_indices, const int32_t* t_position, const double* x,
                int64_t k, double* y) {
  const int64_t nnz = indptr[rows] + (symmetric ? t_indptr[rows] : 0);
  const int64_t per_row = std::max<int64_t>(1, (nnz * k) / std::max<int64_t>(1, rows));
  const int64_t grain = std::max<int64_t>(64, 32768 / per_row);
  parallel_for(0, rows, grain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      double* yi = y + i * k;
      if (k == 1) {
        double sum = 0.0;
        if (symmetric)
          for (int32_t p = t_indptr[i]; p < t_indptr[i + 1]; ++p)
            sum += values[t_position[p]] * x[t_indices[p]];
        for (int32_t p = indptr[i]; p < indptr[i + 1]; ++p) sum += values[p] * x[indices[p]];
        yi[0] = sum;
        continue;
      }
      std::fill(yi, yi + k, 0.0);
      auto add = [&](double a, const double* xj) {
        for (int64_t c = 0; c < k; ++c) yi[c] += a * xj[c];
      };
      if (symmetric)
        for (int32_t p = t_indptr[i]; p < t_indptr[i + 1]; ++p)
          add(values[t_position[p]], x + static_cast<int64_t>(t_indices[p]) * k);
      for (int32_t p = indptr[i]; p < indptr[i + 1]; ++p)
        add(values[p], x + static_cast<int64_t>(indices[p]) * k);
    }
  });
}

}  // namespace linalg
}  // namespace nbforge
