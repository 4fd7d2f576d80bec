// LOBPCG (Knyazev 2001): the smallest eigenpair of a large symmetric matrix
// or linear operator. STUB: real code follows.
import { SparseMatrix } from "./sparse.js";

/** A symmetric linear operator: y = A x for x, y of n values. */
export interface LinearOperator {
  readonly n: number;
  apply(x: Float64Array, y: Float64Array): void;
}

export interface LobpcgOptions {
  /** Block size (default 3; more vectors help with clustered eigenvalues). */
  blockSize?: number;
  /** Stop when ‖A x − λ x‖ ≤ tol · max(1, |λ|) (default 1e-8). */
  tol?: number;
  maxIterations?: number;
  /** Preconditioner T ≈ A⁻¹ (or (A − σI)⁻¹): writes T r into out. */
  preconditioner?: (r: Float64Array, out: Float64Array) => void;
  /** Starting vector (or n×blockSize values column-major). Default: seeded random. */
  initial?: Float64Array;
  seed?: number;
}

export interface LobpcgResult {
  value: number;
  /** Unit eigenvector. */
  vector: Float64Array;
  /** Final residual norm ‖A x − λ x‖. */
  residual: number;
  iterations: number;
  converged: boolean;
}

export function lobpcgMin(a: SparseMatrix | LinearOperator, options: LobpcgOptions = {}): LobpcgResult {
  void a;
  void options;
  throw new Error("lobpcgMin: not implemented yet");
}
