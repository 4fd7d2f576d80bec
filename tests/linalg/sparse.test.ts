// SparseMatrix (CSR, general and symmetric upper-triangle storage) against
// scipy.sparse.csr_matrix on fresh seeded random triplets with duplicates.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Matrix, SparseMatrix, cholesky, solveTriangular } from "nbforge/dist/linalg/index.js";
import { gaussian, relErr, scipyReference, seededRandom, type Case, type Result } from "./reference.js";

const TOL = 1e-10;
const random = seededRandom(99);
const normal = gaussian(random);

interface Input {
  name: string;
  rows: number;
  cols: number;
  symmetric: boolean;
  r: Int32Array;
  c: Int32Array;
  v: Float64Array;
  /** Right-hand sides per product. */
  k: number;
  x: Float64Array;
}

function randomTriplets(name: string, rows: number, cols: number, count: number, symmetric: boolean, k: number): Input {
  const r = new Int32Array(count);
  const c = new Int32Array(count);
  const v = new Float64Array(count);
  for (let t = 0; t < count; t++) {
    let i = Math.floor(random() * rows);
    let j = Math.floor(random() * cols);
    if (symmetric && j < i) [i, j] = [j, i];
    r[t] = i;
    c[t] = j;
    v[t] = normal();
  }
  // Repeat a tenth of the triplets so duplicates are summed.
  const dup = Math.floor(count / 10);
  const R = Int32Array.from([...r, ...r.subarray(0, dup)]);
  const C = Int32Array.from([...c, ...c.subarray(0, dup)]);
  const V = Float64Array.from([...v, ...Array.from({ length: dup }, normal)]);
  return { name, rows, cols, symmetric, r: R, c: C, v: V, k, x: Float64Array.from({ length: cols * k }, normal) };
}

const inputs: Input[] = [
  randomTriplets("1x1", 1, 1, 3, false, 1),
  randomTriplets("5x7 general", 5, 7, 20, false, 1),
  randomTriplets("6x6 symmetric", 6, 6, 20, true, 1),
  randomTriplets("100x80 general, 4 columns", 100, 80, 900, false, 4),
  randomTriplets("300x300 symmetric, 3 columns", 300, 300, 3000, true, 3),
  randomTriplets("20000x20000 symmetric (parallel rows)", 20000, 20000, 200000, true, 1),
  randomTriplets("30000x5000 general (parallel rows)", 30000, 5000, 240000, false, 1),
  randomTriplets("50x50 with empty rows", 50, 50, 10, false, 1),
];

const cases = inputs.map(
  (x): Case => ({ op: "csr", m: x.rows, n: x.cols, k: x.k, r: x.r, c: x.c, v: x.v, symmetric: x.symmetric, x: x.x }),
);
let reference: Result[] = [];

beforeAll(() => {
  reference = scipyReference(cases);
});

describe("SparseMatrix", () => {
  test.each(inputs.map((x, i) => [x.name, i] as const))("%s matches scipy.sparse.csr_matrix @ x", (_name, i) => {
    const x = inputs[i];
    const a = SparseMatrix.fromTriplets(x.rows, x.cols, { row: x.r, col: x.c, value: x.v }, { symmetric: x.symmetric });
    const ref = reference[i];
    const y = x.k === 1 ? a.matvec(x.x) : a.matmul(new Matrix(x.cols, x.k, x.x)).data;
    expect(relErr(y, ref.y)).toBeLessThanOrEqual(TOL);
    // The stored structure: sorted, unique columns; upper triangle when symmetric.
    for (let row = 0; row < a.rows; row++) {
      for (let p = a.indptr[row]; p < a.indptr[row + 1]; p++) {
        if (p > a.indptr[row] && a.indices[p] <= a.indices[p - 1]) throw new Error(`row ${row} not sorted`);
        if (x.symmetric && a.indices[p] < row) throw new Error(`row ${row} has a lower entry`);
      }
    }
    if (!x.symmetric) expect(a.nnz).toBe(ref.nnz[0]);
    if (x.rows * x.cols <= 1e5) expect(relErr(a.toDense().data, ref.dense)).toBeLessThanOrEqual(1e-15);
    // The same arrays through fromCsr give the same product.
    const b = SparseMatrix.fromCsr(a.rows, a.cols, a.indptr, a.indices, a.values, { symmetric: x.symmetric });
    expect(relErr(x.k === 1 ? b.matvec(x.x) : b.matmul(new Matrix(x.cols, x.k, x.x)).data, y)).toBe(0);
  });

  test("triplets as tuples, duplicates summed, symmetric diagonal and mirror", () => {
    const a = SparseMatrix.fromTriplets(
      3,
      3,
      [
        [0, 0, 1],
        [0, 1, 2],
        [0, 1, 4],
        [1, 2, 3],
        [2, 2, 5],
      ],
      { symmetric: true },
    );
    expect(a.nnz).toBe(4);
    expect(a.toDense().toRows()).toEqual([
      [1, 6, 0],
      [6, 0, 3],
      [0, 3, 5],
    ]);
    expect(Array.from(a.diagonal())).toEqual([1, 0, 5]);
    expect(Array.from(a.matvec(Float64Array.of(1, 1, 1)))).toEqual([7, 9, 8]);
  });

  test("matvec writes into out and matmul into an out matrix", () => {
    const a = SparseMatrix.fromTriplets(2, 3, [
      [0, 0, 1],
      [1, 2, 2],
    ]);
    const out = new Float64Array(2);
    expect(a.matvec(Float64Array.of(3, 4, 5), out)).toBe(out);
    expect(Array.from(out)).toEqual([3, 10]);
    const y = new Matrix(2, 2);
    a.matmul(Matrix.fromRows([[1, 2], [0, 0], [3, 4]]), y);
    expect(y.toRows()).toEqual([[1, 2], [6, 8]]);
  });

  test("products and factorisations give the same bits whatever the number of threads", () => {
    // The child runs the same computation on one thread; the numbers must match exactly.
    const x = inputs[5];
    const spdRows = 300;
    const program = String.raw`
      import { Matrix, SparseMatrix, cholesky, solveTriangular } from "nbforge/dist/linalg/index.js";
      const input = JSON.parse((await import("node:fs")).readFileSync(0, "utf8"));
      const f64 = (s) => new Float64Array(new Uint8Array(Buffer.from(s, "base64")).buffer);
      const i32 = (s) => new Int32Array(new Uint8Array(Buffer.from(s, "base64")).buffer);
      const a = SparseMatrix.fromTriplets(input.n, input.n, { row: i32(input.r), col: i32(input.c), value: f64(input.v) }, { symmetric: true });
      const y = a.matvec(f64(input.x));
      const p = new Matrix(input.m, input.m, f64(input.p));
      const l = cholesky(p);
      const z = solveTriangular(l, new Matrix(input.m, 40, f64(input.b)), { lower: true, transpose: true });
      process.stdout.write(JSON.stringify([y, l.data, z.data].map((t) => Buffer.from(t.buffer).toString("base64"))));
    `;
    // Diagonally dominant, hence positive definite; large enough for parallel column updates.
    const spd = new Matrix(spdRows, spdRows);
    for (let i = 0; i < spdRows; i++) {
      spd.set(i, i, spdRows);
      for (let j = 0; j < i; j++) {
        const v = normal();
        spd.set(i, j, v);
        spd.set(j, i, v);
      }
    }
    const b = Float64Array.from({ length: spdRows * 40 }, normal);
    const b64 = (t: Float64Array | Int32Array) => Buffer.from(t.buffer, t.byteOffset, t.byteLength).toString("base64");
    const run = spawnSync(process.execPath, ["--input-type=module", "-e", program], {
      cwd: fileURLToPath(new URL("../../../", import.meta.url)),
      env: { ...process.env, NBFORGE_NUM_THREADS: "1" },
      input: JSON.stringify({ n: x.rows, r: b64(x.r), c: b64(x.c), v: b64(x.v), x: b64(x.x), m: spdRows, p: b64(spd.data), b: b64(b) }),
      encoding: "utf8",
      maxBuffer: 1 << 28,
    });
    expect(run.stderr).toBe("");
    const [y1, l1, z1] = (JSON.parse(run.stdout) as string[]).map((s) => Buffer.from(s, "base64"));
    const a = SparseMatrix.fromTriplets(x.rows, x.cols, { row: x.r, col: x.c, value: x.v }, { symmetric: true });
    const l = cholesky(spd);
    const z = solveTriangular(l, new Matrix(spdRows, 40, b), { lower: true, transpose: true });
    const bytes = (t: Float64Array) => Buffer.from(t.buffer, t.byteOffset, t.byteLength);
    expect(bytes(a.matvec(x.x)).equals(y1)).toBe(true);
    expect(bytes(l.data).equals(l1)).toBe(true);
    expect(bytes(z.data).equals(z1)).toBe(true);
  });

  test("an empty matrix", () => {
    const a = SparseMatrix.fromTriplets(3, 0, []);
    expect(Array.from(a.matvec(new Float64Array(0)))).toEqual([0, 0, 0]);
    expect(a.nnz).toBe(0);
  });
});
