// lobpcgMin against scipy.linalg.eigh (dense) on seeded random sparse symmetric
// matrices, and against the closed-form spectrum of the path Laplacian.
import { SparseMatrix } from "nbforge/dist/linalg/index.js";
import { lobpcgMin } from "nbforge/dist/linalg/lobpcg.js";
import { sparseCholesky } from "nbforge/dist/linalg/sparse-cholesky.js";
import { scipy, type Result } from "../slam/certify-reference.js";
import { gaussian, seededRandom } from "./reference.js";

const random = seededRandom(7);
const normal = gaussian(random);

/** Random sparse symmetric matrix (indefinite), optionally shifted. */
function randomSymmetric(n: number, perRow: number, shift: number): SparseMatrix {
  const t: [number, number, number][] = [];
  for (let i = 0; i < n; i++) {
    t.push([i, i, shift + normal()]);
    for (let e = 0; e < perRow; e++) {
      const j = Math.floor(random() * n);
      if (j !== i) t.push([Math.min(i, j), Math.max(i, j), normal()]);
    }
  }
  return SparseMatrix.fromTriplets(n, n, t, { symmetric: true });
}

function residual(a: SparseMatrix, value: number, v: Float64Array): number {
  const av = a.matvec(v);
  let s = 0;
  for (let i = 0; i < v.length; i++) s += (av[i] - value * v[i]) ** 2;
  return Math.sqrt(s);
}

const matrices = [
  { name: "indefinite 300", a: randomSymmetric(300, 4, 0) },
  { name: "positive definite 500 (shifted)", a: randomSymmetric(500, 3, 12) },
  { name: "small 4", a: randomSymmetric(4, 2, 0) },
];
let reference: Result[] = [];

beforeAll(() => {
  reference = scipy(matrices.map((m) => ({ op: "eigmin_sparse", n: m.a.rows, indptr: m.a.indptr, indices: m.a.indices, values: m.a.values })));
});

describe("lobpcgMin finds the smallest eigenpair like scipy.linalg.eigh", () => {
  matrices.forEach((m, idx) => {
    test(m.name, () => {
      const r = lobpcgMin(m.a, { tol: 1e-10, maxIterations: 2000 });
      expect(r.converged).toBe(true);
      const want = reference[idx].value[0];
      const spread = reference[idx].values[reference[idx].values.length - 1] - want;
      expect(Math.abs(r.value - want)).toBeLessThan(1e-8 * spread);
      expect(residual(m.a, r.value, r.vector)).toBeLessThan(1e-7 * spread);
      let norm = 0;
      for (const x of r.vector) norm += x * x;
      expect(Math.abs(norm - 1)).toBeLessThan(1e-12);
    });
  });

  test("a preconditioner (A − σI)⁻¹ with σ below the spectrum cuts the iterations", () => {
    const m = matrices[0];
    const want = reference[0].value[0];
    const plain = lobpcgMin(m.a, { tol: 1e-10, maxIterations: 2000 });
    const sigma = want - 0.5;
    const factor = sparseCholesky(m.a, { shift: -sigma });
    const pre = lobpcgMin(m.a, { tol: 1e-10, preconditioner: (r, out) => out.set(factor.solve(r)) });
    expect(pre.converged).toBe(true);
    expect(Math.abs(pre.value - want)).toBeLessThan(1e-8);
    expect(pre.iterations).toBeLessThan(plain.iterations);
  });
});

describe("lobpcgMin on a linear operator", () => {
  test("the path Laplacian: λ_min = 2 − 2cos(π/(n+1)) for the Dirichlet path", () => {
    const n = 400;
    const apply = (x: Float64Array, y: Float64Array): void => {
      for (let i = 0; i < n; i++) y[i] = 2 * x[i] - (i > 0 ? x[i - 1] : 0) - (i + 1 < n ? x[i + 1] : 0);
    };
    // Tridiagonal solve (Thomas) of the same operator as an exact preconditioner.
    const solve = (r: Float64Array, out: Float64Array): void => {
      const c = new Float64Array(n);
      const d = new Float64Array(n);
      c[0] = -1 / 2;
      d[0] = r[0] / 2;
      for (let i = 1; i < n; i++) {
        const m = 2 + c[i - 1];
        c[i] = -1 / m;
        d[i] = (r[i] + d[i - 1]) / m;
      }
      out[n - 1] = d[n - 1];
      for (let i = n - 2; i >= 0; i--) out[i] = d[i] - c[i] * out[i + 1];
    };
    const r = lobpcgMin({ n, apply }, { preconditioner: solve, tol: 1e-12 });
    expect(r.converged).toBe(true);
    expect(Math.abs(r.value - (2 - 2 * Math.cos(Math.PI / (n + 1))))).toBeLessThan(1e-12);
    // The eigenvector is ±sin(kπ/(n+1)), normalised.
    const s = Math.sign(r.vector[0]);
    const norm = Math.sqrt((n + 1) / 2);
    for (const i of [0, 100, 250]) expect(Math.abs(s * r.vector[i] - Math.sin(((i + 1) * Math.PI) / (n + 1)) / norm)).toBeLessThan(1e-6);
  });

  test("bad input gets a clear error", () => {
    expect(() => lobpcgMin({ n: 0, apply: () => undefined })).toThrow(/SparseMatrix or an operator/);
    expect(() => lobpcgMin(SparseMatrix.fromTriplets(2, 3, [[0, 0, 1]]))).toThrow(/must be square/);
    expect(() => lobpcgMin(matrices[2].a, { initial: new Float64Array(3) })).toThrow(/initial must be a Float64Array of n = 4/);
    expect(() => lobpcgMin(matrices[2].a, { tol: 0 })).toThrow(/tol must be positive/);
  });
});
