#!/usr/bin/env node
// Optimizer benchmark: one AdamW step, one SGD-with-momentum step and one
// clipGradNorm over the parameters of the GPT (6 layers, d=384,
// vocab 8192, context 256: 13.9M parameters), nbforge against torch.optim
// (Debian's PyTorch 1.13, same threads), measured in this one run. Best of
// --reps calls after warm-up; the machine is shared, so the best is the least noisy.
//
//   node bench/optim.mjs [--threads N] [--reps 20]
import { spawnSync } from "node:child_process";
import { parseArgs } from "node:util";
import { addon } from "@nbforge/native";
import { AdamW, SGD, clipGradNorm, randn } from "nbforge";
import { formatRatio, formatSeconds, renderTable } from "./stats.mjs";

const { values: options } = parseArgs({
  options: {
    threads: { type: "string" },
    reps: { type: "string", default: "20" },
    python: { type: "string", default: process.env.NBFORGE_PYTHON ?? "/usr/bin/python3" },
  },
});
const threads = Number(options.threads ?? addon.numThreads());
addon.setNumThreads(threads);
const reps = Number(options.reps);

// GPT-2 parameter shapes: wte, wpe, then per layer ln_1, c_attn, c_proj, ln_2, c_fc, c_proj (weights and biases), ln_f.
const block = [[384], [384], [384, 1152], [1152], [384, 384], [384], [384], [384], [384, 1536], [1536], [1536, 384], [384]];
const shapes = [[8192, 384], [256, 384], ...Array.from({ length: 6 }, () => block).flat(), [384], [384]];
const numel = shapes.reduce((a, s) => a + s.reduce((x, y) => x * y, 1), 0);

function best(fn) {
  for (let i = 0; i < 3; i++) fn();
  let b = Infinity;
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    fn();
    b = Math.min(b, performance.now() - t);
  }
  return b / 1000;
}

const params = shapes.map((s) => randn(s).requiresGrad_());
for (const p of params) p.grad = randn(p.shape);
const ours = {
  adamw: best(((o) => () => o.step())(new AdamW(params, { lr: 1e-3 }))),
  sgd: best(((o) => () => o.step())(new SGD(params, { lr: 1e-3, momentum: 0.9 }))),
  clip: best(() => clipGradNorm(params, 1e9)),
};

const py = String.raw`
import json, sys, time, torch
torch.set_num_threads(int(sys.argv[1])); reps = int(sys.argv[2]); shapes = json.loads(sys.argv[3])
ps = [torch.randn(s, requires_grad=True) for s in shapes]
for p in ps: p.grad = torch.randn(p.shape)
def best(fn):
    for _ in range(3): fn()
    b = 1e9
    for _ in range(reps):
        t = time.perf_counter(); fn(); b = min(b, time.perf_counter() - t)
    return b
out = {"adamw": best(torch.optim.AdamW(ps, lr=1e-3).step),
       "adamw_foreach": best(torch.optim.AdamW(ps, lr=1e-3, foreach=True).step),
       "sgd": best(torch.optim.SGD(ps, lr=1e-3, momentum=0.9).step),
       "clip": best(lambda: torch.nn.utils.clip_grad_norm_(ps, 1e9))}
print(json.dumps(out))
`;
const r = spawnSync(options.python, ["-c", py, String(threads), String(reps), JSON.stringify(shapes)], { encoding: "utf8" });
if (r.status !== 0) throw new Error(`PyTorch side failed:\n${r.stderr}`);
const torch = JSON.parse(r.stdout.trim().split("\n").pop());

console.log(`optimizer steps over ${(numel / 1e6).toFixed(2)}M float32 parameters, ${threads} thread(s), best of ${reps}`);
console.log(renderTable(["step", "nbforge", "PyTorch 1.13", "speed-up"], [
  ["AdamW", formatSeconds(ours.adamw), formatSeconds(torch.adamw), formatRatio(torch.adamw, ours.adamw)],
  ["AdamW (torch foreach=True)", formatSeconds(ours.adamw), formatSeconds(torch.adamw_foreach), formatRatio(torch.adamw_foreach, ours.adamw)],
  ["SGD, momentum 0.9", formatSeconds(ours.sgd), formatSeconds(torch.sgd), formatRatio(torch.sgd, ours.sgd)],
  ["clipGradNorm (L2)", formatSeconds(ours.clip), formatSeconds(torch.clip), formatRatio(torch.clip, ours.clip)],
]));
