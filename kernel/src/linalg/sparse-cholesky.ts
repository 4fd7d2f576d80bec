// Sparse Cholesky A + shift·I = P L Lᵀ Pᵀ of a symmetric positive definite
// SparseMatrix (stored by its upper triangle). Two backends, one behaviour:
//  - "cholmod": SuiteSparse's CHOLMOD, loaded with dlopen where the system has it;
//  - "native":  our own (native/src/sparse): approximate minimum degree
//    ordering, then a multifrontal factorisation over supernodes.
// The symbolic analysis (ordering, pattern of L) is kept, so refactor() with
// the same pattern only redoes the numbers.
import { isFloat64Array } from "./matrix.js";
import { NotPositiveDefiniteError } from "./dense.js";
import { SparseMatrix } from "./sparse.js";
import { sparseNative, type SparseCholeskyHandle } from "./sparse-native.js";

export type SparseCholeskyBackend = "auto" | "cholmod" | "native";

export interface SparseCholeskyOptions {
  /** Factor A + shift·I instead of A (default 0). */
  shift?: number;
  /** "auto" (default) uses CHOLMOD when it loads, else the native code. */
  backend?: SparseCholeskyBackend;
}

export interface SparseCholeskyFactor {
  readonly n: number;
  /** Stored entries of L (CHOLMOD's supernodal count includes its dense padding). */
  readonly nnzL: number;
  readonly backend: "cholmod" | "native";
  /** x with (A + shift·I) x = b. */
  solve(b: Float64Array): Float64Array;
  /** X with (A + shift·I) X = B for B of n×k values, column-major (each right-hand side contiguous). */
  solveMany(b: Float64Array, k: number): Float64Array;
  /** Refactors a matrix with the same pattern (new values, optionally a new shift). */
  refactor(a: SparseMatrix, shift?: number): void;
}

/** Whether CHOLMOD (libcholmod) was found and loaded; null when absent, else its version. */
export function cholmodVersion(): string | null {
  return sparseNative.sparseCholmodVersion();
}

function checkSymmetric(fn: string, a: SparseMatrix): void {
  if (!(a instanceof SparseMatrix) && typeof (a as { indptr?: unknown }).indptr !== "object") {
    throw new TypeError(`${fn}: A must be a SparseMatrix; build one with SparseMatrix.fromTriplets(n, n, triplets, { symmetric: true })`);
  }
  if (!a.symmetric || a.rows !== a.cols) {
    throw new RangeError(
      `${fn}: A must be a square symmetric SparseMatrix stored by its upper triangle (got ${a.rows}x${a.cols}${a.symmetric ? "" : ", not symmetric"}); build it with { symmetric: true }`,
    );
  }
}

class Factor implements SparseCholeskyFactor {
  readonly n: number;
  readonly backend: "cholmod" | "native";
  readonly #handle: SparseCholeskyHandle;
  readonly #indptr: Int32Array;
  readonly #indices: Int32Array;
  #factored = false;

  /** Analyses A's pattern, and factors A + shift·I unless shift is null. */
  constructor(a: SparseMatrix, backend: "cholmod" | "native", shift: number | null) {
    this.n = a.rows;
    this.backend = backend;
    this.#indptr = a.indptr;
    this.#indices = a.indices;
    this.#handle = sparseNative.sparseCholeskyAnalyze(backend, a.rows, a.indptr, a.indices);
    if (shift !== null) this.#factor(a, shift);
  }

  get nnzL(): number {
    return sparseNative.sparseCholeskyNnz(this.#handle);
  }

  #factor(a: SparseMatrix, shift: number): void {
    if (!Number.isFinite(shift)) throw new RangeError(`sparseCholesky: shift must be a finite number, got ${shift}`);
    this.#factored = false;
    const r = sparseNative.sparseCholeskyFactor(this.#handle, a.values, shift);
    this.#factored = r.pivot < 0;
    if (r.pivot >= 0) {
      throw new NotPositiveDefiniteError(
        `sparseCholesky (${this.backend}): the matrix${shift !== 0 ? ` + ${shift}·I` : ""} is not positive definite: ` +
          `pivot ${r.pivot} (row/column of A) is ${r.value}; add a larger shift or check the matrix`,
        r.pivot,
        r.value,
      );
    }
  }

  refactor(a: SparseMatrix, shift = 0): void {
    checkSymmetric("SparseCholeskyFactor.refactor", a);
    if (a.rows !== this.n || !samePattern(a, this.#indptr, this.#indices)) {
      throw new RangeError("SparseCholeskyFactor.refactor: A's sparsity pattern differs from the analysed one; call sparseCholesky(A) again");
    }
    this.#factor(a, shift);
  }

  solve(b: Float64Array): Float64Array {
    return this.solveMany(b, 1);
  }

  solveMany(b: Float64Array, k: number): Float64Array {
    if (!this.#factored) {
      throw new Error("SparseCholeskyFactor.solve: there is no factor (none was computed, or the last refactor failed); call refactor(A) first");
    }
    if (!isFloat64Array(b)) throw new TypeError("SparseCholeskyFactor.solve: b must be a Float64Array");
    if (!Number.isInteger(k) || k < 0 || b.length !== this.n * k) {
      throw new RangeError(`SparseCholeskyFactor.solve: expected ${this.n}x${k} = ${this.n * k} values (column-major), got ${b.length}`);
    }
    return sparseNative.sparseCholeskySolve(this.#handle, b, k);
  }
}

function samePattern(a: SparseMatrix, indptr: Int32Array, indices: Int32Array): boolean {
  if (a.indptr === indptr && a.indices === indices) return true;
  if (a.indptr.length !== indptr.length || a.indices.length !== indices.length) return false;
  for (let i = 0; i < indptr.length; i++) if (a.indptr[i] !== indptr[i]) return false;
  for (let i = 0; i < indices.length; i++) if (a.indices[i] !== indices[i]) return false;
  return true;
}

function chooseBackend(options: SparseCholeskyOptions): "cholmod" | "native" {
  const requested = options.backend ?? "auto";
  if (requested !== "auto" && requested !== "cholmod" && requested !== "native") {
    throw new RangeError(`sparseCholesky: backend must be "auto", "cholmod" or "native", got ${String(requested)}`);
  }
  const available = cholmodVersion() !== null;
  if (requested === "cholmod" && !available) {
    throw new Error('sparseCholesky: backend "cholmod" requested but libcholmod was not found; install SuiteSparse (Debian: libsuitesparse-dev) or use backend "native"');
  }
  return requested === "auto" ? (available ? "cholmod" : "native") : requested;
}

/**
 * Factors a symmetric positive definite sparse matrix (plus shift·I). Throws
 * NotPositiveDefiniteError naming the failing pivot (a row of A).
 */
export function sparseCholesky(a: SparseMatrix, options: SparseCholeskyOptions = {}): SparseCholeskyFactor {
  checkSymmetric("sparseCholesky", a);
  return new Factor(a, chooseBackend(options), options.shift ?? 0);
}

/**
 * The symbolic analysis alone (ordering, pattern of L): factor with
 * refactor(A, shift), as often as needed with the same pattern. A failed
 * refactor throws NotPositiveDefiniteError and keeps the analysis.
 */
export function analyzeSparseCholesky(a: SparseMatrix, options: Pick<SparseCholeskyOptions, "backend"> = {}): SparseCholeskyFactor {
  checkSymmetric("analyzeSparseCholesky", a);
  return new Factor(a, chooseBackend(options), null);
}

/**
 * Solves with a Schur complement through the factor of the whole matrix: for
 * K = [[A, B], [Bᵀ, C]] factored (A of size `offset`), solving K [u; x] = [0; b]
 * gives x = (C − Bᵀ A⁻¹ B)⁻¹ b. The returned function takes b of (n − offset)×k
 * values column-major. This applies the inverse of a dense Schur complement
 * (SLAM's Q, say) with sparse work only.
 */
export function schurComplementSolver(factor: SparseCholeskyFactor, offset: number): (b: Float64Array, k: number) => Float64Array {
  const size = factor.n;
  const rows = size - offset;
  if (!Number.isInteger(offset) || offset < 0 || offset > size) {
    throw new RangeError(`schurComplementSolver: offset must be an integer in 0..${size}, got ${offset}`);
  }
  return (b: Float64Array, k: number): Float64Array => {
    if (b.length !== rows * k) throw new RangeError(`schurComplementSolver: expected ${rows}x${k} = ${rows * k} values (column-major), got ${b.length}`);
    const rhs = new Float64Array(size * k);
    for (let c = 0; c < k; c++) rhs.set(b.subarray(c * rows, (c + 1) * rows), c * size + offset);
    const sol = factor.solveMany(rhs, k);
    const out = new Float64Array(rows * k);
    for (let c = 0; c < k; c++) out.set(sol.subarray(c * size + offset, (c + 1) * size), c * rows);
    return out;
  };
}
