// dropout: zeroes each element with probability p and scales the rest by
// 1 / (1 - p) (inverted dropout), in training mode only. The mask comes from a
// seeded Generator (the global one unless given), so a seed reproduces it; it is
// an input of the op, so the backward multiplies by the very same mask.
import { computeType, isFloat } from "../dtype.js";
import { BINARY } from "../native.js";
import { kernelsFor } from "../device.js";
import { rand, type Generator } from "../creation.js";
import { Tensor, asContiguous, castRaw, fmtShape } from "../tensor.js";
import { allDevices, defineOp } from "./registry.js";

export interface DropoutOptions {
  /** Training mode (default true); in eval mode dropout returns its input. */
  training?: boolean;
  generator?: Generator;
}

/** a * b for two same-shape tensors, in b's (compute) dtype, then cast to dtype. */
function times(a0: Tensor, b: Tensor, dtype: Tensor["dtype"]): Tensor {
  const a = asContiguous(a0, b.dtype);
  const out = Tensor.empty(b.shape, b.dtype, false, b.device);
  kernelsFor(b.device).tensorBinary(BINARY.mul, a.storage.native, a.offset, a.strides, b.storage.native, b.offset, b.strides, out.storage.native, 0, b.shape);
  if (a !== a0) a.dispose();
  if (out.dtype === dtype) return out;
  const res = castRaw(out, dtype);
  out.dispose();
  return res;
}

const dropoutOp = defineOp<Record<string, never>>({
  name: "dropout",
  infer: ([x, mask]) => {
    if (!isFloat(x.dtype)) throw new TypeError(`dropout: input ${fmtShape(x.shape)} is ${x.dtype}; it needs a floating-point tensor`);
    if (mask.shape.join(",") !== x.shape.join(",")) throw new RangeError(`dropout: mask ${fmtShape(mask.shape)} vs input ${fmtShape(x.shape)}: shapes differ`);
    return { shape: x.shape, dtype: x.dtype };
  },
  kernels: allDevices(([x, mask], _a, spec) => times(x, mask, spec.dtype)),
  backward: (g, { inputs: [x, mask], needs }) => [needs[0] ? times(g, mask, x.dtype) : null, null],
  savesOutput: false,
});

/** Inverted dropout with drop probability p (as torch.nn.functional.dropout). */
export function dropout(x: Tensor, p = 0.5, options: DropoutOptions = {}): Tensor {
  if (typeof p !== "number" || !(p >= 0 && p <= 1)) throw new RangeError(`dropout: probability p must be in [0, 1], got ${p}`);
  if (options.training === false || p === 0) return x;
  if (!isFloat(x.dtype)) throw new TypeError(`dropout: input ${fmtShape(x.shape)} is ${x.dtype}; it needs a floating-point tensor`);
  const mask = rand(x.shape, { dtype: computeType(x.dtype), generator: options.generator, device: x.device });
  kernelsFor(mask.device).tensorDropoutMask(mask.storage.native, mask.offset, mask.numel, p);
  const out = dropoutOp([x, mask], {});
  // the graph (when recorded) holds the mask; otherwise it is no longer needed
  if (out.gradFn === null) mask.dispose();
  return out;
}
