#!/usr/bin/env node
// Training benchmark (issue 4): a GPT-2 of 6 layers, d=384, 6 heads, context
// 256, batch 8, vocab 8192 (14M parameters, 2,048 tokens a step). Prints, in
// one run and on the same threads, nbforge next to PyTorch eager
// (bench/train_torch.py, Debian's torch with OpenBLAS):
//   - ms per training step (forward, backward, AdamW), median of --steps;
//   - generation tokens/s with the KV cache (greedy) at batch 1 and batch 8, best of 3;
//   - the ratios; and with --profile, nbforge's time per native kernel in one step.
//
//   node bench/train.mjs [--threads N] [--steps 3] [--new-tokens 64] [--profile] [--no-torch]
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { addon } from "@nbforge/native";
import { AdamW, GPT, crossEntropy, tensor, tidy } from "nbforge";
import { formatRatio, median, renderTable } from "./stats.mjs";

const { values: o } = parseArgs({
  options: {
    threads: { type: "string" },
    steps: { type: "string", default: "3" },
    "new-tokens": { type: "string", default: "64" },
    profile: { type: "boolean", default: false },
    "no-torch": { type: "boolean", default: false },
    python: { type: "string", default: process.env.NBFORGE_PYTHON ?? "/usr/bin/python3" },
  },
});
const threads = Number(o.threads ?? addon.numThreads());
addon.setNumThreads(threads);
const steps = Number(o.steps);
const newTokens = Number(o["new-tokens"]);
const SHAPE = { layers: 6, d: 384, heads: 6, ctx: 256, batch: 8, vocab: 8192 };
const PROMPT = 16;

/** Deterministic ids in [0, vocab). */
function ids(batch, time, seed) {
  let s = seed >>> 0;
  const a = Int32Array.from({ length: batch * time }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % SHAPE.vocab;
  });
  return tensor(a, { shape: [batch, time], dtype: "int64" });
}

// Per-kernel profile: wrap every native tensor function with a timer.
const profile = new Map();
let profiling = false;
for (const name of Object.keys(addon)) {
  const f = addon[name];
  if (typeof f !== "function" || !/^(tensor|optim|gemm)/.test(name)) continue;
  addon[name] = function (...args) {
    if (!profiling) return f.apply(this, args);
    const t0 = performance.now();
    try {
      return f.apply(this, args);
    } finally {
      const p = profile.get(name) ?? { ms: 0, calls: 0 };
      p.ms += performance.now() - t0;
      p.calls++;
      profile.set(name, p);
    }
  };
}

const model = new GPT({ vocabSize: SHAPE.vocab, nPositions: SHAPE.ctx, nEmbd: SHAPE.d, nLayer: SHAPE.layers, nHead: SHAPE.heads, embdPdrop: 0, attnPdrop: 0, residPdrop: 0 });
const opt = new AdamW(model.parameters(), { lr: 1e-3 });
const x = ids(SHAPE.batch, SHAPE.ctx, 1);
const y = ids(SHAPE.batch, SHAPE.ctx, 2);

function trainStep() {
  const t0 = performance.now();
  let t1 = 0, t2 = 0;
  tidy(() => {
    opt.zeroGrad();
    const loss = crossEntropy(model.forward(x).reshape([-1, SHAPE.vocab]), y.reshape([-1]));
    t1 = performance.now();
    loss.backward();
    t2 = performance.now();
    opt.step();
  });
  const t3 = performance.now();
  return { total: t3 - t0, forward: t1 - t0, backward: t2 - t1, optimizer: t3 - t2 };
}

console.log(`nbforge training benchmark: ${cpus()[0]?.model ?? "cpu"}, ${cpus().length} CPUs, ${threads} thread(s), load average ${loadavg().map((l) => l.toFixed(1)).join(" ")}`);
console.log(`GPT-2 ${SHAPE.layers} layers, d=${SHAPE.d}, ${SHAPE.heads} heads, context ${SHAPE.ctx}, batch ${SHAPE.batch}, vocab ${SHAPE.vocab}: ${model.numParameters().toLocaleString("en-US")} parameters`);

// PyTorch in a child process that answers timing requests, so the two sides
// alternate step by step and share whatever load the machine has.
class TorchSide {
  constructor() {
    const script = join(dirname(fileURLToPath(import.meta.url)), "train_torch.py");
    const cfg = { threads, ...SHAPE, prompt: PROMPT };
    const env = { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) };
    this.child = spawn(o.python, [script, JSON.stringify(cfg)], { env, stdio: ["pipe", "pipe", "pipe"] });
    this.stderr = "";
    this.child.stderr.on("data", (d) => { this.stderr += d; });
    this.lines = createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }
  async next() {
    const r = await this.lines.next();
    if (r.done) throw new Error(`${o.python} exited: ${this.stderr.trim().split("\n").pop() ?? ""}`);
    return JSON.parse(r.value);
  }
  async ask(req) {
    this.child.stdin.write(JSON.stringify(req) + "\n");
    return (await this.next()).s;
  }
  close() {
    this.child.stdin.end();
  }
}

let torch = null;
let torchInfo = null;
let torchError = null;
if (!o["no-torch"]) {
  try {
    torch = new TorchSide();
    torchInfo = await torch.next();
  } catch (e) {
    torchError = e.message;
    torch = null;
  }
}

trainStep(); // warm-up: allocator, packing buffers
if (torch) await torch.ask({ cmd: "train" });
const ours = [];
const theirs = [];
for (let i = 0; i < steps; i++) {
  profiling = o.profile && i === 0;
  ours.push(trainStep());
  profiling = false;
  if (torch) theirs.push(await torch.ask({ cmd: "train" }) * 1000);
  process.stderr.write(`\rstep ${i + 1}/${steps}`);
}
process.stderr.write("\r");
const ourStep = median(ours.map((s) => s.total));
const torchStep = torch ? median(theirs) : NaN;

const ourGen = { 1: 0, 8: 0 };
const torchGen = { 1: NaN, 8: NaN };
for (let r = 0; r < 3; r++) {
  for (const batch of [1, 8]) {
    const prompt = ids(batch, PROMPT, 3 + batch);
    const t0 = performance.now();
    model.generate(prompt, { maxNewTokens: newTokens }).sequences.dispose();
    ourGen[batch] = Math.max(ourGen[batch], (batch * newTokens) / ((performance.now() - t0) / 1000));
    if (torch) {
      const rate = (batch * newTokens) / (await torch.ask({ cmd: "gen", batch, n: newTokens }));
      torchGen[batch] = Number.isNaN(torchGen[batch]) ? rate : Math.max(torchGen[batch], rate);
    }
  }
}
torch?.close();

const fmt = (v, d = 0) => (Number.isFinite(v) ? v.toFixed(d) : "n/a");
const rows = [
  ["train step (fwd+bwd+AdamW)", "ms", fmt(ourStep), fmt(torchStep), formatRatio(torchStep, ourStep)],
  ["generate, KV cache, batch 1", "tokens/s", fmt(ourGen[1], 1), fmt(torchGen[1], 1), formatRatio(ourGen[1], torchGen[1])],
  ["generate, KV cache, batch 8", "tokens/s", fmt(ourGen[8], 1), fmt(torchGen[8], 1), formatRatio(ourGen[8], torchGen[8])],
];
console.log(torchInfo ? `PyTorch ${torchInfo.torch} eager on ${torchInfo.threads} thread(s), alternating with nbforge step by step` : `PyTorch: not measured (${torchError ?? "--no-torch"})`);
console.log(renderTable(["row", "unit", "nbforge", "PyTorch", "speed-up (nbforge vs PyTorch)"], rows));
const m = median(ours.map((s) => s.forward)), b = median(ours.map((s) => s.backward)), a = median(ours.map((s) => s.optimizer));
console.log(`nbforge step split (median): forward ${fmt(m)} ms, backward ${fmt(b)} ms, AdamW ${fmt(a)} ms; prompt ${PROMPT} tokens, ${newTokens} new tokens per row`);
if (o.profile) {
  const total = ours[0].total;
  const entries = [...profile.entries()].sort((p, q) => q[1].ms - p[1].ms);
  const native = entries.reduce((s, [, p]) => s + p.ms, 0);
  const prow = entries.map(([name, p]) => [name, String(p.calls), fmt(p.ms), `${((100 * p.ms) / total).toFixed(1)}%`]);
  prow.push(["(JavaScript: graph, dispatch, allocation)", "", fmt(total - native), `${((100 * (total - native)) / total).toFixed(1)}%`]);
  console.log(`\nOne training step by native kernel (${fmt(total)} ms):`);
  console.log(renderTable(["kernel", "calls", "ms", "share"], prow));
}
