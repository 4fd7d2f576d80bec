// A dense float64 matrix: row-major values with their dimensions. The linear
// algebra takes and returns these; the Tensor type will convert to and from it.

/**
 * Whether `x` is a Float64Array from any realm: the addon's arrays come from
 * Node's main realm, which `instanceof` in a vm context (a notebook cell, a
 * jest sandbox) does not recognise.
 */
export function isFloat64Array(x: unknown): x is Float64Array {
  return ArrayBuffer.isView(x) && (x as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === "Float64Array";
}

/** Whether `x` is an Int32Array from any realm. */
export function isInt32Array(x: unknown): x is Int32Array {
  return ArrayBuffer.isView(x) && (x as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === "Int32Array";
}

/** A dense matrix, or nested rows of numbers (`[[1, 2], [3, 4]]`). */
export type MatrixInput = Matrix | readonly (readonly number[])[];

function checkDim(value: number, name: string): void {
  if (!Number.isInteger(value) || value < 0) {
    throw new RangeError(`Matrix: ${name} must be a non-negative integer, got ${value}`);
  }
}

export class Matrix {
  readonly rows: number;
  readonly cols: number;
  /** Row-major values: entry (i, j) is data[i * cols + j]. */
  readonly data: Float64Array;

  /** Wraps `data` (not copied when it is a Float64Array); zeros when omitted. */
  constructor(rows: number, cols: number, data?: Float64Array | ArrayLike<number>) {
    checkDim(rows, "rows");
    checkDim(cols, "cols");
    this.rows = rows;
    this.cols = cols;
    if (data === undefined) {
      this.data = new Float64Array(rows * cols);
    } else {
      if (data.length !== rows * cols) {
        throw new RangeError(
          `Matrix: a ${rows}x${cols} matrix needs ${rows * cols} values, got ${data.length}; check the dimensions`,
        );
      }
      this.data = isFloat64Array(data) ? data : Float64Array.from(data);
    }
  }

  static zeros(rows: number, cols: number): Matrix {
    return new Matrix(rows, cols);
  }

  static identity(n: number): Matrix {
    const m = new Matrix(n, n);
    for (let i = 0; i < n; i++) m.data[i * n + i] = 1;
    return m;
  }

  /** A matrix from nested rows, all of the same length. */
  static fromRows(rows: readonly (readonly number[])[]): Matrix {
    const cols = rows.length === 0 ? 0 : rows[0].length;
    const m = new Matrix(rows.length, cols);
    rows.forEach((row, i) => {
      if (row.length !== cols) {
        throw new RangeError(`Matrix.fromRows: row ${i} has ${row.length} values but row 0 has ${cols}; rows must be equally long`);
      }
      m.data.set(row, i * cols);
    });
    return m;
  }

  /** `input` as a Matrix (a Matrix is returned as it is). */
  static from(input: MatrixInput): Matrix {
    return input instanceof Matrix ? input : Matrix.fromRows(input);
  }

  get shape(): [number, number] {
    return [this.rows, this.cols];
  }

  get(i: number, j: number): number {
    return this.data[i * this.cols + j];
  }

  set(i: number, j: number, value: number): void {
    this.data[i * this.cols + j] = value;
  }

  /** Row i as a view (no copy). */
  row(i: number): Float64Array {
    return this.data.subarray(i * this.cols, (i + 1) * this.cols);
  }

  /** Column j as a copy. */
  col(j: number): Float64Array {
    const out = new Float64Array(this.rows);
    for (let i = 0; i < this.rows; i++) out[i] = this.data[i * this.cols + j];
    return out;
  }

  transpose(): Matrix {
    const t = new Matrix(this.cols, this.rows);
    for (let i = 0; i < this.rows; i++) {
      for (let j = 0; j < this.cols; j++) t.data[j * this.rows + i] = this.data[i * this.cols + j];
    }
    return t;
  }

  clone(): Matrix {
    return new Matrix(this.rows, this.cols, this.data.slice());
  }

  toRows(): number[][] {
    return Array.from({ length: this.rows }, (_, i) => Array.from(this.row(i)));
  }

  toString(): string {
    return `Matrix ${this.rows}x${this.cols}`;
  }
}
