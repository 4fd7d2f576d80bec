// Joining and splitting: cat (one native strided copy per input into its slab
// of the output; backward hands each input a slice view of the gradient), stack
// (cat of unsqueezed views) and split / chunk (slice views, no copy).
import { promoteTypes, type DType } from "../dtype.js";
import { kernelsFor } from "../device.js";
import { Tensor, fmtShape } from "../tensor.js";
import { allDevices, defineOp } from "./registry.js";
import { normDim, slice, unsqueeze } from "./views.js";

const catOp = defineOp<{ dim: number }>({
  name: "cat",
  infer: (inputs, { dim }) => {
    const first = inputs[0];
    let dtype: DType = first.dtype;
    let total = 0;
    inputs.forEach((t, i) => {
      if (t.ndim !== first.ndim) {
        throw new RangeError(`cat: tensor ${i} ${fmtShape(t.shape)} has ${t.ndim} dims but tensor 0 ${fmtShape(first.shape)} has ${first.ndim}; every tensor needs the same number of dims`);
      }
      for (let d = 0; d < t.ndim; d++) {
        if (d !== dim && t.shape[d] !== first.shape[d]) {
          throw new RangeError(`cat: tensor ${i} ${fmtShape(t.shape)} and tensor 0 ${fmtShape(first.shape)} differ in dimension ${d} (${t.shape[d]} vs ${first.shape[d]}); only dim ${dim} may differ`);
        }
      }
      total += t.shape[dim];
      dtype = promoteTypes(dtype, t.dtype);
    });
    const shape = [...first.shape];
    shape[dim] = total;
    return { shape, dtype };
  },
  kernels: allDevices(
    (inputs, { dim }, out) => {
      const res = Tensor.empty(out.shape, out.dtype, false, inputs[0].device);
      let at = 0;
      for (const t of inputs) {
        if (t.numel > 0) kernelsFor(t.device).tensorCopy(t.storage.native, t.offset, t.strides, res.storage.native, at * res.strides[dim], res.strides, t.shape);
        at += t.shape[dim];
      }
      return res;
    },
  ),
  backward: (g, { inputs, attrs: { dim }, needs }) => {
    let at = 0;
    return inputs.map((t, i) => {
      const start = at;
      at += t.shape[dim];
      return needs[i] ? slice(g, dim, start, at) : null;
    });
  },
  savesOutput: false,
});

function checkList(tensors: readonly Tensor[], op: string): void {
  if (!Array.isArray(tensors) || tensors.length === 0) throw new RangeError(`${op}: needs a non-empty array of tensors`);
  tensors.forEach((t, i) => {
    if (!(t instanceof Tensor)) throw new TypeError(`${op}: element ${i} is not a Tensor`);
  });
}

/** Concatenates tensors along an existing dim (dtypes promote, as in PyTorch). */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  checkList(tensors, "cat");
  if (tensors[0].ndim === 0) throw new RangeError("cat: zero-dimensional tensors cannot be concatenated; use stack, or reshape them to [1]");
  return catOp(tensors, { dim: normDim(dim, tensors[0].ndim, "cat") });
}

/** Stacks equally shaped tensors along a new dim. */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  checkList(tensors, "stack");
  const first = tensors[0];
  tensors.forEach((t, i) => {
    if (t.ndim !== first.ndim || t.shape.some((s, d) => s !== first.shape[d])) {
      throw new RangeError(`stack: tensor ${i} ${fmtShape(t.shape)} differs from tensor 0 ${fmtShape(first.shape)}; stack needs equal shapes`);
    }
  });
  const d = normDim(dim, first.ndim + 1, "stack");
  const parts = tensors.map((t) => unsqueeze(t, d));
  const out = catOp(parts, { dim: d });
  return out;
}

/**
 * Views of x along dim: pieces of splitSize (the last may be shorter), or of the
 * given sizes (which must add up to the dim's size), as in torch.split.
 */
export function split(x: Tensor, splitSizeOrSections: number | readonly number[], dim = 0): Tensor[] {
  if (x.ndim === 0) throw new RangeError("split: cannot split a 0-d tensor");
  const d = normDim(dim, x.ndim, "split");
  const n = x.shape[d];
  let sizes: number[];
  if (typeof splitSizeOrSections === "number") {
    const s = splitSizeOrSections;
    if (!Number.isInteger(s) || s <= 0) throw new RangeError(`split: split size must be a positive integer, got ${s}`);
    sizes = [];
    for (let at = 0; at < n; at += s) sizes.push(Math.min(s, n - at));
    if (sizes.length === 0) sizes.push(0);
  } else {
    sizes = [...splitSizeOrSections];
    if (sizes.some((s) => !Number.isInteger(s) || s < 0)) throw new RangeError(`split: sizes ${fmtShape(sizes)} must be non-negative integers`);
    const total = sizes.reduce((a, b) => a + b, 0);
    if (total !== n) throw new RangeError(`split: sizes ${fmtShape(sizes)} add up to ${total} but dimension ${d} of ${fmtShape(x.shape)} has ${n}; make them add up to ${n}`);
  }
  const out: Tensor[] = [];
  let at = 0;
  for (const s of sizes) {
    out.push(slice(x, d, at, at + s));
    at += s;
  }
  return out;
}

/** Splits x into `chunks` nearly equal views along dim (torch.chunk). */
export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  if (!Number.isInteger(chunks) || chunks <= 0) throw new RangeError(`chunk: chunks must be a positive integer, got ${chunks}`);
  const d = normDim(dim, x.ndim, "chunk");
  return split(x, Math.max(1, Math.ceil(x.shape[d] / chunks)), d);
}
