// rotary: x·cos + rotate_half(x)·sin (Hugging Face Llama's rotary position
// embedding) in one native pass each way (native/src/tensor/rotary.cc), for
// x [B, H, T, D] and tables cos, sin [B or 1, 1, T, D]. The tables get no
// gradient (they are functions of the positions).
import { computeType, isFloat } from "../dtype.js";
import type { NativeStorage } from "../native.js";
import { Tensor, asContiguous, castRaw, fmtShape } from "../tensor.js";
import { allDevices, defineOp } from "./registry.js";
import { kernelsFor } from "../device.js";

type S = NativeStorage;
/** @internal the rotary kernel (each device's set in device.ts has it). */
export interface NativeRotary {
  tensorRotary(backward: boolean, x: S, xOff: number, cos: S, cosOff: number, sin: S, sinOff: number, out: S, outOff: number,
    batch: number, heads: number, time: number, dim: number, tableBatch: number): void;
}

/** Runs the kernel over contiguous compute-type copies; returns a tensor of dtype. */
function run(backward: boolean, x0: Tensor, cos0: Tensor, sin0: Tensor, dtype: Tensor["dtype"]): Tensor {
  const ct = computeType(dtype);
  const [x, cos, sin] = [x0, cos0, sin0].map((t) => asContiguous(t, ct));
  const [B, H, T, D] = x.shape;
  const out = Tensor.empty(x.shape, ct, false, x.device);
  kernelsFor(x.device).tensorRotary(backward, x.storage.native, x.offset, cos.storage.native, cos.offset, sin.storage.native, sin.offset, out.storage.native, 0,
    B, H, T, D, cos.shape[0]);
  for (const [t, orig] of [[x, x0], [cos, cos0], [sin, sin0]] as const) if (t !== orig) t.dispose();
  if (ct === dtype) return out;
  const res = castRaw(out, dtype);
  out.dispose();
  return res;
}

const rotaryOp = defineOp<Record<string, never>>({
  name: "rotary",
  infer: ([x, cos, sin]) => {
    const names = `x ${fmtShape(x.shape)}, cos ${fmtShape(cos.shape)}, sin ${fmtShape(sin.shape)}`;
    if (!isFloat(x.dtype) || cos.dtype !== x.dtype || sin.dtype !== x.dtype) throw new TypeError(`rotary: ${names}: x, cos and sin need one floating-point dtype`);
    if (x.ndim !== 4 || x.shape[3] % 2 !== 0) throw new RangeError(`rotary: ${names}: x must be [batch, heads, time, head_dim] with an even head_dim`);
    const [B, , T, D] = x.shape;
    for (const t of [cos, sin]) {
      if (t.ndim !== 4 || (t.shape[0] !== 1 && t.shape[0] !== B) || t.shape[1] !== 1 || t.shape[2] !== T || t.shape[3] !== D) {
        throw new RangeError(`rotary: ${names}: cos and sin must be [1 or ${B}, 1, ${T}, ${D}]`);
      }
    }
    return { shape: x.shape, dtype: x.dtype };
  },
  kernels: allDevices(([x, cos, sin], _a, spec) => run(false, x, cos, sin, spec.dtype)),
  backward: (g, { inputs: [x, cos, sin] }) => [run(true, g, cos, sin, x.dtype), null, null],
  savesOutput: false,
});

/** x·cos + rotate_half(x)·sin with rotate_half([x1, x2]) = [-x2, x1] over the halves of the last dim. */
export function rotary(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  return rotaryOp([x, cos, sin], {});
}
