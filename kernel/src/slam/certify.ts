// The Lagrangian certificate of global optimality for landmark SLAM
// (Holmes & Barfoot, RA-L 2023; SE-Sync's verification, Rosen et al. 2019).
//
// At an estimate Y (the rotations, or a rank-r point of SE-Sync's staircase,
// given as Yt = Yᵀ, dn×r) the first-order conditions give the multipliers
//   Λ_i = Sym((Q YᵀY)_ii),  i.e. the symmetric part of each d×d diagonal block,
// and the certificate matrix S = Q − Λ. For any block-diagonal Λ, weak duality
// gives f* ≥ tr Λ + dn·λ_min(S) (R_iᵀR_i = I), and tr Λ = f(Y); so
// f(Y) − f* ≤ dn·max(0, −λ_min(S)), and S ⪰ 0 proves Y globally optimal.
//
// S is checked twice:
//  1. a sparse Cholesky of S + ηI through the lifted matrix (DataMatrix
//     .factorShifted; Q itself is dense and never formed): success proves
//     λ_min(S) > −η, a rigorous bound;
//  2. LOBPCG for λ_min and its eigenvector, preconditioned by that factor
//     (or by one of S + σI for a larger σ when the first fails); the
//     eigenvector is the descent direction out of a saddle or local minimum.
// The default η is strict and scale-free (1e-11 × the largest diagonal entry
// of the rotation block), so a certificate is never given where S has a
// clearly negative eigenvalue (M3500b's −2.7e-5 is rejected: η = 1.5e-8 there).
import type { Estimate, Problem } from "./problem.js";
import { buildDataMatrix, rotationsToColumns, type DataMatrix, type ReusableShiftedSolver, type ShiftedSolver } from "./data-matrix.js";
import { checkEstimate, cost as fullCost } from "./cost.js";
import { slamNative } from "./stiefel.js";
import { lobpcgMin } from "../linalg/lobpcg.js";
import { NotPositiveDefiniteError } from "../linalg/dense.js";
import type { SparseCholeskyBackend } from "../linalg/sparse-cholesky.js";

export interface CertifyOptions {
  /**
   * η: the Cholesky test of S + ηI proves λ_min(S) > −η; certified only if it passes. Default
   * 1e-11 × the largest diagonal entry of the rotation block (the scale the data matrix is summed at,
   * so the verdict does not change when every weight is scaled; about 100× above the rounding of
   * that sum). On M3500b (scale 1.5e3) that is 1.5e-8.
   */
  eta?: number;
  /** LOBPCG stops at ‖S x − λx‖ ≤ eigenTolerance · ‖S‖ (estimated) (default 1e-10). */
  eigenTolerance?: number;
  /** LOBPCG iterations (default 300). */
  maxIterations?: number;
  /** Sparse Cholesky backend (default "auto": CHOLMOD when present). */
  backend?: SparseCholeskyBackend;
  /** Seed of LOBPCG's random start. */
  seed?: number;
}

export interface CertifyTimes {
  /** Seconds building the data matrix (0 in certifyRotations, which is given it). */
  dataMatrix: number;
  /** Λ and the stationarity residual. */
  multipliers: number;
  /** The Cholesky test of S + ηI (and of larger shifts when it fails). */
  cholesky: number;
  /** LOBPCG for λ_min. */
  eigen: number;
  /** multipliers + cholesky + eigen. */
  verify: number;
  total: number;
}

export interface Certificate {
  /** S + ηI factored: λ_min(S) > −η is proven, and f − f* ≤ suboptimalityBound. */
  certified: boolean;
  /** λ_min(S) estimated by LOBPCG (a Ritz value: never below the true λ_min). */
  lambdaMin: number;
  /** Whether LOBPCG met its tolerance, and its iterations. */
  eigenConverged: boolean;
  eigenIterations: number;
  /** f − (tr Λ + dn·min(λ_min, 0)): the cost minus the dual value of the shifted, feasible multiplier. */
  dualityGap: number;
  /**
   * f − f* ≤ suboptimalityBound: |f − tr Λ| + dn·max(0, −λ_lower), with λ_lower = −η when the Cholesky
   * test passed (rigorous), else the LOBPCG estimate (then only indicative: see boundProven).
   */
  suboptimalityBound: number;
  boundProven: boolean;
  /** f(Y) = tr(Q YᵀY) with translations and landmarks at their optimum. */
  cost: number;
  /** tr Λ (equal to f up to rounding). */
  dualValue: number;
  /** ‖S Yᵀ‖_F: the first-order stationarity residual (0 at a critical point). */
  stationarity: number;
  /** Whether S + ηI factored. */
  choleskyPassed: boolean;
  eta: number;
  /** Unit eigenvector of λ_min (dn values): a descent direction when λ_min < 0. */
  descentDirection: Float64Array | null;
  /** Λ: n symmetric d×d blocks, row-major, concatenated. */
  lambda: Float64Array;
  times: CertifyTimes;
}

/** certify()'s result: the certificate plus the estimate's own cost (its translations may not be optimal). */
export interface EstimateCertificate extends Certificate {
  /** F at the estimate as given (≥ cost; equal when its translations and landmarks are optimal). */
  estimateCost: number;
}

const seconds = (start: number): number => (performance.now() - start) / 1000;

// Reusable lifted factorisations, per data matrix and backend (the staircase certifies one data matrix many times).
const solvers = new WeakMap<DataMatrix, Map<string, ReusableShiftedSolver>>();
/**
 * The lifted solver of (Q − Λ + shift·I) shared by every user of this data
 * matrix that needs it only for a moment (the chordal start, the certificates,
 * the bound tightening): one symbolic analysis serves them all. A user's
 * factor() replaces the previous user's, so hold on to its solves only until
 * the next call.
 */
export function sharedShiftedSolver(dataMatrix: DataMatrix, backend: SparseCholeskyBackend = "auto"): ReusableShiftedSolver {
  let byBackend = solvers.get(dataMatrix);
  if (byBackend === undefined) solvers.set(dataMatrix, (byBackend = new Map()));
  let solver = byBackend.get(backend);
  if (solver === undefined) byBackend.set(backend, (solver = dataMatrix.shiftedSolver(backend)));
  return solver;
}

/** 1e-11 × max diag of the rotation block (never below the smallest normal number). */
export function defaultEta(dataMatrix: DataMatrix): number {
  let scale = 0;
  for (const v of dataMatrix.rotationBlock.diagonal()) scale = Math.max(scale, Math.abs(v));
  return Math.max(1e-11 * scale, Number.MIN_VALUE);
}

/** Checks that each d×r block of Yt has orthonormal rows (Y_iᵀY_i = I), which the dual bound needs. */
function checkBlocks(Yt: Float64Array, d: number, n: number, r: number): void {
  const dn = d * n;
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < d; a++) {
      for (let b = a; b < d; b++) {
        let s = 0;
        for (let c = 0; c < r; c++) s += Yt[i * d + a + c * dn] * Yt[i * d + b + c * dn];
        if (!(Math.abs(s - (a === b ? 1 : 0)) <= 1e-6)) {
          throw new RangeError(
            `certify: block ${i} of the estimate is not orthonormal (entry (${a}, ${b}) of Y_iᵀY_i is ${s}); ` +
              `certify rotations (R_iᵀR_i = I) or Stiefel points; project the estimate first`,
          );
        }
      }
    }
  }
}

/**
 * The certificate at a rank-r point: Yt = Yᵀ holds dn×r values column-major
 * (r = d and Yt = Rᵀ for a rotation estimate; see rotationsToColumns).
 */
export function certifyRotations(dataMatrix: DataMatrix, Yt: Float64Array, r: number, options: CertifyOptions = {}): Certificate {
  const started = performance.now();
  const { d, n } = dataMatrix;
  const dn = d * n;
  const dd = d * d;
  if (!Number.isInteger(r) || r < d) throw new RangeError(`certifyRotations: the rank r must be an integer ≥ d = ${d}, got ${r}`);
  if (Yt.length !== dn * r) throw new RangeError(`certifyRotations: Yt must hold ${dn}x${r} = ${dn * r} values (column-major), got ${Yt.length}`);
  const eta = options.eta ?? defaultEta(dataMatrix);
  if (!(eta > 0) || !Number.isFinite(eta)) throw new RangeError(`certifyRotations: eta must be a positive number, got ${eta}`);
  checkBlocks(Yt, d, n, r);

  // Λ_i = Sym(Σ_c (QYᵀ)_{i·,c} Y_{i·,c}ᵀ) and the stationarity residual S Yᵀ.
  const qy = dataMatrix.applyQ(Yt, r);
  const lambda = new Float64Array(n * dd);
  let f = 0;
  for (let p = 0; p < qy.length; p++) f += qy[p] * Yt[p];
  let dual = 0;
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < d; a++) {
      for (let b = a; b < d; b++) {
        let s = 0;
        for (let c = 0; c < r; c++) {
          s += qy[i * d + a + c * dn] * Yt[i * d + b + c * dn] + qy[i * d + b + c * dn] * Yt[i * d + a + c * dn];
        }
        lambda[i * dd + a * d + b] = lambda[i * dd + b * d + a] = 0.5 * s;
      }
      dual += lambda[i * dd + a * d + a];
    }
  }
  // S X = Q X − blockdiag(Λ) X for X of dn×k values (into qx).
  const minusLambda = (qx: Float64Array, x: Float64Array, k: number): Float64Array =>
    slamNative.slamAxpby(1, qx, -1, slamNative.slamBlockApply(lambda, x, n, d, k), qx);
  const residual = minusLambda(qy, Yt, r);
  let stationarity = 0;
  for (const v of residual) stationarity += v * v;
  stationarity = Math.sqrt(stationarity);
  const tMultipliers = seconds(started);

  // 1. Sparse Cholesky of S + ηI (proves λ_min > −η), else of S + σI with larger σ for LOBPCG.
  const choleskyStart = performance.now();
  // One analysis of the lifted pattern, kept per data matrix and backend, serves every shift and call.
  const reusable = sharedShiftedSolver(dataMatrix, options.backend ?? "auto");
  const tryFactor = (shift: number): boolean => {
    try {
      reusable.factor(lambda, shift);
      return true;
    } catch (err) {
      if (err instanceof NotPositiveDefiniteError) return false;
      throw err;
    }
  };
  const choleskyPassed = tryFactor(eta);
  let factored = choleskyPassed;
  if (!factored) {
    // ‖S‖ ≤ the largest Gershgorin row sum of the rotation block plus max |Λ| suffices as a ceiling.
    let scale = 0;
    const diag = dataMatrix.rotationBlock.diagonal();
    for (const v of diag) scale = Math.max(scale, Math.abs(v));
    for (const v of lambda) scale = Math.max(scale, Math.abs(v));
    // Up from 10η by factors of 100, then back one decade when that factors
    // too: the shift ends within 10× of −λ_min, which keeps the preconditioner
    // (S + σI)⁻¹ sharp for LOBPCG, in about half the factorisations of a
    // decade-by-decade search.
    let shift = eta * 10;
    for (; shift <= 1e3 * scale + 1; shift *= 100) {
      factored = tryFactor(shift);
      if (factored) break;
    }
    if (factored && shift > eta * 10 && !tryFactor(shift / 10)) factored = tryFactor(shift);
  }
  const solver: ShiftedSolver | null = factored ? reusable : null;
  const tCholesky = seconds(choleskyStart);

  // 2. LOBPCG for λ_min(S), preconditioned by the shifted factor.
  const eigenStart = performance.now();
  const applyS = (x: Float64Array, k: number): Float64Array => minusLambda(dataMatrix.applyQ(x, k), x, k);
  const precondition = solver;
  const eig = lobpcgMin(
    { n: dn, apply: (x, y) => y.set(applyS(x, 1)), applyMany: applyS },
    {
      blockSize: Math.min(dn, d + 1),
      tol: options.eigenTolerance ?? 1e-10,
      maxIterations: options.maxIterations ?? 300,
      seed: options.seed ?? 1,
      preconditioner: precondition === null ? undefined : (res, out) => out.set(precondition.solveMany(res, 1)),
    },
  );
  const tEigen = seconds(eigenStart);

  const lambdaMin = eig.value;
  // Both checks must agree: the factorisation proves λ_min > −η, and the Ritz
  // value (never below the true λ_min) must not contradict it.
  const certified = choleskyPassed && lambdaMin >= -eta;
  const lower = choleskyPassed ? -eta : lambdaMin;
  const gap = Math.abs(f - dual);
  return {
    certified,
    lambdaMin,
    eigenConverged: eig.converged,
    eigenIterations: eig.iterations,
    dualityGap: f - (dual + dn * Math.min(lambdaMin, 0)),
    suboptimalityBound: gap + dn * Math.max(0, -lower),
    boundProven: choleskyPassed,
    cost: f,
    dualValue: dual,
    stationarity,
    choleskyPassed,
    eta,
    descentDirection: eig.vector,
    lambda,
    times: {
      dataMatrix: 0,
      multipliers: tMultipliers,
      cholesky: tCholesky,
      eigen: tEigen,
      verify: tMultipliers + tCholesky + tEigen,
      total: seconds(started),
    },
  };
}

/**
 * Certifies an estimate from any solver (ours, g2o, GTSAM): builds the data
 * matrix, then certifies the rotations (translations and landmarks are
 * eliminated; their optimum for these rotations is dataMatrix.recoverTranslations).
 */
export function certify(problem: Problem, estimate: Estimate, options: CertifyOptions = {}): EstimateCertificate {
  const started = performance.now();
  checkEstimate(problem, estimate, "certify");
  const dataMatrix = buildDataMatrix(problem, { backend: options.backend });
  const yt = rotationsToColumns(estimate.R, problem.d, problem.numPoses);
  const cert = certifyRotations(dataMatrix, yt, problem.d, options);
  cert.times.dataMatrix = dataMatrix.seconds;
  cert.times.total = seconds(started);
  return { ...cert, estimateCost: fullCost(problem, estimate) };
}
