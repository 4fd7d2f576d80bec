// Runs PyTorch once per test file: inputs go to a temp folder as raw
// float32/float64 files, one /usr/bin/python3 process evaluates every case
// (forward, and backward with the given output gradient), results come back raw.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Tensor } from "nbforge";

export interface RefCase {
  id: string;
  /** A Python expression over x[0], x[1], ... (torch and F = torch.nn.functional in scope). */
  code: string;
  inputs: readonly Tensor[];
  /** The output gradient for backward (omit for forward only). */
  gy?: Tensor;
}

export interface RefResult {
  out: Float64Array;
  shape: number[];
  grads: (Float64Array | null)[];
}

const SCRIPT = String.raw`
import json, sys
import numpy as np
import torch
import torch.nn.functional as F
torch.set_num_threads(2)
d = sys.argv[1]
man = json.load(open(d + "/manifest.json"))
np_dt = {"float32": np.float32, "float64": np.float64}
res = {}
for c in man:
    xs = []
    for i, inp in enumerate(c["inputs"]):
        a = np.fromfile(f"{d}/{c['id']}_x{i}.bin", dtype=np_dt[inp["dtype"]]).reshape(inp["shape"])
        xs.append(torch.from_numpy(a.copy()).requires_grad_(c["gy"] is not None))
    out = eval(c["code"], {"torch": torch, "F": F, "x": xs})
    out.detach().to(torch.float64).numpy().tofile(f"{d}/{c['id']}_out.bin")
    grads = []
    if c["gy"] is not None:
        g = np.fromfile(f"{d}/{c['id']}_gy.bin", dtype=np_dt[c["gy"]["dtype"]]).reshape(c["gy"]["shape"])
        out.backward(torch.from_numpy(g.copy()))
        for i, x in enumerate(xs):
            if x.grad is None:
                grads.append(False)
            else:
                x.grad.to(torch.float64).numpy().tofile(f"{d}/{c['id']}_g{i}.bin")
                grads.append(True)
    res[c["id"]] = {"shape": list(out.shape), "grads": grads}
json.dump(res, open(d + "/result.json", "w"))
`;

function rawBytes(t: Tensor): Uint8Array {
  const d = t.data();
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

export function runTorch(cases: readonly RefCase[]): Map<string, RefResult> {
  const dir = mkdtempSync(join(tmpdir(), "nbforge-torch-"));
  try {
    const manifest = cases.map((c) => {
      c.inputs.forEach((x, i) => writeFileSync(join(dir, `${c.id}_x${i}.bin`), rawBytes(x)));
      if (c.gy !== undefined) writeFileSync(join(dir, `${c.id}_gy.bin`), rawBytes(c.gy));
      return {
        id: c.id,
        code: c.code,
        inputs: c.inputs.map((x) => ({ dtype: x.dtype, shape: x.shape })),
        gy: c.gy === undefined ? null : { dtype: c.gy.dtype, shape: c.gy.shape },
      };
    });
    writeFileSync(join(dir, "manifest.json"), JSON.stringify(manifest));
    writeFileSync(join(dir, "ref.py"), SCRIPT);
    const r = spawnSync("/usr/bin/python3", [join(dir, "ref.py"), dir], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`PyTorch reference failed:\n${r.stderr}`);
    const result = JSON.parse(readFileSync(join(dir, "result.json"), "utf8")) as Record<string, { shape: number[]; grads: boolean[] }>;
    const out = new Map<string, RefResult>();
    const f64 = (p: string) => {
      const b = readFileSync(p);
      return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    };
    for (const c of cases) {
      const meta = result[c.id];
      out.set(c.id, {
        out: f64(join(dir, `${c.id}_out.bin`)),
        shape: meta.shape,
        grads: meta.grads.map((has, i) => (has ? f64(join(dir, `${c.id}_g${i}.bin`)) : null)),
      });
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** max |a - b| / max |b|: the normwise relative error. */
export function relError(actual: ArrayLike<number> | BigInt64Array, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Infinity;
  let num = 0;
  let den = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = Number(actual[i]);
    const e = expected[i];
    if (Number.isNaN(a) !== Number.isNaN(e)) return Infinity;
    if (Number.isNaN(e)) continue;
    num = Math.max(num, Math.abs(a - e));
    den = Math.max(den, Math.abs(e));
  }
  return den === 0 ? num : num / den;
}
