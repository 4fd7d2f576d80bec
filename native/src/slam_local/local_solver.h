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
struct Pattern {
  int64_t blocks = 0;
  int64_t unknowns = 0;
  std::vector<int32_t> start, size;
  std::vector<int32_t> indptr, indices;
  // Per edge: offset of the higher block's run inside the lower block's rows
  // (−1 where the edge touches the fixed pose or only one block).
  std::vector<int32_t> pose_off, lm_off;
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

// Marquardt's scaling D (diag JᵀJ floored at 1e-12 of its largest entry) and
// the damped model H + λD, H being JᵀJ plus, when given, the curvature.
void scaling(const Pattern& p, const double* values, double* D);
void damped(const Edges& e, const Pattern& p, const double* values, const double* curvature, const double* D,
            double lambda, double* out);

}  // namespace nbforge::slam_local
