// Bad input gets an error that names the input, the expected form and the fix.
import { addon } from "@nbforge/native";
import {
  Matrix,
  NotPositiveDefiniteError,
  SparseMatrix,
  cholesky,
  eigh,
  qr,
  solveTriangular,
  svd,
  type Triplet,
} from "nbforge/dist/linalg/index.js";

type Fn = (...args: unknown[]) => unknown;
const raw = addon as unknown as Record<string, Fn>;

function thrown(fn: () => unknown): Error & Record<string, unknown> {
  try {
    fn();
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error("expected an error");
}

describe("cholesky errors", () => {
  test("names the failing pivot and its value", () => {
    const a = Matrix.identity(5);
    a.set(3, 3, -0.2);
    const e = thrown(() => cholesky(a));
    expect(e).toBeInstanceOf(NotPositiveDefiniteError);
    expect(e.message).toBe(
      "cholesky: matrix is not positive definite (pivot 3 is -0.2); add a diagonal shift or check the input",
    );
    expect(e.pivot).toBe(3);
    expect(e.pivotValue).toBeCloseTo(-0.2, 15);
  });

  test("a semidefinite matrix fails at its zero pivot", () => {
    const e = thrown(() => cholesky([[1, 1], [1, 1]]));
    expect(e).toBeInstanceOf(NotPositiveDefiniteError);
    expect(e.pivot).toBe(1);
    expect(e.message).toMatch(/pivot 1 is 0\)/);
  });

  test("non-finite entries", () => {
    expect(() => cholesky([[1, Number.NaN], [Number.NaN, 1]])).toThrow(
      "cholesky: entry [0, 1] is nan; the matrix must hold finite numbers only",
    );
    expect(() => solveTriangular([[1]], Float64Array.of(Infinity), { lower: true })).toThrow(
      "solveTriangular: entry [0, 0] of 'b' is inf",
    );
  });

  test("non-square and non-symmetric matrices", () => {
    expect(() => cholesky(new Matrix(2, 3))).toThrow("cholesky: expected a square matrix, got 2x3");
    expect(() => cholesky([[2, 1], [0, 2]])).toThrow(
      "cholesky: matrix is not symmetric: a[1, 0] = 0 but a[0, 1] = 1; pass (A + Aᵀ)/2 or check the input",
    );
  });
});

describe("dense shape and value errors", () => {
  test("the native functions check the value count against the dimensions", () => {
    expect(() => raw.linalgEigh(new Float64Array(15), 4)).toThrow("eigh: expected a square 4x4 matrix as 16 values, got 15");
    expect(() => raw.linalgQr(new Float64Array(5), 2, 3)).toThrow("qr: expected a 2x3 matrix as 6 values, got 5");
    expect(() => raw.linalgSolveTriangular(new Float64Array(4), 2, new Float64Array(5), 2, true, false, false)).toThrow(
      "solveTriangular: expected a right-hand side 2x2 matrix as 4 values, got 5",
    );
  });

  test("the native functions name arguments of the wrong type", () => {
    expect(() => raw.linalgEigh([1], 1)).toThrow(
      expect.objectContaining({ name: "TypeError", message: expect.stringMatching(/^eigh: argument 'a' must be a Float64Array/) }),
    );
    expect(() => raw.linalgSvd(new Float64Array(4), -1, 2)).toThrow("svd: argument 'rows' must be a non-negative integer");
    expect(() => raw.linalgSolveTriangular(new Float64Array(1), 1, new Float64Array(1), 1, 1, false, false)).toThrow(
      "solveTriangular: argument 'lower' must be a boolean",
    );
  });

  test("non-symmetric input to eigh", () => {
    expect(() => eigh([[1, 2], [3, 4]])).toThrow("eigh: matrix is not symmetric: a[1, 0] = 3 but a[0, 1] = 2");
  });

  test("non-finite entries", () => {
    expect(() => svd([[1, Infinity]])).toThrow("svd: entry [0, 1] is inf; the matrix must hold finite numbers only");
    expect(() => qr([[1], [Number.NaN]])).toThrow("qr: entry [1, 0] is nan");
    expect(() => eigh([[Number.NaN]])).toThrow("eigh: entry [0, 0] is nan");
  });

  test("singular triangular systems and mismatched right-hand sides", () => {
    const t = Matrix.fromRows([[1, 0], [5, 0]]);
    const e = thrown(() => solveTriangular(t, Float64Array.of(1, 2), { lower: true }));
    expect(e.message).toMatch(/^solveTriangular: matrix is singular \(diagonal entry 1 is 0\)/);
    expect(e.index).toBe(1);
    // With an implicit unit diagonal the zero is never read.
    expect(Array.from(solveTriangular(t, Float64Array.of(1, 2), { lower: true, unitDiagonal: true }))).toEqual([1, -3]);
    expect(() => solveTriangular(t, Float64Array.of(1, 2, 3), { lower: true })).toThrow(
      "solveTriangular: T is 2x2 but B has 3 rows; B needs one row per row of T",
    );
    expect(() => solveTriangular(t, Float64Array.of(1, 2), {} as { lower: boolean })).toThrow(/pass \{ lower: true \}/);
  });

  test("Matrix checks its dimensions", () => {
    expect(() => new Matrix(2, 2, [1, 2, 3])).toThrow("Matrix: a 2x2 matrix needs 4 values, got 3; check the dimensions");
    expect(() => new Matrix(1.5, 2)).toThrow("Matrix: rows must be a non-negative integer, got 1.5");
    expect(() => Matrix.fromRows([[1, 2], [3]])).toThrow("Matrix.fromRows: row 1 has 1 values but row 0 has 2");
  });
});

describe("sparse errors", () => {
  test("triplets outside the matrix", () => {
    expect(() => SparseMatrix.fromTriplets(3, 3, [[0, 0, 1], [3, 0, 1]])).toThrow(
      "SparseMatrix.fromTriplets: triplet 1 is at (3, 0), outside the 3x3 matrix",
    );
    expect(() => SparseMatrix.fromTriplets(3, 3, [[1.5, 0, 1]])).toThrow(
      "SparseMatrix.fromTriplets: row[0] is 1.5; indices must be non-negative integers",
    );
    expect(() => SparseMatrix.fromTriplets(3, 3, [[0, 0, Number.NaN]])).toThrow("triplet 0 has value nan; values must be finite");
  });

  test("symmetric storage takes the upper triangle of a square matrix", () => {
    const lower: Triplet[] = [[2, 1, 1]];
    expect(() => SparseMatrix.fromTriplets(3, 3, lower, { symmetric: true })).toThrow(
      "SparseMatrix.fromTriplets: symmetric storage takes the upper triangle (row <= col), but triplet 0 is at (2, 1); " +
        "give it as (1, 2), or drop it if its mirror is already there",
    );
    expect(() => SparseMatrix.fromTriplets(2, 3, [], { symmetric: true })).toThrow("a symmetric matrix must be square; got 2x3");
  });

  test("triplet arrays of different lengths", () => {
    expect(() => SparseMatrix.fromTriplets(2, 2, { row: [0, 1], col: [0], value: [1, 2] })).toThrow(
      "rowIndex, colIndex and values must have one entry per triplet; got 2, 1 and 2",
    );
  });

  test("products check the vector and matrix sizes", () => {
    const a = SparseMatrix.fromTriplets(2, 3, [[0, 0, 1]]);
    expect(() => a.matvec(Float64Array.of(1, 2))).toThrow("SparseMatrix.matvec: the matrix is 2x3, so x needs 3 values, got 2");
    expect(() => a.matvec([1, 2, 3] as unknown as Float64Array)).toThrow(/x must be a Float64Array/);
    expect(() => a.matmul(new Matrix(2, 2))).toThrow("SparseMatrix.matmul: [2,3] @ [2,2]: inner dimensions 3 and 2 differ");
    const x = new Float64Array(4);
    expect(() => a.matvec(x.subarray(0, 3), x.subarray(1, 3))).toThrow("out must not overlap x");
  });

  test("fromCsr checks the structure", () => {
    const values = Float64Array.of(1, 2);
    expect(() => SparseMatrix.fromCsr(2, 2, Int32Array.of(0, 2), Int32Array.of(0, 1), values)).toThrow(
      "SparseMatrix.fromCsr: indptr must have rows + 1 = 3 entries, got 2",
    );
    expect(() => SparseMatrix.fromCsr(2, 2, Int32Array.of(0, 2, 2), Int32Array.of(1, 0), values)).toThrow(
      "row 0's columns must be strictly ascending (no duplicates)",
    );
    expect(() => SparseMatrix.fromCsr(2, 2, Int32Array.of(0, 1, 2), Int32Array.of(0, 0), values, { symmetric: true })).toThrow(
      "symmetric storage takes the upper triangle, but row 1 has column 0",
    );
    expect(() => SparseMatrix.fromCsr(2, 2, Int32Array.of(0, 1, 2), Int32Array.of(0, 2), values)).toThrow(
      "row 1 has column 2, outside 0..1",
    );
  });
});
