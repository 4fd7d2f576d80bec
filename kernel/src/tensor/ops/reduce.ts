// Reductions along dims with keepdim: sum, mean, max, min, argmax, argmin, var.
// The native kernel reduces a contiguous [outer, red, inner] block; TypeScript
// brings the reduced dims together (a strided copy only when they are not).
import { computeType, isFloat, type DType } from "../dtype.js";
import { REDUCE, type ReduceKernel } from "../native.js";
import { kernelsFor } from "../device.js";
import { Tensor, castRaw, fmtShape, numelOf } from "../tensor.js";
import { allDevices, defineOp, type OutputSpec } from "./registry.js";
import { normDim } from "./views.js";

export type Dims = number | readonly number[] | undefined;

function normDims(x: Tensor, dim: Dims, op: string): number[] {
  if (dim === undefined) return x.shape.map((_, i) => i);
  const list = typeof dim === "number" ? [dim] : [...dim];
  const out = [...new Set(list.map((d) => normDim(d, x.ndim, op)))].sort((a, b) => a - b);
  if (out.length !== list.length) throw new RangeError(`${op}: dims ${fmtShape(list)} repeat a dimension`);
  return out;
}

function keptShape(shape: readonly number[], dims: readonly number[]): number[] {
  return shape.map((s, i) => (dims.includes(i) ? 1 : s));
}

function outShape(shape: readonly number[], dims: readonly number[], keepdim: boolean): number[] {
  return keepdim ? keptShape(shape, dims) : shape.filter((_, i) => !dims.includes(i));
}

interface ReduceAttrs { dims: number[]; keepdim: boolean; correction: number }

function reduceKernel(kind: ReduceKernel, x: Tensor, { dims, correction }: ReduceAttrs, out: OutputSpec): Tensor {
  const ct = computeType(x.dtype);
  const red = numelOf(dims.map((d) => x.shape[d]));
  const isArg = kind === "argmax" || kind === "argmin";
  const res = Tensor.empty(out.shape, isArg ? "int64" : ct, false, x.device);
  if (red === 0) {
    if (kind !== "sum" && kind !== "mean") {
      res.dispose();
      throw new RangeError(`${kind}: cannot reduce over an empty dimension of ${fmtShape(x.shape)}`);
    }
    kernelsFor(x.device).tensorFill(res.storage.native, 0, res.numel, kind === "sum" ? 0 : NaN);
  } else if (res.numel > 0) {
    let src = x;
    let outer: number;
    let inner: number;
    const block = dims.every((d, i) => d === dims[0] + i);
    if (x.isContiguous && x.dtype === ct && (block || dims.length === 0)) {
      const d0 = dims.length > 0 ? dims[0] : x.ndim;
      const d1 = dims.length > 0 ? dims[dims.length - 1] : x.ndim - 1;
      outer = numelOf(x.shape.slice(0, d0));
      inner = numelOf(x.shape.slice(d1 + 1));
    } else {
      const kept = x.shape.map((_, i) => i).filter((i) => !dims.includes(i));
      const perm = [...kept, ...dims];
      src = castRaw(x.view_(perm.map((d) => x.shape[d]), perm.map((d) => x.strides[d]), x.offset), ct);
      outer = numelOf(kept.map((d) => x.shape[d]));
      inner = 1;
    }
    kernelsFor(x.device).tensorReduce(REDUCE[kind], src.storage.native, src.offset, outer, red, inner, res.storage.native, 0, correction);
    if (src !== x) src.dispose();
  }
  if (res.dtype === out.dtype) return res;
  const cast = castRaw(res, out.dtype);
  res.dispose();
  return cast;
}

function requireFloat(x: Tensor, op: string): void {
  if (!isFloat(x.dtype)) throw new TypeError(`${op}: needs a floating-point tensor, got ${x.dtype}; cast it with .to("float32")`);
}

/** The incoming gradient reshaped to keepdim form and expanded over the reduced dims. */
function spread(g: Tensor, x: Tensor, dims: readonly number[]): Tensor {
  return g.reshape(keptShape(x.shape, dims)).expand(x.shape);
}

const sumOp = defineOp<ReduceAttrs>({
  name: "sum",
  infer: ([x], { dims, keepdim }) => ({ shape: outShape(x.shape, dims, keepdim), dtype: isFloat(x.dtype) ? x.dtype : "int64" }),
  kernels: allDevices(([x], a, out) => reduceKernel("sum", x, a, out)),
  backward: (g, { inputs: [x], attrs }) => [spread(g, x, attrs.dims)],
  savesOutput: false,
});
export function sum(x: Tensor, dim?: Dims, keepdim = false): Tensor {
  return sumOp([x], { dims: normDims(x, dim, "sum"), keepdim, correction: 0 });
}

const meanOp = defineOp<ReduceAttrs>({
  name: "mean",
  infer: ([x], { dims, keepdim }) => {
    requireFloat(x, "mean");
    return { shape: outShape(x.shape, dims, keepdim), dtype: x.dtype };
  },
  kernels: allDevices(([x], a, out) => reduceKernel("mean", x, a, out)),
  backward: (g, { inputs: [x], attrs }) => [spread(g, x, attrs.dims).div(numelOf(attrs.dims.map((d) => x.shape[d])))],
  savesOutput: false,
});
export function mean(x: Tensor, dim?: Dims, keepdim = false): Tensor {
  return meanOp([x], { dims: normDims(x, dim, "mean"), keepdim, correction: 0 });
}

function defineExtreme(kind: "max" | "min") {
  const op = defineOp<ReduceAttrs>({
    name: kind,
    infer: ([x], { dims, keepdim }) => ({ shape: outShape(x.shape, dims, keepdim), dtype: x.dtype }),
    kernels: allDevices(([x], a, out) => reduceKernel(kind, x, a, out)),
    // The gradient goes to the elements equal to the extreme, split evenly among ties.
    backward: (g, { inputs: [x], output, attrs }) => {
      const mask = x.eq(spread(output, x, attrs.dims)).to(g.dtype);
      const count = mask.sum(attrs.dims, true);
      return [spread(g, x, attrs.dims).mul(mask).div(count)];
    },
  });
  return (x: Tensor, dim?: Dims, keepdim = false): Tensor => {
    if (x.dtype === "bool") throw new TypeError(`${kind}: not defined for bool tensors`);
    return op([x], { dims: normDims(x, dim, kind), keepdim, correction: 0 });
  };
}
export const max = defineExtreme("max");
export const min = defineExtreme("min");

function defineArg(kind: "argmax" | "argmin") {
  const op = defineOp<ReduceAttrs>({
    name: kind,
    infer: ([x], { dims, keepdim }) => ({ shape: outShape(x.shape, dims, keepdim), dtype: "int64" as DType }),
    kernels: allDevices(([x], a, out) => reduceKernel(kind, x, a, out)),
  });
  return (x: Tensor, dim?: number, keepdim = false): Tensor => {
    if (dim === undefined) {
      const flat = x.reshape([-1]);
      const r = op([flat], { dims: [0], keepdim: false, correction: 0 });
      flat.dispose();
      return keepdim ? r.reshape(x.shape.map(() => 1)) : r;
    }
    return op([x], { dims: [normDim(dim, x.ndim, kind)], keepdim, correction: 0 });
  };
}
export const argmax = defineArg("argmax");
export const argmin = defineArg("argmin");

const varOp = defineOp<ReduceAttrs>({
  name: "var",
  infer: ([x], { dims, keepdim }) => {
    requireFloat(x, "var");
    return { shape: outShape(x.shape, dims, keepdim), dtype: x.dtype };
  },
  kernels: allDevices(([x], a, out) => reduceKernel("var", x, a, out)),
  backward: (g, { inputs: [x], attrs }) => {
    const n = numelOf(attrs.dims.map((d) => x.shape[d]));
    const centered = x.sub(x.mean(attrs.dims, true));
    return [spread(g, x, attrs.dims).mul(centered).mul(2 / Math.max(0, n - attrs.correction))];
  },
  savesOutput: false,
});
/** Variance over dims with the given correction (1 = Bessel's, as in PyTorch). */
export function variance(x: Tensor, dim: Dims, correction = 1, keepdim = false): Tensor {
  return varOp([x], { dims: normDims(x, dim, "var"), keepdim, correction });
}
