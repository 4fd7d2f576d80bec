// The rotation-only data matrix Q of landmark SLAM (SE-Sync, Rosen et al.
// 2019; landmarks as in Holmes & Barfoot, RA-L 2023). The cost is quadratic:
//
//   F = tr([p R] M [p R]ᵀ),  M = [[B, −V], [−Vᵀ, L(G̃ρ) + Σ]],
//
// with p = [t_1 … t_n, m_1 … m_L] the translations and landmarks, B their
// weighted Laplacian, V the translation–rotation coupling and Σ the block
// diagonal of the measured offsets. Minimising over p in closed form leaves
// min tr(Q RᵀR) with Q the Schur complement of B.
//
// The elimination runs in two steps so that nothing grows with the square of
// the number of landmarks:
//  1. Landmarks, one at a time (Holmes & Barfoot Eq. 17a–c): landmark k's
//     block of B is the scalar W_k = Σ ν_ik, so its Schur complement adds
//     rank-one terms among the poses that see it; the cost per landmark is
//     O(observations²), linear in the number of landmarks.
//  2. Pose translations: pose 0 is grounded (t_0 = 0, the gauge) so that the
//     reduced Laplacian B is positive definite; it is factored once by
//     sparse Cholesky and Q = rotationBlock − Vᵀ B⁻¹ V is applied through it,
//     never formed.
// Products with Q and the lifted factors, though, go through the pieces before
// step 1 where there are landmarks (see uneliminated): the same Q, without the
// cliques that eliminating a often-seen landmark creates among its observers.
//
// Rotations follow SE-Sync's convention: the (i, i) block of an edge's
// rotation term is κI, i.e. R̃ᵢⱼR̃ᵢⱼᵀ = I is assumed (this is what SE-Sync's
// optimal values use; for an unnormalised quaternion q the literal cost
// differs by the constant κ d (|q|⁴ − 1)).
//
// Indexing: Q's row i·d + a is column a of R_i in R = [R_1 … R_n] (d×dn);
// block vectors X (dn×k) are column-major, and X = Rᵀ for a rotation estimate.
import type { Dimension, Problem } from "./problem.js";
import { flattenEdges } from "./flat-edges.js";
import { csrSlot } from "./lifted-matrix.js";
import { SparseMatrix } from "../linalg/sparse.js";
import { NotPositiveDefiniteError } from "../linalg/dense.js";
import { analyzeSparseCholesky, cholmodVersion, schurComplementSolver, sparseCholesky, type SparseCholeskyBackend, type SparseCholeskyFactor } from "../linalg/sparse-cholesky.js";
import { sparseNative } from "../linalg/sparse-native.js";

export interface DataMatrixOptions {
  /** Sparse Cholesky backend for the translation Laplacian (default "auto"). */
  backend?: SparseCholeskyBackend;
}

/** A solver for (Q − Λ + shift·I) X = B through the lifted sparse matrix (see DataMatrix.factorShifted). */
export interface ShiftedSolver {
  /** X for B of dn×k values, column-major. */
  solveMany(b: Float64Array, k: number): Float64Array;
  /** Stored entries of the lifted factor. */
  readonly nnzL: number;
  readonly backend: "cholmod" | "native";
}

/**
 * A ShiftedSolver that keeps its symbolic analysis: each factor() call
 * refactors in place (the lifted pattern never changes), so solves after it
 * use the new Λ and shift. Throws NotPositiveDefiniteError from factor().
 */
export interface ReusableShiftedSolver extends ShiftedSolver {
  factor(lambda: Float64Array | null, shift: number): void;
}

export interface DataMatrix {
  d: Dimension;
  /** Number of poses; Q is dn×dn. */
  n: number;
  /** Q X for X of dn×k values, column-major (X = Yᵀ for Y of k×dn; a rotation estimate gives X = Rᵀ). */
  applyQ(Xt: Float64Array, k: number): Float64Array;
  /** Optimal translations (pose 0 at the origin) and landmarks for the rotations R (as Estimate.R). */
  recoverTranslations(R: Float64Array): { t: Float64Array; landmarks: Float64Array };
  /** f(R) = tr(Q RᵀR): the SLAM cost with translations and landmarks at their optimum. */
  cost(R: Float64Array): number;
  /**
   * Factors the lifted matrix K = [[B, −V], [−Vᵀ, rotationBlock − Λ + shift·I]]
   * (throws NotPositiveDefiniteError when it is not positive definite). Since B ≻ 0,
   * K ≻ 0 exactly when Q − Λ + shift·I ≻ 0 (Haynsworth inertia), and solving
   * K [u; x] = [0; b] gives x = (Q − Λ + shift·I)⁻¹ b: an exact sparse solve with
   * the dense Q. `lambda` holds n symmetric d×d blocks (row-major), or null for Λ = 0.
   */
  factorShifted(lambda: Float64Array | null, shift: number, backend?: SparseCholeskyBackend): ShiftedSolver;
  /** The same solve with one symbolic analysis reused across factor() calls (the certificate's shifts, say). */
  shiftedSolver(backend?: SparseCholeskyBackend): ReusableShiftedSolver;
  /** rotationBlock = L(G̃ρ) + Σ' (dn×dn, symmetric upper storage): Q = rotationBlock − Vᵀ B⁻¹ V. */
  rotationBlock: SparseMatrix;
  /** L(G̃ρ) alone (dn×dn, symmetric upper): the connection Laplacian SE-Sync preconditions with. */
  connectionLaplacian: SparseMatrix;
  /** B: the translation Laplacian after landmark elimination, poses 1..n−1 (pose 0 grounded), SPD. */
  translationLaplacian: SparseMatrix;
  translationFactor: SparseCholeskyFactor;
  /** V: (n−1)×dn coupling of the translations of poses 1..n−1 with the rotations. */
  coupling: SparseMatrix;
  /** Vᵀ (dn×(n−1)), kept for the products. */
  couplingT: SparseMatrix;
  /** Seconds spent building (assembly + the factorisation of B). */
  seconds: number;
}

/** X = Rᵀ (dn×d, column-major) from n rotations d×d row-major (Estimate.R). */
export function rotationsToColumns(R: Float64Array, d: number, n: number): Float64Array {
  const dn = d * n;
  const x = new Float64Array(dn * d);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < d; c++) {
      for (let a = 0; a < d; a++) x[i * d + a + c * dn] = R[i * d * d + c * d + a];
    }
  }
  return x;
}

/** Growable triplet lists. */
class Triplets {
  row: Int32Array;
  col: Int32Array;
  value: Float64Array;
  length = 0;
  constructor(capacity = 1024) {
    this.row = new Int32Array(capacity);
    this.col = new Int32Array(capacity);
    this.value = new Float64Array(capacity);
  }
  push(r: number, c: number, v: number): void {
    if (this.length === this.row.length) {
      const cap = this.row.length * 2;
      const row = new Int32Array(cap);
      const col = new Int32Array(cap);
      const value = new Float64Array(cap);
      row.set(this.row);
      col.set(this.col);
      value.set(this.value);
      this.row = row;
      this.col = col;
      this.value = value;
    }
    this.row[this.length] = r;
    this.col[this.length] = c;
    this.value[this.length++] = v;
  }
  arrays(): { row: Int32Array; col: Int32Array; value: Float64Array } {
    return { row: this.row.subarray(0, this.length), col: this.col.subarray(0, this.length), value: this.value.subarray(0, this.length) };
  }
}

function badPoseEdge(problem: Problem, idx: number): never {
  const { d, numPoses: n } = problem;
  const e = problem.poseEdges[idx];
  if (!(e.i >= 0 && e.i < n && e.j >= 0 && e.j < n && Number.isInteger(e.i) && Number.isInteger(e.j)) || e.i === e.j) {
    throw new RangeError(`buildDataMatrix: pose edge ${idx} joins poses ${e.i} and ${e.j}; expected two different poses in 0..${n - 1}`);
  }
  if (e.R.length !== d * d || e.t.length !== d) throw new RangeError(`buildDataMatrix: pose edge ${idx} needs R of ${d * d} and t of ${d} numbers`);
  throw new RangeError(`buildDataMatrix: pose edge ${idx} (${e.i}->${e.j}) has weights κ=${e.kappa}, τ=${e.tau}; both must be finite and ≥ 0`);
}

function badLandmarkEdge(problem: Problem, idx: number): never {
  const { d, numPoses: n, numLandmarks: L } = problem;
  const e = problem.landmarkEdges[idx];
  if (!(e.i >= 0 && e.i < n && Number.isInteger(e.i) && e.k >= 0 && e.k < L && Number.isInteger(e.k))) {
    throw new RangeError(`buildDataMatrix: landmark edge ${idx} joins pose ${e.i} and landmark ${e.k}; expected a pose in 0..${n - 1} and a landmark in 0..${L - 1}`);
  }
  if (e.y.length !== d) throw new RangeError(`buildDataMatrix: landmark edge ${idx} needs y of ${d} numbers`);
  throw new RangeError(`buildDataMatrix: landmark edge ${idx} has weight ν=${e.nu}; it must be finite and > 0`);
}

/**
 * The pieces of SLAM's quadratic form before the landmarks are eliminated,
 * over p = (t_1 … t_{n−1}, the observed landmarks): B̄ (their Laplacian, pose 0
 * grounded), V̄ (coupling to the rotations) and R̄ = L(G̃ρ) + Σ̄ (Σ̄ block
 * diagonal: the measured offsets). Q = R̄ − V̄ᵀ B̄⁻¹ V̄, the same Q as the
 * landmark-eliminated pieces give (elimination is one step of that Schur complement).
 */
function uneliminated(
  problem: Problem,
  connectionLaplacian: SparseMatrix,
  weightOf: Float64Array,
  backend: SparseCholeskyBackend,
): { B: SparseMatrix; V: SparseMatrix; VT: SparseMatrix; R: SparseMatrix; factor: SparseCholeskyFactor } {
  const { d, numPoses: n, numLandmarks: L } = problem;
  const m = n - 1;
  const dn = d * n;
  // Observed landmarks get rows m, m + 1, … (an unobserved one is not in the cost).
  const rowOf = new Int32Array(L).fill(-1);
  let rows = m;
  for (let k = 0; k < L; k++) if (weightOf[k] > 0) rowOf[k] = rows++;
  const B = new Triplets(3 * problem.poseEdges.length + 3 * problem.landmarkEdges.length);
  const V = new Triplets(2 * d * (problem.poseEdges.length + problem.landmarkEdges.length));
  const R = new Triplets(connectionLaplacian.nnz + ((d * (d + 1)) / 2) * (problem.poseEdges.length + problem.landmarkEdges.length));
  for (let r = 0; r < dn; r++) {
    for (let p = connectionLaplacian.indptr[r]; p < connectionLaplacian.indptr[r + 1]; p++) R.push(r, connectionLaplacian.indices[p], connectionLaplacian.values[p]);
  }
  // One residual w‖p_b − t_i − R_i y‖² (p_b a translation t_j or a landmark, row b; −1 for pose 0).
  const term = (i: number, b: number, y: Float64Array, w: number): void => {
    const a = i - 1;
    if (a >= 0) B.push(a, a, w);
    if (b >= 0) B.push(b, b, w);
    if (a >= 0 && b >= 0) B.push(Math.min(a, b), Math.max(a, b), -w);
    for (let c = 0; c < d; c++) {
      if (a >= 0) V.push(a, i * d + c, -w * y[c]);
      if (b >= 0) V.push(b, i * d + c, w * y[c]);
      for (let e = c; e < d; e++) R.push(i * d + c, i * d + e, w * y[c] * y[e]);
    }
  };
  for (const e of problem.poseEdges) term(e.i, e.j - 1, e.t, e.tau);
  for (const e of problem.landmarkEdges) term(e.i, rowOf[e.k], e.y, e.nu);
  const Bm = SparseMatrix.fromTriplets(rows, rows, B.arrays(), { symmetric: true });
  const v = V.arrays();
  return {
    B: Bm,
    V: SparseMatrix.fromTriplets(rows, dn, v),
    VT: SparseMatrix.fromTriplets(dn, rows, { row: v.col, col: v.row, value: v.value }),
    R: SparseMatrix.fromTriplets(dn, dn, R.arrays(), { symmetric: true }),
    // Positive definite whenever the eliminated B is (each landmark's own block is its weight > 0).
    factor: sparseCholesky(Bm, { backend }),
  };
}

/** Builds Q (implicitly) for a landmark-SLAM problem. */
export function buildDataMatrix(problem: Problem, options: DataMatrixOptions = {}): DataMatrix {
  const started = performance.now();
  const { d, numPoses: n, numLandmarks: L } = problem;
  if (d !== 2 && d !== 3) throw new RangeError(`buildDataMatrix: problem.d must be 2 or 3, got ${d}`);
  if (!Number.isInteger(n) || n < 2) throw new RangeError(`buildDataMatrix: the problem needs at least 2 poses, got ${n}`);
  const dd = d * d;
  const dn = d * n;

  // The arithmetic (every landmark's Schur complement, Eq. 17a–c) runs in
  // native/src/sparse/slam_assembly.cc; here the edges are flattened for it
  // and checked on the flat arrays.
  const { poseIJ, poseR, poseT, poseWeights, lmIK, lmY, lmNu } = flattenEdges(problem, "buildDataMatrix");
  const E = problem.poseEdges.length;
  for (let idx = 0; idx < E; idx++) {
    const i = poseIJ[2 * idx];
    const j = poseIJ[2 * idx + 1];
    const kappa = poseWeights[2 * idx];
    const tau = poseWeights[2 * idx + 1];
    const e = problem.poseEdges[idx];
    if (!(i >= 0 && i < n && j >= 0 && j < n && i !== j && i === e.i && j === e.j) || !(kappa >= 0 && tau >= 0 && kappa < Infinity && tau < Infinity)) {
      badPoseEdge(problem, idx);
    }
  }
  const M = problem.landmarkEdges.length;
  const weightOf = new Float64Array(L);
  for (let idx = 0; idx < M; idx++) {
    const i = lmIK[2 * idx];
    const k = lmIK[2 * idx + 1];
    const nu = lmNu[idx];
    const e = problem.landmarkEdges[idx];
    if (!(i >= 0 && i < n && k >= 0 && k < L && i === e.i && k === e.k) || !(nu > 0 && nu < Infinity)) badLandmarkEdge(problem, idx);
    weightOf[k] += nu;
  }
  const parts = sparseNative.sparseSlamAssemble(d, n, L, poseIJ, poseR, poseT, poseWeights, lmIK, lmY, lmNu);
  const rot = parts.rotation;
  const c = parts.connectionCount;
  const connectionLaplacian = SparseMatrix.fromTriplets(
    dn,
    dn,
    { row: rot.row.subarray(0, c), col: rot.col.subarray(0, c), value: rot.value.subarray(0, c) },
    { symmetric: true },
  );
  const rotationBlock = SparseMatrix.fromTriplets(dn, dn, rot, { symmetric: true });
  const translationLaplacian = SparseMatrix.fromTriplets(n - 1, n - 1, parts.laplacian, { symmetric: true });
  const coupling = SparseMatrix.fromTriplets(n - 1, dn, parts.coupling);
  const couplingT = SparseMatrix.fromTriplets(dn, n - 1, { row: parts.coupling.col, col: parts.coupling.row, value: parts.coupling.value });
  let translationFactor: SparseCholeskyFactor;
  try {
    translationFactor = sparseCholesky(translationLaplacian, { backend: options.backend ?? "auto" });
  } catch (err) {
    if (err instanceof NotPositiveDefiniteError) {
      throw new RangeError(
        `buildDataMatrix: the translations are not all tied to pose 0 (pose ${err.pivot + 1} is in another component of the measurement graph, ` +
          `counting poses linked through shared landmarks); split the problem or add measurements`,
      );
    }
    throw err;
  }
  const m = n - 1;
  // What Q's products and the lifted factors are built from: Q is the Schur
  // complement of [[B, −V], [−Vᵀ, rotationBlock]]. With landmarks, the same Q is
  // also that of the un-eliminated matrix over (translations, landmarks), which
  // has no landmark cliques: far fewer entries where landmarks are seen often
  // (Victoria Park), so products and factors through it cost less.
  // Which form is smaller depends on how often landmarks are seen: many
  // landmarks seen a few times each (simulated fields) keep the eliminated
  // form tiny, and building the other would cost more than all of Eq. 17.
  const eliminatedEntries = translationLaplacian.nnz + 2 * coupling.nnz + rotationBlock.nnz;
  const uneliminatedEntries = connectionLaplacian.nnz + (3 + 2 * d + (d * (d + 1)) / 2) * (E + M);
  const useUneliminated = M > 0 && eliminatedEntries > 2 * uneliminatedEntries;
  const form = useUneliminated
    ? uneliminated(problem, connectionLaplacian, weightOf, options.backend ?? "auto")
    : { B: translationLaplacian, V: coupling, VT: couplingT, R: rotationBlock, factor: translationFactor };
  const mp = form.B.rows;

  const applyQ = (Xt: Float64Array, k: number): Float64Array => {
    if (Xt.length !== dn * k) throw new RangeError(`DataMatrix.applyQ: expected ${dn}x${k} = ${dn * k} values (column-major), got ${Xt.length}`);
    const out = new Float64Array(dn * k);
    const u = new Float64Array(mp * k);
    for (let c = 0; c < k; c++) {
      const x = Xt.subarray(c * dn, (c + 1) * dn);
      form.R.matvec(x, out.subarray(c * dn, (c + 1) * dn));
      form.V.matvec(x, u.subarray(c * mp, (c + 1) * mp));
    }
    const z = form.factor.solveMany(u, k);
    const w = new Float64Array(dn);
    for (let c = 0; c < k; c++) {
      form.VT.matvec(z.subarray(c * mp, (c + 1) * mp), w);
      const o = out.subarray(c * dn, (c + 1) * dn);
      for (let r = 0; r < dn; r++) o[r] -= w[r];
    }
    return out;
  };

  const checkR = (fn: string, R: Float64Array): void => {
    if (R.length !== n * dd) throw new RangeError(`DataMatrix.${fn}: R must hold ${n} rotations of ${dd} numbers (${n * dd}), got ${R.length}`);
  };

  const recoverTranslations = (R: Float64Array): { t: Float64Array; landmarks: Float64Array } => {
    checkR("recoverTranslations", R);
    const x = rotationsToColumns(R, d, n);
    const u = new Float64Array(m * d);
    for (let c = 0; c < d; c++) coupling.matvec(x.subarray(c * dn, (c + 1) * dn), u.subarray(c * m, (c + 1) * m));
    const z = translationFactor.solveMany(u, d); // B T = V Rᵀ
    const t = new Float64Array(n * d);
    for (let i = 1; i < n; i++) for (let c = 0; c < d; c++) t[i * d + c] = z[i - 1 + c * m];
    // Each landmark at the weighted mean of where its observers put it.
    const landmarks = new Float64Array(L * d);
    for (const e of problem.landmarkEdges) {
      const w = e.nu / weightOf[e.k];
      for (let r = 0; r < d; r++) {
        let p = t[e.i * d + r];
        for (let a = 0; a < d; a++) p += R[e.i * dd + r * d + a] * e.y[a];
        landmarks[e.k * d + r] += w * p;
      }
    }
    return { t, landmarks };
  };

  const cost = (R: Float64Array): number => {
    checkR("cost", R);
    const x = rotationsToColumns(R, d, n);
    const qx = applyQ(x, d);
    let f = 0;
    for (let i = 0; i < x.length; i++) f += x[i] * qx[i];
    return f;
  };

  // The lifted matrix K; Λ's entries are always stored (zeros when null) so that
  // every K of this problem has the same pattern and one analysis serves all.
  // The pattern (with the values of Λ = 0, shift = 0) is assembled once; each
  // call then only writes shift − Λ into the slots of the rotation blocks, and
  // hands the factorisation the same index arrays (its pattern check is then free).
  let pattern: { indptr: Int32Array; indices: Int32Array; base: Float64Array; slots: Int32Array } | null = null;
  const size = mp + dn;
  const liftedPattern = (): NonNullable<typeof pattern> => {
    if (pattern !== null) return pattern;
    const tr = new Triplets(form.B.nnz + form.V.nnz + form.R.nnz + (n * d * (d + 1)) / 2);
    const copy = (a: SparseMatrix, r0: number, c0: number, sign: number): void => {
      for (let r = 0; r < a.rows; r++) {
        for (let p = a.indptr[r]; p < a.indptr[r + 1]; p++) tr.push(r0 + r, c0 + a.indices[p], sign * a.values[p]);
      }
    };
    copy(form.B, 0, 0, 1);
    copy(form.V, 0, mp, -1);
    copy(form.R, mp, mp, 1);
    for (let i = 0; i < n; i++) {
      for (let a = 0; a < d; a++) for (let b = a; b < d; b++) tr.push(mp + i * d + a, mp + i * d + b, 0);
    }
    const k = SparseMatrix.fromTriplets(size, size, tr.arrays(), { symmetric: true });
    // Position of each slot (i, a, b ≥ a) in the CSR arrays (columns are sorted within a row).
    const slots = new Int32Array((n * d * (d + 1)) / 2);
    let s = 0;
    for (let i = 0; i < n; i++) {
      for (let a = 0; a < d; a++) {
        for (let b = a; b < d; b++) slots[s++] = csrSlot(k, mp + i * d + a, mp + i * d + b);
      }
    }
    return (pattern = { indptr: k.indptr, indices: k.indices, base: k.values, slots });
  };
  const liftedMatrix = (lambda: Float64Array | null, shift: number): SparseMatrix => {
    if (lambda !== null && lambda.length !== n * dd) {
      throw new RangeError(`DataMatrix.factorShifted: lambda must hold ${n} blocks of ${dd} numbers, got ${lambda.length}`);
    }
    if (!Number.isFinite(shift)) throw new RangeError(`DataMatrix.factorShifted: shift must be a finite number, got ${shift}`);
    const { indptr, indices, base, slots } = liftedPattern();
    const values = Float64Array.from(base);
    let s = 0;
    for (let i = 0; i < n; i++) {
      for (let a = 0; a < d; a++) {
        for (let b = a; b < d; b++) values[slots[s++]] += (a === b ? shift : 0) - (lambda === null ? 0 : lambda[i * dd + a * d + b]);
      }
    }
    return SparseMatrix.fromCsr(size, size, indptr, indices, values, { symmetric: true });
  };

  const shiftedSolver = (backend: SparseCholeskyBackend = options.backend ?? "auto"): ReusableShiftedSolver => {
    let factor: SparseCholeskyFactor | null = null;
    let solve: ((b: Float64Array, k: number) => Float64Array) | null = null;
    return {
      factor(lambda: Float64Array | null, shift: number): void {
        const k = liftedMatrix(lambda, shift);
        if (factor === null) {
          factor = analyzeSparseCholesky(k, { backend });
          solve = schurComplementSolver(factor, mp);
        }
        factor.refactor(k);
      },
      solveMany(b: Float64Array, cols: number): Float64Array {
        if (solve === null) throw new Error("ShiftedSolver.solveMany: call factor(lambda, shift) first");
        return solve(b, cols);
      },
      get nnzL(): number {
        return factor?.nnzL ?? 0;
      },
      get backend(): "cholmod" | "native" {
        return factor?.backend ?? (backend === "auto" ? (cholmodVersion() !== null ? "cholmod" : "native") : backend);
      },
    };
  };

  const factorShifted = (lambda: Float64Array | null, shift: number, backend: SparseCholeskyBackend = options.backend ?? "auto"): ShiftedSolver => {
    const factor = sparseCholesky(liftedMatrix(lambda, shift), { backend });
    return { nnzL: factor.nnzL, backend: factor.backend, solveMany: schurComplementSolver(factor, mp) };
  };

  return {
    d,
    n,
    applyQ,
    recoverTranslations,
    cost,
    factorShifted,
    shiftedSolver,
    rotationBlock,
    connectionLaplacian,
    translationLaplacian,
    translationFactor,
    coupling,
    couplingT,
    seconds: (performance.now() - started) / 1000,
  };
}
