// Indexing ops: gather, scatter, scatter_add, index_select, masked_fill and
// where (with broadcasting), each declared once with its gradient. Indices are
// int64 (int32/int16/uint8 indices are widened); every index is range-checked
// natively before anything is written, and errors name the offending index.
import { isFloat, promoteTypes, type DType } from "../dtype.js";
import { kernelsFor, type Device } from "../device.js";
import { Tensor, asContiguous, castRaw, fmtShape, type TensorLike } from "../tensor.js";
import { allDevices, defineOp } from "./registry.js";
import { broadcastShapes, broadcastStrides, scalarLike, sumToShape } from "./elementwise.js";
import { normDim } from "./views.js";

const INT_TYPES: readonly DType[] = ["int64", "int32", "int8", "uint8"];

/** The index as int64 (t itself when it already is), or a TypeError naming the operand. */
function asIndex(index: Tensor, op: string, name = "index"): Tensor {
  if (!(index instanceof Tensor)) throw new TypeError(`${op}: ${name} must be a Tensor of int64 indices`);
  if (!INT_TYPES.includes(index.dtype)) {
    throw new TypeError(`${op}: ${name} must be an integer tensor (int64), got ${index.dtype}; cast it with .to("int64")`);
  }
  return index.dtype === "int64" ? index : castRaw(index, "int64");
}

function scalarOf(v: number, dtype: DType, device: Device): Tensor {
  const t = Tensor.empty([], dtype, false, device);
  kernelsFor(device).tensorFill(t.storage.native, 0, 1, v);
  return t;
}

function zerosOf(shape: readonly number[], dtype: DType, device: Device): Tensor {
  return Tensor.empty(shape, dtype, true, device);
}

function requireDims(x: Tensor, op: string): void {
  if (x.ndim === 0) throw new RangeError(`${op}: the input is 0-d; reshape it to 1-d first (x.reshape([1]))`);
}

/** Index shape rule shared by gather and scatter: same ndim, index no larger than `other` except along dim. */
function checkIndexFits(op: string, index: Tensor, x: Tensor, dim: number, xName: string): void {
  if (index.ndim !== x.ndim) {
    throw new RangeError(`${op}: index ${fmtShape(index.shape)} and ${xName} ${fmtShape(x.shape)} must have the same number of dims; reshape or unsqueeze the index`);
  }
  for (let d = 0; d < x.ndim; d++) {
    if (d !== dim && index.shape[d] > x.shape[d]) {
      throw new RangeError(`${op}: index ${fmtShape(index.shape)} does not fit ${xName} ${fmtShape(x.shape)}: dimension ${d} of the index (${index.shape[d]}) exceeds the ${xName}'s (${x.shape[d]}); the index may only be larger along dim ${dim}`);
    }
  }
}

// ---- gather ----

const gatherOp = defineOp<{ dim: number }>({
  name: "gather",
  infer: ([x, index], { dim }) => {
    checkIndexFits("gather", index, x, dim, "input");
    return { shape: index.shape, dtype: x.dtype };
  },
  kernels: allDevices(
    ([x, index], { dim }, out) => {
      const idx = asIndex(index, "gather");
      const res = Tensor.empty(out.shape, x.dtype, false, x.device);
      kernelsFor(x.device).tensorGather(x.storage.native, x.offset, x.strides, idx.storage.native, idx.offset, idx.strides, res.storage.native, out.shape, dim, x.shape[dim], "gather");
      if (idx !== index) idx.dispose();
      return res;
    },
  ),
  backward: (g, { inputs: [x, index], attrs: { dim } }) => [scatterAdd(zerosOf(x.shape, g.dtype, g.device), dim, index, g), null],
  savesOutput: false,
});

/** out[i][j][k] = x[i][index[i][j][k]][k] for dim 1 (PyTorch's torch.gather); index is int64, no larger than x except along dim. */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  requireDims(x, "gather");
  return gatherOp([x, asIndexChecked(index, "gather")], { dim: normDim(dim, x.ndim, "gather") });
}

function asIndexChecked(index: Tensor, op: string): Tensor {
  if (!(index instanceof Tensor)) throw new TypeError(`${op}: index must be a Tensor of int64 indices`);
  if (!INT_TYPES.includes(index.dtype)) {
    throw new TypeError(`${op}: index must be an integer tensor (int64), got ${index.dtype}; cast it with .to("int64")`);
  }
  return index;
}

// ---- scatter / scatter_add ----

function scatterKernel(mode: 0 | 1, op: string, x: Tensor, index: Tensor, src: Tensor, dim: number): Tensor {
  const idx = asIndex(index, op);
  // adds run in the compute type for bfloat16/float16
  const wt: DType = mode === 1 && (x.dtype === "bfloat16" || x.dtype === "float16") ? "float32" : x.dtype;
  const res = castRaw(x, wt);
  const s = src.dtype === wt ? src : castRaw(src, wt);
  kernelsFor(x.device).tensorScatter(mode, res.storage.native, 0, res.strides, idx.storage.native, idx.offset, idx.strides, s.storage.native, s.offset,
    src.ndim === 0 ? index.shape.map(() => 0) : s.strides, index.shape, dim, x.shape[dim], op);
  if (idx !== index) idx.dispose();
  if (s !== src) s.dispose();
  if (wt === x.dtype) return res;
  const back = castRaw(res, x.dtype);
  res.dispose();
  return back;
}

/** The gradient of src: gather(g) at the index positions, zero-padded to src's shape. */
function srcGrad(g: Tensor, dim: number, index: Tensor, src: Tensor): Tensor | null {
  if (src.ndim === 0) return gather(g, dim, index).sum();
  const gs = gather(g, dim, index);
  if (gs.shape.every((s, i) => s === src.shape[i])) return gs;
  const padded = zerosOf(src.shape, gs.dtype, gs.device);
  const c = asContiguous(gs);
  kernelsFor(c.device).tensorCopy(c.storage.native, c.offset, c.strides, padded.storage.native, 0, padded.strides, c.shape);
  if (c !== gs) c.dispose();
  return padded;
}

function scatterInfer(op: string) {
  return ([x, index, src]: readonly Tensor[], { dim }: { dim: number }) => {
    checkIndexFits(op, index, x, dim, "input");
    if (src.ndim !== 0) {
      if (src.ndim !== index.ndim) throw new RangeError(`${op}: src ${fmtShape(src.shape)} and index ${fmtShape(index.shape)} must have the same number of dims`);
      for (let d = 0; d < src.ndim; d++) {
        if (index.shape[d] > src.shape[d]) {
          throw new RangeError(`${op}: index ${fmtShape(index.shape)} does not fit src ${fmtShape(src.shape)}: dimension ${d} of the index (${index.shape[d]}) exceeds src's (${src.shape[d]}); pass a src at least as large as the index`);
        }
      }
    }
    return { shape: x.shape, dtype: x.dtype };
  };
}

const scatterOp = defineOp<{ dim: number }>({
  name: "scatter",
  infer: scatterInfer("scatter"),
  kernels: allDevices(([x, index, src], { dim }) => scatterKernel(0, "scatter", x, index, src, dim)),
  backward: (g, { inputs: [, index, src], attrs: { dim }, needs }) => [
    needs[0] ? scatter(g, dim, index, 0) : null,
    null,
    needs[2] ? srcGrad(g, dim, index, src) : null,
  ],
  savesOutput: false,
});

const scatterAddOp = defineOp<{ dim: number }>({
  name: "scatter_add",
  infer: (inputs, attrs) => {
    const spec = scatterInfer("scatter_add")(inputs, attrs);
    if (inputs[0].dtype === "bool") throw new TypeError("scatter_add: cannot add into a bool tensor; convert it with .to(\"int64\") or .to(\"float32\")");
    return spec;
  },
  kernels: allDevices(([x, index, src], { dim }) => scatterKernel(1, "scatter_add", x, index, src, dim)),
  backward: (g, { inputs: [, index, src], attrs: { dim }, needs }) => [needs[0] ? g : null, null, needs[2] ? srcGrad(g, dim, index, src) : null],
  savesOutput: false,
});

function srcTensor(src: TensorLike, x: Tensor, op: string): Tensor {
  if (typeof src === "number") return scalarOf(src, x.dtype, x.device);
  if (!(src instanceof Tensor)) throw new TypeError(`${op}: src must be a Tensor or a number`);
  return src;
}

/** A copy of x with x[..., index[p], ...] = src[p] along dim (src a tensor at least as large as index, or a number). */
export function scatter(x: Tensor, dim: number, index: Tensor, src: TensorLike): Tensor {
  requireDims(x, "scatter");
  return scatterOp([x, asIndexChecked(index, "scatter"), srcTensor(src, x, "scatter")], { dim: normDim(dim, x.ndim, "scatter") });
}

/** A copy of x with src[p] added at x[..., index[p], ...] along dim; repeated indices accumulate. */
export function scatterAdd(x: Tensor, dim: number, index: Tensor, src: TensorLike): Tensor {
  requireDims(x, "scatter_add");
  return scatterAddOp([x, asIndexChecked(index, "scatter_add"), srcTensor(src, x, "scatter_add")], { dim: normDim(dim, x.ndim, "scatter_add") });
}

// ---- index_select ----

/** The 1-d index viewed along dim and broadcast to shape (stride 0 elsewhere). */
function spreadIndex(index: Tensor, dim: number, shape: readonly number[]): Tensor {
  const strides = shape.map((_, d) => (d === dim ? index.strides[0] : 0));
  return index.view_(shape, strides, index.offset);
}

const indexSelectOp = defineOp<{ dim: number }>({
  name: "index_select",
  infer: ([x, index], { dim }) => {
    if (index.ndim !== 1) throw new RangeError(`index_select: index must be 1-d, got ${fmtShape(index.shape)}; flatten it with index.reshape([-1])`);
    const shape = [...x.shape];
    shape[dim] = index.shape[0];
    return { shape, dtype: x.dtype };
  },
  kernels: allDevices(
    ([x, index], { dim }, out) => {
      const idx = asIndex(index, "index_select");
      const res = Tensor.empty(out.shape, x.dtype, false, x.device);
      const spread = out.shape.map((_, d) => (d === dim ? idx.strides[0] : 0));
      kernelsFor(x.device).tensorGather(x.storage.native, x.offset, x.strides, idx.storage.native, idx.offset, spread, res.storage.native, out.shape, dim, x.shape[dim], "index_select");
      if (idx !== index) idx.dispose();
      return res;
    },
  ),
  backward: (g, { inputs: [x, index], attrs: { dim } }) => {
    const idx = spreadIndex(index, dim, g.shape);
    const gx = scatterAdd(zerosOf(x.shape, g.dtype, g.device), dim, idx, g);
    idx.dispose();
    return [gx, null];
  },
  savesOutput: false,
});

/** The entries of x at the positions in the 1-d int64 index along dim (PyTorch's torch.index_select). */
export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  requireDims(x, "index_select");
  const idx = asIndexChecked(index, "index_select");
  return indexSelectOp([x, idx.ndim === 0 ? idx.reshape([1]) : idx], { dim: normDim(dim, x.ndim, "index_select") });
}

// ---- where / masked_fill ----

function requireBool(cond: Tensor, op: string, name: string): void {
  if (!(cond instanceof Tensor)) throw new TypeError(`${op}: ${name} must be a bool Tensor`);
  if (cond.dtype !== "bool") {
    throw new TypeError(`${op}: ${name} must be a bool tensor, got ${cond.dtype}; build it with a comparison such as x.gt(0), or cast with .to("bool")`);
  }
}

function whereKernel(cond: Tensor, a: Tensor, b: Tensor, shape: readonly number[], dtype: DType): Tensor {
  const ac = a.dtype === dtype ? a : castRaw(a, dtype);
  const bc = b.dtype === dtype ? b : castRaw(b, dtype);
  const res = Tensor.empty(shape, dtype, false, cond.device);
  kernelsFor(cond.device).tensorWhere(cond.storage.native, cond.offset, broadcastStrides(cond, shape), ac.storage.native, ac.offset, broadcastStrides(ac, shape),
    bc.storage.native, bc.offset, broadcastStrides(bc, shape), res.storage.native, shape);
  if (ac !== a) ac.dispose();
  if (bc !== b) bc.dispose();
  return res;
}

const whereOp = defineOp<Record<string, never>>({
  name: "where",
  infer: ([cond, a, b]) => {
    const ab = broadcastShapes(a.shape, b.shape, "where");
    let shape: number[];
    try {
      shape = broadcastShapes(cond.shape, ab, "where");
    } catch {
      throw new RangeError(`where: condition ${fmtShape(cond.shape)} does not broadcast with the values' shape ${fmtShape(ab)} (input ${fmtShape(a.shape)}, other ${fmtShape(b.shape)})`);
    }
    return { shape, dtype: promoteTypes(a.dtype, b.dtype) };
  },
  kernels: allDevices(([cond, a, b], _a, out) => whereKernel(cond, a, b, out.shape, out.dtype)),
  backward: (g, { inputs: [cond, a, b], needs }) => {
    const zero = scalarOf(0, g.dtype, g.device);
    return [
      null,
      needs[1] ? sumToShape(where(cond, g, zero), a.shape) : null,
      needs[2] ? sumToShape(where(cond, zero, g), b.shape) : null,
    ];
  },
  savesOutput: false,
});

/** cond ? input : other elementwise, broadcasting all three (numbers allowed for input/other). */
export function where(cond: Tensor, input: TensorLike, other: TensorLike): Tensor {
  requireBool(cond, "where", "condition");
  let a: Tensor;
  let b: Tensor;
  if (typeof input === "number" && typeof other === "number") {
    const dt: DType = Number.isInteger(input) && Number.isInteger(other) ? "int64" : "float32";
    a = scalarOf(input, dt, cond.device);
    b = scalarOf(other, dt, cond.device);
  } else if (typeof input === "number") {
    b = other as Tensor;
    a = scalarLike(input, b);
  } else if (typeof other === "number") {
    a = input;
    b = scalarLike(other, a);
  } else {
    a = input;
    b = other;
  }
  if (!(a instanceof Tensor) || !(b instanceof Tensor)) throw new TypeError("where: input and other must be Tensors or numbers");
  return whereOp([cond, a, b], {});
}

const maskedFillOp = defineOp<{ value: number }>({
  name: "masked_fill",
  infer: ([x, mask]) => {
    let shape: number[] | null = null;
    try {
      shape = broadcastShapes(x.shape, mask.shape, "masked_fill");
    } catch {
      shape = null;
    }
    if (shape === null || shape.length !== x.ndim || shape.some((s, i) => s !== x.shape[i])) {
      throw new RangeError(`masked_fill: mask ${fmtShape(mask.shape)} does not broadcast to input ${fmtShape(x.shape)}; the mask's dims must equal the input's or be 1`);
    }
    return { shape: x.shape, dtype: x.dtype };
  },
  kernels: allDevices(
    ([x, mask], { value }, out) => {
      const v = scalarOf(value, x.dtype, x.device);
      const res = whereKernel(mask, v, x, out.shape, x.dtype);
      v.dispose();
      return res;
    },
  ),
  backward: (g, { inputs: [, mask] }) => [maskedFill(g, mask, 0), null],
  savesOutput: false,
});

/** A copy of x with value where mask (bool, broadcast to x) is true. */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  requireBool(mask, "masked_fill", "mask");
  if (typeof value !== "number") throw new TypeError("masked_fill: value must be a number");
  if (!isFloat(x.dtype) && !Number.isInteger(value) && Number.isFinite(value)) {
    throw new TypeError(`masked_fill: cannot fill the ${x.dtype} input with the non-integer ${value}; convert the input with .to("float32")`);
  }
  return maskedFillOp([x, mask], { value });
}

