// The rotation-only data matrix Q of landmark SLAM (SE-Sync, Holmes & Barfoot
// 2023): translations and landmarks eliminated in closed form. STUB.
import type { Dimension, Problem } from "./problem.js";
import type { SparseMatrix } from "../linalg/sparse.js";
import type { SparseCholeskyFactor } from "../linalg/sparse-cholesky.js";

export interface DataMatrix {
  d: Dimension;
  /** Number of poses; Q is dn×dn. */
  n: number;
  /** Q X for X of dn×k values, column-major (X = Yᵀ for Y of k×dn; the rotation estimate gives Xt = Rᵀ). */
  applyQ(Xt: Float64Array, k: number): Float64Array;
  /** Optimal translations (pose 0 at the origin) and landmarks for the rotations R (as Estimate.R). */
  recoverTranslations(R: Float64Array): { t: Float64Array; landmarks: Float64Array };
  /** f(R) = tr(Q RᵀR): the SLAM cost with translations and landmarks at their optimum. */
  cost(R: Float64Array): number;
  /** Q = rotationBlock − Vᵀ B⁻¹ V: rotationBlock = L(G̃ρ) + Σ' (dn×dn, upper), sparse. */
  rotationBlock: SparseMatrix;
  /** L(G̃ρ) alone (dn×dn, upper): the connection Laplacian SE-Sync preconditions with. */
  connectionLaplacian: SparseMatrix;
  /** The reduced translation Laplacian B (poses 1..n−1, pose 0 grounded), sparse SPD, and its factor. */
  translationLaplacian: SparseMatrix;
  translationFactor: SparseCholeskyFactor;
  /** V: (n−1)×dn coupling of translations with rotations. */
  coupling: SparseMatrix;
  /** Vᵀ (dn×(n−1)), stored for the products. */
  couplingT: SparseMatrix;
  /** Seconds spent building. */
  seconds: number;
}

export function buildDataMatrix(problem: Problem): DataMatrix {
  void problem;
  throw new Error("buildDataMatrix: not implemented yet");
}
