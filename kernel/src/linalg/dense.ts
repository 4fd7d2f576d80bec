// Dense float64 factorisations and solves. The arithmetic is native
// (native/src/linalg/); these functions check shapes and shape the results.
import { Matrix, isFloat64Array, type MatrixInput } from "./matrix.js";
import { native } from "./native.js";

/** Thrown by `cholesky` when the matrix is not (numerically) positive definite. */
export class NotPositiveDefiniteError extends Error {
  /** Index of the first pivot that was not positive. */
  readonly pivot: number;
  /** That pivot's value: A[k][k] minus the squares already eliminated. */
  readonly pivotValue: number;
  constructor(message: string, pivot: number, pivotValue: number) {
    super(message);
    this.name = "NotPositiveDefiniteError";
    this.pivot = pivot;
    this.pivotValue = pivotValue;
  }
}

function square(fn: string, input: MatrixInput): Matrix {
  const a = Matrix.from(input);
  if (a.rows !== a.cols) {
    throw new RangeError(`${fn}: expected a square matrix, got ${a.rows}x${a.cols}`);
  }
  return a;
}

/**
 * Cholesky factor of a symmetric positive definite matrix: the lower
 * triangular L with A = L Lᵀ. Throws NotPositiveDefiniteError naming the
 * failing pivot; a diagonal shift (A + εI) is the usual remedy.
 */
export function cholesky(a: MatrixInput): Matrix {
  const m = square("cholesky", a);
  try {
    return new Matrix(m.rows, m.rows, native.linalgCholesky(m.data, m.rows));
  } catch (error) {
    const e = error as { message?: unknown; pivot?: unknown; pivotValue?: unknown };
    if (typeof e.pivot === "number" && typeof e.pivotValue === "number") {
      throw new NotPositiveDefiniteError(String(e.message), e.pivot, e.pivotValue);
    }
    throw error;
  }
}

export interface SolveTriangularOptions {
  /** Whether T is lower (true) or upper (false) triangular; the other triangle is not read. */
  lower: boolean;
  /** Solve Tᵀ X = B instead of T X = B. */
  transpose?: boolean;
  /** Take T's diagonal as ones (it is not read). */
  unitDiagonal?: boolean;
}

/**
 * Solves T X = B (or Tᵀ X = B) for triangular T. B is a vector (Float64Array,
 * answered with a Float64Array) or a matrix of right-hand sides.
 */
export function solveTriangular(t: MatrixInput, b: Float64Array, options: SolveTriangularOptions): Float64Array;
export function solveTriangular(t: MatrixInput, b: MatrixInput, options: SolveTriangularOptions): Matrix;
export function solveTriangular(
  t: MatrixInput,
  b: Float64Array | MatrixInput,
  options: SolveTriangularOptions,
): Float64Array | Matrix {
  const tm = square("solveTriangular", t);
  if (options === undefined || typeof options.lower !== "boolean") {
    throw new TypeError("solveTriangular: pass { lower: true } or { lower: false } to say which triangle holds T");
  }
  const vector = isFloat64Array(b);
  const bm = vector ? new Matrix(b.length, 1, b) : Matrix.from(b);
  if (bm.rows !== tm.rows) {
    throw new RangeError(
      `solveTriangular: T is ${tm.rows}x${tm.rows} but B has ${bm.rows} rows; B needs one row per row of T`,
    );
  }
  const x = native.linalgSolveTriangular(
    tm.data,
    tm.rows,
    bm.data,
    bm.cols,
    options.lower,
    options.transpose ?? false,
    options.unitDiagonal ?? false,
  );
  return vector ? x : new Matrix(bm.rows, bm.cols, x);
}

/** Solves A X = B given A's Cholesky factor L (A = L Lᵀ): two triangular solves. */
export function choleskySolve(l: MatrixInput, b: Float64Array): Float64Array;
export function choleskySolve(l: MatrixInput, b: MatrixInput): Matrix;
export function choleskySolve(l: MatrixInput, b: Float64Array | MatrixInput): Float64Array | Matrix {
  if (isFloat64Array(b)) {
    const y = solveTriangular(l, b, { lower: true });
    return solveTriangular(l, y, { lower: true, transpose: true });
  }
  const y = solveTriangular(l, b, { lower: true });
  return solveTriangular(l, y, { lower: true, transpose: true });
}

export interface EighResult {
  /** Eigenvalues in ascending order. */
  values: Float64Array;
  /** Orthonormal eigenvectors as columns: column j belongs to values[j]. */
  vectors: Matrix;
}

/** Eigendecomposition A = V diag(values) Vᵀ of a symmetric matrix. */
export function eigh(a: MatrixInput): EighResult {
  const m = square("eigh", a);
  const { values, vectors } = native.linalgEigh(m.data, m.rows);
  return { values, vectors: new Matrix(m.rows, m.rows, vectors) };
}

export interface QrResult {
  /** rows x k with orthonormal columns, k = min(rows, cols). */
  q: Matrix;
  /** k x cols, upper triangular. */
  r: Matrix;
}

/** Reduced Householder QR: A = Q R (like scipy.linalg.qr(mode="economic")). */
export function qr(a: MatrixInput): QrResult {
  const m = Matrix.from(a);
  const k = Math.min(m.rows, m.cols);
  const { q, r } = native.linalgQr(m.data, m.rows, m.cols);
  return { q: new Matrix(m.rows, k, q), r: new Matrix(k, m.cols, r) };
}

export interface SvdResult {
  /** rows x k with orthonormal columns, k = min(rows, cols). */
  u: Matrix;
  /** Singular values, descending and non-negative. */
  s: Float64Array;
  /** k x cols with orthonormal rows (Vᵀ). */
  vt: Matrix;
}

/** Thin SVD A = U diag(s) Vᵀ (like scipy.linalg.svd(full_matrices=False)). */
export function svd(a: MatrixInput): SvdResult {
  const m = Matrix.from(a);
  const k = Math.min(m.rows, m.cols);
  const { u, s, vt } = native.linalgSvd(m.data, m.rows, m.cols);
  return { u: new Matrix(m.rows, k, u), s, vt: new Matrix(k, m.cols, vt) };
}
