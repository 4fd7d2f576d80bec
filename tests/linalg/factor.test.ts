// Cholesky, triangular solves and the symmetric eigendecomposition against
// scipy.linalg on fresh seeded random inputs.
import { Matrix, cholesky, choleskySolve, eigh, solveTriangular } from "nbforge/dist/linalg/index.js";
import {
  gaussian,
  matmul,
  norm,
  orthogonalityError,
  randomMatrix,
  randomSpd,
  randomSymmetric,
  relErr,
  scaleColumns,
  scipyReference,
  seededRandom,
  type Case,
  type Result,
} from "./reference.js";

const TOL = 1e-10;
const normal = gaussian(seededRandom(20240601));
const SIZES = [1, 2, 3, 5, 17, 64, 200];

// Cholesky inputs: well-conditioned SPD matrices of each size, plus one whose
// condition number is about 1e8.
// 400 takes the parallel path of the column updates.
const spd = [...SIZES, 400].map((n) => randomSpd(n, normal));
const illSpd = (() => {
  const n = 40;
  const a = randomSpd(n, normal, 1e-6);
  return a;
})();
const cholInputs = [...spd, illSpd];

// Triangular solves: diagonally dominant triangles (well conditioned), every
// combination of lower/upper, transpose and unit diagonal, 1 or several right-hand sides.
interface TriCase {
  t: Matrix;
  b: Matrix;
  lower: boolean;
  transpose: boolean;
  unit: boolean;
}
const triCases: TriCase[] = [];
for (const n of [1, 4, 33, 200]) {
  for (const lower of [true, false]) {
    for (const transpose of [false, true]) {
      for (const unit of [false, true]) {
        const t = randomMatrix(n, n, normal);
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < n; j++) {
            if (lower ? j > i : j < i) t.data[i * n + j] = 0;
            else t.data[i * n + j] /= Math.sqrt(n);
          }
          t.data[i * n + i] = unit ? 1 : (normal() < 0 ? -1 : 1) * (2 + Math.abs(normal()));
        }
        const k = n === 200 && transpose ? 37 : transpose ? 1 : 3;
        triCases.push({ t, b: randomMatrix(n, k, normal), lower, transpose, unit });
      }
    }
  }
}

// Eigen inputs: random symmetric matrices, one with repeated eigenvalues
// (a projector), a diagonal one, and an ill-conditioned SPD one.
const eigInputs: Matrix[] = [...SIZES.map((n) => randomSymmetric(n, normal))];
{
  const n = 30;
  const b = randomMatrix(n, 5, normal);
  eigInputs.push(matmul(b, b.transpose())); // rank 5: 25 zero eigenvalues
  eigInputs.push(new Matrix(4, 4, Float64Array.of(3, 0, 0, 0, 0, -1, 0, 0, 0, 0, 3, 0, 0, 0, 0, 2)));
  eigInputs.push(matmul(scaleColumns(randomMatrix(n, n, normal), Array.from({ length: n }, (_, i) => 10 ** (-i / 4))), randomMatrix(n, n, normal)));
}
// Symmetrise the last one (a product of random factors).
{
  const a = eigInputs[eigInputs.length - 1];
  const s = matmul(a, a.transpose());
  eigInputs[eigInputs.length - 1] = s;
}

let reference: Result[] = [];
const cases: Case[] = [
  ...cholInputs.map((a): Case => ({ op: "cholesky", n: a.rows, a: a.data })),
  ...triCases.map((c): Case => ({
    op: "solve_triangular",
    n: c.t.rows,
    k: c.b.cols,
    t: c.t.data,
    b: c.b.data,
    lower: c.lower,
    transpose: c.transpose,
    unit: c.unit,
  })),
  ...eigInputs.map((a): Case => ({ op: "eigh", n: a.rows, a: a.data })),
];

beforeAll(() => {
  reference = scipyReference(cases);
});

const refFor = (op: string, i: number): Result => {
  let seen = -1;
  for (let c = 0; c < cases.length; c++) {
    if (cases[c].op === op && ++seen === i) return reference[c];
  }
  throw new Error(`no reference ${op} ${i}`);
};

describe("cholesky", () => {
  test.each(cholInputs.map((a, i) => [`${a.rows}x${a.rows}${a === illSpd ? " (ill-conditioned)" : ""}`, i] as const))("%s matches scipy.linalg.cholesky", (_name, i) => {
    const a = cholInputs[i];
    const l = cholesky(a);
    expect(l.rows).toBe(a.rows);
    // Forward error grows with the condition number; the 1e8-conditioned case is allowed that factor.
    const tol = a === illSpd ? 1e-7 : TOL;
    expect(relErr(l.data, refFor("cholesky", i).l)).toBeLessThanOrEqual(tol);
    let aboveDiagonal = 0;
    for (let r = 0; r < a.rows; r++) for (let c = r + 1; c < a.rows; c++) aboveDiagonal += Math.abs(l.get(r, c));
    expect(aboveDiagonal).toBe(0);
    expect(relErr(matmul(l, l.transpose()).data, a.data)).toBeLessThanOrEqual(1e-14 * a.rows + 1e-15);
  });

  test("choleskySolve solves A x = b for vectors and matrices", () => {
    const a = spd[SIZES.indexOf(64)];
    const l = cholesky(a);
    const x = Float64Array.from({ length: a.rows }, normal);
    const b = matmul(a, new Matrix(a.rows, 1, x)).data;
    expect(relErr(choleskySolve(l, b), x)).toBeLessThanOrEqual(TOL);
    const xs = randomMatrix(a.rows, 4, normal);
    expect(relErr(choleskySolve(l, matmul(a, xs)).data, xs.data)).toBeLessThanOrEqual(TOL);
  });

  test("accepts nested rows", () => {
    expect(cholesky([[4, 2], [2, 5]]).toRows()).toEqual([[2, 0], [1, 2]]);
  });
});

describe("solveTriangular", () => {
  test.each(
    triCases.map(
      (c, i) =>
        [`${c.t.rows}x${c.t.rows} ${c.lower ? "lower" : "upper"}${c.transpose ? " transposed" : ""}${c.unit ? " unit-diagonal" : ""}, ${c.b.cols} right-hand sides`, i] as const,
    ),
  )("%s matches scipy.linalg.solve_triangular", (_name, i) => {
      const c = triCases[i];
      const x = solveTriangular(c.t, c.b, { lower: c.lower, transpose: c.transpose, unitDiagonal: c.unit });
      expect(x.rows).toBe(c.b.rows);
      expect(x.cols).toBe(c.b.cols);
      expect(relErr(x.data, refFor("solve_triangular", i).x)).toBeLessThanOrEqual(TOL);
  });

  test("a Float64Array right-hand side gives a Float64Array", () => {
    const t = Matrix.fromRows([[2, 0], [1, 4]]);
    const x = solveTriangular(t, Float64Array.of(2, 9), { lower: true });
    expect(Object.prototype.toString.call(x)).toBe("[object Float64Array]");
    expect(Array.from(x)).toEqual([1, 2]);
  });

  test("reads only the named triangle", () => {
    const t = Matrix.fromRows([[2, 99], [1, 4]]);
    expect(Array.from(solveTriangular(t, Float64Array.of(2, 9), { lower: true }))).toEqual([1, 2]);
  });
});

describe("eigh", () => {
  const eigNames = eigInputs.map((a, i) => `${a.rows}x${a.rows} ${i < SIZES.length ? "random" : ["rank 5 (repeated zero eigenvalue)", "diagonal with a repeated eigenvalue", "ill-conditioned"][i - SIZES.length]}`);
  test.each(eigInputs.map((_a, i) => [eigNames[i], i] as const))("%s matches scipy.linalg.eigh", (_name, i) => {
    const a = eigInputs[i];
    const n = a.rows;
    const { values, vectors } = eigh(a);
    const ref = refFor("eigh", i);
    const scale = Math.max(...Array.from(ref.values, Math.abs), Number.MIN_VALUE);
    // Eigenvalues, ascending, to 1e-10 of the spectral norm.
    for (let j = 0; j < n; j++) {
      expect(Math.abs(values[j] - ref.values[j])).toBeLessThanOrEqual(TOL * scale);
      if (j > 0) expect(values[j]).toBeGreaterThanOrEqual(values[j - 1]);
    }
    // Orthonormal eigenvectors that reconstruct A.
    expect(orthogonalityError(vectors)).toBeLessThanOrEqual(TOL);
    const recon = matmul(scaleColumns(vectors, values), vectors.transpose());
    expect(norm(recon.data.map((v, k) => v - a.data[k]))).toBeLessThanOrEqual(TOL * norm(a.data));
    // Each eigenvector of a well-separated eigenvalue equals SciPy's up to sign.
    const refVectors = new Matrix(n, n, ref.vectors);
    for (let j = 0; j < n; j++) {
      const gap = Math.min(j > 0 ? values[j] - values[j - 1] : Infinity, j < n - 1 ? values[j + 1] - values[j] : Infinity);
      if (gap < 1e-3 * scale) continue;
      const v = vectors.col(j);
      const w = refVectors.col(j);
      const sign = v.reduce((s, x, k) => s + x * w[k], 0) < 0 ? -1 : 1;
      expect(relErr(v.map((x) => sign * x), w)).toBeLessThanOrEqual(TOL);
    }
  });
});
