// GEMM against a plain float64 JavaScript reference on seeded random inputs, on
// every path the addon has: the AVX2+FMA kernels, the portable C++ kernels and
// the system CBLAS backend where one is found; then against PyTorch.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { addon, hasAvx2 } from "@nbforge/native";
import { seededRandom } from "../support/seeded-random.js";

type Blocking = { mc: number; kc: number; nc: number };
type Gemm<A> = (transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
  a: A, lda: number, b: A, ldb: number, beta: number, c: A, ldc: number) => void;
interface NativeGemm {
  gemmF32: Gemm<Float32Array>;
  gemmF64: Gemm<Float64Array>;
  gemmBackends(): string[];
  gemmBackend(): string;
  setGemmBackend(name: string): void;
  blasLibrary(): string | null;
  forcePortable(on: boolean): boolean;
  gemmKernel(): string;
  gemmBlocking(dtype: string): Blocking;
  setGemmBlocking(dtype: string, blocking: Partial<Blocking>): void;
  numThreads(): number;
  setNumThreads(n: number): void;
  addF32(a: Float32Array, b: Float32Array, out: Float32Array): void;
  copyF32(src: Float32Array, dst: Float32Array): void;
  fmaPeakGflops(seconds?: number): number;
}
const native = addon as unknown as NativeGemm;


type Float = Float32Array | Float64Array;
type DType = "float32" | "float64";

function randomArray(dtype: DType, length: number, random: () => number): Float {
  const out = dtype === "float32" ? new Float32Array(length) : new Float64Array(length);
  for (let i = 0; i < length; i++) out[i] = random() * 2 - 1;
  return out;
}

interface Case {
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  alpha: number;
  beta: number;
  /** Extra elements at the end of each stored row (lda > k and so on). */
  pad: number;
}

interface Problem {
  a: Float;
  lda: number;
  b: Float;
  ldb: number;
  c0: Float;
  ldc: number;
  expected: Float64Array; // alpha*op(A)op(B) + beta*C0 in float64, on the valid m x n part
  magnitude: Float64Array; // |alpha| sum |a||b| + |beta||c0|, the scale of each entry's rounding
}

function makeProblem(dtype: DType, cs: Case, seed: number): Problem {
  const { transA, transB, m, n, k, alpha, beta, pad } = cs;
  const random = seededRandom(seed);
  const aRows = transA ? k : m, aCols = transA ? m : k;
  const bRows = transB ? n : k, bCols = transB ? k : n;
  const lda = aCols + pad, ldb = bCols + pad, ldc = n + pad;
  const a = randomArray(dtype, Math.max(0, aRows * lda), random);
  const b = randomArray(dtype, Math.max(0, bRows * ldb), random);
  const c0 = randomArray(dtype, Math.max(0, m * ldc), random);
  // op(A) as m rows of k and op(B) as n rows of k, contiguous, so the reference loop is fast.
  const opA = new Float64Array(m * k), opBt = new Float64Array(n * k);
  for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) opA[i * k + p] = transA ? a[p * lda + i] : a[i * lda + p];
  for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) opBt[j * k + p] = transB ? b[j * ldb + p] : b[p * ldb + j];
  const expected = new Float64Array(m * n);
  const magnitude = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0, abs = 0;
      for (let p = 0, x = i * k, y = j * k; p < k; p++) {
        const prod = opA[x + p] * opBt[y + p];
        sum += prod;
        abs += prod < 0 ? -prod : prod; // not Math.abs: under jest's vm context it is ~30x slower here
      }
      const c = beta === 0 ? 0 : c0[i * ldc + j];
      expected[i * n + j] = alpha * sum + beta * c;
      magnitude[i * n + j] = Math.abs(alpha) * abs + Math.abs(beta * c);
    }
  }
  return { a, lda, b, ldb, c0, ldc, expected, magnitude };
}

const tolerance: Record<DType, number> = { float32: 1e-5, float64: 1e-12 };

/** Runs the product on the current path and returns the worst error / allowed error (<= 1 passes). */
function runAndCompare(dtype: DType, cs: Case, p: Problem, fillC?: number): number {
  const c = p.c0.slice();
  if (fillC !== undefined) c.fill(fillC);
  if (dtype === "float32") {
    native.gemmF32(cs.transA, cs.transB, cs.m, cs.n, cs.k, cs.alpha, p.a as Float32Array, p.lda,
      p.b as Float32Array, p.ldb, cs.beta, c as Float32Array, p.ldc);
  } else {
    native.gemmF64(cs.transA, cs.transB, cs.m, cs.n, cs.k, cs.alpha, p.a as Float64Array, p.lda,
      p.b as Float64Array, p.ldb, cs.beta, c as Float64Array, p.ldc);
  }
  let worst = 0;
  for (let i = 0; i < cs.m; i++) {
    for (let j = 0; j < p.ldc; j++) {
      const got = c[i * p.ldc + j];
      if (j >= cs.n) {
        // Padding between rows of C is never written.
        if (!Object.is(got, fillC === undefined ? p.c0[i * p.ldc + j] : fillC)) return Infinity;
        continue;
      }
      const allowed = tolerance[dtype] * p.magnitude[i * cs.n + j] + Number.MIN_VALUE;
      const err = Math.abs(got - p.expected[i * cs.n + j]);
      if (!(err <= allowed * 1e9)) return Infinity; // NaN or wildly off
      worst = Math.max(worst, err / allowed);
    }
  }
  return worst;
}

// Shapes: tiny, odd edges around the 6x16 / 6x8 / 4x8 tiles, several M blocks,
// K over one KC block, N over one NC block.
const shapes: [number, number, number][] = [
  [1, 1, 1], [1, 7, 3], [5, 1, 9], [6, 16, 4], [7, 13, 5], [13, 17, 2], [12, 32, 1], [65, 33, 129],
  [200, 70, 50], [31, 45, 400], [3, 4100, 2], [256, 256, 256],
];
const transposes: [boolean, boolean][] = [[false, false], [false, true], [true, false], [true, true]];

interface Path {
  name: string;
  setup: () => void;
}
const paths: Path[] = [
  ...(hasAvx2() ? [{ name: "nbforge avx2", setup: () => { native.setGemmBackend("nbforge"); native.forcePortable(false); } }] : []),
  { name: "nbforge portable", setup: () => { native.setGemmBackend("nbforge"); native.forcePortable(true); } },
  ...(native.gemmBackends().includes("blas")
    ? [{ name: `blas (${native.blasLibrary()})`, setup: () => { native.setGemmBackend("blas"); native.forcePortable(false); } }]
    : []),
];

const restore = () => {
  native.setGemmBackend("nbforge");
  native.forcePortable(false);
};

describe("gemm", () => {
  afterEach(restore);

  test("reports its backends and kernels", () => {
    expect(native.gemmBackends()).toContain("nbforge");
    expect(native.gemmBackend()).toBe("nbforge");
    expect(native.gemmKernel()).toBe(hasAvx2() ? "avx2" : "portable");
    native.forcePortable(true);
    expect(native.gemmKernel()).toBe("portable");
    expect(native.numThreads()).toBeGreaterThanOrEqual(1);
  });

  for (const dtype of ["float32", "float64"] as DType[]) {
    describe(dtype, () => {
      // Problems are built once per case and run on every path.
      const cases: [string, Case][] = [];
      let seed = dtype === "float32" ? 100 : 200;
      for (const [m, n, k] of shapes) {
        for (const [transA, transB] of transposes) {
          const big = m * n * k > 1e6;
          cases.push([`${m}x${n}x${k} ${transA ? "T" : "N"}${transB ? "T" : "N"}`,
            { transA, transB, m, n, k, alpha: 1, beta: 0, pad: big ? 0 : 3 }]);
        }
      }
      cases.push(["65x33x129 NN alpha=1.5 beta=-0.5 padded", { transA: false, transB: false, m: 65, n: 33, k: 129, alpha: 1.5, beta: -0.5, pad: 5 }]);
      cases.push(["7x13x5 TT alpha=-2 beta=1", { transA: true, transB: true, m: 7, n: 13, k: 5, alpha: -2, beta: 1, pad: 1 }]);
      cases.push(["40x50x30 NT alpha=0.25 beta=2", { transA: false, transB: true, m: 40, n: 50, k: 30, alpha: 0.25, beta: 2, pad: 2 }]);
      cases.push(["9x10x0 (k = 0 scales C by beta)", { transA: false, transB: false, m: 9, n: 10, k: 0, alpha: 1, beta: 0.5, pad: 1 }]);
      cases.push(["9x10x11 alpha=0", { transA: true, transB: false, m: 9, n: 10, k: 11, alpha: 0, beta: -1, pad: 0 }]);
      const problems = new Map<string, Problem>();
      const problem = (name: string, cs: Case) => {
        let p = problems.get(name);
        if (!p) problems.set(name, (p = makeProblem(dtype, cs, seed++)));
        return p;
      };

      for (const path of paths) {
        test(`${path.name}: every shape, transpose, alpha/beta and stride matches the float64 reference`, () => {
          path.setup();
          const failures: string[] = [];
          for (const [name, cs] of cases) {
            const worst = runAndCompare(dtype, cs, problem(name, cs));
            if (!(worst <= 1)) failures.push(`${name}: error ${worst.toPrecision(3)} x the bound`);
          }
          expect(failures).toEqual([]);
        });

        test(`${path.name}: beta = 0 ignores NaN in C`, () => {
          path.setup();
          const cs: Case = { transA: false, transB: false, m: 13, n: 21, k: 17, alpha: 1, beta: 0, pad: 2 };
          expect(runAndCompare(dtype, cs, problem("nan", cs), Number.NaN)).toBeLessThanOrEqual(1);
        });
      }

      test("small cache blocks exercise every loop edge (MC, KC, NC splits)", () => {
        const saved = native.gemmBlocking(dtype);
        const failures: string[] = [];
        try {
          native.setGemmBlocking(dtype, { mc: 12, kc: 7, nc: 32 });
          for (const path of paths.filter((p) => p.name.startsWith("nbforge"))) {
            path.setup();
            for (const [name, cs] of cases.filter(([, c]) => c.m * c.n * c.k < 2e6)) {
              const worst = runAndCompare(dtype, cs, problem(name, cs));
              if (!(worst <= 1)) failures.push(`${path.name} ${name}: error ${worst.toPrecision(3)} x the bound`);
            }
          }
        } finally {
          native.setGemmBlocking(dtype, saved);
        }
        expect(failures).toEqual([]);
        expect(native.gemmBlocking(dtype)).toEqual(saved);
      });

      test("1, 2, 3 and 8 threads give correct results, split by rows or by columns", () => {
        const before = native.numThreads();
        // Tall (split by rows) and short-wide (split by columns) products.
        const threadCases: Case[] = [
          { transA: false, transB: true, m: 97, n: 61, k: 77, alpha: 1, beta: 1, pad: 1 },
          { transA: true, transB: false, m: 10, n: 300, k: 80, alpha: 1, beta: 0.5, pad: 2 },
          { transA: true, transB: true, m: 50, n: 130, k: 90, alpha: -1, beta: 0, pad: 0 },
        ];
        try {
          for (const threads of [1, 2, 3, 8]) {
            native.setNumThreads(threads);
            expect(native.numThreads()).toBe(threads);
            for (const [i, cs] of threadCases.entries()) {
              for (const path of paths.filter((p) => p.name.startsWith("nbforge"))) {
                path.setup();
                const worst = runAndCompare(dtype, cs, problem(`threads${i}`, cs));
                expect({ threads, path: path.name, case: i, ok: worst <= 1 }).toEqual({ threads, path: path.name, case: i, ok: true });
              }
            }
          }
        } finally {
          native.setNumThreads(before);
        }
      });
    });
  }

  test("bad arguments get errors that name the argument and the fix", () => {
    const a = new Float32Array(6), b = new Float32Array(6), c = new Float32Array(10);
    const call = (...args: unknown[]) => () => (native.gemmF32 as unknown as (...x: unknown[]) => void)(...args);
    expect(call(false, false, 3, 4, 2, 1, a, 2, new Float32Array(8), 4, 0, c, 4)).toThrow(
      /gemmF32: c has 10 elements but m = 3 rows of stride ldc = 4 need 12/);
    expect(call(false, false, 3, 2, 2, 1, a, 1, b, 2, 0, c, 2)).toThrow(/lda = 1 is less than k = 2/);
    expect(call(false, true, 3, 2, 4, 1, a, 4, b, 4, 0, c, 2)).toThrow(/gemmF32: a has 6 elements but m = 3 rows/);
    expect(call(false, false, 2, 2, 2, 1, new Float64Array(4), 2, b, 2, 0, c, 2)).toThrow(/argument 'a' must be a Float32Array/);
    expect(call(false, false, 2.5, 2, 2, 1, a, 2, b, 2, 0, c, 2)).toThrow(/argument 'm' must be an integer >= 0/);
    expect(call("no", false, 2, 2, 2, 1, a, 2, b, 2, 0, c, 2)).toThrow(/argument 'transA' must be a boolean/);
    expect(call(false, false, 2, 2)).toThrow(/expected 13 arguments/);
    const shared = new Float32Array(16);
    expect(call(false, false, 2, 2, 2, 1, shared.subarray(0, 4), 2, b, 2, 0, shared.subarray(2, 6), 2)).toThrow(/overlaps/);
    expect(() => native.setGemmBackend("mkl")).toThrow(/"nbforge" or "blas"/);
    expect(() => native.setNumThreads(0)).toThrow(/setNumThreads: argument 'n' must be an integer >= 1/);
  });

  // The second length is past the size where stores stream around the caches.
  test.each([300_001, (1 << 22) + 5])("addF32 and copyF32 match JavaScript on both paths, length %i", (n) => {
    // Cheap deterministic values: millions of generator calls are slow under jest.
    const a = new Float32Array(n), b = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      a[i] = ((i * 7919) % 1009) / 1009 - 0.5;
      b[i] = ((i * 104729) % 997) / 331 - 1.5;
    }
    const sum = new Float32Array(n); // storing rounds to float32, as Math.fround would (slow under jest)
    for (let i = 0; i < n; i++) sum[i] = a[i] + b[i];
    for (const portable of [false, true]) {
      native.forcePortable(portable);
      const out = new Float32Array(n + 1).subarray(1); // misaligned on purpose
      native.addF32(a, b, out);
      let bad = 0;
      for (let i = 0; i < n; i++) if (out[i] !== sum[i]) bad++;
      expect(bad).toBe(0);
    }
    const copy = new Float32Array(n + 3).subarray(3);
    native.copyF32(a, copy);
    let bad = 0;
    for (let i = 0; i < n; i++) if (copy[i] !== a[i]) bad++;
    expect(bad).toBe(0);
    expect(() => native.addF32(a, b, new Float32Array(3))).toThrow(/all must be equal/);
    expect(() => native.copyF32(a, new Float32Array(3))).toThrow(/both must be equal/);
  });

  test("the FMA peak probe answers a positive rate", () => {
    expect(native.fmaPeakGflops(0.05)).toBeGreaterThan(0);
  });
});

// PyTorch computes the same products from the same bytes (Debian's python3-torch).
const python = "/usr/bin/python3";
const hasTorch = spawnSync(python, ["-c", "import torch"]).status === 0;
if (!hasTorch) console.warn("gemm.test: PyTorch comparison skipped; install python3-torch (apt-get install -y python3-torch libopenblas0-pthread)");

(hasTorch ? describe : describe.skip)("gemm against PyTorch", () => {
  afterEach(restore);

  test("float32 and float64 products, all transposes, agree with torch.matmul", () => {
    const dir = mkdtempSync(join(tmpdir(), "nbforge-gemm-"));
    try {
      const jobs: { dtype: DType; cs: Case; p: Problem; file: string }[] = [];
      let seed = 900;
      for (const dtype of ["float32", "float64"] as DType[]) {
        for (const [m, n, k] of [[65, 33, 129], [128, 96, 300], [7, 13, 5]] as [number, number, number][]) {
          for (const [transA, transB] of transposes) {
            const cs: Case = { transA, transB, m, n, k, alpha: 1, beta: 0, pad: 0 };
            const p = makeProblem(dtype, cs, seed++);
            const file = join(dir, `job${jobs.length}`);
            writeFileSync(`${file}.a`, p.a);
            writeFileSync(`${file}.b`, p.b);
            jobs.push({ dtype, cs, p, file });
          }
        }
      }
      const spec = jobs.map(({ dtype, cs, file }) => ({ dtype, file, ...cs }));
      writeFileSync(join(dir, "jobs.json"), JSON.stringify(spec));
      const script = `
import json, sys, torch
torch.set_num_threads(1)
for j in json.load(open(sys.argv[1])):
    dt = torch.float32 if j["dtype"] == "float32" else torch.float64
    ar, ac = (j["k"], j["m"]) if j["transA"] else (j["m"], j["k"])
    br, bc = (j["n"], j["k"]) if j["transB"] else (j["k"], j["n"])
    a = torch.frombuffer(bytearray(open(j["file"] + ".a", "rb").read()), dtype=dt).reshape(ar, ac)
    b = torch.frombuffer(bytearray(open(j["file"] + ".b", "rb").read()), dtype=dt).reshape(br, bc)
    c = torch.matmul(a.t() if j["transA"] else a, b.t() if j["transB"] else b).contiguous()
    open(j["file"] + ".c", "wb").write(c.numpy().tobytes())
`;
      const run = spawnSync(python, ["-c", script, join(dir, "jobs.json")], { encoding: "utf8" });
      expect(run.stderr).toBe("");
      expect(run.status).toBe(0);
      const failures: string[] = [];
      for (const path of paths) {
        path.setup();
        for (const { dtype, cs, p, file } of jobs) {
          const bytes = readFileSync(`${file}.c`);
          const torchC = dtype === "float32"
            ? new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4)
            : new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8);
          const c = dtype === "float32" ? new Float32Array(cs.m * cs.n) : new Float64Array(cs.m * cs.n);
          (dtype === "float32" ? native.gemmF32 : native.gemmF64)(cs.transA, cs.transB, cs.m, cs.n, cs.k, 1,
            p.a as never, p.lda, p.b as never, p.ldb, 0, c as never, p.ldc);
          let worst = 0;
          for (let i = 0; i < c.length; i++) {
            worst = Math.max(worst, Math.abs(c[i] - torchC[i]) / (tolerance[dtype] * p.magnitude[i] + Number.MIN_VALUE));
          }
          if (!(worst <= 1)) failures.push(`${path.name} ${dtype} ${cs.m}x${cs.n}x${cs.k} ${cs.transA}/${cs.transB}: ${worst.toPrecision(3)} x the bound`);
        }
      }
      expect(failures).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
