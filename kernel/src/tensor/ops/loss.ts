// cross_entropy: fused log-softmax + negative log-likelihood over integer class
// targets, with ignore_index, label smoothing and none/mean/sum reductions,
// matching torch.nn.functional.cross_entropy. Input [N, C] with target [N],
// [C] with a 0-d target, or [N, C, d1, ...] with target [N, d1, ...]; the class
// dim is moved last for the native row kernel (native/src/tensor/loss.cc).
import { computeType, isFloat } from "../dtype.js";
import { kernelsFor } from "../device.js";
import { Tensor, asContiguous, castRaw, fmtShape } from "../tensor.js";
import { allDevices, defineOp } from "./registry.js";

export type Reduction = "none" | "mean" | "sum";
const REDUCTION: Record<Reduction, number> = { none: 0, mean: 1, sum: 2 };

export interface CrossEntropyOptions {
  /** Targets equal to this contribute nothing (default -100). */
  ignoreIndex?: number;
  /** Mixes the target with the uniform distribution: (1 - e) one-hot + e / C (default 0). */
  labelSmoothing?: number;
  reduction?: Reduction;
}

interface CEAttrs {
  ignoreIndex: number;
  labelSmoothing: number;
  reduction: Reduction;
}

function classDim(x: Tensor): number {
  return x.ndim === 1 ? 0 : 1;
}

/** x with the class dim moved last, as a contiguous compute-type tensor. */
function classLast(x: Tensor, ct: "float32" | "float64"): Tensor {
  const cd = classDim(x);
  if (cd === x.ndim - 1) return asContiguous(x, ct);
  const perm = x.shape.map((_, i) => i).filter((i) => i !== cd);
  perm.push(cd);
  return castRaw(x.view_(perm.map((d) => x.shape[d]), perm.map((d) => x.strides[d]), x.offset), ct);
}

const ceOp = defineOp<CEAttrs>({
  name: "cross_entropy",
  infer: ([x, t], a) => {
    const pair = `input ${fmtShape(x.shape)} ${x.dtype}, target ${fmtShape(t.shape)} ${t.dtype}`;
    if (!isFloat(x.dtype)) throw new TypeError(`cross_entropy: ${pair}: input must be floating-point logits`);
    if (t.dtype !== "int32" && t.dtype !== "int64") throw new TypeError(`cross_entropy: ${pair}: target must hold int32 or int64 class indices (cast with .to("int64"))`);
    if (x.ndim === 0) throw new RangeError(`cross_entropy: ${pair}: input needs a class dimension`);
    const cd = classDim(x);
    const want = x.shape.filter((_, i) => i !== cd);
    if (t.shape.join(",") !== want.join(",")) {
      throw new RangeError(`cross_entropy: ${pair}: target must have shape ${fmtShape(want)} (the input's shape without the class dim ${cd})`);
    }
    if (!(a.labelSmoothing >= 0 && a.labelSmoothing <= 1)) throw new RangeError(`cross_entropy: labelSmoothing must be in [0, 1], got ${a.labelSmoothing}`);
    if (!(a.reduction in REDUCTION)) throw new RangeError(`cross_entropy: reduction must be "none", "mean" or "sum", got ${JSON.stringify(a.reduction)}`);
    return { shape: a.reduction === "none" ? want : [], dtype: x.dtype };
  },
  kernels: allDevices(
    ([x0, t0], a, spec) => {
      const ct = computeType(x0.dtype);
      const x = classLast(x0, ct);
      const t = asContiguous(t0);
      const n = x0.shape[classDim(x0)];
      const rows = n === 0 ? 0 : x.numel / n;
      const out = Tensor.empty(spec.shape, ct, false, x.device);
      try {
        kernelsFor(x.device).tensorCrossEntropy(x.storage.native, x.offset, t.storage.native, t.offset, out.storage.native, 0, rows, n,
          a.ignoreIndex, a.labelSmoothing, REDUCTION[a.reduction]);
      } catch (e) {
        out.dispose();
        throw e;
      } finally {
        if (x !== x0) x.dispose();
        if (t !== t0) t.dispose();
      }
      if (ct === spec.dtype) return out;
      const res = castRaw(out, spec.dtype);
      out.dispose();
      return res;
    },
  ),
  backward: (g, { inputs: [x0, t0], attrs: a }) => {
    const ct = computeType(x0.dtype);
    const x = classLast(x0, ct);
    const t = asContiguous(t0);
    const gy = asContiguous(g, ct);
    const cd = classDim(x0);
    const n = x0.shape[cd];
    const rows = n === 0 ? 0 : x.numel / n;
    const gx = Tensor.empty(x.shape, ct, false, x.device);
    kernelsFor(x.device).tensorCrossEntropyBackward(x.storage.native, x.offset, t.storage.native, t.offset, gy.storage.native, gy.offset,
      gx.storage.native, 0, rows, n, a.ignoreIndex, a.labelSmoothing, REDUCTION[a.reduction]);
    if (cd === x0.ndim - 1) return [gx, null];
    // gx is [N, d1, ..., C]: view it back as [N, C, d1, ...]
    const nd = x0.ndim;
    const perm = [0, nd - 1, ...Array.from({ length: nd - 2 }, (_, i) => i + 1)];
    return [gx.view_(perm.map((d) => gx.shape[d]), perm.map((d) => gx.strides[d]), 0), null];
  },
  savesOutput: false,
});

/** Cross-entropy between logits (class dim 1, or 0 for a 1-D input) and integer class targets, as torch.nn.functional.cross_entropy. */
export function crossEntropy(input: Tensor, target: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const ignoreIndex = options.ignoreIndex ?? -100;
  if (!Number.isInteger(ignoreIndex)) throw new TypeError(`cross_entropy: ignoreIndex must be an integer, got ${ignoreIndex}`);
  return ceOp([input, target], { ignoreIndex, labelSmoothing: options.labelSmoothing ?? 0, reduction: options.reduction ?? "mean" });
}
