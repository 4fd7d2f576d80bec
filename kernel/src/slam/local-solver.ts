// The local solver: Levenberg–Marquardt on the product manifold
// SO(d)^n × R^{dn} × R^{dL}, minimising the SE-Sync cost F (cost.ts).
//
// Rotations move by right perturbation R ← R·Exp(ω); translations and
// landmarks by addition. Pose 0 is held fixed (F is invariant under a global
// rigid motion, so this removes the gauge freedom and keeps JᵀJ definite).
// Each step solves (H + λ·diag(JᵀJ)) δ = −Jᵀr by a sparse Cholesky with a
// fill-reducing ordering (linalg/sparse-cholesky.ts). H is JᵀJ (Gauss–Newton)
// or, by default, JᵀJ plus the residuals' curvature through the rotations
// (Newton), falling back to JᵀJ for a step where that is not positive
// definite: Gauss–Newton alone crawls at high rotation noise. The block
// sparsity pattern is built once and only the numbers change, so each
// iteration refactors without a new symbolic analysis.
import { NotPositiveDefiniteError } from "../linalg/dense.js";
import { SparseMatrix } from "../linalg/sparse.js";
import { sparseCholesky, type SparseCholeskyBackend, type SparseCholeskyFactor } from "../linalg/sparse-cholesky.js";
import { checkEstimate, cost } from "./cost.js";
import { expSO, generators, mul, rotationDof } from "./lie.js";
import type { Dimension, Estimate, Problem } from "./problem.js";

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
  /** Number of unknowns in the normal equations and stored entries of their factor. */
  unknowns: number;
  nnzFactor: number;
  backend: "cholmod" | "native";
  seconds: number;
}

// ---- block pattern of JᵀJ ------------------------------------------------------

/**
 * The upper-triangular CSR pattern of JᵀJ by variable blocks: block b holds
 * pose b+1 (pose 0 is fixed) or, after the poses, one landmark. Row r of a
 * block starts with the block's own upper part, then one run per neighbouring
 * block of higher index, so every entry's position follows from (block, row,
 * neighbour offset, column).
 */
class BlockPattern {
  readonly start: Int32Array; // first unknown of each block
  readonly size: Int32Array;
  readonly neighbours: Int32Array[]; // sorted higher blocks per block
  readonly prefix: Int32Array[]; // column offset of each neighbour within the off-diagonal part of a row
  readonly indptr: Int32Array;
  readonly indices: Int32Array;
  readonly n: number;

  constructor(size: Int32Array, pairs: Int32Array) {
    const B = size.length;
    this.size = size;
    this.start = new Int32Array(B + 1);
    for (let b = 0; b < B; b++) this.start[b + 1] = this.start[b] + size[b];
    this.n = this.start[B];
    const lists: number[][] = Array.from({ length: B }, () => []);
    for (let p = 0; p < pairs.length; p += 2) lists[pairs[p]].push(pairs[p + 1]);
    this.neighbours = lists.map((l) => Int32Array.from(new Set(l)).sort());
    this.prefix = this.neighbours.map((nb) => {
      const out = new Int32Array(nb.length);
      let s = 0;
      nb.forEach((c, q) => {
        out[q] = s;
        s += size[c];
      });
      return out;
    });
    this.indptr = new Int32Array(this.n + 1);
    for (let b = 0; b < B; b++) {
      let width = 0;
      for (const c of this.neighbours[b]) width += size[c];
      for (let a = 0; a < size[b]; a++) {
        const row = this.start[b] + a;
        this.indptr[row + 1] = this.indptr[row] + (size[b] - a) + width;
      }
    }
    this.indices = new Int32Array(this.indptr[this.n]);
    for (let b = 0; b < B; b++) {
      for (let a = 0; a < size[b]; a++) {
        const row = this.start[b] + a;
        let p = this.indptr[row];
        for (let c = a; c < size[b]; c++) this.indices[p++] = this.start[b] + c;
        for (const nb of this.neighbours[b]) for (let c = 0; c < size[nb]; c++) this.indices[p++] = this.start[nb] + c;
      }
    }
  }

  /** Position of the off-diagonal run of block `hi` in the rows of block `lo` (lo < hi). */
  offset(lo: number, hi: number): number {
    const nb = this.neighbours[lo];
    let a = 0;
    let b = nb.length - 1;
    while (a <= b) {
      const mid = (a + b) >> 1;
      if (nb[mid] === hi) return this.prefix[lo][mid];
      if (nb[mid] < hi) a = mid + 1;
      else b = mid - 1;
    }
    throw new Error(`internal: block ${hi} is not a neighbour of ${lo}`);
  }
}

// ---- linearisation ---------------------------------------------------------------

/** One group of Jacobian columns: a variable block (or −1 for the fixed pose) and its width. */
interface Group {
  block: number;
  width: number;
}

/** Entry (u, v) of a symmetric m x m matrix stored by its upper triangle. */
function symmetricEntry(H: Float64Array, m: number, u: number, v: number): number {
  return u <= v ? H[u * m + v] : H[v * m + u];
}

/**
 * Adds one measurement's JᵀJ and Jᵀr to the global values and gradient. J is
 * rows × m row-major, its columns split into groups.
 */
function accumulate(
  pattern: BlockPattern,
  values: Float64Array,
  gradient: Float64Array,
  J: Float64Array,
  r: Float64Array,
  rows: number,
  groups: Group[],
  H: Float64Array,
): void {
  let m = 0;
  for (const g of groups) m += g.width;
  H.fill(0, 0, m * m);
  for (let q = 0; q < rows; q++) {
    const row = q * m;
    for (let a = 0; a < m; a++) {
      const v = J[row + a];
      if (v === 0) continue;
      for (let c = a; c < m; c++) H[a * m + c] += v * J[row + c];
    }
  }
  let xo = 0;
  for (const gx of groups) {
    if (gx.block >= 0) {
      const sx = pattern.start[gx.block];
      for (let a = 0; a < gx.width; a++) {
        let s = 0;
        for (let q = 0; q < rows; q++) s += J[q * m + xo + a] * r[q];
        gradient[sx + a] += s;
      }
    }
    let yo = 0;
    for (const gy of groups) {
      if (gx.block >= 0 && gy.block >= 0) {
        // H is stored upper (a ≤ c in local numbering); read the full symmetric entry.
        if (gx.block === gy.block) {
          // Two groups on one block (a pose edge from a pose to itself): the block
          // gets H_xy + H_yx, so each unordered pair of groups is visited once.
          if (xo <= yo) {
            for (let a = 0; a < gx.width; a++) {
              const base = pattern.indptr[pattern.start[gx.block] + a] - a;
              for (let c = a; c < gy.width; c++) {
                values[base + c] += symmetricEntry(H, m, xo + a, yo + c) + (xo < yo ? symmetricEntry(H, m, xo + c, yo + a) : 0);
              }
            }
          }
        } else if (gx.block < gy.block) {
          const off = pattern.offset(gx.block, gy.block);
          const w = pattern.size[gx.block];
          for (let a = 0; a < gx.width; a++) {
            const base = pattern.indptr[pattern.start[gx.block] + a] + (w - a) + off;
            for (let c = 0; c < gy.width; c++) values[base + c] += symmetricEntry(H, m, xo + a, yo + c);
          }
        }
      }
      yo += gy.width;
    }
    xo += gx.width;
  }
}

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

/** JᵀJ (upper CSR values in `pattern`) and Jᵀr at the estimate. */
function linearise(
  problem: Problem,
  x: Estimate,
  pattern: BlockPattern,
  poseBlock: (p: number) => number,
  landmarkBlock: (l: number) => number,
  newton: boolean,
): Linearisation {
  const d = problem.d;
  const dd = d * d;
  const k = rotationDof(d);
  const b = k + d;
  const G = generators(d);
  const values = new Float64Array(pattern.indices.length);
  const gradient = new Float64Array(pattern.n);
  const H = new Float64Array(4 * b * b);
  const curv = newton ? new Float64Array(problem.numPoses * k * k) : null;
  // Newton's second-order term Σ r ∂²r/∂ω_a∂ω_b, where ∂²/∂ω_a∂ω_b of R·Exp(ω) at 0 is R·P_ab with
  // P_ab = ½(G_a G_b + G_b G_a). Every residual is affine in t and m, and in each rotation separately,
  // so the term only touches the rotation part of one pose's diagonal block.
  const P: Float64Array[] = [];
  for (let a = 0; a < k; a++) {
    for (let c = a; c < k; c++) {
      const ab = mul(d, G[a], 0, G[c], 0);
      const ba = mul(d, G[c], 0, G[a], 0);
      P.push(ab.map((v, q) => 0.5 * (v + ba[q])));
    }
  }
  // R_p G_a and R_p P_ab for every pose, once per linearisation (the edge loops only read them).
  const np = problem.numPoses;
  const RG = new Float64Array(np * k * dd);
  const RPs = newton ? new Float64Array(np * P.length * dd) : new Float64Array(0);
  for (let p = 0; p < np; p++) {
    for (let a = 0; a < k; a++) RG.set(mul(d, x.R, p * dd, G[a], 0), (p * k + a) * dd);
    if (newton) P.forEach((Pn, n) => RPs.set(mul(d, x.R, p * dd, Pn, 0), (p * P.length + n) * dd));
  }
  // Adds Σ_q r_q (R_p P_ab M)_q (M a d×d or d-vector, taken as d×w) times `sign` into pose p's rotation block.
  const curvature = (p: number, sign: number, M: ArrayLike<number>, w: number, res: Float64Array, at: number): void => {
    let n = 0;
    for (let a = 0; a < k; a++) {
      for (let c = a; c < k; c++) {
        const o = (p * P.length + n++) * dd;
        let s = 0;
        for (let r = 0; r < d; r++) {
          for (let col = 0; col < w; col++) {
            let v = 0;
            for (let q = 0; q < d; q++) v += RPs[o + r * d + q] * M[q * w + col];
            s += res[at + r * w + col] * v;
          }
        }
        curv![(p * k + a) * k + c] += sign * s;
      }
    }
  };
  const { R, t, landmarks } = x;

  // Pose edges: rows vec(R_j − R_i R̃) (d²) then t_j − t_i − R_i t̃ (d); columns [ω_i t_i | ω_j t_j].
  const rows = dd + d;
  const m = 2 * b;
  const J = new Float64Array(rows * m);
  const r = new Float64Array(rows);
  const poseGroups: Group[] = [{ block: 0, width: b }, { block: 0, width: b }];
  for (const e of problem.poseEdges) {
    J.fill(0);
    const sk = Math.sqrt(e.kappa);
    const st = Math.sqrt(e.tau);
    const RiRm = mul(d, R, e.i * dd, e.R, 0);
    for (let q = 0; q < dd; q++) r[q] = sk * (R[e.j * dd + q] - RiRm[q]);
    for (let a = 0; a < k; a++) {
      const oi = (e.i * k + a) * dd;
      const oj = (e.j * k + a) * dd;
      const RiGRm = mul(d, RG, oi, e.R, 0);
      for (let q = 0; q < dd; q++) {
        J[q * m + a] = -sk * RiGRm[q];
        J[q * m + b + a] = sk * RG[oj + q];
      }
      for (let q = 0; q < d; q++) {
        let s = 0;
        for (let c = 0; c < d; c++) s += RG[oi + q * d + c] * e.t[c];
        J[(dd + q) * m + a] = -st * s;
      }
    }
    for (let q = 0; q < d; q++) {
      let s = 0;
      for (let c = 0; c < d; c++) s += R[e.i * dd + q * d + c] * e.t[c];
      r[dd + q] = st * (t[e.j * d + q] - t[e.i * d + q] - s);
      J[(dd + q) * m + k + q] = -st;
      J[(dd + q) * m + b + k + q] = st;
    }
    poseGroups[0].block = poseBlock(e.i);
    poseGroups[1].block = poseBlock(e.j);
    accumulate(pattern, values, gradient, J, r, rows, poseGroups, H);
    if (newton) {
      // r_R = √κ(R_j − R_i R̃), r_t = √τ(t_j − t_i − R_i t̃).
      const I = d === 2 ? Float64Array.of(1, 0, 0, 1) : Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1);
      curvature(e.i, -sk, e.R, d, r, 0);
      curvature(e.j, sk, I, d, r, 0);
      curvature(e.i, -st, e.t, 1, r, dd);
    }
  }

  // Landmark edges: rows m_k − t_i − R_i ỹ (d); columns [ω_i t_i | m_k].
  const ml = b + d;
  const JL = new Float64Array(d * ml);
  const landmarkGroups: Group[] = [{ block: 0, width: b }, { block: 0, width: d }];
  const rl = new Float64Array(d);
  for (const e of problem.landmarkEdges) {
    JL.fill(0);
    const sn = Math.sqrt(e.nu);
    for (let q = 0; q < d; q++) {
      let s = 0;
      for (let c = 0; c < d; c++) s += R[e.i * dd + q * d + c] * e.y[c];
      rl[q] = sn * (landmarks[e.k * d + q] - t[e.i * d + q] - s);
      JL[q * ml + k + q] = -sn;
      JL[q * ml + b + q] = sn;
    }
    for (let a = 0; a < k; a++) {
      const oi = (e.i * k + a) * dd;
      for (let q = 0; q < d; q++) {
        let s = 0;
        for (let c = 0; c < d; c++) s += RG[oi + q * d + c] * e.y[c];
        JL[q * ml + a] = -sn * s;
      }
    }
    landmarkGroups[0].block = poseBlock(e.i);
    landmarkGroups[1].block = landmarkBlock(e.k);
    accumulate(pattern, values, gradient, JL, rl, d, landmarkGroups, H);
    if (newton) curvature(e.i, -sn, e.y, 1, rl, 0); // r = √ν(m − t_i − R_i ỹ)
  }
  return { values, curvature: curv, gradient };
}

/** x ⊞ δ: R_p ← R_p Exp(ω_p), t_p ← t_p + δt_p, m ← m + δm (pose 0 fixed). */
function retract(problem: Problem, x: Estimate, delta: Float64Array): Estimate {
  const d = problem.d;
  const dd = d * d;
  const k = rotationDof(d);
  const b = k + d;
  const R = x.R.slice();
  const t = x.t.slice();
  const landmarks = x.landmarks.slice();
  for (let p = 1; p < problem.numPoses; p++) {
    const o = (p - 1) * b;
    R.set(mul(d, x.R, p * dd, expSO(d, delta, o), 0), p * dd);
    for (let q = 0; q < d; q++) t[p * d + q] += delta[o + k + q];
  }
  const lo = (problem.numPoses - 1) * b;
  for (let q = 0; q < landmarks.length; q++) landmarks[q] += delta[lo + q];
  return { d, R, t, landmarks };
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
  // x_out = x_at + R_at · v (a point seen from a placed pose).
  const from = (p: number, v: ArrayLike<number>, sign = 1): Float64Array =>
    Float64Array.from({ length: d }, (_, r) => {
      let s = 0;
      for (let c = 0; c < d; c++) s += R[p * dd + r * d + c] * v[c];
      return sign * s;
    });
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

function infNorm(v: Float64Array): number {
  let s = 0;
  for (const x of v) s = Math.max(s, Math.abs(x));
  return s;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let q = 0; q < a.length; q++) s += a[q] * b[q];
  return s;
}

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

  const d: Dimension = problem.d;
  const k = rotationDof(d);
  const b = k + d;
  const n = problem.numPoses;
  const poseBlock = (p: number): number => p - 1; // −1: the fixed pose 0
  const landmarkBlock = (l: number): number => n - 1 + l;
  const sizes = new Int32Array(n - 1 + problem.numLandmarks);
  sizes.fill(b, 0, n - 1);
  sizes.fill(d, n - 1);
  const pairs: number[] = [];
  const link = (u: number, v: number): void => {
    if (u >= 0 && v >= 0 && u !== v) pairs.push(Math.min(u, v), Math.max(u, v));
  };
  for (const e of problem.poseEdges) link(poseBlock(e.i), poseBlock(e.j));
  for (const e of problem.landmarkEdges) link(poseBlock(e.i), landmarkBlock(e.k));
  const pattern = new BlockPattern(sizes, Int32Array.from(pairs));
  const diagonalAt = pattern.indptr.subarray(0, pattern.n); // each row starts at its diagonal
  const damped = new Float64Array(pattern.indices.length); // H + λD, refilled for every trial step

  let x = x0;
  let F = cost(problem, x);
  const initialCost = F;
  const history: IterationInfo[] = [];
  let factor: SparseCholeskyFactor | undefined;
  let reason: StopReason = "maxIterations";
  let gradientNorm = Infinity;
  let nu = 2;
  let iteration = 0;
  const newton = (options.hessian ?? "newton") === "newton";
  let lin = linearise(problem, x, pattern, poseBlock, landmarkBlock, newton);

  while (iteration < maxIterations) {
    const t0 = performance.now();
    iteration++;
    gradientNorm = infNorm(lin.gradient);
    if (pattern.n === 0 || gradientNorm <= gradTol * Math.max(1, F)) {
      reason = "gradient";
      iteration--;
      break;
    }
    // Marquardt's scaling, floored so directions with no curvature still get damped.
    const D = new Float64Array(pattern.n);
    let maxDiag = 0;
    for (let v = 0; v < pattern.n; v++) maxDiag = Math.max(maxDiag, lin.values[diagonalAt[v]]);
    for (let v = 0; v < pattern.n; v++) D[v] = Math.max(lin.values[diagonalAt[v]], 1e-12 * maxDiag, 1e-300);
    // Solve with the model Hessian (+ λD); where Newton's model is not positive
    // definite after damping, this step falls back to Gauss–Newton's, which is.
    const solveModel = (curvature: Float64Array | null): Float64Array | undefined => {
      damped.set(lin.values);
      if (curvature !== null) {
        for (let p = 1; p < n; p++) {
          const start = pattern.start[poseBlock(p)];
          for (let a = 0; a < k; a++) {
            const base = pattern.indptr[start + a] - a;
            for (let c = a; c < k; c++) damped[base + c] += curvature[(p * k + a) * k + c];
          }
        }
      }
      for (let v = 0; v < pattern.n; v++) damped[diagonalAt[v]] += lambda * D[v];
      const A = SparseMatrix.fromCsr(pattern.n, pattern.n, pattern.indptr, pattern.indices, damped, { symmetric: true });
      try {
        if (factor === undefined) factor = sparseCholesky(A, { backend: options.backend ?? "auto" });
        else factor.refactor(A);
        return factor.solve(lin.gradient.map((v) => -v));
      } catch (error) {
        if (!(error instanceof NotPositiveDefiniteError)) throw error;
        return undefined;
      }
    };
    let delta = lin.curvature !== null ? solveModel(lin.curvature) : undefined;
    delta ??= solveModel(null);
    let accepted = false;
    if (delta === undefined) {
      lambda *= nu;
      nu *= 2;
    } else {
      const xNorm = Math.sqrt(dot(x.t, x.t) + dot(x.landmarks, x.landmarks) + n * d);
      if (Math.sqrt(dot(delta, delta)) <= stepTol * (1 + xNorm)) {
        reason = "step";
        history.push({ iteration, cost: F, lambda, accepted, gradientNorm, seconds: (performance.now() - t0) / 1000 });
        break;
      }
      const candidate = retract(problem, x, delta);
      const Fnew = cost(problem, candidate);
      let dDd = 0;
      for (let v = 0; v < pattern.n; v++) dDd += D[v] * delta[v] * delta[v];
      const predicted = -dot(lin.gradient, delta) + lambda * dDd;
      const rho = (F - Fnew) / predicted;
      if (Fnew < F && rho > 0) {
        accepted = true;
        const decrease = F - Fnew;
        x = candidate;
        F = Fnew;
        lambda = Math.max(lambda * Math.max(1 / 3, 1 - (2 * rho - 1) ** 3), 1e-12); // floor: λ is relative to diag(JᵀJ)
        nu = 2;
        lin = linearise(problem, x, pattern, poseBlock, landmarkBlock, newton);
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
    gradientNorm: infNorm(lin.gradient),
    history,
    unknowns: pattern.n,
    nnzFactor: factor?.nnzL ?? 0,
    backend: factor?.backend ?? "native",
    seconds: (performance.now() - began) / 1000,
  };
}
