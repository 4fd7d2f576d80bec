// Runs torch.optim reference trajectories: the test writes initial parameters
// and each step's gradients as raw files, one /usr/bin/python3 process replays
// them through torch.optim (and torch's clip_grad_norm_ and lr_scheduler),
// and the parameters after every step come back raw.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Tensor } from "nbforge";

export interface OptimCase {
  id: string;
  /** "AdamW" or "SGD": a torch.optim class. */
  optimizer: "AdamW" | "SGD";
  /** Groups: parameter indices and keyword arguments for torch (lr, betas, momentum, ...). */
  groups: { params: number[]; kwargs: Record<string, unknown> }[];
  params: readonly Tensor[];
  /** grads[step][param]: the gradient, or null when the parameter has none that step. */
  grads: readonly (readonly (Tensor | null)[])[];
}

export interface ClipCase {
  id: string;
  grads: readonly Tensor[];
  maxNorm: number;
  normType: number;
}

export interface ScheduleCase {
  id: string;
  /** A Python expression building the scheduler from `opt` (lr_scheduler as `S`, math imported). */
  code: string;
  lr: number;
  steps: number;
}

const SCRIPT = String.raw`
import json, math, sys
import numpy as np
import torch
torch.set_num_threads(1)
d = sys.argv[1]
man = json.load(open(d + "/manifest.json"))
dt = {"float32": np.float32, "float64": np.float64}
def load(name, meta):
    return torch.from_numpy(np.fromfile(f"{d}/{name}.bin", dtype=dt[meta["dtype"]]).reshape(meta["shape"]).copy())
res = {}
for c in man["optim"]:
    ps = [load(f"{c['id']}_p{i}", m).requires_grad_(True) for i, m in enumerate(c["params"])]
    groups = [dict(params=[ps[i] for i in g["params"]], **g["kwargs"]) for g in c["groups"]]
    opt = getattr(torch.optim, c["optimizer"])(groups)
    for s, row in enumerate(c["grads"]):
        for i, has in enumerate(row):
            ps[i].grad = load(f"{c['id']}_g{s}_{i}", c["params"][i]) if has else None
        opt.step()
        for i, p in enumerate(ps):
            p.detach().to(torch.float64).numpy().tofile(f"{d}/{c['id']}_out{s}_{i}.bin")
for c in man["clip"]:
    ps = []
    for i, m in enumerate(c["grads"]):
        p = torch.zeros(m["shape"], dtype=getattr(torch, m["dtype"]), requires_grad=True)
        p.grad = load(f"{c['id']}_g{i}", m)
        ps.append(p)
    norm = torch.nn.utils.clip_grad_norm_(ps, c["maxNorm"], norm_type=float(c["normType"]))
    for i, p in enumerate(ps):
        p.grad.to(torch.float64).numpy().tofile(f"{d}/{c['id']}_out{i}.bin")
    res[c["id"]] = float(norm)
for c in man["schedule"]:
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=c["lr"])
    sched = eval(c["code"], {"opt": opt, "S": torch.optim.lr_scheduler, "math": math})
    lrs = [opt.param_groups[0]["lr"]]
    for _ in range(c["steps"]):
        opt.step()
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    res[c["id"]] = lrs
json.dump(res, open(d + "/result.json", "w"))
`;

function raw(t: Tensor): Uint8Array {
  const d = t.data();
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}
const meta = (t: Tensor) => ({ dtype: t.dtype, shape: t.shape });

export interface TorchOptimResults {
  /** Per optim case: out[step][param] as float64. */
  optim: Map<string, Float64Array[][]>;
  /** Per clip case: the total norm and the clipped gradients. */
  clip: Map<string, { norm: number; grads: Float64Array[] }>;
  /** Per schedule case: the rate at steps 0..steps. */
  schedule: Map<string, number[]>;
}

export function runTorchOptim(optim: readonly OptimCase[], clip: readonly ClipCase[] = [], schedule: readonly ScheduleCase[] = []): TorchOptimResults {
  const dir = mkdtempSync(join(tmpdir(), "nbforge-optim-"));
  try {
    for (const c of optim) {
      c.params.forEach((p, i) => writeFileSync(join(dir, `${c.id}_p${i}.bin`), raw(p)));
      c.grads.forEach((row, s) => row.forEach((g, i) => { if (g !== null) writeFileSync(join(dir, `${c.id}_g${s}_${i}.bin`), raw(g)); }));
    }
    for (const c of clip) c.grads.forEach((g, i) => writeFileSync(join(dir, `${c.id}_g${i}.bin`), raw(g)));
    const manifest = {
      optim: optim.map((c) => ({ id: c.id, optimizer: c.optimizer, groups: c.groups, params: c.params.map(meta), grads: c.grads.map((r) => r.map((g) => g !== null)) })),
      clip: clip.map((c) => ({ id: c.id, grads: c.grads.map(meta), maxNorm: c.maxNorm, normType: c.normType === Infinity ? "inf" : c.normType })),
      schedule,
    };
    writeFileSync(join(dir, "manifest.json"), JSON.stringify(manifest));
    writeFileSync(join(dir, "ref.py"), SCRIPT);
    const r = spawnSync("/usr/bin/python3", [join(dir, "ref.py"), dir], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`PyTorch reference failed:\n${r.stderr}`);
    const res = JSON.parse(readFileSync(join(dir, "result.json"), "utf8")) as Record<string, number | number[]>;
    const f64 = (name: string) => {
      const b = readFileSync(join(dir, `${name}.bin`));
      return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    };
    const out: TorchOptimResults = { optim: new Map(), clip: new Map(), schedule: new Map() };
    for (const c of optim) out.optim.set(c.id, c.grads.map((_, s) => c.params.map((_, i) => f64(`${c.id}_out${s}_${i}`))));
    for (const c of clip) out.clip.set(c.id, { norm: res[c.id] as number, grads: c.grads.map((_, i) => f64(`${c.id}_out${i}`)) });
    for (const c of schedule) out.schedule.set(c.id, res[c.id] as number[]);
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The largest |a - b| / max(|b|, floor) over the elements. */
export function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-6): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), floor));
  return worst;
}
