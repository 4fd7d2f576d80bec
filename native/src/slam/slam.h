// Per-block arithmetic of the Riemannian staircase (SE-Sync) on St(d, r)^n and,
// for CPL-SLAM's complex relaxation of 2-D SLAM, on the product of spheres.
//
// A point is stored as Yt = Y^T, a (d n) x r column-major matrix: entry
// (row, c) lives at c * d n + row, and block i is rows i d .. i d + d - 1 (the
// d x r matrix Y_i^T). On St(d, r) each block has orthonormal rows; on the
// sphere manifold (kind = kSphere, d = 2) each block has unit Frobenius norm.
#pragma once

#include <cstdint>

namespace nbforge {
namespace slam {

enum Manifold : int { kStiefel = 0, kSphere = 1 };

// Ranks r up to 64 (the bindings check): blocks are worked on in stack buffers.

// out = scale * P_Y(V), the orthogonal projection onto the tangent space at Y.
void project(Manifold m, const double* y, const double* v, int64_t n, int d, int64_t r,
             double scale, double* out);

// out = Retr_Y(V): the polar factor of each block of Y + V (Stiefel) or its
// normalisation (sphere).
void retract(Manifold m, const double* y, const double* v, int64_t n, int d, int64_t r,
             double* out);

// Λ_i = sym(Y_i^T-block times G_i-block^T) (Stiefel) or <Y_i, G_i> I (sphere):
// the d x d Lagrange multiplier blocks, row-major, n d d numbers.
void block_lambda(Manifold m, const double* y, const double* g, int64_t n, int d, int64_t r,
                  double* lambda);

// out = scale * P_Y(QV - Λ V), the Riemannian Hessian of tr(Yt^T Q Yt) / 2 * scale.
void hessian(Manifold m, const double* y, const double* qv, const double* v,
             const double* lambda, int64_t n, int d, int64_t r, double scale, double* out);

// out = blockdiag(Λ) V for n d x d blocks (row-major) and V of (d n) x k values.
void block_apply(const double* lambda, const double* v, int64_t n, int d, int64_t k, double* out);

// Rounds a Stiefel point to rotations: the top-d right singular subspace of Y
// (thin SVD through the r x r Gram matrix), the sign fix that makes most
// determinants positive, then each block projected onto SO(d). Writes n
// row-major d x d rotations. Returns false if an eigensolve failed.
bool round_stiefel(const double* y, int64_t n, int d, int64_t r, double* rotations);

// Rounds a complex (sphere) point, n x r complex stored as 2n x r real, to unit
// complex numbers along its top singular vector; writes n 2 x 2 rotations.
bool round_sphere(const double* y, int64_t n, int64_t r, double* rotations);

// The lift of a 2n x r complex point to a 2n x 2r real one whose block i is
// [u; J u]^T per column u (so a rotation's first column becomes R_i^T), and its
// adjoint. With them Q_c = Lift^T Q Lift is the complex data matrix.
void complex_lift(const double* x, int64_t n, int64_t r, double* z);
void complex_lift_adjoint(const double* z, int64_t n, int64_t r, double* x);

}  // namespace slam
}  // namespace nbforge
