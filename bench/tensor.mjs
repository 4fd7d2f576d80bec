#!/usr/bin/env node
// Tensor-core benchmark: nbforge against PyTorch (Debian's python3-torch), both
// measured in this one run on the same number of threads.
//
//   node bench/tensor.mjs [--threads N] [--time 0.6] [--rounds 2] [--only gemm,memory]
//
// Each row is a spec (see `rows` below): a group, a name, a unit, the work one
// call does (FLOPs or bytes; none for time rows), a setup returning nbforge's
// call, and a Python snippet (setup + one call) for PyTorch. Both sides are
// timed the same way: warm-up, then repeated calls for --time seconds, best
// call kept (the machine is shared, so the best call is the least noisy); the
// two sides of a row run back to back, and each row --rounds times. To add a row (softmax,
// layer_norm, gelu, attention...), push a spec onto `rows`.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { addon } from "@nbforge/native";
import { formatRatio, renderTable } from "./stats.mjs";
import * as nb from "nbforge";

const native = addon;
const { values: options } = parseArgs({
  options: {
    threads: { type: "string" },
    time: { type: "string", default: "0.6" },
    rounds: { type: "string", default: "2" },
    only: { type: "string" },
    python: { type: "string", default: process.env.NBFORGE_PYTHON ?? "/usr/bin/python3" },
  },
});
const threads = Number(options.threads ?? native.numThreads());
native.setNumThreads(threads);
const seconds = Number(options.time);
const rounds = Number(options.rounds);

/** Deterministic pseudo-random Float32Array in [-1, 1). */
function randomF32(length, seed = 1) {
  const out = new Float32Array(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state / 2147483648 - 1;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Row specs. unit: "GFLOP/s" or "GB/s" (work = FLOPs or bytes per call, higher
// is better) or "ms" (time per call, lower is better).

const rows = [];

const gemmShapes = [
  ["n=256", 256, 256, 256],
  ["n=512", 512, 512, 512],
  ["n=1024", 1024, 1024, 1024],
  ["n=2048", 2048, 2048, 2048],
  ["[4096x768]x[768x3072]", 4096, 3072, 768],
  ["[4096x3072]x[3072x768]", 4096, 768, 3072],
];
for (const [name, m, n, k] of gemmShapes) {
  rows.push({
    group: "gemm",
    name: `SGEMM ${name}`,
    unit: "GFLOP/s",
    work: 2 * m * n * k,
    peakShare: true,
    nbforge: () => {
      const a = randomF32(m * k, 1), b = randomF32(k * n, 2), c = new Float32Array(m * n);
      return () => native.gemmF32(false, false, m, n, k, 1, a, k, b, n, 0, c, n);
    },
    python: {
      setup: `a = torch.randn(${m}, ${k}); b = torch.randn(${k}, ${n}); c = torch.empty(${m}, ${n})`,
      run: "torch.mm(a, b, out=c)",
    },
  });
}

const elements = 1 << 24; // 64 MiB per array: far beyond the caches
rows.push({
  group: "memory",
  name: `add f32 (${elements >> 20}M, out=)`,
  unit: "GB/s",
  work: 12 * elements, // read a and b, write out
  nbforge: () => {
    const a = randomF32(elements, 3), b = randomF32(elements, 4), out = new Float32Array(elements);
    return () => native.addF32(a, b, out);
  },
  python: {
    setup: `a = torch.randn(${elements}); b = torch.randn(${elements}); c = torch.empty(${elements})`,
    run: "torch.add(a, b, out=c)",
  },
});
rows.push({
  group: "memory",
  name: `copy f32 (${elements >> 20}M; memcpy / copy_)`,
  unit: "GB/s",
  work: 8 * elements,
  nbforge: () => {
    const a = randomF32(elements, 5), out = new Float32Array(elements);
    return () => native.copyF32(a, out);
  },
  python: {
    setup: `a = torch.randn(${elements}); c = torch.empty(${elements})`,
    run: "c.copy_(a)",
  },
});

// Neural-network ops through nbforge's Tensor API (autograd included), next to
// torch.nn.functional on the same shapes. Forward rows time one call; "fwd+bwd"
// rows time the forward, backward with a fixed upstream gradient, and dropping
// the input gradients (x.grad = None on the PyTorch side).

/** nbforge: fn(inputs) once per call; with grad, also backward(g) and zeroGrad on the leaves. */
function nnCall(shapes, fn, grad) {
  nb.manualSeed(0);
  const inputs = shapes.map((s) => nb.randn(s, { requiresGrad: grad }));
  let g = null;
  return () => {
    const y = fn(inputs);
    if (grad) {
      g ??= nb.randn(y.shape);
      y.backward(g);
      for (const x of inputs) x.zeroGrad();
    }
    y.dispose();
  };
}

/** PyTorch: the same, as {setup, run} for the Python side. */
function nnPython(shapes, expr, grad) {
  const make = shapes.map((s, i) => `x${i} = torch.randn(${s.join(", ")}, requires_grad=${grad ? "True" : "False"})`).join("\n");
  const leaves = shapes.map((_, i) => `x${i}`).join(", ");
  return {
    setup: `import torch.nn.functional as F, math
${make}
xs = [${leaves}]
def fwd():
    return ${expr}
g = fwd().detach().normal_()
def step():
    y = fwd()
    ${grad ? "y.backward(g)\n    for x in xs: x.grad = None" : "pass"}`,
    run: "step()",
  };
}

const attnB = 4, attnH = 12, attnL = 256, attnD = 64;
const nnRows = [
  ["softmax", "[4096x1024] dim -1", [[4096, 1024]], ([x]) => nb.softmax(x, -1), "F.softmax(x0, -1)"],
  ["layer_norm", "[4096x768] +weight,bias", [[4096, 768], [768], [768]], ([x, w, b]) => nb.layerNorm(x, 768, w, b), "F.layer_norm(x0, (768,), x1, x2)"],
  ["gelu", "erf (16M)", [[1 << 24]], ([x]) => nb.gelu(x), "F.gelu(x0)"],
  ["attention", `causal [${attnB}x${attnH}x${attnL}x${attnD}]`, [[attnB, attnH, attnL, attnD], [attnB, attnH, attnL, attnD], [attnB, attnH, attnL, attnD]],
    ([q, k, v]) => nb.scaledDotProductAttention(q, k, v, { causal: true }),
    // PyTorch 1.13 has no F.scaled_dot_product_attention: the explicit composition
    `torch.matmul(F.softmax((torch.matmul(x0, x1.transpose(-2, -1)) / math.sqrt(${attnD})).masked_fill(torch.ones(${attnL}, ${attnL}, dtype=torch.bool).triu(1), float("-inf")), -1), x2)`],
];
for (const [op, shape, shapes, fn, expr] of nnRows) {
  for (const grad of [false, true]) {
    rows.push({
      group: "nn",
      name: `${op} ${shape} ${grad ? "fwd+bwd" : "fwd"}`,
      unit: "ms",
      nbforge: () => nnCall(shapes, fn, grad),
      python: nnPython(shapes, expr, grad),
    });
  }
}

// ---------------------------------------------------------------------------
// Timing.

function timeCall(fn) {
  fn();
  fn();
  let best = Infinity;
  let calls = 0;
  const start = performance.now();
  while (calls < 3 || performance.now() - start < seconds * 1000) {
    const t0 = performance.now();
    fn();
    best = Math.min(best, performance.now() - t0);
    calls++;
  }
  return best / 1000;
}

// PyTorch runs in one long-lived process that answers one row at a time, so
// the two sides of each row are measured back to back (load on a shared
// machine then hits both alike).
const pythonScript = String.raw`
import json, sys, time
def reply(obj):
    sys.stdout.write(json.dumps(obj) + "\n"); sys.stdout.flush()
try:
    import torch
except Exception as e:
    reply({"error": "import torch failed: %s" % e}); sys.exit(0)
threads, seconds = int(sys.argv[1]), float(sys.argv[2])
torch.set_num_threads(threads)
torch.manual_seed(0)
libs = sorted({line.split()[-1] for line in open("/proc/self/maps") if any(s in line for s in ("blas", "mkl", "lapack")) and "/" in line})
blas_info = next((p.split("=")[1] for p in torch.__config__.show().replace(",", " ").split() if p.startswith("BLAS_INFO=")), "?")
reply({"torch": torch.__version__, "threads": torch.get_num_threads(), "libraries": libs, "blas_info": blas_info})
cache = {}
for line in sys.stdin:
    row = json.loads(line)
    if row["name"] not in cache:
        ns = {"torch": torch}
        exec(row["setup"], ns)
        cache.clear()
        cache[row["name"]] = eval("lambda: " + row["run"], ns)
    fn = cache[row["name"]]
    fn(); fn()
    best, calls, start = float("inf"), 0, time.perf_counter()
    while calls < 3 or time.perf_counter() - start < seconds:
        t0 = time.perf_counter(); fn(); best = min(best, time.perf_counter() - t0); calls += 1
    reply({"seconds": best})
`;

/** Starts the PyTorch process; resolves to { info, time(row) } or { error }. */
async function startPython() {
  const env = { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) };
  let child;
  try {
    child = spawn(options.python, ["-c", pythonScript, String(threads), String(seconds)], { env, stdio: ["pipe", "pipe", "pipe"] });
  } catch (error) {
    return { error: String(error) };
  }
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error(`${options.python} exited: ${stderr.trim().split("\n").pop() ?? ""}`);
    return JSON.parse(value);
  };
  child.on("error", () => {});
  try {
    const info = await next();
    if (info.error) return { error: info.error };
    return {
      info,
      time: async (row) => {
        child.stdin.write(JSON.stringify({ name: row.name, ...row.python }) + "\n");
        return (await next()).seconds;
      },
      close: () => child.stdin.end(),
    };
  } catch (error) {
    return { error: error.message };
  }
}

// ---------------------------------------------------------------------------

const groups = options.only ? new Set(options.only.split(",")) : null;
const selected = rows.filter((r) => !groups || groups.has(r.group));
const cpuModel = (() => {
  try {
    return readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.*)/)?.[1] ?? cpus()[0]?.model;
  } catch {
    return cpus()[0]?.model;
  }
})();

console.log(`nbforge tensor benchmark: ${cpuModel}, ${cpus().length} CPUs, ${threads} thread(s), GEMM kernel ${native.gemmKernel()}, backend ${native.gemmBackend()}`);
console.log(`load average before the run: ${loadavg().map((x) => x.toFixed(2)).join(" ")} (other work on the machine shows up as noise in both columns)`);
// The peak is measured before and after the rows (best of both): on a shared
// machine a busy moment would otherwise understate it and flatter our share.
let peak = native.fmaPeakGflops(1.0);

const ours = new Map();
const theirs = new Map();
const torchSide = await startPython();
const pythonInfo = torchSide.info ?? null;
const pythonError = torchSide.error ?? null;
for (let round = 0; round < rounds; round++) {
  for (const row of selected) {
    if (torchSide.time && row.python) {
      theirs.set(row.name, Math.min(theirs.get(row.name) ?? Infinity, await torchSide.time(row)));
    }
    const call = row.nbforge();
    ours.set(row.name, Math.min(ours.get(row.name) ?? Infinity, timeCall(call)));
  }
}
torchSide.close?.();
peak = Math.max(peak, native.fmaPeakGflops(1.0));
native.setNumThreads(1);
const perThread = native.fmaPeakGflops(0.5);
native.setNumThreads(threads);
console.log(`measured FMA peak (f32, 8-wide ${native.gemmKernel() === "avx2" ? "AVX2 " : ""}FMAs on registers): ` +
  `${peak.toFixed(1)} GFLOP/s with ${threads} thread(s) together; one thread alone ${perThread.toFixed(1)}, x${threads} = ${(perThread * threads).toFixed(1)}`);
// The larger of the two is the peak we divide by (the conservative choice).
peak = Math.max(peak, perThread * threads);

if (pythonInfo) {
  const blas = pythonInfo.libraries.find((l) => /blas|mkl/i.test(l)) ?? "none found in /proc/self/maps";
  console.log(`PyTorch ${pythonInfo.torch} on ${pythonInfo.threads} thread(s); BLAS_INFO=${pythonInfo.blas_info}; BLAS loaded: ${blas}`);
  if (!/openblas/i.test(blas)) console.log("warning: PyTorch is not using OpenBLAS; install libopenblas0-pthread for a fair reference");
} else {
  console.log(`PyTorch: not measured (${pythonError})`);
}

const value = (row, t) => (row.unit === "ms" ? t * 1e3 : row.work / t / 1e9);
const format = (x) => (Number.isFinite(x) ? x.toFixed(1) : "n/a");
const table = selected.map((row) => {
  const mine = value(row, ours.get(row.name));
  const ref = theirs.has(row.name) ? value(row, theirs.get(row.name)) : Number.NaN;
  const ratio = row.unit === "ms" ? formatRatio(ref, mine) : formatRatio(mine, ref);
  const share = row.peakShare ? `${((100 * mine) / peak).toFixed(0)}%` : "";
  const refShare = row.peakShare && Number.isFinite(ref) ? `${((100 * ref) / peak).toFixed(0)}%` : "";
  return [row.name, row.unit, format(mine), format(ref), ratio, share, refShare];
});
console.log();
console.log(renderTable(["row", "unit", "nbforge", "PyTorch", "ratio", "% peak", "PyTorch % peak"], table));
console.log(`\nratio > 1 means nbforge is faster; ${rounds} round(s), best call of each side per row.`);
