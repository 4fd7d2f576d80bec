// The arithmetic of the landmark-SLAM Levenberg–Marquardt solver
// (kernel/src/slam/local-solver.ts does the orchestration: damping,
// acceptance, stopping): the block sparsity pattern of JᵀJ, one pass over
// the edges that forms every residual and Jacobian block and sums JᵀJ, Jᵀr
// and Newton's curvature term into that fixed pattern, the cost in SE-Sync's
// convention, and the retraction x ⊞ δ.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nbforge::slam_local {

// The measurements, flattened (indices already 0-based and contiguous).
struct Edges {
  int d = 3;
  int64_t n = 0;  // poses
  int64_t L = 0;  // landmarks
  std::vector<int32_t> pose_ij;     // 2 per pose edge
  std::vector<double> pose_R;       // d*d per pose edge (R̃, row-major)
  std::vector<double> pose_t;       // d per pose edge
  std::vector<double> pose_w;       // κ, τ per pose edge
  std::vector<int32_t> lm_ik;       // pose, landmark per landmark edge
  std::vector<double> lm_y;         // d per landmark edge
  std::vector<double> lm_nu;        // 1 per landmark edge
  int64_t pose_count() const { return static_cast<int64_t>(pose_w.size() / 2); }
  int64_t lm_count() const { return static_cast<int64_t>(lm_nu.size()); }
};

// Empty when the edges fit the sizes, else a message naming the bad edge.
std::string check_edges(const Edges& e);

// Upper-triangular CSR pattern of JᵀJ by variable blocks: block b is pose
// b+1 (pose 0 is held fixed) or, after the poses, one landmark. Row r of a
// block holds the block's own upper part, then one run per neighbouring block
// of higher index, so every edge's entries sit at offsets found once here.
// The normal equations with the landmarks eliminated (a Schur complement):
// the landmark blocks of JᵀJ are d x d and coupled only to poses, so the
// pose system (poses 1.., (k + d) unknowns each) is small and the landmark
// unknowns follow one landmark at a time. A landmark seen from many poses
// would fill the pose system densely, so it is kept in it instead (its d
// unknowns after the poses').
struct Reduced {
  int64_t unknowns = 0;
  std::vector<int32_t> indptr, indices;  // upper CSR by blocks: poses, then kept landmarks
  std::vector<int32_t> red_start;        // first unknown of each reduced block
  std::vector<int32_t> kept_block;       // per landmark: its reduced block, or −1 when eliminated
  std::vector<int32_t> kept_off;         // per observation of a kept landmark: its run in the pose's reduced rows
  std::vector<int32_t> obs_begin;        // per landmark: its observing pose blocks (sorted, once each)
  std::vector<int32_t> obs_block, obs_off;  // pose block, and the landmark's run in that block's rows of JᵀJ
  std::vector<int32_t> pair_off;         // per landmark, per pair (u < w) of its poses: w's run in u's reduced rows
  std::vector<int32_t> pose_run_off;     // per neighbour run of the full pattern: its reduced run (−1: a landmark)
  std::vector<int32_t> full_nb_begin, full_prefix;
  std::vector<double> landmark_chol;     // per landmark: Cholesky factor of its damped block (scratch)
};

struct Pattern {
  int64_t blocks = 0;
  int64_t unknowns = 0;
  std::vector<int32_t> start, size;
  std::vector<int32_t> indptr, indices;
  // Per edge: offset of the higher block's run inside the lower block's rows
  // (−1 where the edge touches the fixed pose or only one block).
  std::vector<int32_t> pose_off, lm_off;
  Reduced reduced;
};

Pattern build_pattern(const Edges& e);

struct Estimate {
  const double* R;
  const double* t;
  const double* m;
};

// JᵀJ into `values` (the pattern's upper CSR order), Jᵀr into `gradient`
// (pattern.unknowns), and, when `curvature` is not null, Newton's extra term
// Σ r ∂²r into it (k x k per pose, pose 0 included). Outputs are overwritten.
void linearise(const Edges& e, const Pattern& p, const Estimate& x, double* values, double* gradient,
               double* curvature);

// F split into rotation, translation and landmark terms; per-edge costs into
// pose_cost / lm_cost when they are not null.
void cost_terms(const Edges& e, const Estimate& x, double terms[3], double* pose_cost, double* lm_cost);

// x ⊞ αδ into (R, t, m): R_p Exp(αω_p), t_p + αδt_p (p ≥ 1), m + αδm.
void retract(const Edges& e, const Estimate& x, const double* delta, double alpha, double* R, double* t, double* m);

// What the LM acceptance test needs of a step δ, in one pass:
// out = [‖g‖∞, gᵀδ, δᵀDδ, δᵀδ, tᵀt + mᵀm] (the last for ‖x‖).
void step_stats(int64_t unknowns, const double* g, const double* delta, const double* D, int64_t nt, const double* t,
                int64_t nm, const double* m, double out[5]);

// The damped model A = JᵀJ (+ curvature) + λD with the landmarks l eliminated:
// S = A_pp − A_pl A_ll⁻¹ A_lp into `S` (reduced pattern; p: the poses and
// kept landmarks) and the right side g_p − A_pl A_ll⁻¹ g_l into `rhs`. False when a landmark block is not
// positive definite. Keeps each landmark block's factor for back_substitute.
bool reduce(const Edges& e, Pattern& p, const double* values, const double* curvature, const double* D, double lambda,
            const double* gradient, double* S, double* rhs);

// The whole solution of A s = g from the reduced system's s_p (after
// reduce): s_l = A_ll⁻¹ (g_l − A_lp s_p), one landmark at a time.
void back_substitute(const Edges& e, const Pattern& p, const double* values, const double* gradient,
                     const double* reduced_solution, double* s);

// Marquardt's scaling D: diag JᵀJ floored at 1e-12 of its largest entry.
void scaling(const Pattern& p, const double* values, double* D);

}  // namespace nbforge::slam_local
