// CPL-SLAM's complex relaxation of 2-D SLAM (Fan, Wang, Murphey et al. 2020).
// A planar rotation is a unit complex number, the SLAM cost a Hermitian form
// z^H Q̃ z, and the relaxation replaces each z_i by a unit vector of C^r. It is
// never looser than SE-Sync's real relaxation and is exact on problems (M3500b)
// where the real one is not.
//
// Q̃ needs no assembly of its own: with u_i = (cos θ_i, sin θ_i), the rotation
// R_i = [u_i, J u_i] is linear in u_i, so Q̃ (realified, 2n×2n) = Liftᵀ Q Lift
// where Lift maps u_i to the block R_iᵀ (native slamComplexLift). Liftᵀ Lift = 2I.
import { lobpcgMin } from "../linalg/lobpcg.js";
import { NotPositiveDefiniteError } from "../linalg/dense.js";
import type { LiftedMatrix } from "./lifted-matrix.js";
import { BlockManifold, slamNative } from "./stiefel.js";
import type { QuadraticForm } from "./trust-region.js";

/** Q̃ X for X the realified n×k complex matrix (2n×k values, column-major). */
export function complexForm(applyQ: QuadraticForm, n: number): QuadraticForm {
  return (x, k) => slamNative.slamComplexLiftAdjoint(applyQ(slamNative.slamComplexLift(x, n, k), 2 * k), n, k);
}

/** u_i (the first columns of the rotations) as a complex point of rank r (zero-padded). */
export function rotationsToComplexPoint(rotations: Float64Array, n: number, r: number): Float64Array {
  const x = new Float64Array(2 * n * r);
  for (let i = 0; i < n; i++) {
    x[2 * i] = rotations[i * 4];
    x[2 * i + 1] = rotations[i * 4 + 2];
  }
  return x;
}

export interface ComplexCertificate {
  certified: boolean;
  lambdaMin: number;
  /** Whether the Cholesky factor of S̃ + ηI exists (λ_min(S̃) > −η proven). */
  choleskyPassed: boolean;
  /** f − (Σλ_i + n·min(λ_min, 0)): the gap to the dual bound. */
  dualityGap: number;
  /** A lower bound on f* (proven when choleskyPassed: Σλ_i − nη). */
  lowerBound: number;
  /** Σλ_i, the dual value of the multipliers. */
  dualValue: number;
  /** The multipliers Λ̃ (n 2×2 blocks λ_i I₂, row-major). */
  lambda: Float64Array;
  eta: number;
  cost: number;
  descentDirection: Float64Array | null;
  seconds: number;
}

export interface ComplexCertifyOptions {
  /**
   * Certified when S̃ + ηI factors and LOBPCG's λ_min ≥ −η. Default, as the real
   * certificate's: 1e-11 × the largest diagonal entry of the (complex) rotation block.
   */
  eta?: number;
  seed?: number;
}

/**
 * Checks S̃ = Q̃ − Λ̃ ⪰ 0 at a rank-r complex point X, with Λ̃ = diag(Re(Q̃ X X^H))
 * (per block λ_i I₂), as the real certificate does: a sparse Cholesky of
 * S̃ + ηI through the complex LiftedMatrix proves λ_min > −η, and LOBPCG,
 * preconditioned by that factor, gives λ_min and its eigenvector.
 */
export function certifyComplex(
  q: QuadraticForm,
  lifted: LiftedMatrix,
  x: Float64Array,
  r: number,
  options: ComplexCertifyOptions = {},
): ComplexCertificate {
  const start = performance.now();
  const n = lifted.rows / 2;
  const eta = options.eta ?? Math.max(1e-11 * lifted.scale, Number.MIN_VALUE);
  const m = new BlockManifold("sphere", n, 2, r);
  const qx = q(x, r);
  const lambda = m.lambda(x, qx);
  const cost = m.inner(x, qx);
  let sumLambda = 0;
  let scale = 0;
  for (let i = 0; i < n; i++) {
    sumLambda += lambda[i * 4];
    scale = Math.max(scale, Math.abs(lambda[i * 4]));
  }
  if (lifted.kind !== "complex") throw new TypeError("certifyComplex: needs the complex LiftedMatrix");
  const tryFactor = (shift: number): ReturnType<LiftedMatrix["factor"]> | null => {
    try {
      return lifted.factor(lambda, shift);
    } catch (err) {
      if (err instanceof NotPositiveDefiniteError) return null;
      throw err;
    }
  };
  let solver = tryFactor(eta);
  const choleskyPassed = solver !== null;
  for (let shift = Math.max(10 * eta, 1e-4 * scale); solver === null && shift <= 1e3 * scale + 1; shift *= 10) solver = tryFactor(shift);
  const applyS = (v: Float64Array, k: number): Float64Array =>
    slamNative.slamAxpby(1, q(v, k), -1, slamNative.slamBlockApply(lambda, v, n, 2, k));
  const pre = solver;
  const result = lobpcgMin(
    { n: 2 * n, apply: (v, out) => out.set(applyS(v, 1)), applyMany: applyS },
    {
      blockSize: 3,
      tol: 1e-10,
      maxIterations: 300,
      seed: options.seed ?? 1,
      preconditioner: pre === null ? undefined : (res, out) => out.set(pre.solveMany(res, 1)),
    },
  );
  const lambdaMin = result.value;
  const lowerBound = sumLambda + n * (choleskyPassed ? -eta : Math.min(lambdaMin, 0));
  return {
    certified: choleskyPassed && lambdaMin >= -eta,
    lambdaMin,
    choleskyPassed,
    dualityGap: cost - (sumLambda + n * Math.min(lambdaMin, 0)),
    lowerBound,
    dualValue: sumLambda,
    lambda,
    eta,
    cost,
    descentDirection: lambdaMin < 0 ? result.vector : null,
    seconds: (performance.now() - start) / 1000,
  };
}
