// slam.solve: certifiably optimal SLAM by the SE-Sync pipeline (Rosen,
// Carlone, Bandeira & Leonard 2019), with landmarks through Holmes & Barfoot's
// data matrix and, in 2-D, CPL-SLAM's complex relaxation where SE-Sync's real
// one is not tight:
//   data matrix → chordal initialisation → Riemannian staircase (certified at
//   each rank) → rounding → polishing at rank d → the certificate of the
//   returned estimate → translations and landmarks.
// The reported `certified` is the certificate of the estimate returned, never
// only of the relaxation: a rounded point whose own certificate fails is "not
// certified", with its suboptimality bound.
import { formatG2O } from "./g2o.js";
import { buildDataMatrix, type DataMatrix } from "./data-matrix.js";
import { certifyRotations, sharedShiftedSolver, type Certificate, type CertifyOptions } from "./certify.js";
import { chordalRotations, chordalRotationsOfProblem } from "./chordal.js";
import { certifyComplex, complexForm, rotationsToComplexPoint, type ComplexCertificate } from "./complex-relaxation.js";
import { LiftedMatrix, gershgorinBound } from "./lifted-matrix.js";
import { withWorldPose, withoutWorldPose, type PosePrior } from "./priors.js";
import { fixGauge, roundToRotations } from "./rounding.js";
import { riemannianStaircase, type StaircaseLevel, type StaircaseResult } from "./staircase.js";
import { BlockManifold, rotationsToPoint } from "./stiefel.js";
import { riemannianTrustRegion, type Preconditioner, type QuadraticForm, type TrustRegionOptions } from "./trust-region.js";
import { sparseCholesky, type SparseCholeskyBackend } from "../linalg/sparse-cholesky.js";
import { NotPositiveDefiniteError } from "../linalg/dense.js";
import type { SparseMatrix } from "../linalg/sparse.js";
import type { Estimate, Problem } from "./problem.js";

export type Relaxation = "real" | "complex";

export interface SolveProgress {
  stage: "dataMatrix" | "initialisation" | "optimize" | "verify" | "rounding" | "done";
  relaxation?: Relaxation;
  /** Staircase level (rank r). */
  rank?: number;
  iteration?: number;
  cost?: number;
  gradientNorm?: number;
  lambdaMin?: number;
  message: string;
}

export interface SolveOptions {
  /** First staircase rank (default 5, SE-Sync's r0; the complex relaxation starts at 2). */
  r0?: number;
  /** Largest rank (default 10). */
  maxRank?: number;
  /** "auto" (default): real, then in 2-D the complex relaxation when the real one is not tight. */
  relaxation?: "auto" | Relaxation;
  /** Riemannian gradient-norm tolerance, relative to max(1, f(Y₀)) / n (default 1e-9). */
  gradientTolerance?: number;
  /**
   * Starting rotations: "chordal" (default: the linear relaxation of the whole
   * problem), "chordal-rotations" (SE-Sync's, from the rotation measurements
   * alone), "problem" (the file's VERTEX guesses) or an estimate.
   */
  initial?: "chordal" | "chordal-rotations" | "problem" | Estimate;
  /** Preconditioner: "data" (exact regularised Q⁻¹; the default with landmarks) or "connection" (SE-Sync's L(G̃ρ); the default for pose graphs). */
  preconditioner?: "data" | "connection";
  /**
   * Switch to the Newton-like preconditioner (Q − Λ + σI)⁻¹ where it factors
   * (default false: on the benchmark files it saved few tCG steps for the cost
   * of a factorisation per iteration).
   */
  newton?: boolean;
  /** σ of the Newton preconditioner relative to the mean cost per pose (default 1e-4). */
  newtonShift?: number;
  /**
   * Priors on poses (rotation and position in a world frame, with weights):
   * measurements from an anchored world pose. The estimate is then in world
   * coordinates, and the cost includes the priors' terms.
   */
  priors?: readonly PosePrior[];
  /** Options of the certificate (tolerance η etc.). */
  certify?: CertifyOptions;
  backend?: SparseCholeskyBackend;
  /** Progress events: stage, staircase level, gradient norm, cost. */
  onProgress?: (event: SolveProgress) => void;
  /** Least milliseconds between two trust-region progress events (default 200). */
  progressInterval?: number;
  /** Print progress lines to stderr (default false). */
  verbose?: boolean;
}

export interface SolveTimes {
  dataMatrix: number;
  initialisation: number;
  optimize: number;
  rounding: number;
  verify: number;
  total: number;
}

export interface SolveResult {
  /** f(R̂) of the returned estimate (SE-Sync's convention, no ½). */
  cost: number;
  /** The returned estimate is proven globally optimal (λ_min(S) ≥ −η). */
  certified: boolean;
  /** cost − the dual lower bound from the certificate. */
  dualityGap: number;
  /** A bound on cost − f* (proven when boundProven). */
  suboptimalityBound: number;
  /** A lower bound on f* (weak duality at the returned estimate). */
  lowerBound: number;
  /** lowerBound is proven (a Cholesky factor showed λ_min(S) > −η); else it rests on LOBPCG's λ_min estimate. */
  boundProven: boolean;
  /** λ_min of the certificate matrix S at the returned estimate (of the relaxation used). */
  lambdaMin: number;
  /** λ_min of SE-Sync's real certificate at the real relaxation's rounded estimate (negative where that relaxation is not tight). */
  realLambdaMin: number;
  /** The relaxation that produced (and certifies) the estimate. */
  relaxation: Relaxation;
  /** Final staircase rank (of `relaxation`). */
  rank: number;
  levels: { relaxation: Relaxation; level: StaircaseLevel }[];
  estimate: Estimate;
  /** The problem with the estimate as VERTEX lines. */
  g2o(): string;
  times: SolveTimes;
  poses: number;
  landmarks: number;
  measurements: number;
}

const seconds = (start: number): number => (performance.now() - start) / 1000;

/**
 * The first rank's gradient tolerance on the fast path, relative to
 * max(1, f(Y₀)) as gradientTolerance: loose, since the rank-d polish after
 * rounding reaches the strict one (and the certificate decides).
 */
const LOOSE_GRADIENT_TOLERANCE = 1e-4;

/**
 * The preconditioner, a regularised Cholesky factor as in SE-Sync (shift
 * λ_max / 1e6, so the factor exists despite the gauge kernel):
 *  - "data": (Q + σI)⁻¹ exactly, through the sparse lifted matrix
 *    [[B, −V], [−Vᵀ, rotationBlock + σI]]; it sees the landmarks and the
 *    translations, so tCG needs few iterations on landmark problems;
 *  - "connection": (L(G̃ρ) + σI)⁻¹, SE-Sync's choice, cheaper per product.
 */
/** SE-Sync's regularising shift for a preconditioner's factor: λ_max / 1e6, with Gershgorin's bound for λ_max. */
const regularisingShift = (m: SparseMatrix): number => Math.max(gershgorinBound(m), 1e-12) * 1e-6;

function makePreconditioner(dm: DataMatrix, kind: "data" | "connection", backend: SparseCholeskyBackend): Preconditioner {
  if (kind === "connection") {
    const L = dm.connectionLaplacian;
    const factor = sparseCholesky(L, { shift: regularisingShift(L), backend });
    return (v, k) => factor.solveMany(v, k);
  }
  const solver = dm.factorShifted(null, regularisingShift(dm.rotationBlock), backend);
  return (v, k) => solver.solveMany(v, k);
}

/**
 * The Newton-like preconditioner (Q − Λ + σI)⁻¹: on the tangent space the
 * Riemannian Hessian is 2·P(Q − Λ)P, so near a minimiser (where Q − Λ ⪰ 0, the
 * certificate) tCG converges in a few steps. Far from one Q − Λ is indefinite
 * and the factorisation fails; then the default preconditioner is kept until
 * the gradient has fallen tenfold.
 */
function newtonPreconditioner(
  matrix: LiftedMatrix,
  sigma: number,
): (point: { lambda: Float64Array; gradientNorm: number }) => Preconditioner | null {
  let failedAt = Infinity;
  return ({ lambda, gradientNorm }) => {
    if (gradientNorm > failedAt / 10) return null;
    // Try σ, then larger shifts (a Levenberg–Marquardt-like (S + μI)⁻¹ still preconditions well).
    for (let shift = sigma; shift <= sigma * 1e4; shift *= 100) {
      try {
        const solver = matrix.factor(lambda, shift);
        if (process.env.NBFORGE_SLAM_DEBUG) process.stderr.write(`newton preconditioner: shift ${shift.toExponential(1)} at |grad| ${gradientNorm.toExponential(2)}\n`);
        failedAt = Infinity;
        return (v, k) => solver.solveMany(v, k);
      } catch (err) {
        if (!(err instanceof NotPositiveDefiniteError)) throw err;
      }
    }
    if (process.env.NBFORGE_SLAM_DEBUG) process.stderr.write(`newton preconditioner: failed at |grad| ${gradientNorm.toExponential(2)}\n`);
    failedAt = gradientNorm;
    return null;
  };
}

/**
 * The smallest shift η' ≤ η for which S + η'I still has a Cholesky factor, among
 * η·1e-4 and η·1e-2 (scaled by the multipliers): each success proves
 * λ_min(S) > −η', so the duality bound tightens from (rows)·η to (rows)·η'.
 */
function tightestShift(matrix: { factor(lambda: Float64Array, shift: number): unknown }, lambda: Float64Array, eta: number): number {
  let scale = 1;
  for (const v of lambda) scale = Math.max(scale, Math.abs(v));
  for (const shift of [1e-10 * scale, 1e-8 * scale]) {
    if (shift >= eta) break;
    try {
      matrix.factor(lambda, shift);
      return shift;
    } catch (err) {
      if (!(err instanceof NotPositiveDefiniteError)) throw err;
    }
  }
  return eta;
}

function initialRotations(problem: Problem, dm: DataMatrix, options: SolveOptions): Float64Array {
  const init = options.initial ?? "chordal";
  // The lifted pattern's analysis is shared with the certificates that follow.
  if (init === "chordal") return chordalRotationsOfProblem(dm, options.backend ?? "auto", sharedShiftedSolver(dm, options.backend ?? "auto"));
  if (init === "chordal-rotations") return chordalRotations(dm.connectionLaplacian, problem.d, problem.numPoses, options.backend);
  const estimate = init === "problem" ? problem.initial : init;
  if (!estimate) throw new Error(`slam.solve: initial "problem" needs VERTEX guesses in ${problem.source ?? "the problem"}; use initial: "chordal"`);
  if (estimate.R.length !== problem.numPoses * problem.d * problem.d) {
    throw new RangeError(`slam.solve: the initial estimate has ${estimate.R.length / (problem.d * problem.d)} rotations, the problem ${problem.numPoses} poses`);
  }
  return estimate.R;
}

/** Solves a pose-graph or landmark SLAM problem to certified global optimality where the relaxation allows. */
export function solve(problem: Problem, options: SolveOptions = {}): SolveResult {
  if (options.priors !== undefined && options.priors.length > 0) {
    // Solve with the world pose, then report the estimate without it (in world coordinates).
    const inner = solve(withWorldPose(problem, options.priors), {
      ...options,
      priors: undefined,
      // An initial estimate of the original problem does not fit the augmented one.
      initial: typeof options.initial === "object" ? undefined : options.initial,
    });
    const estimate = withoutWorldPose(inner.estimate);
    return {
      ...inner,
      estimate,
      g2o: () => formatG2O(problem, { estimate }),
      poses: problem.numPoses,
      measurements: problem.poseEdges.length + problem.landmarkEdges.length + options.priors.length,
    };
  }
  const t0 = performance.now();
  const { d, numPoses: n } = problem;
  const report = (event: SolveProgress): void => {
    options.onProgress?.(event);
    if (options.verbose) process.stderr.write(`slam.solve: ${event.message}\n`);
  };
  const times: SolveTimes = { dataMatrix: 0, initialisation: 0, optimize: 0, rounding: 0, verify: 0, total: 0 };

  let start = performance.now();
  const dm = buildDataMatrix(problem);
  times.dataMatrix = seconds(start);
  report({ stage: "dataMatrix", message: `data matrix ${d * n}x${d * n} in ${times.dataMatrix.toFixed(3)} s` });

  start = performance.now();
  const backend = options.backend ?? "auto";
  // Landmarks couple the rotations through the translations, which L(G̃ρ) does
  // not see (Victoria Park: 100 s with it, 4 s with Q); on pose graphs SE-Sync's
  // cheaper factor wins as often as not.
  const precondition = makePreconditioner(dm, options.preconditioner ?? (problem.numLandmarks > 0 ? "data" : "connection"), backend);
  const r0rotations = initialRotations(problem, dm, options);
  times.initialisation = seconds(start);
  const q: QuadraticForm = (x, k) => dm.applyQ(x, k);
  const y0d = rotationsToPoint(r0rotations, n, d, d);
  const f0 = new BlockManifold("stiefel", n, d, d).inner(y0d, q(y0d, d));
  report({ stage: "initialisation", cost: f0, message: `chordal initialisation, f = ${f0.toPrecision(10)} (${times.initialisation.toFixed(3)} s)` });

  // Gradient norms scale with the cost; an absolute tolerance would be too strict on some files, too loose on others.
  const gradientTolerance = (options.gradientTolerance ?? 1e-9) * Math.max(1, f0);
  const levels: SolveResult["levels"] = [];
  const certifyOptions: CertifyOptions = { ...options.certify, backend };
  const sigmaNewton = (options.newtonShift ?? 1e-4) * Math.max(1, f0 / n);

  // One LiftedMatrix (one symbolic analysis) per relaxation, shared by the Newton
  // preconditioner, the complex certificates and the bound tightening; they use it in turn.
  const liftedMatrices: Partial<Record<Relaxation, LiftedMatrix>> = {};
  const newton = (relaxation: Relaxation): TrustRegionOptions["preconditionerAt"] =>
    options.newton === true ? newtonPreconditioner((liftedMatrices[relaxation] ??= new LiftedMatrix(dm, relaxation, backend)), sigmaNewton) : undefined;
  const progressReporter = (relaxation: Relaxation): TrustRegionOptions["onIteration"] => {
    let last = 0;
    return (s) => {
      const now = performance.now();
      if (now - last < (options.progressInterval ?? 200) && s.gradientNorm > gradientTolerance) return;
      last = now;
      const rank = s.rank;
      report({ stage: "optimize", relaxation, rank, iteration: s.iteration, cost: s.cost, gradientNorm: s.gradientNorm, message: `${relaxation} rank ${rank} iteration ${s.iteration}: f = ${s.cost.toPrecision(12)}, |grad f| = ${s.gradientNorm.toExponential(2)}, ${s.innerIterations} tCG steps, radius ${s.radius.toExponential(1)}` });
    };
  };
  const runStaircase = (relaxation: Relaxation, form: QuadraticForm, y0: Float64Array, certifier: (y: Float64Array, r: number) => { certified: boolean; lambdaMin: number; descentDirection: Float64Array | null }, prec: Preconditioner): StaircaseResult => {
    return riemannianStaircase(relaxation === "real" ? "stiefel" : "sphere", n, d, form, y0, certifier, {
      gradientTolerance,
      maxRank: options.maxRank ?? 10,
      preconditioner: prec,
      preconditionerAt: newton(relaxation),
      onIteration: progressReporter(relaxation),
      onLevel: (level) => {
        levels.push({ relaxation, level });
        report({ stage: "optimize", relaxation, rank: level.rank, cost: level.cost, gradientNorm: level.gradientNorm, lambdaMin: level.lambdaMin, message: `${relaxation} staircase rank ${level.rank}: f = ${level.cost.toPrecision(12)}, |grad f| = ${level.gradientNorm.toExponential(2)}, λ_min = ${level.lambdaMin.toExponential(3)}${level.certified ? " (certified)" : ""}` });
      },
    });
  };

  // ---- the real (SE-Sync) relaxation ----------------------------------------------
  const tryReal = options.relaxation !== "complex";
  let relaxation: Relaxation = "real";
  let rotations = r0rotations;
  let rank: number = d;
  let realCert: Certificate | undefined;
  let complexCert: ComplexCertificate | undefined;

  const polish = (manifoldKind: "stiefel" | "sphere", form: QuadraticForm, y: Float64Array, prec: Preconditioner): Float64Array => {
    const m = new BlockManifold(manifoldKind, n, d, manifoldKind === "stiefel" ? d : 1);
    return riemannianTrustRegion(m, form, y, { gradientTolerance, preconditioner: prec, onIteration: progressReporter(manifoldKind === "stiefel" ? "real" : "complex") }).y;
  };

  if (tryReal) {
    start = performance.now();
    const r0 = Math.max(options.r0 ?? 5, d);
    // Rounding an exact relaxation's solution lands on the optimum up to the
    // solver's tolerance; a rank-d trust-region pass tightens it.
    const roundAndCertify = (y: Float64Array, r: number): Certificate => {
      start = performance.now();
      const rounded = fixGauge(roundToRotations(new BlockManifold("stiefel", n, d, r), y), n, d);
      const polished = polish("stiefel", q, rotationsToPoint(rounded, n, d, d), precondition);
      rotations = fixGauge(new BlockManifold("stiefel", n, d, d).round(polished), n, d);
      times.rounding += seconds(start);
      start = performance.now();
      const cert = certifyRotations(dm, rotationsToPoint(rotations, n, d, d), d, certifyOptions);
      times.verify += seconds(start);
      return cert;
    };
    // Fast path (SE-Sync too solves its levels loosely): rank r0 only to a
    // looser gradient tolerance, then round, polish at rank d to the strict
    // tolerance and certify the estimate itself. Where the relaxation is exact
    // that certificate is the one returned, and the strict tail at rank r0 and
    // the rank-r0 certificate are saved. When it fails, the staircase runs as
    // before (strict tolerance, a certificate at each rank) from where this stopped.
    const looseTolerance = Math.max(gradientTolerance, LOOSE_GRADIENT_TOLERANCE * Math.max(1, f0));
    let y0 = rotationsToPoint(r0rotations, n, d, r0);
    if (looseTolerance > gradientTolerance) {
      const loose = riemannianTrustRegion(new BlockManifold("stiefel", n, d, r0), q, y0, { gradientTolerance: looseTolerance, preconditioner: precondition, preconditionerAt: newton("real"), onIteration: progressReporter("real") });
      const levelSeconds = seconds(start);
      times.optimize += levelSeconds;
      const cert = roundAndCertify(loose.y, r0);
      if (cert.certified) {
        realCert = cert;
        rank = r0;
        const level: StaircaseLevel = { rank: r0, cost: loose.cost, gradientNorm: loose.gradientNorm, iterations: loose.iterations, hessianProducts: loose.hessianProducts, lambdaMin: cert.lambdaMin, certified: true, seconds: levelSeconds };
        levels.push({ relaxation: "real", level });
        report({ stage: "optimize", relaxation: "real", rank: r0, cost: loose.cost, gradientNorm: loose.gradientNorm, lambdaMin: cert.lambdaMin, message: `real staircase rank ${r0}: f = ${loose.cost.toPrecision(12)}, |grad f| = ${loose.gradientNorm.toExponential(2)} (loose tolerance), λ_min = ${cert.lambdaMin.toExponential(3)} at its rounded estimate (certified)` });
      } else {
        y0 = loose.y;
      }
    }
    if (realCert === undefined) {
      start = performance.now();
      const stair = runStaircase("real", q, y0, (y, r) => certifyRotations(dm, y, r, certifyOptions), precondition);
      times.optimize += seconds(start);
      rank = stair.rank;
      realCert = roundAndCertify(stair.y, stair.rank);
    }
    report({ stage: "verify", relaxation: "real", cost: realCert.cost, lambdaMin: realCert.lambdaMin, message: `real certificate of the rounded estimate: f = ${realCert.cost.toPrecision(12)}, λ_min = ${realCert.lambdaMin.toExponential(3)}, ${realCert.certified ? "certified" : "not certified"}` });
  }

  // ---- CPL-SLAM's complex relaxation (2-D), when the real one is not tight ---------
  const wantComplex = d === 2 && (options.relaxation === "complex" || (options.relaxation !== "real" && realCert !== undefined && !realCert.certified));
  if (wantComplex) {
    relaxation = "complex";
    start = performance.now();
    const qc = complexForm(q, n);
    // Two lifted matrices: the preconditioner's factor must survive the certificates' refactorisations.
    const preconditionerFactor = new LiftedMatrix(dm, "complex", backend).factor(null, regularisingShift(dm.rotationBlock));
    const pc: Preconditioner = (v, k) => preconditionerFactor.solveMany(v, k);
    const certificateMatrix = (liftedMatrices.complex ??= new LiftedMatrix(dm, "complex", backend));
    const complexOptions = { eta: options.certify?.eta, seed: options.certify?.seed };
    // From the real relaxation's rounded optimum start at rank 1 (the rotations
    // themselves): where the complex relaxation is exact, the first level's
    // certificate is already that of the returned estimate.
    const warm = realCert !== undefined;
    const r0c = warm ? 1 : 2;
    let lastCert: ComplexCertificate | undefined;
    const stair = runStaircase("complex", qc, rotationsToComplexPoint(warm ? rotations : r0rotations, n, r0c), (x, r) => {
      lastCert = certifyComplex(qc, certificateMatrix, x, r, complexOptions);
      return lastCert;
    }, pc);
    times.optimize += seconds(start);
    start = performance.now();
    rank = stair.rank;
    if (stair.rank === 1) {
      rotations = fixGauge(new BlockManifold("sphere", n, d, 1).round(stair.y), n, d);
      complexCert = lastCert;
      times.rounding += seconds(start);
    } else {
      const rounded = new BlockManifold("sphere", n, d, stair.rank).round(stair.y);
      const polished = polish("sphere", qc, rotationsToComplexPoint(rounded, n, 1), pc);
      rotations = fixGauge(new BlockManifold("sphere", n, d, 1).round(polished), n, d);
      times.rounding += seconds(start);
      start = performance.now();
      complexCert = certifyComplex(qc, certificateMatrix, rotationsToComplexPoint(rotations, n, 1), 1, complexOptions);
      times.verify += seconds(start);
    }
    if (!complexCert) throw new Error("slam.solve: the complex staircase returned no certificate");
    if (realCert === undefined) {
      start = performance.now();
      realCert = certifyRotations(dm, rotationsToPoint(rotations, n, d, d), d, certifyOptions);
      times.verify += seconds(start);
    }
    report({ stage: "verify", relaxation: "complex", cost: complexCert.cost, lambdaMin: complexCert.lambdaMin, message: `complex certificate: f = ${complexCert.cost.toPrecision(12)}, λ_min = ${complexCert.lambdaMin.toExponential(3)}, ${complexCert.certified ? "certified" : "not certified"}` });
  }

  const { t, landmarks } = dm.recoverTranslations(rotations);
  const estimate: Estimate = { d, R: rotations, t, landmarks };
  const cert = complexCert ?? realCert;
  if (!cert || !realCert) throw new Error("slam.solve: no relaxation was run");
  const cost = dm.cost(rotations);
  // Weak duality: f* ≥ tr Λ + (Σ_i ‖x_i‖²)·λ_min(S) for feasible x (Σ‖x_i‖² = dn, or n
  // in the complex form). The certificate proved λ_min > −η (η its strict default); a
  // Cholesky with a smaller shift tightens the proven bound where it succeeds.
  start = performance.now();
  let lowerBound: number;
  let boundProven: boolean;
  if (complexCert) {
    const eta = complexCert.choleskyPassed ? tightestShift(liftedMatrices.complex ?? new LiftedMatrix(dm, "complex", backend), complexCert.lambda, complexCert.eta) : NaN;
    boundProven = complexCert.choleskyPassed;
    lowerBound = complexCert.dualValue + n * (boundProven ? -eta : Math.min(complexCert.lambdaMin, 0));
  } else {
    const eta = realCert.choleskyPassed ? tightestShift(sharedShiftedSolver(dm, certifyOptions.backend), realCert.lambda, realCert.eta) : NaN;
    boundProven = realCert.choleskyPassed;
    lowerBound = realCert.dualValue + d * n * (boundProven ? -eta : Math.min(realCert.lambdaMin, 0));
  }
  times.verify += seconds(start);
  times.total = seconds(t0);
  report({ stage: "done", cost, message: `done in ${times.total.toFixed(3)} s: f = ${cost.toPrecision(14)}, ${cert.certified ? "certified" : "NOT certified"} (${relaxation} relaxation, rank ${rank})` });
  return {
    cost,
    certified: cert.certified,
    dualityGap: cert.dualityGap,
    suboptimalityBound: Math.max(0, cost - lowerBound),
    lowerBound,
    boundProven,
    lambdaMin: cert.lambdaMin,
    realLambdaMin: realCert.lambdaMin,
    relaxation,
    rank,
    levels,
    estimate,
    g2o: () => formatG2O(problem, { estimate }),
    times,
    poses: n,
    landmarks: problem.numLandmarks,
    measurements: problem.poseEdges.length + problem.landmarkEdges.length,
  };
}
