// Levenberg–Marquardt arithmetic for landmark SLAM; local_solver.h says what
// each piece is for. Variables move by right perturbation R ← R·Exp(ω),
// translations and landmarks by addition; residuals are
//   pose edge:     √κ vec(R_j − R_i R̃), √τ (t_j − t_i − R_i t̃)
//   landmark edge: √ν (m_k − t_i − R_i ỹ)
// and their Jacobians use ∂(R·Exp(ω))/∂ω_a = R G_a at ω = 0.
#include "slam_local/local_solver.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace nbforge::slam_local {
namespace {

int rotation_dof(int d) { return d == 2 ? 1 : 3; }

// Landmarks seen from at most this many poses are eliminated from the
// normal equations; the others stay in the pose system (see build_pattern).
constexpr int32_t kEliminateUpTo = 8;

// so(d) generators G_a, row-major: [ω]× = Σ ω_a G_a.
const double kG2[1][4] = {{0, -1, 1, 0}};
const double kG3[3][9] = {
    {0, 0, 0, 0, 0, -1, 0, 1, 0},
    {0, 0, 1, 0, 0, 0, -1, 0, 0},
    {0, -1, 0, 1, 0, 0, 0, 0, 0},
};
const double* generator(int d, int a) { return d == 2 ? kG2[a] : kG3[a]; }

// C = A B for d x d row-major blocks.
void mul(int d, const double* A, const double* B, double* C) {
  for (int r = 0; r < d; ++r)
    for (int c = 0; c < d; ++c) C[r * d + c] = 0;
  for (int r = 0; r < d; ++r)
    for (int q = 0; q < d; ++q) {
      const double v = A[r * d + q];
      for (int c = 0; c < d; ++c) C[r * d + c] += v * B[q * d + c];
    }
}

// Exp(ω) in SO(d): a planar rotation, or Rodrigues' formula with Taylor
// series for sin θ/θ and (1 − cos θ)/θ² near 0, where they lose digits.
void exp_so(int d, const double* w, double* E) {
  if (d == 2) {
    const double c = std::cos(w[0]), s = std::sin(w[0]);
    E[0] = c, E[1] = -s, E[2] = s, E[3] = c;
    return;
  }
  const double x = w[0], y = w[1], z = w[2];
  const double th2 = x * x + y * y + z * z;
  const double th = std::sqrt(th2);
  const double a = th < 1e-4 ? 1 - th2 / 6 : std::sin(th) / th;
  const double b = th < 1e-4 ? 0.5 - th2 / 24 : (1 - std::cos(th)) / th2;
  const double v[9] = {1 - b * (y * y + z * z), b * x * y - a * z,       b * x * z + a * y,
                       b * x * y + a * z,       1 - b * (x * x + z * z), b * y * z - a * x,
                       b * x * z - a * y,       b * y * z + a * x,       1 - b * (x * x + y * y)};
  std::memcpy(E, v, sizeof v);
}

// ‖a − b − R v‖² for d-vectors a, b, v and a d x d row-major R.
double squared_gap(int d, const double* a, const double* b, const double* R, const double* v) {
  double s = 0;
  for (int r = 0; r < d; ++r) {
    double Rv = 0;
    for (int c = 0; c < d; ++c) Rv += R[r * d + c] * v[c];
    const double gap = a[r] - b[r] - Rv;
    s += gap * gap;
  }
  return s;
}

std::string edge_name(const char* kind, int64_t idx) { return std::string(kind) + " edge " + std::to_string(idx); }

// Offset of block hi's run in the rows of block lo (lo < hi), by binary search.
int32_t run_offset(const std::vector<int32_t>& nb_begin, const std::vector<int32_t>& nb, const std::vector<int32_t>& prefix,
                   int32_t lo, int32_t hi) {
  auto first = nb.begin() + nb_begin[lo];
  auto last = nb.begin() + nb_begin[lo + 1];
  auto it = std::lower_bound(first, last, hi);
  return prefix[it - nb.begin()];
}

// One measurement's J (rows x m, row-major) and r summed into JᵀJ and Jᵀr.
// The columns are two groups [0, w0) and [w0, w0 + w1) on blocks g0, g1
// (−1: the fixed pose); `off` is g1's run in g0's rows (or g0's in g1's).
struct Scatter {
  const Pattern& p;
  double* values;
  double* gradient;
  double H[24 * 24];

  void add(const double* J, const double* r, int rows, int g0, int w0, int g1, int w1, int32_t off) {
    const int m = w0 + w1;
    std::fill(H, H + m * m, 0.0);
    for (int q = 0; q < rows; ++q) {
      const double* row = J + q * m;
      for (int a = 0; a < m; ++a) {
        const double v = row[a];
        if (v == 0) continue;
        for (int c = a; c < m; ++c) H[a * m + c] += v * row[c];
      }
    }
    const int groups[2] = {g0, g1};
    const int width[2] = {w0, w1};
    const int origin[2] = {0, w0};
    for (int gx = 0; gx < 2; ++gx) {
      const int bx = groups[gx];
      if (bx < 0) continue;
      const int xo = origin[gx];
      const int32_t sx = p.start[bx];
      for (int a = 0; a < width[gx]; ++a) {
        double s = 0;
        for (int q = 0; q < rows; ++q) s += J[q * m + xo + a] * r[q];
        gradient[sx + a] += s;
      }
      for (int gy = 0; gy < 2; ++gy) {
        const int by = groups[gy];
        if (by < 0) continue;
        const int yo = origin[gy];
        if (bx == by) {
          // Two groups on one block (a pose edge from a pose to itself): the
          // block gets H_xy + H_yx, so each unordered pair is visited once.
          if (xo > yo) continue;
          for (int a = 0; a < width[gx]; ++a) {
            const int64_t base = p.indptr[sx + a] - a;
            for (int c = a; c < width[gy]; ++c)
              values[base + c] += entry(m, xo + a, yo + c) + (xo < yo ? entry(m, xo + c, yo + a) : 0.0);
          }
        } else if (bx < by) {
          const int32_t w = p.size[bx];
          for (int a = 0; a < width[gx]; ++a) {
            const int64_t base = static_cast<int64_t>(p.indptr[sx + a]) + (w - a) + off;
            for (int c = 0; c < width[gy]; ++c) values[base + c] += entry(m, xo + a, yo + c);
          }
        }
      }
    }
  }

  // Entry (u, v) of the symmetric H stored by its upper triangle.
  double entry(int m, int u, int v) const { return u <= v ? H[u * m + v] : H[v * m + u]; }
};

}  // namespace

std::string check_edges(const Edges& e) {
  if (e.d != 2 && e.d != 3) return "d must be 2 or 3, got " + std::to_string(e.d);
  if (e.n < 1) return "the problem needs at least one pose";
  for (int64_t q = 0; q < e.pose_count(); ++q) {
    const int32_t i = e.pose_ij[2 * q], j = e.pose_ij[2 * q + 1];
    if (i < 0 || i >= e.n || j < 0 || j >= e.n)
      return edge_name("pose", q) + " joins poses " + std::to_string(i) + " and " + std::to_string(j) +
             "; expected poses in 0.." + std::to_string(e.n - 1);
  }
  for (int64_t q = 0; q < e.lm_count(); ++q) {
    const int32_t i = e.lm_ik[2 * q], k = e.lm_ik[2 * q + 1];
    if (i < 0 || i >= e.n || k < 0 || k >= e.L)
      return edge_name("landmark", q) + " joins pose " + std::to_string(i) + " and landmark " + std::to_string(k) +
             "; expected a pose in 0.." + std::to_string(e.n - 1) + " and a landmark in 0.." + std::to_string(e.L - 1);
  }
  return "";
}

namespace {

// Upper block-CSR pattern from block sizes and (lo < hi) block pairs: row r
// of block q holds q's own upper part, then one run per neighbour of q of
// higher index, neighbours sorted ascending.
struct BlockCsr {
  std::vector<int32_t> start, size, indptr, indices;
  std::vector<int32_t> nb_begin, nb, prefix;  // neighbours per block and each run's offset in the row
  int64_t unknowns = 0;

  // Offset of block hi's run in the rows of block lo (lo < hi, a neighbour).
  int32_t offset(int32_t lo, int32_t hi) const { return run_offset(nb_begin, nb, prefix, lo, hi); }
};

BlockCsr block_csr(std::vector<int32_t> size, const std::vector<int32_t>& lo, const std::vector<int32_t>& hi) {
  BlockCsr p;
  const int64_t B = static_cast<int64_t>(size.size());
  p.size = std::move(size);
  p.start.assign(B + 1, 0);
  for (int64_t q = 0; q < B; ++q) p.start[q + 1] = p.start[q] + p.size[q];
  p.unknowns = p.start[B];
  std::vector<int32_t> count(B + 1, 0);
  for (int32_t u : lo) ++count[u + 1];
  for (int64_t q = 0; q < B; ++q) count[q + 1] += count[q];
  std::vector<int32_t> nb(count[B]);
  {
    std::vector<int32_t> fill(count.begin(), count.end() - 1);
    for (size_t r = 0; r < lo.size(); ++r) nb[fill[lo[r]]++] = hi[r];
  }
  p.nb_begin.assign(B + 1, 0);
  int32_t out = 0;
  for (int64_t q = 0; q < B; ++q) {
    auto first = nb.begin() + count[q], last = nb.begin() + count[q + 1];
    std::sort(first, last);
    last = std::unique(first, last);
    p.nb_begin[q] = out;
    for (auto it = first; it != last; ++it) nb[out++] = *it;
  }
  p.nb_begin[B] = out;
  nb.resize(out);
  p.nb = std::move(nb);
  p.prefix.resize(p.nb.size());
  std::vector<int64_t> width(B, 0);
  for (int64_t q = 0; q < B; ++q) {
    int32_t s = 0;
    for (int32_t r = p.nb_begin[q]; r < p.nb_begin[q + 1]; ++r) {
      p.prefix[r] = s;
      s += p.size[p.nb[r]];
    }
    width[q] = s;
  }
  p.indptr.assign(p.unknowns + 1, 0);
  for (int64_t q = 0; q < B; ++q)
    for (int a = 0; a < p.size[q]; ++a) {
      const int64_t row = p.start[q] + a;
      p.indptr[row + 1] = static_cast<int32_t>(p.indptr[row] + (p.size[q] - a) + width[q]);
    }
  p.indices.resize(p.indptr[p.unknowns]);
  for (int64_t q = 0; q < B; ++q)
    for (int a = 0; a < p.size[q]; ++a) {
      int32_t* o = p.indices.data() + p.indptr[p.start[q] + a];
      for (int c = a; c < p.size[q]; ++c) *o++ = p.start[q] + c;
      for (int32_t r = p.nb_begin[q]; r < p.nb_begin[q + 1]; ++r)
        for (int c = 0; c < p.size[p.nb[r]]; ++c) *o++ = p.start[p.nb[r]] + c;
    }
  return p;
}

}  // namespace

Pattern build_pattern(const Edges& e) {
  const int d = e.d;
  const int b = rotation_dof(d) + d;
  const int32_t poses = static_cast<int32_t>(e.n - 1);  // pose p is block p − 1; landmark k is block poses + k
  Pattern p;
  p.blocks = poses + e.L;
  std::vector<int32_t> size(p.blocks, d);
  std::fill(size.begin(), size.begin() + poses, b);
  std::vector<int32_t> lo, hi, plo, phi;
  for (int64_t q = 0; q < e.pose_count(); ++q) {
    const int32_t u = e.pose_ij[2 * q] - 1, v = e.pose_ij[2 * q + 1] - 1;
    if (u >= 0 && v >= 0 && u != v) lo.push_back(std::min(u, v)), hi.push_back(std::max(u, v));
  }
  plo = lo, phi = hi;
  // Each landmark's observing poses (blocks, sorted, once each): its row of the elimination.
  std::vector<int32_t> count(e.L + 1, 0);
  for (int64_t q = 0; q < e.lm_count(); ++q) {
    const int32_t u = e.lm_ik[2 * q] - 1;
    if (u < 0) continue;
    lo.push_back(u), hi.push_back(poses + e.lm_ik[2 * q + 1]);
    ++count[e.lm_ik[2 * q + 1] + 1];
  }
  BlockCsr full = block_csr(std::move(size), lo, hi);
  p.start = full.start, p.size = full.size, p.indptr = full.indptr, p.indices = full.indices;
  p.unknowns = full.unknowns;
  p.pose_off.assign(e.pose_count(), -1);
  for (int64_t q = 0; q < e.pose_count(); ++q) {
    const int32_t u = e.pose_ij[2 * q] - 1, v = e.pose_ij[2 * q + 1] - 1;
    if (u >= 0 && v >= 0 && u != v) p.pose_off[q] = full.offset(std::min(u, v), std::max(u, v));
  }
  p.lm_off.assign(e.lm_count(), -1);
  for (int64_t q = 0; q < e.lm_count(); ++q) {
    const int32_t u = e.lm_ik[2 * q] - 1;
    if (u >= 0) p.lm_off[q] = full.offset(u, poses + e.lm_ik[2 * q + 1]);
  }

  // The reduced system on the poses: landmarks eliminated, so two poses that
  // see one landmark become neighbours.
  Reduced& r = p.reduced;
  for (int64_t k = 0; k < e.L; ++k) count[k + 1] += count[k];
  std::vector<int32_t> seen(count[e.L]);
  {
    std::vector<int32_t> fill(count.begin(), count.end() - 1);
    for (int64_t q = 0; q < e.lm_count(); ++q)
      if (e.lm_ik[2 * q] >= 1) seen[fill[e.lm_ik[2 * q + 1]]++] = e.lm_ik[2 * q] - 1;
  }
  r.obs_begin.assign(e.L + 1, 0);
  for (int64_t k = 0; k < e.L; ++k) {
    auto first = seen.begin() + count[k], last = seen.begin() + count[k + 1];
    std::sort(first, last);
    last = std::unique(first, last);
    r.obs_begin[k] = static_cast<int32_t>(r.obs_block.size());
    for (auto it = first; it != last; ++it) {
      r.obs_block.push_back(*it);
      r.obs_off.push_back(full.offset(*it, poses + static_cast<int32_t>(k)));
    }
  }
  r.obs_begin[e.L] = static_cast<int32_t>(r.obs_block.size());
  // A landmark seen from o poses costs o² pose–pose blocks when eliminated;
  // one seen from many stays in the reduced system (after the poses), where
  // the sparse Cholesky's ordering places it.
  r.kept_block.assign(e.L, -1);
  int32_t kept = 0;
  for (int64_t k = 0; k < e.L; ++k)
    if (r.obs_begin[k + 1] - r.obs_begin[k] > kEliminateUpTo) r.kept_block[k] = poses + kept++;
  for (int64_t k = 0; k < e.L; ++k) {
    if (r.kept_block[k] >= 0) {
      for (int32_t x = r.obs_begin[k]; x < r.obs_begin[k + 1]; ++x) plo.push_back(r.obs_block[x]), phi.push_back(r.kept_block[k]);
      continue;
    }
    for (int32_t x = r.obs_begin[k]; x < r.obs_begin[k + 1]; ++x)
      for (int32_t y = x + 1; y < r.obs_begin[k + 1]; ++y) plo.push_back(r.obs_block[x]), phi.push_back(r.obs_block[y]);
  }
  std::vector<int32_t> red_size(poses + kept, d);
  std::fill(red_size.begin(), red_size.begin() + poses, b);
  BlockCsr red = block_csr(std::move(red_size), plo, phi);
  r.indptr = red.indptr, r.indices = red.indices, r.unknowns = red.unknowns;
  r.red_start = red.start;
  r.pair_off.clear();
  r.kept_off.assign(r.obs_block.size(), -1);
  for (int64_t k = 0; k < e.L; ++k) {
    if (r.kept_block[k] >= 0) {
      for (int32_t x = r.obs_begin[k]; x < r.obs_begin[k + 1]; ++x) r.kept_off[x] = red.offset(r.obs_block[x], r.kept_block[k]);
      continue;
    }
    for (int32_t x = r.obs_begin[k]; x < r.obs_begin[k + 1]; ++x)
      for (int32_t y = x + 1; y < r.obs_begin[k + 1]; ++y) r.pair_off.push_back(red.offset(r.obs_block[x], r.obs_block[y]));
  }
  // Where each pose–pose run of the full pattern lands in the reduced one.
  r.pose_run_off.assign(full.nb.size(), -1);
  for (int32_t u = 0; u < poses; ++u)
    for (int32_t q = full.nb_begin[u]; q < full.nb_begin[u + 1]; ++q)
      if (full.nb[q] < poses) r.pose_run_off[q] = red.offset(u, full.nb[q]);
  r.full_nb_begin = full.nb_begin;
  r.full_prefix = full.prefix;
  r.landmark_chol.assign(e.L * d * d, 0.0);
  return p;
}

void linearise(const Edges& e, const Pattern& p, const Estimate& x, double* values, double* gradient,
               double* curvature) {
  const int d = e.d, dd = d * d, k = rotation_dof(d), b = k + d;
  const int64_t n = e.n;
  const bool newton = curvature != nullptr;
  std::fill(values, values + p.indices.size(), 0.0);
  std::fill(gradient, gradient + p.unknowns, 0.0);
  // Newton's second-order term Σ r ∂²r/∂ω_a∂ω_c, where ∂² of R·Exp(ω) at 0 is
  // R·P_ac with P_ac = ½(G_a G_c + G_c G_a). Every residual is affine in t
  // and m and in each rotation separately, so the term only touches the
  // rotation part of one pose's diagonal block.
  const int np = k * (k + 1) / 2;
  std::vector<double> P(np * dd);
  {
    int q = 0;
    double ab[9], ba[9];
    for (int a = 0; a < k; ++a)
      for (int c = a; c < k; ++c, ++q) {
        mul(d, generator(d, a), generator(d, c), ab);
        mul(d, generator(d, c), generator(d, a), ba);
        for (int s = 0; s < dd; ++s) P[q * dd + s] = 0.5 * (ab[s] + ba[s]);
      }
  }
  // R_p G_a and R_p P_ac for every pose, once (the edge loops only read them).
  std::vector<double> RG(n * k * dd), RP(newton ? n * np * dd : 0);
  for (int64_t pp = 0; pp < n; ++pp) {
    for (int a = 0; a < k; ++a) mul(d, x.R + pp * dd, generator(d, a), &RG[(pp * k + a) * dd]);
    if (newton)
      for (int q = 0; q < np; ++q) mul(d, x.R + pp * dd, &P[q * dd], &RP[(pp * np + q) * dd]);
  }
  if (newton) std::fill(curvature, curvature + n * k * k, 0.0);
  // Adds sign · Σ res ⊙ (R_p P_ac M) (M is d x w row-major) into pose p's k x k block.
  auto curve = [&](int64_t pose, double sign, const double* M, int w, const double* res) {
    int q = 0;
    for (int a = 0; a < k; ++a)
      for (int c = a; c < k; ++c, ++q) {
        const double* RPq = &RP[(pose * np + q) * dd];
        double s = 0;
        for (int r = 0; r < d; ++r)
          for (int col = 0; col < w; ++col) {
            double v = 0;
            for (int t = 0; t < d; ++t) v += RPq[r * d + t] * M[t * w + col];
            s += res[r * w + col] * v;
          }
        curvature[(pose * k + a) * k + c] += sign * s;
      }
  };
  Scatter scatter{p, values, gradient, {}};
  const double I[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  const double I2[4] = {1, 0, 0, 1};

  // Pose edges: rows vec(R_j − R_i R̃) (d²) then t_j − t_i − R_i t̃ (d); columns [ω_i t_i | ω_j t_j].
  {
    const int rows = dd + d, m = 2 * b;
    double J[12 * 12], r[12], RiRm[9], RiGRm[9];
    for (int64_t q = 0; q < e.pose_count(); ++q) {
      const int32_t i = e.pose_ij[2 * q], j = e.pose_ij[2 * q + 1];
      const double* Rm = &e.pose_R[q * dd];
      const double* tm = &e.pose_t[q * d];
      const double sk = std::sqrt(e.pose_w[2 * q]), st = std::sqrt(e.pose_w[2 * q + 1]);
      const double* Ri = x.R + int64_t{i} * dd;
      const double* Rj = x.R + int64_t{j} * dd;
      std::fill(J, J + rows * m, 0.0);
      mul(d, Ri, Rm, RiRm);
      for (int s = 0; s < dd; ++s) r[s] = sk * (Rj[s] - RiRm[s]);
      for (int a = 0; a < k; ++a) {
        const double* RGi = &RG[(int64_t{i} * k + a) * dd];
        const double* RGj = &RG[(int64_t{j} * k + a) * dd];
        mul(d, RGi, Rm, RiGRm);
        for (int s = 0; s < dd; ++s) {
          J[s * m + a] = -sk * RiGRm[s];
          J[s * m + b + a] = sk * RGj[s];
        }
        for (int s = 0; s < d; ++s) {
          double v = 0;
          for (int c = 0; c < d; ++c) v += RGi[s * d + c] * tm[c];
          J[(dd + s) * m + a] = -st * v;
        }
      }
      for (int s = 0; s < d; ++s) {
        double v = 0;
        for (int c = 0; c < d; ++c) v += Ri[s * d + c] * tm[c];
        r[dd + s] = st * (x.t[int64_t{j} * d + s] - x.t[int64_t{i} * d + s] - v);
        J[(dd + s) * m + k + s] = -st;
        J[(dd + s) * m + b + k + s] = st;
      }
      scatter.add(J, r, rows, i - 1, b, j - 1, b, p.pose_off[q]);
      if (newton) {
        curve(i, -sk, Rm, d, r);
        curve(j, sk, d == 2 ? I2 : I, d, r);
        curve(i, -st, tm, 1, r + dd);
      }
    }
  }

  // Landmark edges: rows r = √ν(m_k − t_i − R_i ỹ) (d); columns [ω_i t_i | m_k],
  // J = [Jω | −√ν I | √ν I] with Jω[:, a] = −√ν R_i G_a ỹ. The edges are most
  // of the problem, so JᵀJ's blocks are written out in closed form:
  //   pose:      [JωᵀJω, −√ν Jωᵀ; ·, ν I]   pose–landmark: [√ν Jωᵀ; −ν I]
  //   landmark:  ν I                        Jᵀr: [Jωᵀr, −√ν r | √ν r]
  {
    const int32_t lm0 = static_cast<int32_t>(n - 1);
    double Jw[3 * 3], r[3];
    for (int64_t q = 0; q < e.lm_count(); ++q) {
      const int32_t i = e.lm_ik[2 * q], kk = e.lm_ik[2 * q + 1];
      const double* y = &e.lm_y[q * d];
      const double nu = e.lm_nu[q];
      const double sn = std::sqrt(nu);
      const double* Ri = x.R + int64_t{i} * dd;
      for (int s = 0; s < d; ++s) {
        double v = 0;
        for (int c = 0; c < d; ++c) v += Ri[s * d + c] * y[c];
        r[s] = sn * (x.m[int64_t{kk} * d + s] - x.t[int64_t{i} * d + s] - v);
      }
      for (int a = 0; a < k; ++a) {
        const double* RGi = &RG[(int64_t{i} * k + a) * dd];
        for (int s = 0; s < d; ++s) {
          double v = 0;
          for (int c = 0; c < d; ++c) v += RGi[s * d + c] * y[c];
          Jw[s * k + a] = -sn * v;
        }
      }
      const int64_t lv = p.start[lm0 + kk];
      for (int c = 0; c < d; ++c) {
        values[p.indptr[lv + c]] += nu;  // each row starts at its diagonal
        gradient[lv + c] += sn * r[c];
      }
      const int32_t u = i - 1;
      if (u < 0) {
        if (newton) curve(i, -sn, y, 1, r);
        continue;
      }
      const int64_t pu = p.start[u];
      const int32_t off = p.lm_off[q];
      for (int a = 0; a < k; ++a) {  // rotation rows
        double* row = values + p.indptr[pu + a] - a;  // row[c] is column c of the pose block
        double g = 0;
        for (int s = 0; s < d; ++s) g += Jw[s * k + a] * r[s];
        gradient[pu + a] += g;
        for (int c = a; c < k; ++c) {
          double v = 0;
          for (int s = 0; s < d; ++s) v += Jw[s * k + a] * Jw[s * k + c];
          row[c] += v;
        }
        for (int s = 0; s < d; ++s) row[k + s] -= sn * Jw[s * k + a];
        double* run = values + p.indptr[pu + a] + (b - a) + off;
        for (int s = 0; s < d; ++s) run[s] += sn * Jw[s * k + a];
      }
      for (int j = 0; j < d; ++j) {  // translation rows
        const int a = k + j;
        values[p.indptr[pu + a]] += nu;
        gradient[pu + a] -= sn * r[j];
        values[p.indptr[pu + a] + (b - a) + off + j] -= nu;
      }
      if (newton) curve(i, -sn, y, 1, r);
    }
  }
}

void cost_terms(const Edges& e, const Estimate& x, double terms[3], double* pose_cost, double* lm_cost) {
  const int d = e.d, dd = d * d;
  double rotation = 0, translation = 0, landmark = 0;
  for (int64_t q = 0; q < e.pose_count(); ++q) {
    const int64_t i = e.pose_ij[2 * q], j = e.pose_ij[2 * q + 1];
    const double* Ri = x.R + i * dd;
    const double* Rj = x.R + j * dd;
    const double* Rm = &e.pose_R[q * dd];
    const double* tm = &e.pose_t[q * d];
    // SE-Sync's ‖R_i‖² + ‖R_j‖² − 2⟨R_j, R_i R̃⟩ (kernel/src/slam/cost.ts says
    // why), summed as ‖R_j − R_i R̃‖² + ‖R_i‖² − ‖R_i R̃‖² to keep its digits.
    double sr = 0;
    for (int r = 0; r < d; ++r)
      for (int c = 0; c < d; ++c) {
        double v = 0;
        for (int a = 0; a < d; ++a) v += Ri[r * d + a] * Rm[a * d + c];
        const double diff = Rj[r * d + c] - v;
        const double ri = Ri[r * d + c];
        sr += diff * diff + (ri - v) * (ri + v);
      }
    const double st = squared_gap(d, x.t + j * d, x.t + i * d, Ri, tm);
    const double fr = e.pose_w[2 * q] * sr, ft = e.pose_w[2 * q + 1] * st;
    rotation += fr;
    translation += ft;
    if (pose_cost != nullptr) pose_cost[q] = fr + ft;
  }
  for (int64_t q = 0; q < e.lm_count(); ++q) {
    const int64_t i = e.lm_ik[2 * q], kk = e.lm_ik[2 * q + 1];
    const double* Ri = x.R + i * dd;
    const double f = e.lm_nu[q] * squared_gap(d, x.m + kk * d, x.t + i * d, Ri, &e.lm_y[q * d]);
    landmark += f;
    if (lm_cost != nullptr) lm_cost[q] = f;
  }
  terms[0] = rotation;
  terms[1] = translation;
  terms[2] = landmark;
}

void retract(const Edges& e, const Estimate& x, const double* delta, double alpha, double* R, double* t, double* m) {
  const int d = e.d, dd = d * d, k = rotation_dof(d), b = k + d;
  std::memcpy(R, x.R, sizeof(double) * e.n * dd);
  std::memcpy(t, x.t, sizeof(double) * e.n * d);
  double E[9];
  for (int64_t pose = 1; pose < e.n; ++pose) {
    const int64_t o = (pose - 1) * b;
    double w[3];
    for (int a = 0; a < k; ++a) w[a] = alpha * delta[o + a];
    exp_so(d, w, E);
    mul(d, x.R + pose * dd, E, R + pose * dd);
    for (int s = 0; s < d; ++s) t[pose * d + s] += alpha * delta[o + k + s];
  }
  const double* dm = delta + (e.n - 1) * b;
  for (int64_t q = 0; q < e.L * d; ++q) m[q] = x.m[q] + alpha * dm[q];
}

void step_stats(int64_t unknowns, const double* g, const double* delta, const double* D, int64_t nt, const double* t,
                int64_t nm, const double* m, double out[5]) {
  double gmax = 0, gd = 0, dDd = 0, dd = 0, xx = 0;
  for (int64_t v = 0; v < unknowns; ++v) {
    gmax = std::max(gmax, std::abs(g[v]));
    if (delta == nullptr) continue;
    gd += g[v] * delta[v];
    dDd += D[v] * delta[v] * delta[v];
    dd += delta[v] * delta[v];
  }
  for (int64_t q = 0; q < nt; ++q) xx += t[q] * t[q];
  for (int64_t q = 0; q < nm; ++q) xx += m[q] * m[q];
  out[0] = gmax, out[1] = gd, out[2] = dDd, out[3] = dd, out[4] = xx;
}

bool reduce(const Edges& e, Pattern& p, const double* values, const double* curvature, const double* D, double lambda,
            const double* gradient, double* S, double* rhs) {
  const int d = e.d, dd = d * d, k = rotation_dof(d), b = k + d;
  Reduced& r = p.reduced;
  const int64_t poses = e.n - 1;  // unknowns are numbered alike in both systems up to poses·b
  std::fill(S, S + r.indices.size(), 0.0);
  // A_pp: JᵀJ's pose rows, the curvature on each rotation block, λD on the diagonal.
  for (int64_t u = 0; u < poses; ++u) {
    for (int a = 0; a < b; ++a) {
      const int64_t row = u * b + a;
      const int64_t f = p.indptr[row], s = r.indptr[row];
      for (int c = a; c < b; ++c) S[s + c - a] = values[f + c - a];
      S[s] += lambda * D[row];
      if (curvature != nullptr && a < k)
        for (int c = a; c < k; ++c) S[s + c - a] += curvature[((u + 1) * k + a) * k + c];
      for (int32_t q = r.full_nb_begin[u]; q < r.full_nb_begin[u + 1]; ++q) {
        if (r.pose_run_off[q] < 0) continue;
        const double* from = values + f + (b - a) + r.full_prefix[q];
        double* to = S + s + (b - a) + r.pose_run_off[q];
        for (int c = 0; c < b; ++c) to[c] = from[c];
      }
      rhs[row] = gradient[row];
    }
  }
  // − A_pk A_kk⁻¹ A_kp per landmark k: with A_kk = L Lᵀ and W_u = A_uk L⁻ᵀ
  // (b x d per observing pose u), S_uw −= W_u W_wᵀ and rhs_u −= W_u L⁻¹ g_k.
  std::vector<double> W;
  int64_t pair = 0;
  for (int64_t kk = 0; kk < e.L; ++kk) {
    const int64_t v0 = p.start[poses + kk];
    if (r.kept_block[kk] >= 0) {
      // Kept: its diagonal block (+ λD), its pose couplings and its gradient, copied.
      const int64_t s0 = r.red_start[r.kept_block[kk]];
      for (int a = 0; a < d; ++a) {
        for (int c = a; c < d; ++c) S[r.indptr[s0 + a] + c - a] = values[p.indptr[v0 + a] + c - a];
        S[r.indptr[s0 + a]] += lambda * D[v0 + a];
        rhs[s0 + a] = gradient[v0 + a];
      }
      for (int32_t x = r.obs_begin[kk]; x < r.obs_begin[kk + 1]; ++x) {
        const int64_t u = r.obs_block[x];
        for (int a = 0; a < b; ++a) {
          const double* from = values + p.indptr[u * b + a] + (b - a) + r.obs_off[x];
          double* to = S + r.indptr[u * b + a] + (b - a) + r.kept_off[x];
          for (int c = 0; c < d; ++c) to[c] = from[c];
        }
      }
      continue;
    }
    double* Lk = &r.landmark_chol[kk * dd];
    for (int a = 0; a < d; ++a)
      for (int c = a; c < d; ++c) Lk[c * d + a] = values[p.indptr[v0 + a] + c - a] + (a == c ? lambda * D[v0 + a] : 0.0);
    for (int a = 0; a < d; ++a) {  // lower Cholesky in place
      double diag = Lk[a * d + a];
      for (int j = 0; j < a; ++j) diag -= Lk[a * d + j] * Lk[a * d + j];
      if (!(diag > 0)) return false;
      diag = std::sqrt(diag);
      Lk[a * d + a] = diag;
      for (int c = a + 1; c < d; ++c) {
        double v = Lk[c * d + a];
        for (int j = 0; j < a; ++j) v -= Lk[c * d + j] * Lk[a * d + j];
        Lk[c * d + a] = v / diag;
      }
    }
    double y[3];
    for (int c = 0; c < d; ++c) {
      double v = gradient[v0 + c];
      for (int j = 0; j < c; ++j) v -= Lk[c * d + j] * y[j];
      y[c] = v / Lk[c * d + c];
    }
    const int32_t o0 = r.obs_begin[kk], o1 = r.obs_begin[kk + 1];
    W.resize(static_cast<size_t>(o1 - o0) * b * d);
    for (int32_t x = o0; x < o1; ++x) {
      const int64_t u = r.obs_block[x];
      double* Wx = &W[static_cast<size_t>(x - o0) * b * d];
      for (int a = 0; a < b; ++a) {
        const double* H = values + p.indptr[u * b + a] + (b - a) + r.obs_off[x];
        double g = 0;
        for (int c = 0; c < d; ++c) {
          double v = H[c];
          for (int j = 0; j < c; ++j) v -= Wx[a * d + j] * Lk[c * d + j];
          Wx[a * d + c] = v / Lk[c * d + c];
          g += Wx[a * d + c] * y[c];
        }
        rhs[u * b + a] -= g;
      }
      // The diagonal block S_uu (upper part).
      for (int a = 0; a < b; ++a) {
        double* to = S + r.indptr[u * b + a] - a;
        for (int c = a; c < b; ++c) {
          double v = 0;
          for (int j = 0; j < d; ++j) v += Wx[a * d + j] * Wx[c * d + j];
          to[c] -= v;
        }
      }
    }
    for (int32_t x = o0; x < o1; ++x) {
      const int64_t u = r.obs_block[x];
      const double* Wx = &W[static_cast<size_t>(x - o0) * b * d];
      for (int32_t z = x + 1; z < o1; ++z, ++pair) {
        const double* Wz = &W[static_cast<size_t>(z - o0) * b * d];
        for (int a = 0; a < b; ++a) {
          double* to = S + r.indptr[u * b + a] + (b - a) + r.pair_off[pair];
          for (int c = 0; c < b; ++c) {
            double v = 0;
            for (int j = 0; j < d; ++j) v += Wx[a * d + j] * Wz[c * d + j];
            to[c] -= v;
          }
        }
      }
    }
  }
  return true;
}

void back_substitute(const Edges& e, const Pattern& p, const double* values, const double* gradient,
                     const double* reduced_solution, double* s) {
  const int d = e.d, dd = d * d, b = rotation_dof(d) + d;
  const Reduced& r = p.reduced;
  const int64_t poses = e.n - 1;
  std::memcpy(s, reduced_solution, sizeof(double) * poses * b);
  for (int64_t kk = 0; kk < e.L; ++kk) {
    const int64_t v0 = p.start[poses + kk];
    if (r.kept_block[kk] >= 0) {
      for (int c = 0; c < d; ++c) s[v0 + c] = reduced_solution[r.red_start[r.kept_block[kk]] + c];
      continue;
    }
    const double* Lk = &r.landmark_chol[kk * dd];
    double t[3];
    for (int c = 0; c < d; ++c) t[c] = gradient[v0 + c];
    for (int32_t x = r.obs_begin[kk]; x < r.obs_begin[kk + 1]; ++x) {
      const int64_t u = r.obs_block[x];
      for (int a = 0; a < b; ++a) {
        const double* H = values + p.indptr[u * b + a] + (b - a) + r.obs_off[x];
        const double su = s[u * b + a];
        for (int c = 0; c < d; ++c) t[c] -= H[c] * su;
      }
    }
    for (int c = 0; c < d; ++c) {  // L z = t, then Lᵀ s_k = z
      for (int j = 0; j < c; ++j) t[c] -= Lk[c * d + j] * t[j];
      t[c] /= Lk[c * d + c];
    }
    for (int c = d - 1; c >= 0; --c) {
      for (int j = c + 1; j < d; ++j) t[c] -= Lk[j * d + c] * t[j];
      t[c] /= Lk[c * d + c];
    }
    for (int c = 0; c < d; ++c) s[v0 + c] = t[c];
  }
}

void scaling(const Pattern& p, const double* values, double* D) {
  double top = 0;
  for (int64_t v = 0; v < p.unknowns; ++v) top = std::max(top, values[p.indptr[v]]);
  // Floored so directions with no curvature still get damped.
  for (int64_t v = 0; v < p.unknowns; ++v) D[v] = std::max({values[p.indptr[v]], 1e-12 * top, 1e-300});
}

}  // namespace nbforge::slam_local
