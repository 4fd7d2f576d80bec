// Rotary position embeddings (Su et al. 2021, RoFormer eq. 34) in Hugging Face
// Llama's "rotate half" layout: x·cos + rotate_half(x)·sin, where
// rotate_half([x1, x2]) = [-x2, x1] over the two halves of the head dim and
// angle(pos, i) = pos · θ^(-2i/d). Tables of cos/sin grow on demand and are
// indexed by position ids with the embedding op.
import { noGrad } from "../tensor/autograd.js";
import { tensor } from "../tensor/creation.js";
import { cat } from "../tensor/ops/joining.js";
import { embedding } from "../tensor/ops/embedding.js";
import { rotary } from "../tensor/ops/rotary.js";
import { keep } from "../tensor/scope.js";
import type { Tensor } from "../tensor/tensor.js";

/** Hugging Face's rope_scaling entry ("linear" or "llama3"; null for none). */
export interface RopeScaling {
  rope_type?: string;
  type?: string;
  factor?: number;
  low_freq_factor?: number;
  high_freq_factor?: number;
  original_max_position_embeddings?: number;
}

/** inv_freq[i] = θ^(-2i/d), adjusted by rope_scaling as transformers does. */
export function inverseFrequencies(dim: number, theta: number, scaling: RopeScaling | null): Float64Array {
  const inv = new Float64Array(dim / 2);
  // float32 like transformers: the exponent is computed in float32, then 1 / base**e
  for (let i = 0; i < dim / 2; i++) inv[i] = Math.fround(1 / Math.fround(theta ** Math.fround((2 * i) / dim)));
  if (scaling === null) return inv;
  const kind = scaling.rope_type ?? scaling.type ?? "default";
  const factor = scaling.factor ?? 1;
  if (kind === "default") return inv;
  if (kind === "linear") return inv.map((f) => f / factor);
  if (kind === "llama3") {
    const low = scaling.low_freq_factor ?? 1;
    const high = scaling.high_freq_factor ?? 4;
    const old = scaling.original_max_position_embeddings ?? 8192;
    const lowWavelen = old / low;
    const highWavelen = old / high;
    return inv.map((f) => {
      const wavelen = (2 * Math.PI) / f;
      if (wavelen < highWavelen) return f;
      if (wavelen > lowWavelen) return f / factor;
      const smooth = (old / wavelen - low) / (high - low);
      return (1 - smooth) * (f / factor) + smooth * f;
    });
  }
  throw new Error(`rope_scaling type "${kind}" is not supported (supported: linear, llama3); remove rope_scaling or convert the checkpoint`);
}

/** Cos/sin tables for positions [0, n), grown (doubling) as longer sequences arrive. */
export class RotaryTables {
  private cosT: Tensor | null = null;
  private sinT: Tensor | null = null;
  private rows = 0;
  private readonly inv: Float64Array;

  constructor(readonly dim: number, theta: number, scaling: RopeScaling | null, readonly dtype: "float32" | "float64") {
    if (dim % 2 !== 0) throw new RangeError(`rotary: head_dim ${dim} must be even`);
    this.inv = inverseFrequencies(dim, theta, scaling);
  }

  private grow(n: number): void {
    const rows = Math.max(n, 2 * this.rows, 64);
    const half = this.dim / 2;
    const c = new Float64Array(rows * this.dim);
    const s = new Float64Array(rows * this.dim);
    for (let p = 0; p < rows; p++) {
      for (let i = 0; i < half; i++) {
        // the angle rounded to float32 as transformers computes it (t.float() @ inv_freq)
        const a = this.dtype === "float32" ? Math.fround(p * this.inv[i]) : p * this.inv[i];
        c[p * this.dim + i] = c[p * this.dim + i + half] = Math.cos(a);
        s[p * this.dim + i] = s[p * this.dim + i + half] = Math.sin(a);
      }
    }
    this.cosT?.dispose();
    this.sinT?.dispose();
    this.cosT = keep(tensor(c, { shape: [rows, this.dim], dtype: this.dtype }));
    this.sinT = keep(tensor(s, { shape: [rows, this.dim], dtype: this.dtype }));
    this.rows = rows;
  }

  /** cos and sin [B, 1, T, D] for integer positions [B or 1, T]. */
  lookup(positions: Tensor): { cos: Tensor; sin: Tensor } {
    const flat = positions.to("float64").data() as Float64Array;
    let max = 0;
    for (const p of flat) max = Math.max(max, p);
    if (max >= this.rows) this.grow(max + 1);
    // the tables live on the cpu; the looked-up rows follow the positions to their device
    const device = positions.device;
    const pos = device === "cpu" ? positions : positions.to("cpu");
    return noGrad(() => {
      const pick = (table: Tensor) => {
        const rows = embedding(pos, table).unsqueeze(1);
        return device === "cpu" ? rows : rows.to(device);
      };
      return { cos: pick(this.cosT as Tensor), sin: pick(this.sinT as Tensor) };
    });
  }

  dispose(): void {
    this.cosT?.dispose();
    this.sinT?.dispose();
    this.cosT = this.sinT = null;
    this.rows = 0;
  }
}

/** x·cos + rotate_half(x)·sin for x [B, H, T, D] and cos, sin [B, 1, T, D]: the fused native op on the CPU, composed elsewhere. */
export function applyRotary(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  // the tables follow x's dtype (as transformers casts cos/sin), so a bfloat16 model stays bfloat16
  if (cos.dtype !== x.dtype) [cos, sin] = [cos.to(x.dtype), sin.to(x.dtype)];
  if (x.device === "cpu" && cos.device === "cpu") return rotary(x, cos, sin);
  const d = x.shape[x.ndim - 1];
  const x1 = x.slice(-1, 0, d / 2);
  const x2 = x.slice(-1, d / 2, d);
  return x.mul(cos).add(cat([x2.neg(), x1], -1).mul(sin));
}
