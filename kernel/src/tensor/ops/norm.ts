// layer_norm and rms_norm over the trailing dims given by normalizedShape, with
// optional elementwise weight (and bias, for layer_norm). One fused native kernel
// each way (native/src/tensor/norm.cc). When recorded for autograd the forward
// also keeps each row's (mean, rstd) as a small float64 [rows, 2] tensor (as
// PyTorch does), so the backward reads them instead of recomputing them from x.
import { computeType, isFloat, type DType } from "../dtype.js";
import { kernelsFor } from "../device.js";
import { Tensor, asContiguous, castRaw, fmtShape, numelOf } from "../tensor.js";
import { allDevices, defineOp } from "./registry.js";

interface NormAttrs {
  rms: boolean;
  normalizedShape: readonly number[];
  eps: number;
  hasWeight: boolean;
  hasBias: boolean;
}

function opName(rms: boolean): string {
  return rms ? "rms_norm" : "layer_norm";
}

function inferNorm(inputs: readonly Tensor[], a: NormAttrs): { shape: readonly number[]; dtype: DType } {
  const name = opName(a.rms);
  const [x] = inputs;
  const ns = a.normalizedShape;
  if (!isFloat(x.dtype)) throw new TypeError(`${name}: input ${fmtShape(x.shape)} is ${x.dtype}; it needs a floating-point tensor (cast it with .to("float32"))`);
  const tail = x.shape.slice(x.ndim - ns.length);
  if (ns.length === 0 || ns.length > x.ndim || tail.join(",") !== ns.join(",")) {
    throw new RangeError(`${name}: input ${fmtShape(x.shape)} vs normalized_shape ${fmtShape(ns)}: the input's trailing dimensions must equal normalized_shape`);
  }
  const params: [string, Tensor][] = [];
  let k = 1;
  if (a.hasWeight) params.push(["weight", inputs[k++]]);
  if (a.hasBias) params.push(["bias", inputs[k++]]);
  for (const [pname, p] of params) {
    if (p.shape.join(",") !== ns.join(",")) {
      throw new RangeError(`${name}: ${pname} ${fmtShape(p.shape)} vs input ${fmtShape(x.shape)}: ${pname} must have the normalized shape ${fmtShape(ns)}`);
    }
    if (p.dtype !== x.dtype) {
      throw new TypeError(`${name}: ${pname} is ${p.dtype} but input ${fmtShape(x.shape)} is ${x.dtype}; cast one with .to("${x.dtype}")`);
    }
  }
  if (!(a.eps >= 0)) throw new RangeError(`${name}: eps must be a non-negative number, got ${a.eps}`);
  return { shape: x.shape, dtype: x.dtype };
}

const defineNorm = (rms: boolean) => defineOp<NormAttrs>({
  name: opName(rms),
  infer: inferNorm,
  kernels: allDevices(
    (inputs, a, spec, ctx) => {
      const ct = computeType(spec.dtype);
      const srcs = inputs.map((t) => asContiguous(t, ct));
      const x = srcs[0];
      const w = a.hasWeight ? srcs[1] : null;
      const b = a.hasBias ? srcs[a.hasWeight ? 2 : 1] : null;
      const n = numelOf(a.normalizedShape);
      const rows = n === 0 ? 0 : x.numel / n;
      const out = Tensor.empty(x.shape, ct, false, x.device);
      const stats = ctx.recording ? Tensor.empty([rows, 2], "float64", false, x.device) : null;
      kernelsFor(x.device).tensorNorm(a.rms, x.storage.native, x.offset, w?.storage.native ?? null, w?.offset ?? 0,
        b?.storage.native ?? null, b?.offset ?? 0, out.storage.native, 0, rows, n, a.eps, stats?.storage.native ?? null, 0);
      if (stats) ctx.save(stats);
      srcs.forEach((s, i) => { if (s !== inputs[i]) s.dispose(); });
      if (ct === spec.dtype) return out;
      const res = castRaw(out, spec.dtype);
      out.dispose();
      return res;
    },
  ),
  backward: (g, { inputs, attrs: a, needs, extra }) => {
    const x0 = inputs[0];
    const ct = computeType(x0.dtype);
    const x = asContiguous(x0, ct);
    const w = a.hasWeight ? asContiguous(inputs[1], ct) : null;
    const gy = asContiguous(g, ct);
    const n = numelOf(a.normalizedShape);
    const rows = n === 0 ? 0 : x.numel / n;
    const gx = needs[0] ? Tensor.empty(x.shape, ct, false, x.device) : null;
    const gw = a.hasWeight && needs[1] ? Tensor.empty(a.normalizedShape, ct, false, x.device) : null;
    const bi = a.hasWeight ? 2 : 1;
    const gb = a.hasBias && needs[bi] ? Tensor.empty(a.normalizedShape, ct, false, x.device) : null;
    kernelsFor(x.device).tensorNormBackward(a.rms, x.storage.native, x.offset, w?.storage.native ?? null, w?.offset ?? 0,
      gy.storage.native, gy.offset, gx?.storage.native ?? null, 0, gw?.storage.native ?? null, 0,
      gb?.storage.native ?? null, 0, rows, n, a.eps, extra[0]?.storage.native ?? null, extra[0]?.offset ?? 0);
    if (x !== x0) x.dispose();
    if (w !== null && w !== inputs[1]) w.dispose();
    if (gy !== g) gy.dispose();
    const res: (Tensor | null)[] = [gx];
    if (a.hasWeight) res.push(gw);
    if (a.hasBias) res.push(gb);
    return res;
  },
  savesOutput: false,
});
const layerNormOp = defineNorm(false);
const rmsNormOp = defineNorm(true);

function normShape(normalizedShape: number | readonly number[]): number[] {
  return typeof normalizedShape === "number" ? [normalizedShape] : [...normalizedShape];
}

/** Layer normalisation over the trailing dims normalizedShape: (x - mean) / sqrt(var + eps) * weight + bias (as torch.nn.functional.layer_norm). */
export function layerNorm(x: Tensor, normalizedShape: number | readonly number[], weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  const inputs = [x];
  if (weight) inputs.push(weight);
  if (bias) inputs.push(bias);
  return layerNormOp(inputs, { rms: false, normalizedShape: normShape(normalizedShape), eps, hasWeight: !!weight, hasBias: !!bias });
}

const FINFO_EPS: Record<string, number> = { float32: 1.1920928955078125e-7, float64: 2.220446049250313e-16, bfloat16: 0.0078125, float16: 0.0009765625 };

/** RMS normalisation over the trailing dims normalizedShape: x / sqrt(mean(x^2) + eps) * weight (eps defaults to the dtype's machine epsilon, as in torch.nn.functional.rms_norm). */
export function rmsNorm(x: Tensor, normalizedShape: number | readonly number[], weight?: Tensor | null, eps?: number): Tensor {
  const inputs = [x];
  if (weight) inputs.push(weight);
  return rmsNormOp(inputs, { rms: true, normalizedShape: normShape(normalizedShape), eps: eps ?? FINFO_EPS[x.dtype] ?? 0, hasWeight: !!weight, hasBias: false });
}
