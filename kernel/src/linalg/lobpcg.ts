// LOBPCG (Knyazev, "Toward the optimal preconditioned eigensolver", SISC 2001):
// the smallest eigenpair of a large symmetric matrix or linear operator. Each
// step does Rayleigh–Ritz on span[X, W, P] — the current block, its
// (preconditioned) residuals and the previous search directions — so the
// iteration behaves like a locally optimal three-term recurrence. The basis
// is orthonormalised (Gram–Schmidt, twice) with its images under A carried
// along, so each step applies A only to the new residual block.
import { eigh } from "./dense.js";
import { Matrix, isFloat64Array } from "./matrix.js";
import { SparseMatrix } from "./sparse.js";

/** A symmetric linear operator: y = A x for x, y of n values. */
export interface LinearOperator {
  readonly n: number;
  apply(x: Float64Array, y: Float64Array): void;
  /** Optional block product Y = A X for X of n×k values column-major (one native call for k vectors). */
  applyMany?(x: Float64Array, k: number): Float64Array;
}

export interface LobpcgOptions {
  /** Block size (default 3; a larger block helps with clustered eigenvalues). */
  blockSize?: number;
  /** Stop when ‖A x − λ x‖ ≤ tol · (largest |Ritz value| seen) (default 1e-9). */
  tol?: number;
  /** Default 500. */
  maxIterations?: number;
  /** Preconditioner T ≈ (A − σI)⁻¹ for a σ below the spectrum: writes T r into out. */
  preconditioner?: (r: Float64Array, out: Float64Array) => void;
  /** Starting vector(s): n values, or n×blockSize column-major. Fixed pseudo-random columns (varied by seed) fill the rest. */
  initial?: Float64Array;
  seed?: number;
}

export interface LobpcgResult {
  value: number;
  /** Unit eigenvector. */
  vector: Float64Array;
  /** ‖A x − λ x‖ at the end. */
  residual: number;
  iterations: number;
  converged: boolean;
}

function asOperator(a: SparseMatrix | LinearOperator): LinearOperator {
  if (a instanceof SparseMatrix) {
    if (a.rows !== a.cols) throw new RangeError(`lobpcgMin: A must be square, got ${a.rows}x${a.cols}`);
    return { n: a.rows, apply: (x, y) => void a.matvec(x, y) };
  }
  if (typeof a !== "object" || a === null || typeof a.apply !== "function" || !Number.isInteger(a.n) || a.n < 1) {
    throw new TypeError("lobpcgMin: A must be a SparseMatrix or an operator { n, apply(x, y) }");
  }
  return a;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function axpy(alpha: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < y.length; i++) y[i] += alpha * x[i];
}

/** A fixed, generic starting entry (a hash of the position): no vector of interest is orthogonal to it. */
function startEntry(i: number, column: number, seed: number): number {
  const x = Math.sin(12.9898 * (i + 1) + 78.233 * (column + 1) + 37.719 * seed) * 43758.5453;
  return x - Math.floor(x) - 0.5;
}

/**
 * A set of orthonormal vectors and their images under A. An image is carried
 * along the Gram–Schmidt updates only while the vector keeps most of its
 * norm; when most of it cancels (a preconditioned residual that lies mostly
 * in span X, say), the carried image would be rounding noise divided by a
 * small number, so it is recomputed by applying A (see images()).
 */
class Basis {
  readonly q: Float64Array[] = [];
  readonly aq: (Float64Array | null)[] = [];
  /** Appends v after orthogonalising it against the basis; false when v lies in its span. */
  add(v: Float64Array, av: Float64Array | null): boolean {
    const norm0 = Math.sqrt(dot(v, v));
    if (!(norm0 > 0) || !Number.isFinite(norm0)) return false;
    for (let pass = 0; pass < 2; pass++) {
      for (let j = 0; j < this.q.length; j++) {
        const c = dot(this.q[j], v);
        axpy(-c, this.q[j], v);
        const aj = this.aq[j];
        if (av !== null && aj !== null) axpy(-c, aj, av);
        else av = null;
      }
    }
    const norm = Math.sqrt(dot(v, v));
    if (!(norm > 1e-10 * norm0)) return false;
    if (norm < 0.5 * norm0) av = null;
    for (let i = 0; i < v.length; i++) v[i] /= norm;
    if (av !== null) for (let i = 0; i < av.length; i++) av[i] /= norm;
    this.q.push(v);
    this.aq.push(av);
    return true;
  }
  /** The images, applying A to the vectors whose image was dropped. */
  images(op: LinearOperator): Float64Array[] {
    const missing = this.q.flatMap((v, j) => (this.aq[j] === null ? [j] : []));
    if (missing.length > 0) {
      const computed = applyBlock(
        op,
        missing.map((j) => this.q[j]),
      );
      missing.forEach((j, c) => (this.aq[j] = computed[c]));
    }
    return this.aq as Float64Array[];
  }
}

function applyBlock(op: LinearOperator, vs: Float64Array[]): Float64Array[] {
  const n = op.n;
  if (op.applyMany !== undefined && vs.length > 1) {
    const x = new Float64Array(n * vs.length);
    vs.forEach((v, j) => x.set(v, j * n));
    const y = op.applyMany(x, vs.length);
    return vs.map((_, j) => y.slice(j * n, (j + 1) * n));
  }
  return vs.map((v) => {
    const y = new Float64Array(n);
    op.apply(v, y);
    return y;
  });
}

function combine(vs: Float64Array[], coef: (j: number) => number, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let j = 0; j < vs.length; j++) {
    const c = coef(j);
    if (c !== 0) axpy(c, vs[j], out);
  }
  return out;
}

/** The smallest eigenvalue of a symmetric A and its eigenvector. */
export function lobpcgMin(a: SparseMatrix | LinearOperator, options: LobpcgOptions = {}): LobpcgResult {
  const op = asOperator(a);
  const n = op.n;
  const m = Math.min(options.blockSize ?? 3, n);
  const tol = options.tol ?? 1e-9;
  const maxIterations = options.maxIterations ?? 500;
  if (!Number.isInteger(m) || m < 1) throw new RangeError(`lobpcgMin: blockSize must be a positive integer, got ${options.blockSize}`);
  if (!(tol > 0)) throw new RangeError(`lobpcgMin: tol must be positive, got ${tol}`);
  const seed = options.seed ?? 1;

  // Starting block X (orthonormal) and AX.
  const start: Float64Array[] = [];
  const init = options.initial;
  if (init !== undefined) {
    if (!isFloat64Array(init) || init.length % n !== 0 || init.length === 0) {
      throw new RangeError(`lobpcgMin: initial must be a Float64Array of n = ${n} values (or n×k column-major), got ${init?.length}`);
    }
    for (let j = 0; j < init.length / n && start.length < m; j++) start.push(init.slice(j * n, (j + 1) * n));
  }
  while (start.length < m) {
    const column = start.length;
    start.push(Float64Array.from({ length: n }, (_, i) => startEntry(i, column, seed)));
  }
  let basis = new Basis();
  {
    start.forEach((v) => basis.add(v, null));
  }
  // Rayleigh–Ritz on the current basis; X = the m lowest Ritz vectors.
  let x: Float64Array[] = [];
  let ax: Float64Array[] = [];
  let p: Float64Array[] = [];
  let ap: Float64Array[] = [];
  let theta: number[] = [];
  let scale = 0;
  let residual = Infinity;
  let iterations = 0;
  let converged = false;

  const rayleighRitz = (nx: number): void => {
    const k = basis.q.length;
    const aq = basis.images(op);
    const h = new Matrix(k, k);
    for (let i = 0; i < k; i++) {
      for (let j = i; j < k; j++) {
        const v = 0.5 * (dot(basis.q[i], aq[j]) + dot(basis.q[j], aq[i]));
        h.data[i * k + j] = v;
        h.data[j * k + i] = v;
      }
    }
    const { values, vectors } = eigh(h);
    for (const v of values) scale = Math.max(scale, Math.abs(v));
    const keep = Math.min(m, k);
    const newX: Float64Array[] = [];
    const newAX: Float64Array[] = [];
    const newP: Float64Array[] = [];
    const newAP: Float64Array[] = [];
    for (let c = 0; c < keep; c++) {
      const coef = (j: number): number => vectors.data[j * k + c];
      newX.push(combine(basis.q, coef, n));
      newAX.push(combine(aq, coef, n));
      // The part outside the old X: the new search direction.
      const pcoef = (j: number): number => (j < nx ? 0 : vectors.data[j * k + c]);
      if (k > nx) {
        newP.push(combine(basis.q, pcoef, n));
        newAP.push(combine(aq, pcoef, n));
      }
    }
    x = newX;
    ax = newAX;
    p = newP;
    ap = newAP;
    theta = Array.from(values.subarray(0, keep));
  };
  rayleighRitz(0);

  for (; iterations < maxIterations; iterations++) {
    // Residuals R = AX − XΘ.
    const r = x.map((xi, j) => {
      const ri = ax[j].slice();
      axpy(-theta[j], xi, ri);
      return ri;
    });
    residual = Math.sqrt(dot(r[0], r[0]));
    if (residual <= tol * Math.max(scale, Number.MIN_VALUE)) {
      converged = true;
      break;
    }
    const w = r.map((ri) => {
      if (options.preconditioner === undefined) return ri;
      const out = new Float64Array(n);
      options.preconditioner(ri, out);
      return out;
    });
    basis = new Basis();
    for (let j = 0; j < x.length; j++) basis.add(x[j], ax[j]);
    const nx = basis.q.length;
    for (const wi of w) basis.add(wi, null);
    p.forEach((pi, j) => basis.add(pi, ap[j]));
    if (basis.q.length === nx) {
      // Nothing new: X spans an invariant subspace to working precision.
      converged = true;
      break;
    }
    rayleighRitz(nx);
  }
  const vector = x[0];
  const norm = Math.sqrt(dot(vector, vector));
  for (let i = 0; i < n; i++) vector[i] /= norm;
  return { value: theta[0], vector, residual, iterations, converged };
}
