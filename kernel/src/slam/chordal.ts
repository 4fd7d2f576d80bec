// Chordal initialisation (Martinec & Pajdla 2007; SE-Sync's default start):
// minimise Σ κ‖R_j − R_i R̃_ij‖²_F over unconstrained d×d blocks, a linear
// least-squares problem in the connection Laplacian L(G̃ρ), then round each
// block to SO(d). Landmark edges carry no rotation information there; the
// whole-problem variant (chordalRotationsOfProblem) uses them through Q.
import { SparseMatrix } from "../linalg/sparse.js";
import { sparseCholesky, type SparseCholeskyBackend } from "../linalg/sparse-cholesky.js";
import { BlockManifold } from "./stiefel.js";
import { gershgorinBound } from "./lifted-matrix.js";
import type { DataMatrix, ReusableShiftedSolver } from "./data-matrix.js";

/**
 * Rotations (n row-major d×d) minimising the chordal cost tr(Rᵀ L R) with
 * pose 0 softly held at the identity: (L + w E₀) Rᵀ = w E₀ I, where E₀ selects
 * block 0. The soft anchor keeps L's pattern (only block 0's diagonal
 * changes), and the gauge it picks is irrelevant after rounding.
 */
export function chordalRotations(
  connectionLaplacian: SparseMatrix,
  d: number,
  n: number,
  backend: SparseCholeskyBackend = "auto",
): Float64Array {
  const L = connectionLaplacian;
  const size = n * d;
  if (L.rows !== size) throw new RangeError(`chordalRotations: the connection Laplacian is ${L.rows}x${L.cols}, expected ${size}x${size}`);
  const values = Float64Array.from(L.values);
  // Upper-triangular CSR: the diagonal is the first entry of its row when present.
  let scale = 0;
  for (let row = 0; row < d; row++) {
    const p = L.indptr[row];
    if (L.indices[p] !== row) throw new Error("chordalRotations: pose 0 has no rotation measurement (empty diagonal block)");
    scale = Math.max(scale, values[p]);
  }
  const w = scale > 0 ? scale : 1;
  for (let row = 0; row < d; row++) values[L.indptr[row]] += w;
  const anchored = SparseMatrix.fromCsr(size, size, L.indptr, L.indices, values, { symmetric: true });
  const rhs = new Float64Array(size * d);
  for (let a = 0; a < d; a++) rhs[a * size + a] = w;
  const rt = sparseCholesky(anchored, { backend }).solveMany(rhs, d);
  // Rounding at rank d: each block's closest rotation (in the majority's reflection class).
  return new BlockManifold("stiefel", n, d, d).round(rt);
}

/**
 * Chordal initialisation of the whole problem: the rotations as free d×d
 * blocks minimising tr(Q RᵀR) with pose 0 softly anchored at the identity,
 * (Q + w E₀) Rᵀ = w E₀, solved through the lifted sparse matrix (the anchor is
 * a negative "multiplier" on block 0). Unlike the rotation-only chordal
 * relaxation it uses the translation and landmark measurements too.
 */
export function chordalRotationsOfProblem(dm: DataMatrix, backend: SparseCholeskyBackend = "auto", solver: ReusableShiftedSolver = dm.shiftedSolver(backend)): Float64Array {
  const { d, n } = dm;
  const w = Math.max(gershgorinBound(dm.rotationBlock), 1e-12) / n;
  const lambda = new Float64Array(n * d * d);
  for (let a = 0; a < d; a++) lambda[a * d + a] = -w;
  // `solver` may be shared with the certificates (one symbolic analysis of the lifted pattern).
  solver.factor(lambda, 0);
  const size = n * d;
  const rhs = new Float64Array(size * d);
  for (let a = 0; a < d; a++) rhs[a * size + a] = w;
  return new BlockManifold("stiefel", n, d, d).round(solver.solveMany(rhs, d));
}
