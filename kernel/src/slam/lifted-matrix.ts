// The certificate matrix S = Q − Λ (+ shift·I) in sparse form. Q is dense (a
// Schur complement) and never formed; instead the lifted matrix
//   K = [[B, −V], [−Vᵀ, rotationBlock − Λ + shift·I]]
// has S + shift·I as its Schur complement, so a sparse Cholesky of K exists
// exactly when S + shift·I ≻ 0 and solving K [p; x] = [0; b] applies
// (S + shift·I)⁻¹. For the complex relaxation (2-D, CPL-SLAM) the rotation part
// is lifted through Lift = (L₀, L₁) (L₀u = (u₀, −u₁), L₁u = (u₁, u₀) per block):
//   K̃ = [[B, 0, −V L₀], [0, B, −V L₁], [·, ·, Σ_s L_sᵀ rotationBlock L_s − Λ̃ + shift·I]],
// whose Schur complement is Q̃ − Λ̃ + shift·I. The pattern does not depend on Λ
// or the shift, so the symbolic analysis is done once and later factorisations
// only redo the numbers.
//
// Uses: the complex certificate (a rigorous λ_min > −η), and the staircase's
// Newton preconditioner (S + σI)⁻¹, the inverse of the Riemannian Hessian's
// matrix near a minimiser.
import { SparseMatrix } from "../linalg/sparse.js";
import { schurComplementSolver, sparseCholesky, type SparseCholeskyBackend, type SparseCholeskyFactor } from "../linalg/sparse-cholesky.js";
import type { DataMatrix } from "./data-matrix.js";

/** Position of the stored entry (row, col) in a's CSR arrays (columns are sorted within a row; the entry must be stored). */
export function csrSlot(a: SparseMatrix, row: number, col: number): number {
  let lo = a.indptr[row];
  let hi = a.indptr[row + 1] - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a.indices[mid] < col) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface LiftedSolver {
  /** (S + shift·I)⁻¹ X for X of rows×k values, column-major. Valid until the matrix is factored again. */
  solveMany(b: Float64Array, k: number): Float64Array;
}

export class LiftedMatrix {
  readonly kind: "real" | "complex";
  /** Rows of the rotation part: dn (real) or 2n (complex). */
  readonly rows: number;
  readonly size: number;
  /** The largest diagonal entry of the rotation part (the scale S is summed at; ×2 in the complex form). */
  readonly scale: number;
  readonly #n: number;
  readonly #d: number;
  readonly #offset: number;
  /** K's CSR pattern and its values at Λ = 0, shift = 0 (assembled once). */
  readonly #indptr: Int32Array;
  readonly #indices: Int32Array;
  readonly #base: Float64Array;
  /** Position in the CSR values of each block's multiplier slots (upper triangle, row-major). */
  readonly #slots: Int32Array;
  readonly #backend: SparseCholeskyBackend;
  #factor: SparseCholeskyFactor | null = null;

  constructor(dm: DataMatrix, kind: "real" | "complex", backend: SparseCholeskyBackend = "auto") {
    if (kind === "complex" && dm.d !== 2) throw new RangeError("LiftedMatrix: the complex relaxation is for 2-D problems");
    const { n, d } = dm;
    const B = dm.translationLaplacian;
    const V = dm.coupling;
    const RB = dm.rotationBlock;
    const m = B.rows;
    const copies = kind === "real" ? 1 : 2;
    this.kind = kind;
    this.#n = n;
    this.#d = d;
    this.rows = n * d;
    this.#offset = copies * m;
    this.size = copies * m + n * d;
    this.#backend = backend;
    let scale = 0;
    for (const v of RB.diagonal()) scale = Math.max(scale, Math.abs(v));
    this.scale = (kind === "complex" ? 2 : 1) * scale;
    const slotsPerBlock = kind === "real" ? (d * (d + 1)) / 2 : 2;
    const count = copies * (B.nnz + V.nnz + RB.nnz) + n * slotsPerBlock;
    const row = new Int32Array(count);
    const col = new Int32Array(count);
    const val = new Float64Array(count);
    let k = 0;
    const push = (r: number, c: number, v: number): void => {
      row[k] = Math.min(r, c);
      col[k] = Math.max(r, c);
      val[k++] = v;
    };
    for (let r = 0; r < m; r++) {
      for (let p = B.indptr[r]; p < B.indptr[r + 1]; p++) {
        for (let s = 0; s < copies; s++) push(s * m + r, s * m + B.indices[p], B.values[p]);
      }
    }
    const u0 = this.#offset;
    for (let r = 0; r < m; r++) {
      for (let p = V.indptr[r]; p < V.indptr[r + 1]; p++) {
        const c = V.indices[p];
        const v = V.values[p];
        if (kind === "real") {
          push(r, u0 + c, -v);
          continue;
        }
        const a = c & 1;
        push(r, u0 + c, a === 1 ? v : -v); // −(V L₀): sign −1 on component 1
        push(m + r, u0 + c - a + (1 - a), -v); // −(V L₁): the components swap
      }
    }
    for (let r = 0; r < RB.rows; r++) {
      for (let p = RB.indptr[r]; p < RB.indptr[r + 1]; p++) {
        const c = RB.indices[p];
        const v = RB.values[p];
        if (kind === "real") {
          push(u0 + r, u0 + c, v);
          continue;
        }
        const a = r & 1;
        const b = c & 1;
        push(u0 + r, u0 + c, a === b ? v : -v); // L₀ᵀ · L₀: sign (−1)^(a+b)
        push(u0 + r - a + (1 - a), u0 + c - b + (1 - b), v); // L₁ᵀ · L₁: both components swap
      }
    }
    const first = k;
    for (let i = 0; i < n; i++) {
      if (kind === "complex") {
        push(u0 + 2 * i, u0 + 2 * i, 0);
        push(u0 + 2 * i + 1, u0 + 2 * i + 1, 0);
        continue;
      }
      for (let a = 0; a < d; a++) for (let b = a; b < d; b++) push(u0 + i * d + a, u0 + i * d + b, 0);
    }
    const k0 = SparseMatrix.fromTriplets(this.size, this.size, { row, col, value: val }, { symmetric: true });
    // Later factorisations only write shift − Λ into these positions (columns are sorted within a row).
    const slots = new Int32Array(count - first);
    for (let s = first; s < count; s++) slots[s - first] = csrSlot(k0, row[s], col[s]);
    this.#indptr = k0.indptr;
    this.#indices = k0.indices;
    this.#base = k0.values;
    this.#slots = slots;
  }

  /**
   * Factors S + shift·I with S = Q − Λ (Λ: n d×d blocks, row-major, as
   * BlockManifold.lambda gives them; the complex kind reads λ_i = Λ_i[0][0];
   * null for Λ = 0). Throws NotPositiveDefiniteError when it is not positive
   * definite. A new factorisation invalidates earlier solvers.
   */
  factor(lambda: Float64Array | null, shift: number): LiftedSolver {
    const n = this.#n;
    const d = this.#d;
    const values = Float64Array.from(this.#base);
    const slots = this.#slots;
    let k = 0;
    for (let i = 0; i < n; i++) {
      const block = i * d * d;
      if (this.kind === "complex") {
        const l = lambda === null ? 0 : lambda[block];
        values[slots[k++]] += shift - l;
        values[slots[k++]] += shift - l;
        continue;
      }
      for (let a = 0; a < d; a++) {
        for (let b = a; b < d; b++) values[slots[k++]] += (a === b ? shift : 0) - (lambda === null ? 0 : lambda[block + a * d + b]);
      }
    }
    const a = SparseMatrix.fromCsr(this.size, this.size, this.#indptr, this.#indices, values, { symmetric: true });
    if (this.#factor === null) this.#factor = sparseCholesky(a, { backend: this.#backend });
    else this.#factor.refactor(a, 0);
    return { solveMany: schurComplementSolver(this.#factor, this.#offset) };
  }
}

/** Gershgorin bound on λ_max of a symmetric matrix stored by its upper triangle. */
export function gershgorinBound(a: SparseMatrix): number {
  const rowSums = new Float64Array(a.rows);
  for (let row = 0; row < a.rows; row++) {
    for (let p = a.indptr[row]; p < a.indptr[row + 1]; p++) {
      const v = Math.abs(a.values[p]);
      rowSums[row] += v;
      if (a.indices[p] !== row) rowSums[a.indices[p]] += v;
    }
  }
  let max = 0;
  for (const s of rowSums) max = Math.max(max, s);
  return max;
}
