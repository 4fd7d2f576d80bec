// linear: y = x · op(W) + b over x [..., in], fused on the GEMM
// (native/src/tensor/linear.cc). W is stored [out, in] (torch.nn.Linear,
// layout "out_in") or [in, out] (GPT-2's Conv1D, "in_out"). One declaration
// replaces matmul + broadcast add: the bias rides in the GEMM's accumulator,
// the weight gradient is one GEMM straight into W's layout, and the bias
// gradient is a column sum rather than a generic reduction.
import { computeType, isFloat } from "../dtype.js";
import type { NativeStorage } from "../native.js";
import { Tensor, asContiguous, castRaw, fmtShape } from "../tensor.js";
import { allDevices, defineOp } from "./registry.js";
import { kernelsFor } from "../device.js";

type S = NativeStorage;
/** @internal the linear kernels (each device's set in device.ts has them). */
export interface NativeLinear {
  tensorLinear(x: S, xOff: number, w: S, wOff: number, outIn: boolean, b: S | null, bOff: number, out: S, outOff: number,
    rows: number, nin: number, nout: number): void;
  tensorLinearBackward(x: S, xOff: number, w: S, wOff: number, outIn: boolean, gy: S, gyOff: number, gx: S | null, gw: S | null, gb: S | null,
    rows: number, nin: number, nout: number): void;
}

export type LinearLayout = "out_in" | "in_out";
interface LinearAttrs { outIn: boolean; hasBias: boolean }

function sizes(x: Tensor, w: Tensor, outIn: boolean): { nin: number; nout: number; rows: number } {
  const nin = x.shape[x.ndim - 1];
  const nout = outIn ? w.shape[0] : w.shape[1];
  return { nin, nout, rows: nin === 0 ? x.numel : x.numel / nin };
}

const linearOp = defineOp<LinearAttrs>({
  name: "linear",
  infer: (inputs, a) => {
    const [x, w] = inputs;
    const names = `input ${fmtShape(x.shape)} ${x.dtype}, weight ${fmtShape(w.shape)} ${w.dtype}`;
    if (!isFloat(x.dtype) || w.dtype !== x.dtype) throw new TypeError(`linear: ${names}: input and weight need one floating-point dtype`);
    if (x.ndim < 1 || w.ndim !== 2) throw new RangeError(`linear: ${names}: input needs [..., in] and weight 2 dims`);
    const nin = a.outIn ? w.shape[1] : w.shape[0];
    if (x.shape[x.ndim - 1] !== nin) {
      throw new RangeError(`linear: ${names}: input ends in ${x.shape[x.ndim - 1]} features but the weight (${a.outIn ? "[out, in]" : "[in, out]"}) takes ${nin}`);
    }
    const nout = a.outIn ? w.shape[0] : w.shape[1];
    if (a.hasBias) {
      const b = inputs[2];
      if (b.dtype !== x.dtype || b.ndim !== 1 || b.shape[0] !== nout) throw new RangeError(`linear: bias ${fmtShape(b.shape)} ${b.dtype} must be [${nout}] ${x.dtype} for ${names}`);
    }
    return { shape: [...x.shape.slice(0, -1), nout], dtype: x.dtype };
  },
  kernels: allDevices(
    (inputs, a, spec) => {
      const ct = computeType(spec.dtype);
      const ops = inputs.map((t) => asContiguous(t, ct));
      const [x, w] = ops;
      const b = a.hasBias ? ops[2] : null;
      const { nin, nout, rows } = sizes(x, w, a.outIn);
      const out = Tensor.empty(spec.shape, ct, false, x.device);
      kernelsFor(x.device).tensorLinear(x.storage.native, x.offset, w.storage.native, w.offset, a.outIn, b?.storage.native ?? null, b?.offset ?? 0,
        out.storage.native, 0, rows, nin, nout);
      ops.forEach((t, i) => { if (t !== inputs[i]) t.dispose(); });
      if (ct === spec.dtype) return out;
      const res = castRaw(out, spec.dtype);
      out.dispose();
      return res;
    },
  ),
  backward: (g, { inputs, attrs: a, needs }) => {
    const ct = computeType(inputs[0].dtype);
    const [x, w] = [inputs[0], inputs[1]].map((t) => asContiguous(t, ct));
    const gy = asContiguous(g, ct);
    const { nin, nout, rows } = sizes(x, w, a.outIn);
    const gx = needs[0] ? Tensor.empty(inputs[0].shape, ct, false, x.device) : null;
    const gw = needs[1] ? Tensor.empty(inputs[1].shape, ct, false, x.device) : null;
    const gb = a.hasBias && needs[2] ? Tensor.empty([nout], ct, false, x.device) : null;
    kernelsFor(x.device).tensorLinearBackward(x.storage.native, x.offset, w.storage.native, w.offset, a.outIn, gy.storage.native, gy.offset,
      gx?.storage.native ?? null, gw?.storage.native ?? null, gb?.storage.native ?? null, rows, nin, nout);
    if (x !== inputs[0]) x.dispose();
    if (w !== inputs[1]) w.dispose();
    if (gy !== g) gy.dispose();
    return a.hasBias ? [gx, gw, gb] : [gx, gw];
  },
  savesOutput: false,
});

/** x [..., in] · Wᵀ + b for W [out, in] (layout "out_in", torch.nn.functional.linear), or x · W + b for W [in, out] ("in_out"). */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null, layout: LinearLayout = "out_in"): Tensor {
  const inputs = bias === null ? [x, weight] : [x, weight, bias];
  return linearOp(inputs, { outIn: layout === "out_in", hasBias: bias !== null });
}
