// Shared helpers for the linear algebra tests: seeded random inputs, a batched
// SciPy reference (one python process per test file), and error measures.
import { spawnSync } from "node:child_process";
import { Matrix } from "nbforge/dist/linalg/index.js";

export const PYTHON = process.env.NBFORGE_PYTHON ?? "/usr/bin/python3";

export { seededRandom } from "../support/seeded-random.js";

/** Box–Muller: standard normal numbers from a uniform source. */
export function gaussian(random: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

export function randomMatrix(rows: number, cols: number, normal: () => number): Matrix {
  return new Matrix(rows, cols, Float64Array.from({ length: rows * cols }, normal));
}

export function matmul(a: Matrix, b: Matrix): Matrix {
  if (a.cols !== b.rows) throw new Error(`matmul: ${a.rows}x${a.cols} @ ${b.rows}x${b.cols}`);
  const c = new Matrix(a.rows, b.cols);
  for (let i = 0; i < a.rows; i++) {
    const ci = c.data.subarray(i * b.cols, (i + 1) * b.cols);
    for (let k = 0; k < a.cols; k++) {
      const aik = a.data[i * a.cols + k];
      if (aik === 0) continue;
      const bk = b.data.subarray(k * b.cols, (k + 1) * b.cols);
      for (let j = 0; j < b.cols; j++) ci[j] += aik * bk[j];
    }
  }
  return c;
}

/** A Bᵀ A + shift·I: symmetric positive definite for shift > 0. */
export function randomSpd(n: number, normal: () => number, shift = n): Matrix {
  const b = randomMatrix(n, n, normal);
  const a = matmul(b.transpose(), b);
  for (let i = 0; i < n; i++) a.data[i * n + i] += shift;
  return a;
}

export function randomSymmetric(n: number, normal: () => number): Matrix {
  const a = new Matrix(n, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const v = normal();
      a.data[i * n + j] = v;
      a.data[j * n + i] = v;
    }
  }
  return a;
}

export function scaleColumns(a: Matrix, s: ArrayLike<number>): Matrix {
  const out = a.clone();
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < a.cols; j++) out.data[i * a.cols + j] *= s[j];
  return out;
}

export function norm(x: Float64Array): number {
  let s = 0;
  for (const v of x) s += v * v;
  return Math.sqrt(s);
}

export function diff(a: Float64Array, b: Float64Array): Float64Array {
  if (a.length !== b.length) throw new Error(`diff: lengths ${a.length} and ${b.length}`);
  return a.map((v, i) => v - b[i]);
}

/** ||a - b|| / ||b|| (absolute when b is zero). */
export function relErr(a: Float64Array, b: Float64Array): number {
  const nb = norm(b);
  const nd = norm(diff(a, b));
  return nb === 0 ? nd : nd / nb;
}

/** ||QᵀQ - I||_F for Q with orthonormal columns. */
export function orthogonalityError(q: Matrix): number {
  const g = matmul(q.transpose(), q);
  for (let i = 0; i < g.rows; i++) g.data[i * g.cols + i] -= 1;
  return norm(g.data);
}

export function scaleDiagonal(s: Float64Array, vt: Matrix): Matrix {
  const out = vt.clone();
  for (let i = 0; i < vt.rows; i++) for (let j = 0; j < vt.cols; j++) out.data[i * vt.cols + j] *= s[i];
  return out;
}

// ---- SciPy reference --------------------------------------------------------

export type Value = Float64Array | Int32Array | number | boolean | string;
export type Case = Record<string, Value>;
export type Result = Record<string, Float64Array>;

type Encoded = { f8: string } | { i4: string } | number | boolean | string;

// Tags, not instanceof: the addon's arrays come from another realm than jest's.
function encode(value: Value): Encoded {
  const tag = ArrayBuffer.isView(value) ? (value as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] : undefined;
  if (tag === "Float64Array" || tag === "Int32Array") {
    const v = value as Float64Array | Int32Array;
    const b64 = Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64");
    return tag === "Float64Array" ? { f8: b64 } : { i4: b64 };
  }
  return value as number | boolean | string;
}

function decode(b64: string): Float64Array {
  const bytes = Buffer.from(b64, "base64");
  const out = new Float64Array(bytes.length / 8);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

// Each case names an op; arrays travel as little-endian base64 and matrices
// as flat row-major values plus their dimensions.
/** Python imports and the codec of runPython's arrays (dec: case values, enc: results); scripts start with it. */
export const PYTHON_PRELUDE = String.raw`
import sys, json, base64
import numpy as np
import scipy.linalg as la
import scipy.sparse as sp
import scipy.sparse.linalg as spla

def dec(v):
    if isinstance(v, dict):
        if "f8" in v: return np.frombuffer(base64.b64decode(v["f8"]), dtype="<f8").copy()
        return np.frombuffer(base64.b64decode(v["i4"]), dtype="<i4").copy()
    return v

def enc(a):
    return base64.b64encode(np.ascontiguousarray(np.atleast_1d(a), dtype="<f8").tobytes()).decode()
`;

const SCRIPT = PYTHON_PRELUDE + String.raw`

def run(c):
    op = c["op"]
    if op == "cholesky":
        n = c["n"]; a = c["a"].reshape(n, n)
        return {"l": la.cholesky(a, lower=True)}
    if op == "solve_triangular":
        n, k = c["n"], c["k"]
        x = la.solve_triangular(c["t"].reshape(n, n), c["b"].reshape(n, k), lower=c["lower"],
                                trans=1 if c["transpose"] else 0, unit_diagonal=c["unit"])
        return {"x": x}
    if op == "eigh":
        n = c["n"]; w, v = la.eigh(c["a"].reshape(n, n))
        return {"values": w, "vectors": v}
    if op == "qr":
        q, r = la.qr(c["a"].reshape(c["m"], c["n"]), mode="economic")
        return {"q": q, "r": r}
    if op == "svd":
        u, s, vt = la.svd(c["a"].reshape(c["m"], c["n"]), full_matrices=False)
        return {"u": u, "s": s, "vt": vt}
    if op == "csr":
        m, n, k = c["m"], c["n"], c["k"]
        a = sp.csr_matrix((c["v"], (c["r"], c["c"])), shape=(m, n))
        if c["symmetric"]:
            a = a + sp.triu(a, k=1).T
        a = sp.csr_matrix(a)
        out = {"y": a @ c["x"].reshape(n, k), "nnz": np.array([a.nnz], dtype=float)}
        if m * n <= 100000: out["dense"] = a.toarray()
        return out
    raise ValueError("unknown op " + op)

cases = json.load(sys.stdin)
out = []
for c in cases:
    r = run({k: dec(v) for k, v in c.items()})
    out.append({k: enc(v) for k, v in r.items()})
json.dump(out, sys.stdout)
`;

/** Runs every case through SciPy in one python process. */
export function scipyReference(cases: Case[]): Result[] {
  return runPython(SCRIPT, cases);
}

/**
 * Runs `script` once over all cases: it reads the JSON list of cases on stdin
 * (arrays as {"f8"|"i4": base64}) and writes a list of {name: base64 float64}.
 */
export function runPython(script: string, cases: Case[]): Result[] {
  const input = JSON.stringify(cases.map((c) => Object.fromEntries(Object.entries(c).map(([k, v]) => [k, encode(v)]))));
  const run = spawnSync(PYTHON, ["-c", script], { input, maxBuffer: 1 << 30, encoding: "utf8" });
  if (run.error !== undefined || run.status !== 0) {
    throw new Error(
      `SciPy reference failed (${PYTHON}; install python3-scipy): ${run.error?.message ?? ""}\n${run.stderr}`,
    );
  }
  const parsed = JSON.parse(run.stdout) as Record<string, string>[];
  return parsed.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, decode(v)])));
}
