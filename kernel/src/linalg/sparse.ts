// Sparse matrices in compressed sparse row form. Symmetric matrices store
// their upper triangle only; products treat them as the full matrix. The
// structure is built and the products run in native code
// (native/src/linalg/sparse.cc), in parallel over rows.
import { Matrix, isFloat64Array, isInt32Array } from "./matrix.js";
import { native, type MirrorIndex } from "./native.js";

/** One entry (row, col, value); duplicates are summed. */
export type Triplet = readonly [row: number, col: number, value: number];

/** Triplets as three parallel arrays. */
export interface TripletArrays {
  row: Int32Array | readonly number[];
  col: Int32Array | readonly number[];
  value: Float64Array | readonly number[];
}

export interface SparseOptions {
  /**
   * Store a symmetric matrix by its upper triangle (row <= col). Entries below
   * the diagonal are rejected: give each off-diagonal pair once, as (i, j) with i < j.
   */
  symmetric?: boolean;
}

const EMPTY = new Int32Array(0);

function toInt32(values: Int32Array | readonly number[], name: string): Int32Array {
  if (isInt32Array(values)) return values;
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff) {
      throw new RangeError(`SparseMatrix.fromTriplets: ${name}[${i}] is ${v}; indices must be non-negative integers`);
    }
    out[i] = v;
  }
  return out;
}

export class SparseMatrix {
  readonly rows: number;
  readonly cols: number;
  readonly symmetric: boolean;
  /** Row offsets into indices/values: row i is entries indptr[i] .. indptr[i+1]-1. */
  readonly indptr: Int32Array;
  /** Column of each stored entry, ascending within a row. */
  readonly indices: Int32Array;
  /** Value of each stored entry. */
  readonly values: Float64Array;
  readonly #mirror: MirrorIndex;

  private constructor(
    rows: number,
    cols: number,
    symmetric: boolean,
    indptr: Int32Array,
    indices: Int32Array,
    values: Float64Array,
    mirror: Partial<MirrorIndex>,
  ) {
    this.rows = rows;
    this.cols = cols;
    this.symmetric = symmetric;
    this.indptr = indptr;
    this.indices = indices;
    this.values = values;
    this.#mirror = {
      tIndptr: mirror.tIndptr ?? EMPTY,
      tIndices: mirror.tIndices ?? EMPTY,
      tPosition: mirror.tPosition ?? EMPTY,
    };
  }

  /** Builds a rows x cols matrix from (row, col, value) triplets, summing duplicates. */
  static fromTriplets(
    rows: number,
    cols: number,
    triplets: Iterable<Triplet> | TripletArrays,
    options: SparseOptions = {},
  ): SparseMatrix {
    let r: Int32Array;
    let c: Int32Array;
    let v: Float64Array;
    if (Symbol.iterator in triplets) {
      const list = Array.from(triplets as Iterable<Triplet>);
      r = toInt32(list.map((t) => t[0]), "row");
      c = toInt32(list.map((t) => t[1]), "col");
      v = Float64Array.from(list, (t) => t[2]);
    } else {
      const arrays = triplets as TripletArrays;
      r = toInt32(arrays.row, "row");
      c = toInt32(arrays.col, "col");
      v = isFloat64Array(arrays.value) ? arrays.value : Float64Array.from(arrays.value);
    }
    const symmetric = options.symmetric ?? false;
    const csr = native.linalgCsrFromTriplets(rows, cols, r, c, v, symmetric);
    return new SparseMatrix(rows, cols, symmetric, csr.indptr, csr.indices, csr.values, csr);
  }

  /** Wraps existing CSR arrays (checked: sorted, unique, in range; not copied). */
  static fromCsr(
    rows: number,
    cols: number,
    indptr: Int32Array,
    indices: Int32Array,
    values: Float64Array,
    options: SparseOptions = {},
  ): SparseMatrix {
    const symmetric = options.symmetric ?? false;
    const mirror = native.linalgCsrCheck(rows, cols, indptr, indices, values, symmetric);
    return new SparseMatrix(rows, cols, symmetric, indptr, indices, values, mirror);
  }

  /** Number of stored entries (for a symmetric matrix, those of the upper triangle). */
  get nnz(): number {
    return this.values.length;
  }

  get shape(): [number, number] {
    return [this.rows, this.cols];
  }

  /** y = A x. `out`, when given, receives y and must not overlap x. */
  matvec(x: Float64Array, out?: Float64Array): Float64Array {
    if (!isFloat64Array(x)) {
      throw new TypeError("SparseMatrix.matvec: x must be a Float64Array; wrap plain arrays with Float64Array.from(values)");
    }
    if (x.length !== this.cols) {
      throw new RangeError(`SparseMatrix.matvec: the matrix is ${this.rows}x${this.cols}, so x needs ${this.cols} values, got ${x.length}`);
    }
    return this.#product(x, 1, out);
  }

  /** Y = A X for a dense X with one row per column of A. */
  matmul(x: Matrix, out?: Matrix): Matrix {
    if (x.rows !== this.cols) {
      throw new RangeError(`SparseMatrix.matmul: [${this.rows},${this.cols}] @ [${x.rows},${x.cols}]: inner dimensions ${this.cols} and ${x.rows} differ`);
    }
    if (out !== undefined && (out.rows !== this.rows || out.cols !== x.cols)) {
      throw new RangeError(`SparseMatrix.matmul: out is ${out.rows}x${out.cols} but the product is ${this.rows}x${x.cols}`);
    }
    return new Matrix(this.rows, x.cols, this.#product(x.data, x.cols, out?.data));
  }

  /** The diagonal (length min(rows, cols)). */
  diagonal(): Float64Array {
    const d = new Float64Array(Math.min(this.rows, this.cols));
    for (let i = 0; i < d.length; i++) {
      for (let p = this.indptr[i]; p < this.indptr[i + 1]; p++) {
        if (this.indices[p] === i) d[i] = this.values[p];
      }
    }
    return d;
  }

  /** The full dense matrix (both triangles for a symmetric one). */
  toDense(): Matrix {
    const m = new Matrix(this.rows, this.cols);
    for (let i = 0; i < this.rows; i++) {
      for (let p = this.indptr[i]; p < this.indptr[i + 1]; p++) {
        const j = this.indices[p];
        m.data[i * this.cols + j] = this.values[p];
        if (this.symmetric) m.data[j * this.cols + i] = this.values[p];
      }
    }
    return m;
  }

  toString(): string {
    return `SparseMatrix ${this.rows}x${this.cols}${this.symmetric ? " symmetric (upper)" : ""}, ${this.nnz} stored entries`;
  }

  #product(x: Float64Array, k: number, out?: Float64Array): Float64Array {
    const m = this.#mirror;
    return native.linalgCsrMatmul(
      this.rows,
      this.cols,
      this.indptr,
      this.indices,
      this.values,
      this.symmetric,
      m.tIndptr,
      m.tIndices,
      m.tPosition,
      x,
      k,
      out,
    );
  }
}
