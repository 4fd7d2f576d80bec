// Views share storage (reshape of a contiguous tensor, permute, slice, expand);
// contiguous, clone and cast copy through the native strided-copy kernel.
import { isFloat, type DType } from "../dtype.js";
import { kernelsFor } from "../device.js";
import { Tensor, castRaw, contiguousStrides, fmtShape, numelOf } from "../tensor.js";
import { allDevices, defineOp } from "./registry.js";
import { sumToShape } from "./elementwise.js";

export function normDim(dim: number, ndim: number, op: string): number {
  const n = Math.max(ndim, 1);
  if (!Number.isInteger(dim) || dim < -n || dim >= n) {
    throw new RangeError(`${op}: dimension ${dim} is out of range for a tensor with ${ndim} dims (expected ${-n}..${n - 1})`);
  }
  return dim < 0 ? dim + n : dim;
}

function resolveShape(x: Tensor, shape: readonly number[]): number[] {
  const out = [...shape];
  const infer = out.indexOf(-1);
  if (out.lastIndexOf(-1) !== infer) throw new RangeError(`reshape: ${fmtShape(x.shape)} -> ${fmtShape(shape)}: only one dimension can be -1`);
  for (const d of out) {
    if (d !== -1 && (!Number.isInteger(d) || d < 0)) throw new RangeError(`reshape: ${fmtShape(x.shape)} -> ${fmtShape(shape)}: dimensions must be non-negative integers`);
  }
  if (infer >= 0) {
    const rest = numelOf(out.filter((_, i) => i !== infer));
    if (rest === 0 || x.numel % rest !== 0) throw new RangeError(`reshape: cannot reshape ${fmtShape(x.shape)} (${x.numel} elements) into ${fmtShape(shape)}`);
    out[infer] = x.numel / rest;
  }
  if (numelOf(out) !== x.numel) {
    throw new RangeError(`reshape: cannot reshape ${fmtShape(x.shape)} (${x.numel} elements) into ${fmtShape(shape)} (${numelOf(out)} elements)`);
  }
  return out;
}

const reshapeOp = defineOp<{ shape: readonly number[] }>({
  name: "reshape",
  infer: ([x], { shape }) => ({ shape: resolveShape(x, shape), dtype: x.dtype }),
  kernels: allDevices(
    ([x], _a, out) => {
      const src = x.isContiguous ? x : castRaw(x, x.dtype);
      const v = src.view_(out.shape, contiguousStrides(out.shape), src.offset);
      if (src !== x) src.dispose();
      return v;
    },
  ),
  backward: (g, { inputs: [x] }) => [g.reshape(x.shape)],
  savesOutput: false,
});
export const reshape = (x: Tensor, shape: readonly number[]): Tensor => reshapeOp([x], { shape });

const permuteOp = defineOp<{ dims: readonly number[] }>({
  name: "permute",
  infer: ([x], { dims }) => {
    const seen = new Set(dims.map((d) => normDim(d, x.ndim, "permute")));
    if (dims.length !== x.ndim || seen.size !== x.ndim) {
      throw new RangeError(`permute: ${fmtShape(dims)} is not a permutation of the ${x.ndim} dims of ${fmtShape(x.shape)}`);
    }
    return { shape: dims.map((d) => x.shape[normDim(d, x.ndim, "permute")]), dtype: x.dtype };
  },
  kernels: allDevices(
    ([x], { dims }, out) => {
      const nd = dims.map((d) => normDim(d, x.ndim, "permute"));
      return x.view_(out.shape, nd.map((d) => x.strides[d]), x.offset);
    },
  ),
  backward: (g, { inputs: [x], attrs: { dims } }) => {
    const inv = new Array<number>(dims.length);
    dims.forEach((d, i) => { inv[normDim(d, x.ndim, "permute")] = i; });
    return [g.permute(inv)];
  },
  savesOutput: false,
});
export const permute = (x: Tensor, dims: readonly number[]): Tensor => permuteOp([x], { dims });

export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  const a = normDim(dim0, x.ndim, "transpose");
  const b = normDim(dim1, x.ndim, "transpose");
  const dims = x.shape.map((_, i) => i);
  dims[a] = b;
  dims[b] = a;
  return permute(x, dims);
}

interface SliceAttrs { dim: number; start: number; end: number; step: number }
const sliceOp = defineOp<SliceAttrs>({
  name: "slice",
  infer: ([x], { dim, start, end, step }) => {
    const shape = [...x.shape];
    shape[dim] = Math.max(0, Math.ceil((end - start) / step));
    return { shape, dtype: x.dtype };
  },
  kernels: allDevices(
    ([x], { dim, start, step }, out) => {
      const strides = [...x.strides];
      strides[dim] *= step;
      return x.view_(out.shape, strides, x.offset + start * x.strides[dim]);
    },
  ),
  backward: (g, { inputs: [x], attrs }) => {
    const gx = Tensor.empty(x.shape, g.dtype, true, g.device);
    const strides = [...gx.strides];
    strides[attrs.dim] *= attrs.step;
    kernelsFor(g.device).tensorCopy(g.storage.native, g.offset, g.strides, gx.storage.native, attrs.start * gx.strides[attrs.dim], strides, g.shape);
    return [gx];
  },
  savesOutput: false,
});
/** Elements start..end (exclusive, negative counts from the end, clamped) with step along dim: a view. */
export function slice(x: Tensor, dim: number, start?: number, end?: number, step = 1): Tensor {
  const d = normDim(dim, x.ndim, "slice");
  if (x.ndim === 0) throw new RangeError("slice: cannot slice a 0-d tensor");
  if (!Number.isInteger(step) || step <= 0) throw new RangeError(`slice: step must be a positive integer, got ${step}`);
  const n = x.shape[d];
  const clamp = (v: number) => Math.min(n, Math.max(0, v < 0 ? v + n : v));
  const s = clamp(start ?? 0);
  const e = Math.max(s, clamp(end ?? n));
  return sliceOp([x], { dim: d, start: s, end: e, step });
}

const expandOp = defineOp<{ shape: readonly number[] }>({
  name: "expand",
  infer: ([x], { shape }) => {
    if (shape.length < x.ndim) throw new RangeError(`expand: ${fmtShape(x.shape)} -> ${fmtShape(shape)}: the target has fewer dims`);
    const lead = shape.length - x.ndim;
    const out = shape.map((s, i) => {
      const src = i >= lead ? x.shape[i - lead] : 1;
      const target = s === -1 ? src : s;
      if (src !== target && src !== 1) {
        throw new RangeError(`expand: ${fmtShape(x.shape)} -> ${fmtShape(shape)}: dimension ${i} has size ${src}, which only expands from 1`);
      }
      return target;
    });
    return { shape: out, dtype: x.dtype };
  },
  kernels: allDevices(
    ([x], _a, out) => {
      const lead = out.shape.length - x.ndim;
      const strides = out.shape.map((s, i) => (i < lead || x.shape[i - lead] !== s ? 0 : x.strides[i - lead]));
      return x.view_(out.shape, strides, x.offset);
    },
  ),
  backward: (g, { inputs: [x] }) => [sumToShape(g, x.shape)],
  savesOutput: false,
});
export const expand = (x: Tensor, shape: readonly number[]): Tensor => expandOp([x], { shape });

export function squeeze(x: Tensor, dim?: number): Tensor {
  if (dim === undefined) return reshape(x, x.shape.filter((s) => s !== 1));
  const d = normDim(dim, x.ndim, "squeeze");
  if (x.shape[d] !== 1) return reshape(x, x.shape);
  return reshape(x, x.shape.filter((_, i) => i !== d));
}

export function unsqueeze(x: Tensor, dim: number): Tensor {
  const d = normDim(dim, x.ndim + 1, "unsqueeze");
  const shape = [...x.shape];
  shape.splice(d, 0, 1);
  return reshape(x, shape);
}

const contiguousOp = defineOp<Record<string, never>>({
  name: "contiguous",
  infer: ([x]) => ({ shape: x.shape, dtype: x.dtype }),
  kernels: allDevices(([x]) => (x.isContiguous ? x.view_(x.shape, x.strides, x.offset) : castRaw(x, x.dtype))),
  backward: (g) => [g],
  savesOutput: false,
});
export const contiguous = (x: Tensor): Tensor => contiguousOp([x], {});

const cloneOp = defineOp<Record<string, never>>({
  name: "clone",
  infer: ([x]) => ({ shape: x.shape, dtype: x.dtype }),
  kernels: allDevices(([x]) => castRaw(x, x.dtype)),
  backward: (g) => [g],
  savesOutput: false,
});
export const clone = (x: Tensor): Tensor => cloneOp([x], {});

const castOp = defineOp<{ dtype: DType }>({
  name: "cast",
  infer: ([x], { dtype }) => ({ shape: x.shape, dtype }),
  kernels: allDevices(([x], { dtype }) => (dtype === x.dtype ? x.view_(x.shape, x.strides, x.offset) : castRaw(x, dtype))),
  backward: (g, { inputs: [x], attrs }) => [isFloat(attrs.dtype) ? castRaw(g, x.dtype) : null],
  savesOutput: false,
});
export const cast = (x: Tensor, dtype: DType): Tensor => castOp([x], { dtype });
