// The local solver: Levenberg–Marquardt on the product manifold
// SO(d)^n × R^{dn} × R^{dL}, minimising the SE-Sync cost F (cost.ts).
//
// Rotations move by right perturbation R ← R·Exp(ω); translations and
// landmarks by addition. Pose 0 is held fixed (F is invariant under a global
// rigid motion, so this removes the gauge freedom and keeps JᵀJ definite).
// Each step solves (H + λ·diag(JᵀJ)) δ = −Jᵀr: the landmarks are eliminated
// (a Schur complement, as in bundle adjustment: each landmark's block is
// d x d and touches only poses), the pose system is factored by a sparse
// Cholesky with a fill-reducing ordering (linalg/sparse-cholesky.ts), and the
// landmark unknowns follow one landmark at a time. A landmark seen from many
// poses would fill the pose system densely, so it stays in it instead. H is JᵀJ (Gauss–Newton)
// or, by default, JᵀJ plus the residuals' curvature through the rotations
// (Newton), falling back to JᵀJ for a step where that is not positive
// definite: Gauss–Newton alone crawls at high rotation noise. The block
// sparsity pattern is built once and only the numbers change, so each
// iteration refactors without a new symbolic analysis.
//
// The arithmetic (pattern, residuals, Jacobians, JᵀJ and Jᵀr, the curvature
// term, the cost, the retraction, the damped matrix) runs natively in
// native/src/slam_local/local_solver.cc, one call per stage; this file keeps
// the orchestration: damping, acceptance and stopping.
import { NotPositiveDefiniteError } from "../linalg/dense.js";
import { SparseMatrix } from "../linalg/sparse.js";
import { analyzeSparseCholesky, type SparseCholeskyBackend, type SparseCholeskyFactor } from "../linalg/sparse-cholesky.js";
import { checkEstimate, nativeCost } from "./cost.js";
import { apply, mul, rotationDof } from "./lie.js";
import { nativeEdges, slamLocalNative, type SlamLocalHandle } from "./local-native.js";
import type { Estimate, Problem } from "./problem.js";

export interface LocalSolverOptions {
  /** Most LM iterations (accepted or not), default 100. */
  maxIterations?: number;
  /** Stop when ‖Jᵀr‖∞ ≤ gradientTolerance · max(1, F) (default 1e-10). */
  gradientTolerance?: number;
  /** Stop when an accepted step lowers F by less than costTolerance · F (default 1e-12). */
  costTolerance?: number;
  /** Stop when ‖δ‖ ≤ stepTolerance · (1 + ‖x‖) (default 1e-12). */
  stepTolerance?: number;
  /** Initial damping λ, relative to diag(JᵀJ) (default 1e-4). */
  lambda?: number;
  /** Sparse Cholesky backend (default "auto": CHOLMOD when present, else our own). */
  backend?: SparseCholeskyBackend;
  /**
   * The model's Hessian: "gauss-newton" (JᵀJ, classic Levenberg–Marquardt) or "newton"
   * (JᵀJ plus the residuals' curvature through the rotations, Σ r ∂²r: quadratic
   * convergence where Gauss–Newton crawls, e.g. at high rotation noise). Default "newton".
   */
  hessian?: "gauss-newton" | "newton";
  /** Called after every iteration (for progress bars and logs). */
  onIteration?: (info: IterationInfo) => void;
}

export interface IterationInfo {
  iteration: number;
  cost: number;
  lambda: number;
  accepted: boolean;
  /** ‖Jᵀr‖∞ at the iterate before the step. */
  gradientNorm: number;
  /** Seconds this iteration took (linearise, factor, solve, evaluate). */
  seconds: number;
}

export type StopReason = "gradient" | "cost" | "step" | "maxIterations" | "damping";

export interface LocalSolverResult {
  estimate: Estimate;
  /** F at `estimate` (SE-Sync's convention). */
  cost: number;
  /** F at the start. */
  initialCost: number;
  iterations: number;
  converged: boolean;
  reason: StopReason;
  gradientNorm: number;
  /** One entry per iteration. */
  history: IterationInfo[];
  /** Number of unknowns in the normal equations, and stored entries of the factor of the system left once the landmarks are eliminated. */
  unknowns: number;
  nnzFactor: number;
  backend: "cholmod" | "native";
  seconds: number;
}

// ---- the model, in native memory ---------------------------------------------------

/**
 * JᵀJ, Jᵀr and Newton's curvature term at one estimate. The arithmetic (every
 * edge's residual and Jacobian blocks, summed into the fixed upper CSR pattern
 * of JᵀJ by variable blocks) is native/src/slam_local/local_solver.cc.
 */
interface Linearisation {
  /** JᵀJ in the pattern's upper CSR order. */
  values: Float64Array;
  /**
   * Newton's extra term Σ r ∂²r, when asked for: it lives only in the rotation
   * part of each pose's diagonal block, so k x k numbers per pose (pose 0 too).
   */
  curvature: Float64Array | null;
  gradient: Float64Array;
}

/** The problem's measurements and JᵀJ's sparsity pattern, built once per solve. */
class NativeModel {
  readonly edges: SlamLocalHandle;
  readonly indptr: Int32Array;
  readonly indices: Int32Array;
  /** Unknowns: (k + d) per pose after pose 0, then d per landmark. */
  readonly n: number;
  /** The system left when the landmarks are eliminated (poses, then landmarks seen from many poses): its upper CSR pattern. */
  readonly reduced: { indptr: Int32Array; indices: Int32Array; unknowns: number };

  constructor(
    readonly problem: Problem,
    readonly newton: boolean,
  ) {
    this.edges = nativeEdges(problem, "slam.solveLocal");
    const pattern = slamLocalNative.slamLocalPattern(this.edges);
    this.indptr = pattern.indptr;
    this.indices = pattern.indices;
    this.n = pattern.unknowns;
    this.reduced = pattern.reduced;
  }

  /** JᵀJ, Jᵀr (and the curvature) at x, written over `into` when given (the arrays are tens of MB at scale). */
  linearise(x: Estimate, into?: Linearisation): Linearisation {
    const k = rotationDof(this.problem.d);
    const lin = into ?? {
      values: new Float64Array(this.indices.length),
      gradient: new Float64Array(this.n),
      curvature: this.newton ? new Float64Array(this.problem.numPoses * k * k) : null,
    };
    slamLocalNative.slamLocalLinearise(this.edges, x.R, x.t, x.landmarks, lin.values, lin.gradient, lin.curvature);
    return lin;
  }

  cost(x: Estimate): number {
    const [rotation, translation, landmark] = nativeCost(this.edges, x);
    return rotation + translation + landmark;
  }

  /** x ⊞ αδ: R_p ← R_p Exp(αω_p), t_p ← t_p + αδt_p, m ← m + αδm (pose 0 fixed). */
  retract(x: Estimate, delta: Float64Array, alpha: number): Estimate {
    const out: Estimate = { d: x.d, R: new Float64Array(x.R.length), t: new Float64Array(x.t.length), landmarks: new Float64Array(x.landmarks.length) };
    slamLocalNative.slamLocalRetract(this.edges, x.R, x.t, x.landmarks, delta, alpha, out.R, out.t, out.landmarks);
    return out;
  }
}

// ---- initialisation ----------------------------------------------------------------

/**
 * An initial estimate by composing measurements along a spanning tree from
 * pose 0: breadth-first through pose edges, then through landmark
 * observations only where no pose edge reaches (a pose seen from a landmark
 * keeps the rotation of the pose that placed the landmark). For problems whose
 * file has no VERTEX lines.
 */
export function spanningTreeEstimate(problem: Problem): Estimate {
  const { d, numPoses: n, numLandmarks: L } = problem;
  const dd = d * d;
  const R = new Float64Array(n * dd);
  const t = new Float64Array(n * d);
  const landmarks = new Float64Array(L * d);
  const poseSeen = new Uint8Array(n);
  const landmarkFrom = new Int32Array(L).fill(-1); // the pose that placed each landmark
  const poseAdj: number[][] = Array.from({ length: n }, () => []);
  problem.poseEdges.forEach((e, q) => {
    poseAdj[e.i].push(q);
    poseAdj[e.j].push(q);
  });
  // R_p · v: a vector seen from a placed pose p, in the world frame.
  const from = (p: number, v: ArrayLike<number>): Float64Array => apply(d, R, p * dd, v, 0);
  const queue: number[] = [];
  let head = 0;
  const place = (p: number, Rp: Float64Array, tp: ArrayLike<number>): void => {
    R.set(Rp, p * dd);
    for (let q = 0; q < d; q++) t[p * d + q] = tp[q];
    poseSeen[p] = 1;
    queue.push(p);
  };
  const expandPoseEdges = (): void => {
    for (; head < queue.length; head++) {
      const i = queue[head];
      for (const q of poseAdj[i]) {
        const e = problem.poseEdges[q];
        if (e.i === i && !poseSeen[e.j]) {
          // R_j = R_i R̃, t_j = t_i + R_i t̃.
          const Ri = R.subarray(i * dd, (i + 1) * dd);
          const step = from(i, e.t);
          place(e.j, mul(d, Ri, 0, e.R, 0), step.map((v, r) => v + t[i * d + r]));
        } else if (e.j === i && !poseSeen[e.i]) {
          // R_i = R_j R̃ᵀ, t_i = t_j − R_i t̃.
          const Rn = new Float64Array(dd);
          for (let r = 0; r < d; r++) for (let c = 0; c < d; c++) for (let a = 0; a < d; a++) Rn[r * d + c] += R[i * dd + r * d + a] * e.R[c * d + a];
          R.set(Rn, e.i * dd);
          const step = from(e.i, e.t);
          place(e.i, Rn, step.map((v, r) => t[i * d + r] - v));
        }
      }
    }
  };
  for (let q = 0; q < d; q++) R[q * d + q] = 1;
  poseSeen[0] = 1;
  queue.push(0);
  expandPoseEdges();
  for (let changed = true; changed; ) {
    changed = false;
    for (const e of problem.landmarkEdges) {
      if (poseSeen[e.i] && landmarkFrom[e.k] < 0) {
        landmarkFrom[e.k] = e.i;
        const v = from(e.i, e.y);
        for (let r = 0; r < d; r++) landmarks[e.k * d + r] = t[e.i * d + r] + v[r];
      }
    }
    for (const e of problem.landmarkEdges) {
      if (!poseSeen[e.i] && landmarkFrom[e.k] >= 0) {
        const p = landmarkFrom[e.k];
        R.set(R.subarray(p * dd, (p + 1) * dd), e.i * dd);
        const v = from(e.i, e.y);
        place(e.i, R.slice(e.i * dd, (e.i + 1) * dd), v.map((x, r) => landmarks[e.k * d + r] - x));
        expandPoseEdges();
        changed = true;
      }
    }
  }
  return { d, R, t, landmarks };
}

// ---- the solver ----------------------------------------------------------------------

/**
 * Levenberg–Marquardt from `init` (default: the problem's VERTEX guesses, else
 * a spanning-tree composition of the measurements). Converges to a local
 * minimum; `certify` says whether it is the global one.
 */
export function solveLocal(problem: Problem, init?: Estimate, options: LocalSolverOptions = {}): LocalSolverResult {
  const began = performance.now();
  const x0 = init ?? problem.initial ?? spanningTreeEstimate(problem);
  checkEstimate(problem, x0, "slam.solveLocal");
  const maxIterations = options.maxIterations ?? 100;
  const gradTol = options.gradientTolerance ?? 1e-10;
  const costTol = options.costTolerance ?? 1e-12;
  const stepTol = options.stepTolerance ?? 1e-12;
  let lambda = options.lambda ?? 1e-4;

  const { d, numPoses: n } = problem;
  const newton = (options.hessian ?? "newton") === "newton";
  const model = new NativeModel(problem, newton);
  const native = slamLocalNative;
  // Each step solves (H + λD) s = Jᵀr with the landmarks eliminated (their
  // blocks are d x d and touch only poses): the reduced system S s_p = rhs
  // by sparse Cholesky, then each eliminated landmark's unknowns from s_p. S wraps
  // `reduced`, refilled for every trial step, so its pattern never changes:
  // one symbolic analysis serves every refactorisation.
  const { reduced: rp } = model;
  const reduced = new Float64Array(rp.indices.length);
  const rhs = new Float64Array(rp.unknowns);
  const S = SparseMatrix.fromCsr(rp.unknowns, rp.unknowns, rp.indptr, rp.indices, reduced, { symmetric: true });
  const D = new Float64Array(model.n);

  let x = x0;
  let F = model.cost(x);
  const initialCost = F;
  const history: IterationInfo[] = [];
  let factor: SparseCholeskyFactor | undefined;
  let reason: StopReason = "maxIterations";
  let gradientNorm = Infinity;
  let nu = 2;
  let iteration = 0;
  let lin = model.linearise(x);

  while (iteration < maxIterations) {
    const t0 = performance.now();
    iteration++;
    gradientNorm = native.slamLocalStepStats(model.edges, lin.gradient, null, null, x.t, x.landmarks)[0];
    if (model.n === 0 || gradientNorm <= gradTol * Math.max(1, F)) {
      reason = "gradient";
      iteration--;
      break;
    }
    // Marquardt's scaling, floored so directions with no curvature still get damped.
    native.slamLocalScaling(model.edges, lin.values, D);
    // s = (H + λD)⁻¹ Jᵀr with the model Hessian H, and the step is δ = −s; where
    // Newton's model is not positive definite after damping, this step falls
    // back to Gauss–Newton's, which is.
    const solveModel = (curvature: Float64Array | null): Float64Array | undefined => {
      if (!native.slamLocalReduce(model.edges, lin.values, curvature, D, lambda, lin.gradient, reduced, rhs)) return undefined;
      let poses: Float64Array = rhs;
      if (rp.unknowns > 0) {
        try {
          factor ??= analyzeSparseCholesky(S, { backend: options.backend ?? "auto" });
          factor.refactor(S);
          poses = factor.solve(rhs);
        } catch (error) {
          if (!(error instanceof NotPositiveDefiniteError)) throw error;
          return undefined;
        }
      }
      const step = new Float64Array(model.n);
      native.slamLocalBackSubstitute(model.edges, lin.values, lin.gradient, poses, step);
      return step;
    };
    let s = lin.curvature !== null ? solveModel(lin.curvature) : undefined;
    s ??= solveModel(null);
    let accepted = false;
    if (s === undefined) {
      lambda *= nu;
      nu *= 2;
    } else {
      // With δ = −s: gᵀδ = −gᵀs, δᵀDδ = sᵀDs, ‖δ‖ = ‖s‖.
      const [, gs, sDs, ss, xx] = native.slamLocalStepStats(model.edges, lin.gradient, s, D, x.t, x.landmarks);
      const xNorm = Math.sqrt(xx + n * d);
      if (Math.sqrt(ss) <= stepTol * (1 + xNorm)) {
        reason = "step";
        history.push({ iteration, cost: F, lambda, accepted, gradientNorm, seconds: (performance.now() - t0) / 1000 });
        break;
      }
      const candidate = model.retract(x, s, -1);
      const Fnew = model.cost(candidate);
      const predicted = gs + lambda * sDs;
      const rho = (F - Fnew) / predicted;
      if (Fnew < F && rho > 0) {
        accepted = true;
        const decrease = F - Fnew;
        x = candidate;
        F = Fnew;
        lambda = Math.max(lambda * Math.max(1 / 3, 1 - (2 * rho - 1) ** 3), 1e-12); // floor: λ is relative to diag(JᵀJ)
        nu = 2;
        lin = model.linearise(x, lin); // the previous linearisation is done with
        if (decrease <= costTol * F) {
          history.push({ iteration, cost: F, lambda, accepted, gradientNorm, seconds: (performance.now() - t0) / 1000 });
          reason = "cost";
          break;
        }
      } else {
        lambda *= nu;
        nu *= 2;
      }
    }
    const info: IterationInfo = { iteration, cost: F, lambda, accepted, gradientNorm, seconds: (performance.now() - t0) / 1000 };
    history.push(info);
    options.onIteration?.(info);
    if (lambda > 1e16) {
      reason = "damping";
      break;
    }
  }
  return {
    estimate: x,
    cost: F,
    initialCost,
    iterations: iteration,
    converged: reason === "gradient" || reason === "cost" || reason === "step",
    reason,
    gradientNorm: native.slamLocalStepStats(model.edges, lin.gradient, null, null, x.t, x.landmarks)[0],
    history,
    unknowns: model.n,
    nnzFactor: factor?.nnzL ?? 0,
    backend: factor?.backend ?? "native",
    seconds: (performance.now() - began) / 1000,
  };
}
