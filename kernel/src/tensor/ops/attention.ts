// Scaled-dot-product attention, fused (native/src/tensor/attention.cc):
// softmax(q k^T * scale + mask) v over [..., L, D] tensors, causal by default.
// The causal mask is aligned to the end of the keys (query i sees keys
// j <= i + Lk - Lq): for Lq == Lk it is torch's is_causal lower triangle, and a
// query of length 1 attends to every cached key — the KV-cache path of
// generation: pass the cached keys and values with the new query.
import { computeType, isFloat } from "../dtype.js";
import { kernelsFor } from "../device.js";
import { Tensor, asContiguous, castRaw, fmtShape, numelOf } from "../tensor.js";
import { allDevices, defineOp } from "./registry.js";

export interface AttentionOptions {
  /** Additive mask broadcastable to [..., Lq, Lk] (e.g. -Infinity where attention is forbidden). */
  mask?: Tensor | null;
  /** Causal masking aligned to the last key (default true). */
  causal?: boolean;
  /** Score scale (default 1 / sqrt(D)). */
  scale?: number;
}

interface AttnAttrs {
  causal: boolean;
  scale: number;
  hasMask: boolean;
}

interface Geometry { batch: number; lq: number; lk: number; d: number; dv: number }

function geometry(q: Tensor, k: Tensor, v: Tensor): Geometry {
  return {
    batch: numelOf(q.shape.slice(0, -2)), lq: q.shape[q.ndim - 2], lk: k.shape[k.ndim - 2], d: q.shape[q.ndim - 1], dv: v.shape[v.ndim - 1],
  };
}

/** Contiguous compute-type copies of q, k, v and the mask expanded to [..., Lq, Lk]. */
function operands(inputs: readonly Tensor[], a: AttnAttrs): Tensor[] {
  const [q, k, v] = inputs;
  const ct = computeType(q.dtype);
  const out = [q, k, v].map((t) => asContiguous(t, ct));
  if (a.hasMask) {
    const full = [...q.shape.slice(0, -1), k.shape[k.ndim - 2]];
    const m = inputs[3];
    const lead = full.length - m.ndim;
    const strides = full.map((s, i) => (i < lead || m.shape[i - lead] === 1 ? 0 : m.strides[i - lead]));
    out.push(castRaw(m.view_(full, strides, m.offset), ct));
  }
  return out;
}

const attentionOp = defineOp<AttnAttrs>({
  name: "scaled_dot_product_attention",
  infer: (inputs, a) => {
    const [q, k, v] = inputs;
    const names = `query ${fmtShape(q.shape)}, key ${fmtShape(k.shape)}, value ${fmtShape(v.shape)}`;
    if (!isFloat(q.dtype) || k.dtype !== q.dtype || v.dtype !== q.dtype) {
      throw new TypeError(`attention: ${names}: query, key and value must share one floating-point dtype, got ${q.dtype}, ${k.dtype}, ${v.dtype}`);
    }
    if (q.ndim < 2 || k.ndim !== q.ndim || v.ndim !== q.ndim) throw new RangeError(`attention: ${names}: all three need the same rank (at least 2: [..., L, D])`);
    const qb = q.shape.slice(0, -2).join(","), kb = k.shape.slice(0, -2).join(","), vb = v.shape.slice(0, -2).join(",");
    if (qb !== kb || qb !== vb) throw new RangeError(`attention: ${names}: batch dimensions differ`);
    if (q.shape[q.ndim - 1] !== k.shape[k.ndim - 1]) throw new RangeError(`attention: ${names}: query and key feature sizes ${q.shape[q.ndim - 1]} and ${k.shape[k.ndim - 1]} differ`);
    if (k.shape[k.ndim - 2] !== v.shape[v.ndim - 2]) throw new RangeError(`attention: ${names}: key and value lengths ${k.shape[k.ndim - 2]} and ${v.shape[v.ndim - 2]} differ`);
    if (a.hasMask) {
      const m = inputs[3];
      const full = [...q.shape.slice(0, -1), k.shape[k.ndim - 2]];
      const lead = full.length - m.ndim;
      if (m.dtype !== q.dtype) throw new TypeError(`attention: mask ${fmtShape(m.shape)} is ${m.dtype} but query ${fmtShape(q.shape)} is ${q.dtype}; an additive mask needs the query's dtype`);
      if (lead < 0 || m.shape.some((s, i) => s !== 1 && s !== full[i + lead])) {
        throw new RangeError(`attention: mask ${fmtShape(m.shape)} does not broadcast to the scores ${fmtShape(full)} of ${names}`);
      }
    }
    return { shape: [...q.shape.slice(0, -1), v.shape[v.ndim - 1]], dtype: q.dtype };
  },
  kernels: allDevices(
    (inputs, a, spec) => {
      const ops = operands(inputs, a);
      const [q, k, v] = ops;
      const m = a.hasMask ? ops[3] : null;
      const g = geometry(q, k, v);
      const out = Tensor.empty(spec.shape, q.dtype, false, q.device);
      kernelsFor(q.device).tensorAttention(q.storage.native, q.offset, k.storage.native, k.offset, v.storage.native, v.offset, m?.storage.native ?? null, m?.offset ?? 0,
        out.storage.native, 0, g.batch, g.lq, g.lk, g.d, g.dv, a.scale, a.causal);
      ops.forEach((t, i) => { if (t !== inputs[i]) t.dispose(); });
      if (out.dtype === spec.dtype) return out;
      const res = castRaw(out, spec.dtype);
      out.dispose();
      return res;
    },
  ),
  backward: (grad, { inputs, attrs: a }) => {
    const ops = operands(inputs, a);
    const [q, k, v] = ops;
    const m = a.hasMask ? ops[3] : null;
    const g = geometry(q, k, v);
    const go = asContiguous(grad, q.dtype);
    const gq = Tensor.empty(q.shape, q.dtype, false, q.device);
    const gk = Tensor.empty(k.shape, q.dtype, false, q.device);
    const gv = Tensor.empty(v.shape, q.dtype, false, q.device);
    kernelsFor(q.device).tensorAttentionBackward(q.storage.native, q.offset, k.storage.native, k.offset, v.storage.native, v.offset, m?.storage.native ?? null, m?.offset ?? 0,
      go.storage.native, go.offset, gq.storage.native, gk.storage.native, gv.storage.native, g.batch, g.lq, g.lk, g.d, g.dv, a.scale, a.causal);
    const res: (Tensor | null)[] = [gq, gk, gv];
    if (a.hasMask) res.push(null);
    return res;
  },
  savesOutput: false,
});

/** softmax(q k^T * scale + mask) v, causal by default (as torch's scaled_dot_product_attention with is_causal=True when Lq == Lk). */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions = {}): Tensor {
  const d = q.shape[q.ndim - 1] ?? 1;
  const scale = options.scale ?? 1 / Math.sqrt(d);
  const inputs = [q, k, v];
  if (options.mask) inputs.push(options.mask);
  return attentionOp(inputs, { causal: options.causal ?? true, scale, hasMask: !!options.mask });
}
