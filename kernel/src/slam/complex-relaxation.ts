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
import { SparseMatrix } from "../linalg/sparse.js";
import { sparseCholesky, type SparseCholeskyBackend, type SparseCholeskyFactor } from "../linalg/sparse-cholesky.js";
import type { DataMatrix } from "./data-matrix.js";
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

/**
 * The complex analogue of DataMatrix.factorShifted: a sparse Cholesky of
 *   K̃ = [[B, 0, −V L₀], [0, B, −V L₁], [·, ·, Σ_s L_sᵀ rotationBlock L_s − Λ̃ + shift·I]]
 * where Lift = (L₀, L₁) splits into the two real columns each complex one
 * becomes (L₀ u = (u₀, −u₁), L₁ u = (u₁, u₀) per block). Its Schur complement
 * is Q̃ − Λ̃ + shift·I, so the factor exists exactly when that matrix is
 * positive definite (a proof that λ_min(S̃) > −shift), and solving K̃ [p; x] =
 * [0; b] applies (Q̃ − Λ̃ + shift·I)⁻¹ exactly. The pattern does not depend on
 * Λ̃ or the shift, so the symbolic analysis is done once.
 */
export class ComplexLiftedMatrix {
  readonly n: number;
  readonly size: number;
  readonly #m: number;
  readonly #row: Int32Array;
  readonly #col: Int32Array;
  readonly #base: Float64Array;
  readonly #backend: SparseCholeskyBackend;
  #factor: SparseCholeskyFactor | null = null;

  constructor(dm: DataMatrix, backend: SparseCholeskyBackend = "auto") {
    if (dm.d !== 2) throw new RangeError("ComplexLiftedMatrix: the complex relaxation is for 2-D problems");
    const n = dm.n;
    const B = dm.translationLaplacian;
    const V = dm.coupling;
    const RB = dm.rotationBlock;
    const m = B.rows;
    this.n = n;
    this.#m = m;
    this.size = 2 * m + 2 * n;
    this.#backend = backend;
    const count = 2 * B.nnz + 2 * V.nnz + 2 * RB.nnz + 2 * n;
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
        push(r, B.indices[p], B.values[p]);
        push(m + r, m + B.indices[p], B.values[p]);
      }
    }
    const u0 = 2 * m;
    for (let r = 0; r < m; r++) {
      for (let p = V.indptr[r]; p < V.indptr[r + 1]; p++) {
        const c = V.indices[p];
        const a = c & 1;
        const blockStart = c - a;
        push(r, u0 + c, a === 1 ? V.values[p] : -V.values[p]); // −(V L₀): column a keeps, sign −1 on a = 1
        push(m + r, u0 + blockStart + (1 - a), -V.values[p]); // −(V L₁): columns swap
      }
    }
    for (let r = 0; r < RB.rows; r++) {
      for (let p = RB.indptr[r]; p < RB.indptr[r + 1]; p++) {
        const c = RB.indices[p];
        const a = r & 1;
        const b = c & 1;
        const v = RB.values[p];
        push(u0 + r, u0 + c, a === b ? v : -v); // L₀ᵀ · L₀: sign (−1)^(a+b)
        push(u0 + r - a + (1 - a), u0 + c - b + (1 - b), v); // L₁ᵀ · L₁: both indices swap within their blocks
      }
    }
    for (let i = 0; i < 2 * n; i++) push(u0 + i, u0 + i, 0);
    this.#row = row;
    this.#col = col;
    this.#base = val;
  }

  /**
   * Factors Q̃ − Λ̃ + shift·I (Λ̃ = λ_i I₂ per block, `lambda` = n d×d blocks as
   * BlockManifold.lambda gives them, or null); throws NotPositiveDefiniteError
   * when it is not positive definite.
   */
  factor(lambda: Float64Array | null, shift: number): { solveMany(b: Float64Array, k: number): Float64Array } {
    const values = Float64Array.from(this.#base);
    const diag = values.length - 2 * this.n;
    for (let i = 0; i < this.n; i++) {
      const l = lambda === null ? 0 : lambda[i * 4];
      values[diag + 2 * i] = shift - l;
      values[diag + 2 * i + 1] = shift - l;
    }
    const a = SparseMatrix.fromTriplets(this.size, this.size, { row: this.#row, col: this.#col, value: values }, { symmetric: true });
    if (this.#factor === null) this.#factor = sparseCholesky(a, { backend: this.#backend });
    else this.#factor.refactor(a, 0);
    const factor = this.#factor;
    const offset = 2 * this.#m;
    const size = this.size;
    const rows = 2 * this.n;
    return {
      solveMany(b: Float64Array, k: number): Float64Array {
        const rhs = new Float64Array(size * k);
        for (let c = 0; c < k; c++) rhs.set(b.subarray(c * rows, (c + 1) * rows), c * size + offset);
        const sol = factor.solveMany(rhs, k);
        const out = new Float64Array(rows * k);
        for (let c = 0; c < k; c++) out.set(sol.subarray(c * size + offset, (c + 1) * size), c * rows);
        return out;
      },
    };
  }
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
  cost: number;
  descentDirection: Float64Array | null;
  seconds: number;
}

export interface ComplexCertifyOptions {
  /** Certified when S̃ + ηI factors and LOBPCG's λ_min ≥ −η (default 1e-6, absolute, as the real certificate). */
  eta?: number;
  seed?: number;
}

/**
 * Checks S̃ = Q̃ − Λ̃ ⪰ 0 at a rank-r complex point X, with Λ̃ = diag(Re(Q̃ X X^H))
 * (per block λ_i I₂), as the real certificate does: a sparse Cholesky of
 * S̃ + ηI through the complex lifted matrix proves λ_min > −η, and LOBPCG,
 * preconditioned by that factor, gives λ_min and its eigenvector.
 */
export function certifyComplex(
  q: QuadraticForm,
  lifted: ComplexLiftedMatrix,
  x: Float64Array,
  r: number,
  options: ComplexCertifyOptions = {},
): ComplexCertificate {
  const start = performance.now();
  const n = lifted.n;
  const eta = options.eta ?? 1e-6;
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
  const tryFactor = (shift: number): ReturnType<ComplexLiftedMatrix["factor"]> | null => {
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
    cost,
    descentDirection: lambdaMin < 0 ? result.vector : null,
    seconds: (performance.now() - start) / 1000,
  };
}
