// sparseCholesky (native and CHOLMOD backends) against scipy.sparse.linalg.spsolve
// on seeded random sparse SPD matrices, a grid Laplacian and a block matrix.
import { existsSync } from "node:fs";
import { NotPositiveDefiniteError, SparseMatrix } from "nbforge/dist/linalg/index.js";
import { analyzeSparseCholesky, cholmodVersion, sparseCholesky } from "nbforge/dist/linalg/sparse-cholesky.js";
import { sparseNative } from "nbforge/dist/linalg/sparse-native.js";
import { scipy, type Result } from "../slam/certify-reference.js";
import { gaussian, relErr, seededRandom } from "./reference.js";

const random = seededRandom(2026);
const normal = gaussian(random);

type Entry = [number, number, number];

/** Random symmetric pattern, diagonally dominant: SPD. */
function randomSpd(n: number, perRow: number): SparseMatrix {
  const t: Entry[] = [];
  const rowSum = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let e = 0; e < perRow; e++) {
      const j = Math.floor(random() * n);
      if (j === i) continue;
      const v = normal();
      t.push([Math.min(i, j), Math.max(i, j), v]);
      rowSum[i] += Math.abs(v);
      rowSum[j] += Math.abs(v);
    }
  }
  for (let i = 0; i < n; i++) t.push([i, i, rowSum[i] + 0.5 + random()]);
  return SparseMatrix.fromTriplets(n, n, t, { symmetric: true });
}

/** The 5-point Laplacian of a k×k grid (singular: needs a shift). */
function gridLaplacian(k: number): SparseMatrix {
  const t: Entry[] = [];
  const id = (x: number, y: number): number => x * k + y;
  for (let x = 0; x < k; x++) {
    for (let y = 0; y < k; y++) {
      if (x + 1 < k) t.push([id(x, y), id(x, y), 1], [id(x + 1, y), id(x + 1, y), 1], [id(x, y), id(x + 1, y), -1]);
      if (y + 1 < k) t.push([id(x, y), id(x, y), 1], [id(x, y + 1), id(x, y + 1), 1], [id(x, y), id(x, y + 1), -1]);
    }
  }
  return SparseMatrix.fromTriplets(k * k, k * k, t, { symmetric: true });
}

/** Dense 3×3 blocks on a random graph (like a SLAM information matrix). */
function blockSpd(blocks: number, b: number): SparseMatrix {
  const t: Entry[] = [];
  const n = blocks * b;
  const rowSum = new Float64Array(n);
  for (let i = 0; i < blocks; i++) {
    for (const j of [i + 1, Math.floor(random() * blocks)]) {
      if (j >= blocks || j === i) continue;
      for (let a = 0; a < b; a++) {
        for (let c = 0; c < b; c++) {
          const v = normal();
          const r = Math.min(i, j) * b + a;
          const s = Math.max(i, j) * b + c;
          t.push([r, s, v]);
          rowSum[r] += Math.abs(v);
          rowSum[s] += Math.abs(v);
        }
      }
    }
    for (let a = 0; a < b; a++) for (let c = a + 1; c < b; c++) {
      const v = 0.1 * normal();
      t.push([i * b + a, i * b + c, v]);
      rowSum[i * b + a] += Math.abs(v);
      rowSum[i * b + c] += Math.abs(v);
    }
  }
  for (let i = 0; i < n; i++) t.push([i, i, rowSum[i] + 1]);
  return SparseMatrix.fromTriplets(n, n, t, { symmetric: true });
}

/**
 * Dense groups of `size` nodes, each joined to every node of a dense core:
 * eliminating a group leaves a large dense update on the core (the gemm path
 * of the native fronts), and the groups are separate subtrees.
 */
function borderedGroups(groups: number, size: number, core: number): SparseMatrix {
  const n = groups * size + core;
  const t: Entry[] = [];
  const rowSum = new Float64Array(n);
  const add = (i: number, j: number): void => {
    const v = normal();
    t.push([Math.min(i, j), Math.max(i, j), v]);
    rowSum[i] += Math.abs(v);
    rowSum[j] += Math.abs(v);
  };
  const c0 = groups * size;
  for (let g = 0; g < groups; g++) {
    for (let a = 0; a < size; a++) {
      for (let b = a + 1; b < size; b++) add(g * size + a, g * size + b);
      for (let c = 0; c < core; c++) add(g * size + a, c0 + c);
    }
  }
  for (let a = 0; a < core; a++) for (let b = a + 1; b < core; b++) if (random() < 0.2) add(c0 + a, c0 + b);
  for (let i = 0; i < n; i++) t.push([i, i, rowSum[i] + 1]);
  return SparseMatrix.fromTriplets(n, n, t, { symmetric: true });
}

interface Input {
  name: string;
  a: SparseMatrix;
  shift: number;
  k: number;
  b: Float64Array;
}

const inputs: Input[] = [
  { name: "1x1", a: SparseMatrix.fromTriplets(1, 1, [[0, 0, 4]], { symmetric: true }), shift: 0, k: 1, b: Float64Array.from([2]) },
  { name: "random 300, 5 per row", a: randomSpd(300, 5), shift: 0, k: 1, b: new Float64Array(0) },
  { name: "grid 40x40 + 0.01 I, 3 right-hand sides", a: gridLaplacian(40), shift: 0.01, k: 3, b: new Float64Array(0) },
  { name: "3x3 blocks, 400 blocks, 2 right-hand sides", a: blockSpd(400, 3), shift: 0, k: 2, b: new Float64Array(0) },
  { name: "random 2000, 2 per row", a: randomSpd(2000, 2), shift: 0.5, k: 1, b: new Float64Array(0) },
  { name: "30 dense groups of 8 bordering a core of 150", a: borderedGroups(30, 8, 150), shift: 0, k: 2, b: new Float64Array(0) },
];
for (const x of inputs) if (x.b.length === 0) x.b = Float64Array.from({ length: x.a.rows * x.k }, normal);

const backends = cholmodVersion() === null ? (["native"] as const) : (["native", "cholmod"] as const);
let reference: Result[] = [];

beforeAll(() => {
  reference = scipy(
    inputs.map((x) => ({ op: "spsolve", n: x.a.rows, indptr: x.a.indptr, indices: x.a.indices, values: x.a.values, shift: x.shift, k: x.k, b: x.b })),
  );
});

describe("sparseCholesky solves like scipy.sparse.linalg.spsolve", () => {
  for (const backend of backends) {
    inputs.forEach((x, idx) => {
      test(`${backend}: ${x.name}`, () => {
        const f = sparseCholesky(x.a, { shift: x.shift, backend });
        expect(f.backend).toBe(backend);
        expect(f.n).toBe(x.a.rows);
        const got = x.k === 1 ? f.solve(x.b) : f.solveMany(x.b, x.k);
        expect(relErr(got, reference[idx].x)).toBeLessThan(1e-10);
      });
    });
  }
});

describe("sparseCholesky", () => {
  test("CHOLMOD loads where libcholmod is installed (CI installs libsuitesparse-dev)", () => {
    const present = ["/usr/lib/x86_64-linux-gnu/libcholmod.so.3", "/usr/lib/aarch64-linux-gnu/libcholmod.so.3"].some((p) => existsSync(p));
    if (present && existsSync("/usr/include/suitesparse/cholmod.h")) expect(cholmodVersion()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  test("the fill-reducing ordering beats the natural order on a grid (nnz(L) far below n·k)", () => {
    const k = 40;
    const f = sparseCholesky(gridLaplacian(k), { shift: 0.01, backend: "native" });
    // The natural (banded) order fills the whole band: about n·k entries.
    expect(f.nnzL).toBeLessThan(0.5 * k * k * k);
    const perm = sparseNative.sparseOrdering(k * k, gridLaplacian(k).indptr, gridLaplacian(k).indices);
    expect(Array.from(perm).sort((a, b) => a - b)).toEqual(Array.from({ length: k * k }, (_, i) => i));
  });

  test("refactor reuses the analysis for new values and a new shift", () => {
    const a = randomSpd(200, 4);
    const b = Float64Array.from({ length: 200 }, normal);
    const scaled = SparseMatrix.fromCsr(200, 200, a.indptr, a.indices, a.values.map((v) => 2 * v), { symmetric: true });
    for (const backend of backends) {
      const f = sparseCholesky(a, { backend });
      f.refactor(scaled, 1);
      const direct = sparseCholesky(scaled, { shift: 1, backend });
      expect(relErr(f.solve(b), direct.solve(b))).toBeLessThan(1e-12);
      // (2A + I) x = b
      const x = f.solve(b);
      const ax = scaled.matvec(x).map((v, i) => v + x[i]);
      expect(relErr(ax, b)).toBeLessThan(1e-12);
      expect(() => f.refactor(randomSpd(200, 4))).toThrow(/pattern differs/);
    }
  });

  test("an analysis alone serves several factorisations, failed ones included", () => {
    const n = 30;
    const a = SparseMatrix.fromTriplets(n, n, Array.from({ length: n }, (_, i) => [i, i, i === 4 ? -1 : 2] as Entry), { symmetric: true });
    const b = Float64Array.from({ length: n }, (_, i) => i + 1);
    for (const backend of backends) {
      const f = analyzeSparseCholesky(a, { backend });
      expect(() => f.solve(b)).toThrow(/there is no factor/);
      expect(() => f.refactor(a)).toThrow(NotPositiveDefiniteError);
      expect(() => f.solve(b)).toThrow(/there is no factor/);
      f.refactor(a, 2); // diag(4, …, 1, …, 4)
      const x = f.solve(b);
      for (let i = 0; i < n; i++) expect(x[i]).toBeCloseTo((i + 1) / (i === 4 ? 1 : 4), 14);
    }
  });

  test("an indefinite matrix throws NotPositiveDefiniteError naming the pivot", () => {
    // Diagonal with one negative entry: every ordering fails exactly there.
    const n = 50;
    const t: Entry[] = Array.from({ length: n }, (_, i) => [i, i, i === 17 ? -3 : 1 + i] as Entry);
    const a = SparseMatrix.fromTriplets(n, n, t, { symmetric: true });
    for (const backend of backends) {
      let caught: unknown;
      try {
        sparseCholesky(a, { backend });
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(NotPositiveDefiniteError);
      expect((caught as NotPositiveDefiniteError).pivot).toBe(17);
      expect((caught as Error).message).toMatch(/not positive definite: pivot 17/);
      if (backend === "native") expect((caught as NotPositiveDefiniteError).pivotValue).toBe(-3);
      // A shift that makes it definite succeeds.
      expect(sparseCholesky(a, { backend, shift: 3.5 }).n).toBe(n);
    }
    // The grid Laplacian is singular: without a shift, some pivot is (numerically) not positive.
    expect(() => sparseCholesky(gridLaplacian(10), { backend: "native", shift: -1e-3 })).toThrow(NotPositiveDefiniteError);
  });

  test("bad input gets a clear error", () => {
    const general = SparseMatrix.fromTriplets(2, 2, [[0, 0, 1], [1, 0, 1], [1, 1, 1]]);
    expect(() => sparseCholesky(general)).toThrow(/symmetric SparseMatrix stored by its upper triangle/);
    const a = randomSpd(10, 2);
    expect(() => sparseCholesky(a, { backend: "magma" as "native" })).toThrow(/backend must be "auto", "cholmod" or "native"/);
    expect(() => sparseCholesky(a, { shift: Number.NaN })).toThrow(/shift must be a finite number/);
    const f = sparseCholesky(a);
    expect(() => f.solve(new Float64Array(9))).toThrow(/expected 10x1 = 10 values/);
  });
});
