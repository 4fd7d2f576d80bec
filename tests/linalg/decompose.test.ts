// Householder QR and the thin SVD against scipy.linalg on fresh seeded random
// inputs: square, tall and wide shapes, ill-conditioned and rank-deficient
// matrices. Factors are compared through what is unique about them (R and
// singular values up to signs, reconstructions, orthogonality).
import { Matrix, qr, svd } from "nbforge/dist/linalg/index.js";
import {
  gaussian,
  matmul,
  norm,
  orthogonalityError,
  randomMatrix,
  relErr,
  scaleColumns,
  scaleDiagonal,
  scipyReference,
  seededRandom,
  type Case,
  type Result,
} from "./reference.js";

const TOL = 1e-10;
const normal = gaussian(seededRandom(7));

interface Input {
  name: string;
  a: Matrix;
  /** Full column rank and not too ill-conditioned: R is unique up to row signs. */
  fullRank: boolean;
}

function illConditioned(m: number, n: number, decades: number): Matrix {
  // U diag(10^(-decades k/(n-1))) V with random (not orthogonal) U, V: condition ~ 10^decades.
  const k = Math.min(m, n);
  const s = Array.from({ length: k }, (_, i) => 10 ** ((-decades * i) / Math.max(1, k - 1)));
  return matmul(scaleColumns(randomMatrix(m, k, normal), s), randomMatrix(k, n, normal));
}

function lowRank(m: number, n: number, r: number): Matrix {
  return matmul(randomMatrix(m, r, normal), randomMatrix(r, n, normal));
}

const inputs: Input[] = [
  ...[
    [1, 1],
    [2, 2],
    [3, 1],
    [1, 4],
    [5, 3],
    [3, 5],
    [17, 17],
    [64, 20],
    [20, 64],
    [200, 200],
    [200, 120],
    [120, 200],
  ].map(([m, n]): Input => ({ name: `${m}x${n} random`, a: randomMatrix(m, n, normal), fullRank: m >= n })),
  { name: "40x40 condition ~1e12", a: illConditioned(40, 40, 12), fullRank: false },
  { name: "60x30 condition ~1e14", a: illConditioned(60, 30, 14), fullRank: false },
  { name: "50x50 rank 10", a: lowRank(50, 50, 10), fullRank: false },
  { name: "80x30 rank 7", a: lowRank(80, 30, 7), fullRank: false },
  { name: "30x80 rank 7", a: lowRank(30, 80, 7), fullRank: false },
  { name: "6x4 zero", a: new Matrix(6, 4), fullRank: false },
  {
    name: "5x4 with a zero column and a repeated column",
    a: (() => {
      const a = randomMatrix(5, 4, normal);
      for (let i = 0; i < 5; i++) {
        a.set(i, 1, 0);
        a.set(i, 3, a.get(i, 0));
      }
      return a;
    })(),
    fullRank: false,
  },
  { name: "3x3 identity", a: Matrix.identity(3), fullRank: true },
];

const cases: Case[] = [
  ...inputs.map((x): Case => ({ op: "qr", m: x.a.rows, n: x.a.cols, a: x.a.data })),
  ...inputs.map((x): Case => ({ op: "svd", m: x.a.rows, n: x.a.cols, a: x.a.data })),
];
let reference: Result[] = [];

beforeAll(() => {
  reference = scipyReference(cases);
});

const table = inputs.map((x, i) => [x.name, i] as const);

// Scales row i by the sign of its diagonal entry (rows with a zero diagonal unchanged).
function signNormalisedRows(r: Matrix): Matrix {
  const out = r.clone();
  for (let i = 0; i < r.rows; i++) {
    if (r.get(i, i) < 0) for (let j = 0; j < r.cols; j++) out.set(i, j, -r.get(i, j));
  }
  return out;
}

describe("qr", () => {
  test.each(table)("%s matches scipy.linalg.qr(mode='economic')", (_name, i) => {
    const { a, fullRank } = inputs[i];
    const { q, r } = qr(a);
    const k = Math.min(a.rows, a.cols);
    expect(q.shape).toEqual([a.rows, k]);
    expect(r.shape).toEqual([k, a.cols]);
    // A = QR, Q orthonormal, R upper triangular.
    expect(norm(matmul(q, r).data.map((v, j) => v - a.data[j]))).toBeLessThanOrEqual(TOL * Math.max(norm(a.data), 1e-300) + 1e-300);
    expect(orthogonalityError(q)).toBeLessThanOrEqual(TOL);
    let belowDiagonal = 0;
    for (let row = 0; row < k; row++) for (let col = 0; col < Math.min(row, a.cols); col++) belowDiagonal += Math.abs(r.get(row, col));
    expect(belowDiagonal).toBe(0);
    // With full column rank, R is unique up to the sign of each row.
    if (fullRank) {
      const ref = new Matrix(k, a.cols, reference[i].r);
      expect(relErr(signNormalisedRows(r).data, signNormalisedRows(ref).data)).toBeLessThanOrEqual(TOL);
    }
  });
});

describe("svd", () => {
  test.each(table)("%s matches scipy.linalg.svd(full_matrices=False)", (_name, i) => {
    const { a } = inputs[i];
    const ref = reference[inputs.length + i];
    const { u, s, vt } = svd(a);
    const k = Math.min(a.rows, a.cols);
    expect(u.shape).toEqual([a.rows, k]);
    expect(s.length).toBe(k);
    expect(vt.shape).toEqual([k, a.cols]);
    // Singular values: descending, non-negative, within 1e-10 of the largest.
    const smax = Math.max(ref.s[0] ?? 0, Number.MIN_VALUE);
    for (let j = 0; j < k; j++) {
      expect(Math.abs(s[j] - ref.s[j])).toBeLessThanOrEqual(TOL * smax);
      expect(s[j]).toBeGreaterThanOrEqual(0);
      if (j > 0) expect(s[j]).toBeLessThanOrEqual(s[j - 1]);
    }
    // A = U Σ Vᵀ with orthonormal U and V, even where A is rank deficient.
    expect(norm(matmul(u, scaleDiagonal(s, vt)).data.map((v, j) => v - a.data[j]))).toBeLessThanOrEqual(TOL * smax);
    expect(orthogonalityError(u)).toBeLessThanOrEqual(TOL);
    expect(orthogonalityError(vt.transpose())).toBeLessThanOrEqual(TOL);
    // Singular vectors of well-separated singular values equal SciPy's up to a shared sign.
    const refU = new Matrix(a.rows, k, ref.u);
    const refVt = new Matrix(k, a.cols, ref.vt);
    for (let j = 0; j < k; j++) {
      const gap = Math.min(j > 0 ? s[j - 1] - s[j] : Infinity, j < k - 1 ? s[j] - s[j + 1] : Infinity);
      if (gap < 1e-3 * smax || s[j] < 1e-3 * smax) continue;
      const uj = u.col(j);
      const ruj = refU.col(j);
      const sign = uj.reduce((acc, x, t) => acc + x * ruj[t], 0) < 0 ? -1 : 1;
      expect(relErr(uj.map((x) => sign * x), ruj)).toBeLessThanOrEqual(TOL);
      expect(relErr(vt.row(j).map((x) => sign * x), refVt.row(j))).toBeLessThanOrEqual(TOL);
    }
  });

  test("singular values of a diagonal matrix with a known spectrum", () => {
    const values = [1e3, 1, 1e-3, 1e-9];
    const a = new Matrix(4, 4);
    [2, 0, 3, 1].forEach((j, i) => a.set(i, j, values[i] * (i % 2 === 0 ? -1 : 1)));
    const { s } = svd(a);
    values.forEach((v, i) => expect(Math.abs(s[i] - v)).toBeLessThanOrEqual(1e-15 * v));
  });
});
