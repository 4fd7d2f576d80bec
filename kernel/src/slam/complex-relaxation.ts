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
import { BlockManifold, slamNative } from "./stiefel.js";
import type { Preconditioner, QuadraticForm } from "./trust-region.js";

/** Q̃ X for X the realified n×k complex matrix (2n×k values, column-major). */
export function complexForm(applyQ: QuadraticForm, n: number): QuadraticForm {
  return (x, k) => slamNative.slamComplexLiftAdjoint(applyQ(slamNative.slamComplexLift(x, n, k), 2 * k), n, k);
}

/**
 * The complex preconditioner from a real one M⁻¹: when M commutes with the
 * complex structure (the connection Laplacian does: its blocks are rotations),
 * (Liftᵀ M Lift)⁻¹ = Liftᵀ M⁻¹ Lift / 4.
 */
export function complexPreconditioner(real: Preconditioner, n: number): Preconditioner {
  return (v, k) => {
    const out = slamNative.slamComplexLiftAdjoint(real(slamNative.slamComplexLift(v, n, k), 2 * k), n, k);
    return slamNative.slamAxpby(0.25, out, 0, out, out);
  };
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
  /** f − (Σλ_i + n·min(λ_min, 0)): the gap to the dual bound. */
  dualityGap: number;
  /** Lower bound on the complex relaxation's optimum (hence on f*). */
  lowerBound: number;
  cost: number;
  descentDirection: Float64Array | null;
  seconds: number;
}

export interface ComplexCertifyOptions {
  /** Certified when λ_min(S̃) ≥ −eta (default 1e-6, relative to max(1, max_i |λ_i|)). */
  eta?: number;
  preconditioner?: Preconditioner;
  seed?: number;
}

/**
 * Checks S̃ = Q̃ − Λ̃ ⪰ 0 at a rank-r complex point X, with Λ̃ = diag(Re(Q̃ X X^H))
 * (per block λ_i I₂): the minimum eigenvalue by LOBPCG on the operator S̃.
 */
export function certifyComplex(q: QuadraticForm, n: number, x: Float64Array, r: number, options: ComplexCertifyOptions = {}): ComplexCertificate {
  const start = performance.now();
  const m = new BlockManifold("sphere", n, 2, r);
  const qx = q(x, r);
  const lambda = m.lambda(x, qx);
  const cost = m.inner(x, qx);
  // λ_i are the diagonal entries of the 2×2 multiplier blocks; their sum is f.
  let sumLambda = 0;
  let scale = 1;
  for (let i = 0; i < n; i++) {
    sumLambda += lambda[i * 4];
    scale = Math.max(scale, Math.abs(lambda[i * 4]));
  }
  const applyS = (v: Float64Array, k: number): Float64Array =>
    slamNative.slamAxpby(1, q(v, k), -1, slamNative.slamBlockApply(lambda, v, n, 2, k));
  const precond = options.preconditioner;
  const result = lobpcgMin(
    {
      n: 2 * n,
      apply: (v, out) => out.set(applyS(v, 1)),
      applyMany: applyS,
    },
    {
      tol: 1e-10,
      maxIterations: 2000,
      seed: options.seed ?? 1,
      preconditioner: precond ? (res, out) => out.set(precond(res, 1)) : undefined,
    },
  );
  const eta = (options.eta ?? 1e-6) * scale;
  const lambdaMin = result.value;
  const lowerBound = sumLambda + n * Math.min(lambdaMin, 0);
  return {
    certified: result.converged && lambdaMin >= -eta,
    lambdaMin,
    dualityGap: cost - lowerBound,
    lowerBound,
    cost,
    descentDirection: lambdaMin < 0 ? result.vector : null,
    seconds: (performance.now() - start) / 1000,
  };
}
