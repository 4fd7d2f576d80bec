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
//
// Rotations follow SE-Sync's convention: the (i, i) block of an edge's
// rotation term is κI, i.e. R̃ᵢⱼR̃ᵢⱼᵀ = I is assumed (this is what SE-Sync's
// optimal values use; for an unnormalised quaternion q the literal cost
// differs by the constant κ d (|q|⁴ − 1)).
//
// Indexing: Q's row i·d + a is column a of R_i in R = [R_1 … R_n] (d×dn);
// block vectors X (dn×k) are column-major, and X = Rᵀ for a rotation estimate.
import type { Dimension, Problem } from "./problem.js";
import { SparseMatrix } from "../linalg/sparse.js";
import { NotPositiveDefiniteError } from "../linalg/dense.js";
import { sparseCholesky, type SparseCholeskyBackend, type SparseCholeskyFactor } from "../linalg/sparse-cholesky.js";

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

/** Dense blocks of `size` numbers keyed by a pair of pose indices, summed in place. */
class BlockMap {
  readonly slots = new Map<number, number>();
  readonly keys: number[] = [];
  data: Float64Array;
  constructor(readonly n: number, readonly size: number) {
    this.data = new Float64Array(size * 64);
  }
  /** Offset of block (i, j) in data, created zero on first use. */
  at(i: number, j: number): number {
    const key = i * this.n + j;
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = this.keys.length;
      this.slots.set(key, slot);
      this.keys.push(key);
      if ((slot + 1) * this.size > this.data.length) {
        const grown = new Float64Array(this.data.length * 2);
        grown.set(this.data);
        this.data = grown;
      }
    }
    return slot * this.size;
  }
  /** Adds v to the first number of block (i, j). (at() may grow data, so it runs before data is read.) */
  add(i: number, j: number, v: number): void {
    const at = this.at(i, j);
    this.data[at] += v;
  }
}

function checkProblem(problem: Problem): void {
  const { d, numPoses: n, numLandmarks: L } = problem;
  if (d !== 2 && d !== 3) throw new RangeError(`buildDataMatrix: problem.d must be 2 or 3, got ${d}`);
  if (!Number.isInteger(n) || n < 2) throw new RangeError(`buildDataMatrix: the problem needs at least 2 poses, got ${n}`);
  problem.poseEdges.forEach((e, idx) => {
    if (!(e.i >= 0 && e.i < n && e.j >= 0 && e.j < n && Number.isInteger(e.i) && Number.isInteger(e.j)) || e.i === e.j) {
      throw new RangeError(`buildDataMatrix: pose edge ${idx} joins poses ${e.i} and ${e.j}; expected two different poses in 0..${n - 1}`);
    }
    if (!(e.kappa >= 0 && e.tau >= 0 && Number.isFinite(e.kappa) && Number.isFinite(e.tau))) {
      throw new RangeError(`buildDataMatrix: pose edge ${idx} (${e.i}->${e.j}) has weights κ=${e.kappa}, τ=${e.tau}; both must be finite and ≥ 0`);
    }
    if (e.R.length !== d * d || e.t.length !== d) throw new RangeError(`buildDataMatrix: pose edge ${idx} needs R of ${d * d} and t of ${d} numbers`);
  });
  problem.landmarkEdges.forEach((e, idx) => {
    if (!(e.i >= 0 && e.i < n && Number.isInteger(e.i) && e.k >= 0 && e.k < L && Number.isInteger(e.k))) {
      throw new RangeError(`buildDataMatrix: landmark edge ${idx} joins pose ${e.i} and landmark ${e.k}; expected a pose in 0..${n - 1} and a landmark in 0..${L - 1}`);
    }
    if (!(e.nu > 0 && Number.isFinite(e.nu))) throw new RangeError(`buildDataMatrix: landmark edge ${idx} has weight ν=${e.nu}; it must be finite and > 0`);
    if (e.y.length !== d) throw new RangeError(`buildDataMatrix: landmark edge ${idx} needs y of ${d} numbers`);
  });
}

/** Builds Q (implicitly) for a landmark-SLAM problem. */
export function buildDataMatrix(problem: Problem, options: DataMatrixOptions = {}): DataMatrix {
  const started = performance.now();
  checkProblem(problem);
  const { d, numPoses: n, numLandmarks: L } = problem;
  const dd = d * d;
  const dn = d * n;

  // Σ-type d×d blocks of the rotation block (i ≤ j), B entries (i ≤ j) and
  // V rows (pose i, rotation block j: d numbers), all keyed by pose pairs.
  const sigma = new BlockMap(n, dd);
  const lap = new BlockMap(n, 1);
  const coup = new BlockMap(n, d);
  const rot = new Triplets(Math.max(16, problem.poseEdges.length * 4 * dd));

  for (const e of problem.poseEdges) {
    const { i, j, kappa, tau } = e;
    // Rotation term κ‖R_j − R_i R̃‖²: κI on both diagonal blocks, −κR̃ at (i, j).
    for (let a = 0; a < d; a++) {
      rot.push(i * d + a, i * d + a, kappa);
      rot.push(j * d + a, j * d + a, kappa);
      for (let b = 0; b < d; b++) {
        if (i < j) rot.push(i * d + a, j * d + b, -kappa * e.R[a * d + b]);
        else rot.push(j * d + b, i * d + a, -kappa * e.R[a * d + b]);
      }
    }
    // Translation term τ‖t_j − t_i − R_i t̃‖².
    const s = sigma.at(i, i);
    for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) sigma.data[s + a * d + b] += tau * e.t[a] * e.t[b];
    lap.add(i, i, tau);
    lap.add(j, j, tau);
    lap.add(Math.min(i, j), Math.max(i, j), -tau);
    const vj = coup.at(j, i);
    const vi = coup.at(i, i);
    for (let a = 0; a < d; a++) {
      coup.data[vj + a] += tau * e.t[a];
      coup.data[vi + a] -= tau * e.t[a];
    }
  }

  // Landmark edges: their direct terms on the observing pose, then each
  // landmark's Schur complement (Eq. 17a–c) over its observations.
  const byLandmark = new Int32Array(L + 1);
  for (const e of problem.landmarkEdges) byLandmark[e.k + 1]++;
  for (let k = 0; k < L; k++) byLandmark[k + 1] += byLandmark[k];
  const order = new Int32Array(problem.landmarkEdges.length);
  {
    const next = byLandmark.slice(0, L);
    problem.landmarkEdges.forEach((e, idx) => (order[next[e.k]++] = idx));
  }
  const weightOf = new Float64Array(L);
  for (const e of problem.landmarkEdges) {
    const { i, nu, y } = e;
    weightOf[e.k] += nu;
    const s = sigma.at(i, i);
    for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) sigma.data[s + a * d + b] += nu * y[a] * y[b];
    lap.add(i, i, nu);
    const v = coup.at(i, i);
    for (let a = 0; a < d; a++) coup.data[v + a] -= nu * y[a];
  }
  const edges = problem.landmarkEdges;
  for (let k = 0; k < L; k++) {
    const W = weightOf[k];
    if (!(W > 0)) continue; // an unobserved landmark does not enter the cost
    for (let p = byLandmark[k]; p < byLandmark[k + 1]; p++) {
      const ea = edges[order[p]];
      for (let q = byLandmark[k]; q < byLandmark[k + 1]; q++) {
        const eb = edges[order[q]];
        const w = (ea.nu * eb.nu) / W;
        const ia = ea.i;
        const ib = eb.i;
        // V'[i_a, block i_b] += ν_a ν_b / W · y_bᵀ  (Eq. 17b)
        const v = coup.at(ia, ib);
        for (let a = 0; a < d; a++) coup.data[v + a] += w * eb.y[a];
        if (ia > ib) continue; // the symmetric terms are stored once, upper
        // B'[i_a, i_b] −= ν_a ν_b / W  (Eq. 17a);  Σ'[i_a, i_b] −= ν_a ν_b / W · y_a y_bᵀ  (Eq. 17c)
        lap.add(ia, ib, -w);
        const s = sigma.at(ia, ib);
        for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) sigma.data[s + a * d + b] -= w * ea.y[a] * eb.y[b];
      }
    }
  }

  // Assemble the sparse pieces.
  const connectionLaplacian = SparseMatrix.fromTriplets(dn, dn, rot.arrays(), { symmetric: true });
  for (let s = 0; s < sigma.keys.length; s++) {
    const key = sigma.keys[s];
    const i = Math.floor(key / n);
    const j = key - i * n;
    for (let a = 0; a < d; a++) {
      for (let b = i === j ? a : 0; b < d; b++) {
        // A diagonal block gathers both orders of every pair: symmetrise it.
        const v = i === j ? 0.5 * (sigma.data[s * dd + a * d + b] + sigma.data[s * dd + b * d + a]) : sigma.data[s * dd + a * d + b];
        rot.push(i * d + a, j * d + b, v);
      }
    }
  }
  const rotationBlock = SparseMatrix.fromTriplets(dn, dn, rot.arrays(), { symmetric: true });
  const bt = new Triplets(lap.keys.length + 1);
  for (let s = 0; s < lap.keys.length; s++) {
    const key = lap.keys[s];
    const i = Math.floor(key / n);
    const j = key - i * n;
    if (i > 0 && j > 0) bt.push(i - 1, j - 1, lap.data[s]);
  }
  const translationLaplacian = SparseMatrix.fromTriplets(n - 1, n - 1, bt.arrays(), { symmetric: true });
  const vt = new Triplets(coup.keys.length * d + 1);
  const vtt = new Triplets(coup.keys.length * d + 1);
  for (let s = 0; s < coup.keys.length; s++) {
    const key = coup.keys[s];
    const i = Math.floor(key / n);
    const j = key - i * n;
    if (i === 0) continue; // pose 0's translation is grounded
    for (let a = 0; a < d; a++) {
      vt.push(i - 1, j * d + a, coup.data[s * d + a]);
      vtt.push(j * d + a, i - 1, coup.data[s * d + a]);
    }
  }
  const coupling = SparseMatrix.fromTriplets(n - 1, dn, vt.arrays());
  const couplingT = SparseMatrix.fromTriplets(dn, n - 1, vtt.arrays());
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

  const applyQ = (Xt: Float64Array, k: number): Float64Array => {
    if (Xt.length !== dn * k) throw new RangeError(`DataMatrix.applyQ: expected ${dn}x${k} = ${dn * k} values (column-major), got ${Xt.length}`);
    const out = new Float64Array(dn * k);
    const u = new Float64Array(m * k);
    for (let c = 0; c < k; c++) {
      const x = Xt.subarray(c * dn, (c + 1) * dn);
      rotationBlock.matvec(x, out.subarray(c * dn, (c + 1) * dn));
      coupling.matvec(x, u.subarray(c * m, (c + 1) * m));
    }
    const z = translationFactor.solveMany(u, k);
    const w = new Float64Array(dn);
    for (let c = 0; c < k; c++) {
      couplingT.matvec(z.subarray(c * m, (c + 1) * m), w);
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

  const factorShifted = (lambda: Float64Array | null, shift: number, backend: SparseCholeskyBackend = options.backend ?? "auto"): ShiftedSolver => {
    if (lambda !== null && lambda.length !== n * dd) {
      throw new RangeError(`DataMatrix.factorShifted: lambda must hold ${n} blocks of ${dd} numbers, got ${lambda.length}`);
    }
    const size = m + dn;
    const tr = new Triplets(translationLaplacian.nnz + coupling.nnz + rotationBlock.nnz + n * dd + dn);
    const copy = (a: SparseMatrix, r0: number, c0: number, sign: number): void => {
      for (let r = 0; r < a.rows; r++) {
        for (let p = a.indptr[r]; p < a.indptr[r + 1]; p++) tr.push(r0 + r, c0 + a.indices[p], sign * a.values[p]);
      }
    };
    copy(translationLaplacian, 0, 0, 1);
    copy(coupling, 0, m, -1);
    copy(rotationBlock, m, m, 1);
    for (let i = 0; i < n; i++) {
      for (let a = 0; a < d; a++) {
        tr.push(m + i * d + a, m + i * d + a, shift);
        if (lambda === null) continue;
        for (let b = a; b < d; b++) tr.push(m + i * d + a, m + i * d + b, -lambda[i * dd + a * d + b]);
      }
    }
    const k = SparseMatrix.fromTriplets(size, size, tr.arrays(), { symmetric: true });
    const factor = sparseCholesky(k, { backend });
    return {
      nnzL: factor.nnzL,
      backend: factor.backend,
      solveMany(b: Float64Array, cols: number): Float64Array {
        if (b.length !== dn * cols) throw new RangeError(`ShiftedSolver.solveMany: expected ${dn}x${cols} values, got ${b.length}`);
        const rhs = new Float64Array(size * cols);
        for (let c = 0; c < cols; c++) rhs.set(b.subarray(c * dn, (c + 1) * dn), c * size + m);
        const sol = factor.solveMany(rhs, cols);
        const out = new Float64Array(dn * cols);
        for (let c = 0; c < cols; c++) out.set(sol.subarray(c * size + m, (c + 1) * size), c * dn);
        return out;
      },
    };
  };

  return {
    d,
    n,
    applyQ,
    recoverTranslations,
    cost,
    factorShifted,
    rotationBlock,
    connectionLaplacian,
    translationLaplacian,
    translationFactor,
    coupling,
    couplingT,
    seconds: (performance.now() - started) / 1000,
  };
}
