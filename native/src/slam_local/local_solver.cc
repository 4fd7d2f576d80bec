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

Pattern build_pattern(const Edges& e) {
  const int d = e.d;
  const int b = rotation_dof(d) + d;
  Pattern p;
  p.blocks = e.n - 1 + e.L;
  const int64_t B = p.blocks;
  p.size.assign(B, d);
  std::fill(p.size.begin(), p.size.begin() + (e.n - 1), b);
  p.start.assign(B + 1, 0);
  for (int64_t q = 0; q < B; ++q) p.start[q + 1] = p.start[q] + p.size[q];
  p.unknowns = p.start[B];
  // Neighbour lists (higher blocks) in one CSR: count, fill, sort, dedupe.
  auto pose_block = [](int32_t pose) { return pose - 1; };
  const int32_t lm0 = static_cast<int32_t>(e.n - 1);
  std::vector<int32_t> count(B + 1, 0);
  auto each_pair = [&](auto&& fn) {
    for (int64_t q = 0; q < e.pose_count(); ++q) {
      const int32_t u = pose_block(e.pose_ij[2 * q]), v = pose_block(e.pose_ij[2 * q + 1]);
      if (u >= 0 && v >= 0 && u != v) fn(std::min(u, v), std::max(u, v));
    }
    for (int64_t q = 0; q < e.lm_count(); ++q) {
      const int32_t u = pose_block(e.lm_ik[2 * q]);
      if (u >= 0) fn(u, lm0 + e.lm_ik[2 * q + 1]);
    }
  };
  each_pair([&](int32_t lo, int32_t) { ++count[lo + 1]; });
  for (int64_t q = 0; q < B; ++q) count[q + 1] += count[q];
  std::vector<int32_t> nb(count[B]);
  {
    std::vector<int32_t> fill(count.begin(), count.end() - 1);
    each_pair([&](int32_t lo, int32_t hi) { nb[fill[lo]++] = hi; });
  }
  std::vector<int32_t> nb_begin(B + 1, 0);
  {
    int32_t out = 0;
    for (int64_t q = 0; q < B; ++q) {
      auto first = nb.begin() + count[q], last = nb.begin() + count[q + 1];
      std::sort(first, last);
      last = std::unique(first, last);
      nb_begin[q] = out;
      for (auto it = first; it != last; ++it) nb[out++] = *it;
    }
    nb_begin[B] = out;
    nb.resize(out);
  }
  std::vector<int32_t> prefix(nb.size());
  std::vector<int64_t> width(B, 0);
  for (int64_t q = 0; q < B; ++q) {
    int32_t s = 0;
    for (int32_t r = nb_begin[q]; r < nb_begin[q + 1]; ++r) {
      prefix[r] = s;
      s += p.size[nb[r]];
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
      int32_t* out = p.indices.data() + p.indptr[p.start[q] + a];
      for (int c = a; c < p.size[q]; ++c) *out++ = p.start[q] + c;
      for (int32_t r = nb_begin[q]; r < nb_begin[q + 1]; ++r)
        for (int c = 0; c < p.size[nb[r]]; ++c) *out++ = p.start[nb[r]] + c;
    }
  p.pose_off.assign(e.pose_count(), -1);
  for (int64_t q = 0; q < e.pose_count(); ++q) {
    const int32_t u = pose_block(e.pose_ij[2 * q]), v = pose_block(e.pose_ij[2 * q + 1]);
    if (u >= 0 && v >= 0 && u != v) p.pose_off[q] = run_offset(nb_begin, nb, prefix, std::min(u, v), std::max(u, v));
  }
  p.lm_off.assign(e.lm_count(), -1);
  for (int64_t q = 0; q < e.lm_count(); ++q) {
    const int32_t u = pose_block(e.lm_ik[2 * q]);
    if (u >= 0) p.lm_off[q] = run_offset(nb_begin, nb, prefix, u, lm0 + e.lm_ik[2 * q + 1]);
  }
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

  // Landmark edges: rows m_k − t_i − R_i ỹ (d); columns [ω_i t_i | m_k].
  {
    const int m = b + d;
    const int32_t lm0 = static_cast<int32_t>(n - 1);
    double J[3 * 9], r[3];
    for (int64_t q = 0; q < e.lm_count(); ++q) {
      const int32_t i = e.lm_ik[2 * q], kk = e.lm_ik[2 * q + 1];
      const double* y = &e.lm_y[q * d];
      const double sn = std::sqrt(e.lm_nu[q]);
      const double* Ri = x.R + int64_t{i} * dd;
      std::fill(J, J + d * m, 0.0);
      for (int s = 0; s < d; ++s) {
        double v = 0;
        for (int c = 0; c < d; ++c) v += Ri[s * d + c] * y[c];
        r[s] = sn * (x.m[int64_t{kk} * d + s] - x.t[int64_t{i} * d + s] - v);
        J[s * m + k + s] = -sn;
        J[s * m + b + s] = sn;
      }
      for (int a = 0; a < k; ++a) {
        const double* RGi = &RG[(int64_t{i} * k + a) * dd];
        for (int s = 0; s < d; ++s) {
          double v = 0;
          for (int c = 0; c < d; ++c) v += RGi[s * d + c] * y[c];
          J[s * m + a] = -sn * v;
        }
      }
      scatter.add(J, r, d, i - 1, b, lm0 + kk, d, p.lm_off[q]);
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
    double st = 0;
    for (int r = 0; r < d; ++r) {
      double v = 0;
      for (int a = 0; a < d; ++a) v += Ri[r * d + a] * tm[a];
      const double diff = x.t[j * d + r] - x.t[i * d + r] - v;
      st += diff * diff;
    }
    const double fr = e.pose_w[2 * q] * sr, ft = e.pose_w[2 * q + 1] * st;
    rotation += fr;
    translation += ft;
    if (pose_cost != nullptr) pose_cost[q] = fr + ft;
  }
  for (int64_t q = 0; q < e.lm_count(); ++q) {
    const int64_t i = e.lm_ik[2 * q], kk = e.lm_ik[2 * q + 1];
    const double* Ri = x.R + i * dd;
    const double* y = &e.lm_y[q * d];
    double s = 0;
    for (int r = 0; r < d; ++r) {
      double v = 0;
      for (int a = 0; a < d; ++a) v += Ri[r * d + a] * y[a];
      const double diff = x.m[kk * d + r] - x.t[i * d + r] - v;
      s += diff * diff;
    }
    const double f = e.lm_nu[q] * s;
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

void scaling(const Pattern& p, const double* values, double* D) {
  double top = 0;
  for (int64_t v = 0; v < p.unknowns; ++v) top = std::max(top, values[p.indptr[v]]);
  // Floored so directions with no curvature still get damped.
  for (int64_t v = 0; v < p.unknowns; ++v) D[v] = std::max({values[p.indptr[v]], 1e-12 * top, 1e-300});
}

void damped(const Edges& e, const Pattern& p, const double* values, const double* curvature, const double* D,
            double lambda, double* out) {
  const int k = rotation_dof(e.d);
  std::memcpy(out, values, sizeof(double) * p.indices.size());
  if (curvature != nullptr)
    for (int64_t pose = 1; pose < e.n; ++pose) {
      const int32_t start = p.start[pose - 1];
      for (int a = 0; a < k; ++a) {
        const int64_t base = p.indptr[start + a] - a;
        for (int c = a; c < k; ++c) out[base + c] += curvature[(pose * k + a) * k + c];
      }
    }
  // Each row of the pattern starts at its diagonal entry.
  for (int64_t v = 0; v < p.unknowns; ++v) out[p.indptr[v]] += lambda * D[v];
}

}  // namespace nbforge::slam_local
