// matmul and batched matmul (with broadcast batch dims), on the native GEMM.
// Transposed operands are passed as transpose flags, not copied.
import { computeType, isFloat } from "../dtype.js";
import { kernelsFor } from "../device.js";
import { Tensor, castRaw, fmtShape, numelOf } from "../tensor.js";
import { allDevices, defineOp } from "./registry.js";
import { sumToShape } from "./elementwise.js";

function batchShape(a: readonly number[], b: readonly number[], as: readonly number[], bs: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new RangeError(`matmul: ${fmtShape(as)} @ ${fmtShape(bs)}: batch dimensions ${fmtShape(a)} and ${fmtShape(b)} do not broadcast`);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** How GEMM reads the last two dims of t: transposed or not, and the leading dimension; null if it needs a copy. */
function matrixLayout(t: Tensor): { trans: boolean; ld: number } | null {
  const r = t.shape[t.ndim - 2];
  const c = t.shape[t.ndim - 1];
  const sr = t.strides[t.ndim - 2];
  const sc = t.strides[t.ndim - 1];
  if ((sc === 1 || c === 1) && sr >= Math.max(1, c)) return { trans: false, ld: Math.max(sr, c, 1) };
  if ((sr === 1 || r === 1) && sc >= Math.max(1, r)) return { trans: true, ld: Math.max(sc, r, 1) };
  return null;
}

/** A single stride that walks t's batch dims (after expanding to batch), or null. */
function batchStride(t: Tensor, batch: readonly number[]): number | null {
  const lead = batch.length - (t.ndim - 2);
  const strides = batch.map((s, i) => (i < lead || t.shape[i - lead] === 1 ? 0 : t.strides[i - lead]));
  const idx = batch.map((_, i) => i).filter((i) => batch[i] !== 1);
  if (idx.length === 0) return 0;
  for (let k = 0; k + 1 < idx.length; k++) {
    if (strides[idx[k]] !== strides[idx[k + 1]] * batch[idx[k + 1]]) return null;
  }
  return strides[idx[idx.length - 1]];
}

function operand(t: Tensor, batch: readonly number[], ct: "float32" | "float64", temps: Tensor[]): { t: Tensor; trans: boolean; ld: number; bs: number } {
  let src = t;
  if (src.dtype !== ct) {
    src = castRaw(src, ct);
    temps.push(src);
  }
  let layout = matrixLayout(src);
  let bs = batchStride(src, batch);
  if (layout === null || bs === null) {
    const full = [...batch, ...src.shape.slice(-2)];
    const lead = full.length - src.ndim;
    const expanded = src.view_(full, full.map((s, i) => (i < lead || src.shape[i - lead] !== s ? 0 : src.strides[i - lead])), src.offset);
    src = castRaw(expanded, ct);
    expanded.dispose();
    temps.push(src);
    layout = matrixLayout(src) as { trans: boolean; ld: number };
    bs = numelOf(batch) > 1 ? src.shape[src.ndim - 2] * src.shape[src.ndim - 1] : 0;
  }
  return { t: src, trans: layout.trans, ld: layout.ld, bs };
}

const matmulOp = defineOp<Record<string, never>>({
  name: "matmul",
  infer: ([a, b]) => {
    if (!isFloat(a.dtype) || !isFloat(b.dtype)) {
      throw new TypeError(`matmul: ${a.dtype} @ ${b.dtype}: needs floating-point tensors; cast with .to("float32")`);
    }
    if (a.dtype !== b.dtype) {
      throw new TypeError(`matmul: ${fmtShape(a.shape)} ${a.dtype} @ ${fmtShape(b.shape)} ${b.dtype}: dtypes differ; cast one with .to("${a.dtype}")`);
    }
    const k1 = a.shape[a.ndim - 1];
    const k2 = b.shape[b.ndim - 2];
    if (k1 !== k2) throw new RangeError(`matmul: ${fmtShape(a.shape)} @ ${fmtShape(b.shape)}: inner dimensions ${k1} and ${k2} differ`);
    const batch = batchShape(a.shape.slice(0, -2), b.shape.slice(0, -2), a.shape, b.shape);
    return { shape: [...batch, a.shape[a.ndim - 2], b.shape[b.ndim - 1]], dtype: a.dtype };
  },
  kernels: allDevices(
    ([a, b], _attrs, out) => {
      const ct = computeType(out.dtype);
      const batch = out.shape.slice(0, -2);
      const temps: Tensor[] = [];
      const A = operand(a, batch, ct, temps);
      const B = operand(b, batch, ct, temps);
      const m = a.shape[a.ndim - 2];
      const k = a.shape[a.ndim - 1];
      const n = b.shape[b.ndim - 1];
      const res = Tensor.empty(out.shape, ct, false, a.device);
      kernelsFor(a.device).tensorMatmul(A.t.storage.native, A.t.offset, A.bs, A.ld, A.trans, B.t.storage.native, B.t.offset, B.bs, B.ld, B.trans,
        res.storage.native, 0, numelOf(batch), m, n, k);
      for (const t of temps) t.dispose();
      if (ct === out.dtype) return res;
      const cast = castRaw(res, out.dtype);
      res.dispose();
      return cast;
    },
  ),
  backward: (g, { inputs: [a, b], needs }) => [
    needs[0] ? sumToShape(g.matmul(b.mT), a.shape) : null,
    needs[1] ? sumToShape(a.mT.matmul(g), b.shape) : null,
  ],
  savesOutput: false,
});

/** Matrix product with PyTorch's rules: 1-D operands are vectors, leading dims are broadcast batch dims. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (!(b instanceof Tensor)) throw new TypeError("matmul: the second operand must be a Tensor");
  if (a.ndim === 0 || b.ndim === 0) {
    throw new RangeError(`matmul: ${fmtShape(a.shape)} @ ${fmtShape(b.shape)}: both operands need at least one dimension`);
  }
  if (a.ndim >= 2 && b.ndim >= 2) return matmulOp([a, b], {});
  if (a.ndim === 1 && b.ndim === 1 && a.shape[0] !== b.shape[0]) {
    throw new RangeError(`matmul: ${fmtShape(a.shape)} @ ${fmtShape(b.shape)}: inner dimensions ${a.shape[0]} and ${b.shape[0]} differ`);
  }
  const a2 = a.ndim === 1 ? a.unsqueeze(0) : a;
  const b2 = b.ndim === 1 ? b.unsqueeze(1) : b;
  let r: Tensor;
  try {
    r = matmulOp([a2, b2], {});
  } catch (e) {
    if (e instanceof RangeError) throw new RangeError(e.message.replace(`${fmtShape(a2.shape)} @ ${fmtShape(b2.shape)}`, `${fmtShape(a.shape)} @ ${fmtShape(b.shape)}`));
    throw e;
  }
  if (a.ndim === 1) r = r.squeeze(-2);
  if (b.ndim === 1) r = r.squeeze(-1);
  return r;
}
