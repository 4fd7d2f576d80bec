// The Lagrangian certificate of global optimality (Holmes & Barfoot 2023,
// SE-Sync's verification). STUB.
import type { Estimate, Problem } from "./problem.js";
import type { DataMatrix } from "./data-matrix.js";

export interface CertifyOptions {
  /** Regularisation η: the Cholesky test of S + ηI proves λ_min(S) > −η (default 1e-6). */
  eta?: number;
  /** LOBPCG tolerance on the residual of the minimum eigenpair (default 1e-8 relative). */
  eigenTolerance?: number;
  maxIterations?: number;
  backend?: "auto" | "cholmod" | "native";
  seed?: number;
}

export interface CertifyTimes {
  /** Seconds building the data matrix (0 for certifyRotations, which is given it). */
  dataMatrix: number;
  /** Λ and the stationarity check. */
  multipliers: number;
  /** The Cholesky test of S + ηI. */
  cholesky: number;
  /** LOBPCG for λ_min. */
  eigen: number;
  /** cholesky + eigen + multipliers. */
  verify: number;
  total: number;
}

export interface Certificate {
  certified: boolean;
  /** Estimated λ_min(S) (LOBPCG). */
  lambdaMin: number;
  /** f − (tr Λ + dn·min(λ_min, 0)): primal cost minus the dual value of the feasible shifted multiplier. */
  dualityGap: number;
  /** f − f* ≤ suboptimalityBound (from the proven lower bound on λ_min when the Cholesky test passed). */
  suboptimalityBound: number;
  /** f(R) = tr(Q RᵀR) with translations and landmarks optimal. */
  cost: number;
  /** ‖S Yᵀ‖_F: first-order stationarity residual. */
  stationarity: number;
  /** Whether S + ηI factored (λ_min > −η proven). */
  choleskyPassed: boolean;
  eta: number;
  /** Unit eigenvector for λ_min, dn values (a descent direction when λ_min < 0). */
  descentDirection: Float64Array | null;
  /** Λ: n symmetric d×d blocks row-major concatenated. */
  lambda: Float64Array;
  times: CertifyTimes;
}

export function certifyRotations(dataMatrix: DataMatrix, Yt: Float64Array, r: number, options: CertifyOptions = {}): Certificate {
  void dataMatrix;
  void Yt;
  void r;
  void options;
  throw new Error("certifyRotations: not implemented yet");
}

export function certify(problem: Problem, estimate: Estimate, options: CertifyOptions = {}): Certificate {
  void problem;
  void estimate;
  void options;
  throw new Error("certify: not implemented yet");
}
