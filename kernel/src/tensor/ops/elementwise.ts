// Elementwise ops: binary with broadcasting (add, sub, mul, div, pow, maximum,
// minimum, comparisons) and unary (neg, exp, log, sqrt, rsqrt, tanh, sigmoid,
// relu, gelu, silu, abs), each declared once with its gradient.
import { computeType, isFloat, promoteTypes, type DType } from "../dtype.js";
import { BINARY, UNARY, type BinaryKernel, type UnaryKernel } from "../native.js";
import { kernelsFor } from "../device.js";
import { Tensor, asContiguous, castRaw, fmtShape, type TensorLike } from "../tensor.js";
import { allDevices, defineOp, type BackwardContext, type OutputSpec } from "./registry.js";
import { sum } from "./reduce.js";

export function broadcastShapes(a: readonly number[], b: readonly number[], op: string): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new RangeError(`${op}: shapes ${fmtShape(a)} and ${fmtShape(b)} do not broadcast (dimension ${i}: ${da} vs ${db})`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Strides that read t as if expanded to shape (0 on broadcast dims). */
export function broadcastStrides(t: Tensor, shape: readonly number[]): number[] {
  const lead = shape.length - t.ndim;
  return shape.map((_, i) => (i < lead || t.shape[i - lead] === 1 ? 0 : t.strides[i - lead]));
}

/** Sums a broadcast gradient back down to shape. */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (g.shape.length === shape.length && g.shape.every((s, i) => s === shape[i])) return g;
  const lead = g.ndim - shape.length;
  const dims: number[] = [];
  for (let i = 0; i < g.ndim; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) dims.push(i);
  }
  const s = dims.length > 0 ? sum(g, dims, true) : g;
  return s.reshape(shape);
}

/** A 0-d tensor for a scalar operand, typed to fit next to `like`. */
export function scalarLike(v: number, like: Tensor): Tensor {
  let dtype: DType = like.dtype;
  if (!isFloat(like.dtype)) dtype = Number.isInteger(v) ? (like.dtype === "bool" ? "int64" : like.dtype) : "float32";
  const t = Tensor.empty([], dtype, false, like.device);
  kernelsFor(like.device).tensorFill(t.storage.native, 0, 1, v);
  return t;
}

function binaryKernel(kind: BinaryKernel, a: Tensor, b: Tensor, out: OutputSpec): Tensor {
  const ct = computeType(promoteTypes(a.dtype, b.dtype));
  const ac = a.dtype === ct ? a : castRaw(a, ct);
  const bc = b.dtype === ct ? b : castRaw(b, ct);
  const res = Tensor.empty(out.shape, ct, false, a.device);
  kernelsFor(a.device).tensorBinary(BINARY[kind], ac.storage.native, ac.offset, broadcastStrides(ac, out.shape), bc.storage.native, bc.offset,
    broadcastStrides(bc, out.shape), res.storage.native, 0, out.shape);
  if (ac !== a) ac.dispose();
  if (bc !== b) bc.dispose();
  if (out.dtype === ct) return res;
  const cast = castRaw(res, out.dtype);
  res.dispose();
  return cast;
}

type BinaryGrad = (g: Tensor, ctx: BackwardContext<Record<string, never>>) => (Tensor | null)[];

function defineBinary(kind: BinaryKernel, resultType: (a: DType, b: DType) => DType, backward?: BinaryGrad) {
  const op = defineOp<Record<string, never>>({
    name: kind,
    infer: ([a, b]) => ({ shape: broadcastShapes(a.shape, b.shape, kind), dtype: resultType(a.dtype, b.dtype) }),
    kernels: allDevices(([a, b], _attrs, out) => binaryKernel(kind, a, b, out)),
    backward: backward === undefined
      ? undefined
      : (g, ctx) => backward(g, ctx).map((gi, i) => (gi === null ? null : sumToShape(gi, ctx.inputs[i].shape))),
  });
  return (a: Tensor, b: TensorLike): Tensor => {
    const bt = typeof b === "number" ? scalarLike(b, a) : b;
    if (!(bt instanceof Tensor)) throw new TypeError(`${kind}: the second operand must be a Tensor or a number`);
    const out = op([a, bt], {});
    if (bt !== b && out.gradFn === null) bt.dispose();
    return out;
  };
}

const promote = (a: DType, b: DType): DType => promoteTypes(a, b);
const promoteToFloat = (a: DType, b: DType): DType => {
  const p = promoteTypes(a, b);
  return isFloat(p) ? p : "float32";
};

export const add = defineBinary("add", promote, (g, { needs }) => [needs[0] ? g : null, needs[1] ? g : null]);
export const sub = defineBinary("sub", promote, (g, { needs }) => [needs[0] ? g : null, needs[1] ? g.neg() : null]);
export const mul = defineBinary("mul", promote, (g, { inputs: [a, b], needs }) => [
  needs[0] ? g.mul(b) : null,
  needs[1] ? g.mul(a) : null,
]);
export const div = defineBinary("div", promoteToFloat, (g, { inputs: [a, b], output, needs }) => [
  needs[0] ? g.div(b) : null,
  needs[1] ? g.mul(output).div(b).neg() : null,
]);
export const pow = defineBinary("pow", promote, (g, { inputs: [a, b], output, needs }) => [
  needs[0] ? g.mul(b).mul(a.pow(b.sub(1))) : null,
  needs[1] ? g.mul(output).mul(a.log()) : null,
]);
// Ties split the gradient evenly between the operands, as PyTorch does.
function tieMask(cmp: "gt" | "lt", a: Tensor, b: Tensor, dtype: DType): Tensor {
  const strict = (cmp === "gt" ? a.gt(b) : a.lt(b)).to(dtype);
  return strict.add(a.eq(b).to(dtype).mul(0.5));
}
export const maximum = defineBinary("maximum", promote, (g, { inputs: [a, b], needs }) => {
  const m = tieMask("gt", a, b, g.dtype);
  return [needs[0] ? g.mul(m) : null, needs[1] ? g.mul(m.neg().add(1)) : null];
});
export const minimum = defineBinary("minimum", promote, (g, { inputs: [a, b], needs }) => {
  const m = tieMask("lt", a, b, g.dtype);
  return [needs[0] ? g.mul(m) : null, needs[1] ? g.mul(m.neg().add(1)) : null];
});

const compareOps = {
  eq: defineBinary("eq", () => "bool"),
  ne: defineBinary("ne", () => "bool"),
  lt: defineBinary("lt", () => "bool"),
  le: defineBinary("le", () => "bool"),
  gt: defineBinary("gt", () => "bool"),
  ge: defineBinary("ge", () => "bool"),
};
export function compare(kind: keyof typeof compareOps, a: Tensor, b: TensorLike): Tensor {
  return compareOps[kind](a, b);
}

// ---- unary ----

const keepsIntegerType: ReadonlySet<UnaryKernel> = new Set(["neg", "abs", "relu"]);

function unaryKernel(kind: UnaryKernel, x: Tensor, out: OutputSpec): Tensor {
  const ct = computeType(out.dtype);
  const xc = asContiguous(x, ct);
  const res = Tensor.empty(x.shape, ct, false, x.device);
  kernelsFor(x.device).tensorUnary(UNARY[kind], xc.storage.native, xc.offset, res.storage.native, 0, x.numel);
  if (xc !== x) xc.dispose();
  if (out.dtype === ct) return res;
  const cast = castRaw(res, out.dtype);
  res.dispose();
  return cast;
}

function unaryBackward(kind: UnaryKernel, x: Tensor, y: Tensor, g: Tensor): Tensor {
  const ct = computeType(x.dtype);
  const xc = asContiguous(x, ct);
  const yc = asContiguous(y, ct);
  const gc = asContiguous(g, ct);
  const gx = Tensor.empty(x.shape, ct, false, x.device);
  kernelsFor(x.device).tensorUnaryBackward(UNARY[kind], xc.storage.native, xc.offset, yc.storage.native, yc.offset, gc.storage.native, gc.offset,
    gx.storage.native, 0, x.numel);
  for (const [t, orig] of [[xc, x], [yc, y], [gc, g]] as const) if (t !== orig) t.dispose();
  return gx;
}

function defineUnary(kind: UnaryKernel, name: string = kind) {
  const op = defineOp<Record<string, never>>({
    name,
    infer: ([x]) => ({ shape: x.shape, dtype: isFloat(x.dtype) || keepsIntegerType.has(kind) ? x.dtype : "float32" }),
    kernels: allDevices(([x], _attrs, out) => unaryKernel(kind, x, out)),
    backward: (g, { inputs: [x], output }) => [unaryBackward(kind, x, output, g)],
  });
  return (x: Tensor): Tensor => op([x], {});
}

export const neg = defineUnary("neg");
export const exp = defineUnary("exp");
export const log = defineUnary("log");
export const sqrt = defineUnary("sqrt");
export const rsqrt = defineUnary("rsqrt");
export const tanh = defineUnary("tanh");
export const sigmoid = defineUnary("sigmoid");
export const relu = defineUnary("relu");
export const silu = defineUnary("silu");
export const abs = defineUnary("abs");
const geluTanh = defineUnary("gelu_tanh");
const geluErf = defineUnary("gelu_erf");
/** GELU: approximate "none" uses erf (PyTorch's default), "tanh" the tanh approximation. */
export function gelu(x: Tensor, approximate: "none" | "tanh" = "none"): Tensor {
  if (approximate !== "none" && approximate !== "tanh") throw new TypeError(`gelu: approximate must be "none" or "tanh", got ${JSON.stringify(approximate)}`);
  return approximate === "tanh" ? geluTanh(x) : geluErf(x);
}
