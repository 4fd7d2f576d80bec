// The Tensor: a strided view (shape, strides, offset, dtype, device) of a native
// storage, with autograd metadata. Arithmetic lives in ops/ (declared once each);
// the methods here only forward to them.
import { DTYPE_CODE, DTYPE_SIZE, checkDType, type DType, type DataArray, type DataArrays } from "./dtype.js";
import { nt, type NativeStorage } from "./native.js";
import { configureScope, trackTensor, untrackTensor } from "./scope.js";
import * as views from "./ops/views.js";
import * as ew from "./ops/elementwise.js";
import * as red from "./ops/reduce.js";
import * as lin from "./ops/matmul.js";
import * as sm from "./ops/softmax.js";
import * as ix from "./ops/indexing.js";
import * as join from "./ops/joining.js";
import * as samp from "./ops/sampling.js";
import { runBackward, type GradNode } from "./autograd.js";
import { formatTensor, htmlTable } from "./display.js";
import { allocNative, isDeviceName, kernelsFor, transfer, type Device } from "./device.js";
import * as dev from "./device-transfer.js";

export type { Device } from "./device.js";

/** A native storage shared by every view of it; freed when the last view is disposed. */
export class StorageRef {
  refs = 0;
  constructor(
    readonly native: NativeStorage,
    readonly dtype: DType,
    readonly numel: number,
    readonly device: Device = "cpu",
  ) {}
  release(): void {
    if (--this.refs === 0) {
      this.native.dispose();
      if (this.device === "cpu" && storagePool.length < STORAGE_POOL_SIZE) storagePool.push(this.native);
    }
  }
}

// Disposed native storages, recycled by Tensor.empty: a loop of small ops then
// creates no new native wrapper objects (whose finalizers Node runs only when
// the event loop turns), so even a synchronous 10,000-step loop stays bounded.
const STORAGE_POOL_SIZE = 4096;
const storagePool: NativeStorage[] = [];

function allocStorage(dtype: DType, n: number, zero: boolean, device: Device): NativeStorage {
  if (device !== "cpu") return allocNative(device, DTYPE_CODE[dtype], n, zero);
  const recycled = storagePool.pop();
  if (recycled === undefined) return new nt.TensorStorage(DTYPE_CODE[dtype], n, zero);
  recycled.reset(DTYPE_CODE[dtype], n, zero);
  return recycled;
}

const finalizer = new FinalizationRegistry<StorageRef>((ref) => {
  untrackTensor();
  ref.release();
});

export type GradHook = (grad: Tensor) => Tensor | void;
export interface HookHandle {
  remove(): void;
}

export type Scalar = number;
export type TensorLike = Tensor | number;

export function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

export function numelOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(",")}]`;
}

export class Tensor {
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
  readonly dtype: DType;
  readonly device: Device;
  /** @internal */ readonly storage: StorageRef;
  /** The accumulated gradient after backward(). */
  grad: Tensor | null = null;
  /** @internal the node that produced this tensor (null for leaves). */
  gradFn: GradNode | null = null;
  private _requiresGrad = false;
  private _disposed = false;
  /** @internal */ hooks: GradHook[] = [];

  /** @internal use the creation functions (zeros, tensor, randn, ...) instead. */
  constructor(storage: StorageRef, shape: readonly number[], strides: readonly number[], offset: number) {
    this.storage = storage;
    this.shape = Object.freeze([...shape]);
    this.strides = Object.freeze([...strides]);
    this.offset = offset;
    this.dtype = storage.dtype;
    this.device = storage.device;
    storage.refs++;
    trackTensor(this);
    finalizer.register(this, storage, this);
  }

  /** @internal a new contiguous tensor with uninitialised (or zeroed) storage. */
  static empty(shape: readonly number[], dtype: DType, zero = false, device: Device = "cpu"): Tensor {
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw new RangeError(`shape ${fmtShape(shape)}: dimensions must be non-negative integers`);
    }
    const n = numelOf(shape);
    const native = allocStorage(dtype, n, zero, device);
    return new Tensor(new StorageRef(native, dtype, n, device), shape, contiguousStrides(shape), 0);
  }

  /** @internal a view of the same storage. */
  view_(shape: readonly number[], strides: readonly number[], offset: number): Tensor {
    return new Tensor(this.storage, shape, strides, offset);
  }

  get ndim(): number {
    return this.shape.length;
  }
  get numel(): number {
    return numelOf(this.shape);
  }
  get isDisposed(): boolean {
    return this._disposed;
  }
  get isLeaf(): boolean {
    return this.gradFn === null;
  }
  get isContiguous(): boolean {
    let acc = 1;
    for (let i = this.shape.length - 1; i >= 0; i--) {
      if (this.shape[i] !== 1 && this.strides[i] !== acc) return false;
      acc *= this.shape[i];
    }
    return true;
  }

  get requiresGrad(): boolean {
    return this._requiresGrad;
  }
  set requiresGrad(flag: boolean) {
    if (flag && this.dtype !== "float32" && this.dtype !== "float64" && this.dtype !== "bfloat16" && this.dtype !== "float16") {
      throw new TypeError(`requiresGrad: only floating-point tensors can require gradients, this one is ${this.dtype}`);
    }
    if (!flag && this.gradFn !== null) {
      throw new Error("requiresGrad: cannot turn off gradients of a non-leaf tensor; use detach()");
    }
    this._requiresGrad = flag;
  }
  /** @internal */ setRequiresGradInternal(flag: boolean): void {
    this._requiresGrad = flag;
  }

  /** Frees this tensor's hold on its storage now (idempotent). Views keep the storage alive. */
  dispose(): void {
    if (this._disposed) return;
    this._disposed = true;
    finalizer.unregister(this);
    untrackTensor();
    this.storage.release();
    if (this.grad !== null) {
      this.grad.dispose();
      this.grad = null;
    }
    this.gradFn = null;
  }

  /** @internal throws if disposed */
  check(op: string): void {
    if (this._disposed) throw new Error(`${op}: tensor ${fmtShape(this.shape)} ${this.dtype} was used after dispose()`);
  }

  // ---- reading back ----

  /** A typed-array copy of the values in row-major order (bfloat16/float16 as Float32Array, int64 as BigInt64Array). */
  data(): DataArray {
    this.check("data");
    if (this.device !== "cpu") {
      const host = moveRaw(this, "cpu");
      const d = host.data();
      host.dispose();
      return d;
    }
    let t: Tensor = this;
    const temps: Tensor[] = [];
    if (this.dtype === "bfloat16" || this.dtype === "float16") {
      t = castRaw(this, "float32");
      temps.push(t);
    } else if (!this.isContiguous) {
      t = materialize(this);
      temps.push(t);
    }
    const buf = t.storage.native.read(t.offset, t.numel);
    for (const x of temps) x.dispose();
    return typedArrayOf(t.dtype, buf);
  }

  /** The values as nested arrays of numbers (booleans for bool tensors). */
  toArray(): NestedArray {
    const flat = this.data();
    const vals: (number | boolean)[] = new Array(flat.length);
    if (flat instanceof BigInt64Array) for (let i = 0; i < flat.length; i++) vals[i] = Number(flat[i]);
    else if (this.dtype === "bool") for (let i = 0; i < flat.length; i++) vals[i] = flat[i] !== 0;
    else for (let i = 0; i < flat.length; i++) vals[i] = flat[i] as number;
    if (this.shape.length === 0) return vals[0];
    return nest(vals, this.shape, 0, 0).value;
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.numel !== 1) throw new RangeError(`item: tensor ${fmtShape(this.shape)} has ${this.numel} elements; item() needs exactly one`);
    const d = this.data();
    return d instanceof BigInt64Array ? Number(d[0]) : (d[0] as number);
  }

  // ---- autograd ----

  /** Computes gradients of this tensor with respect to the leaves that require them (scalars, or with an explicit gradient). */
  backward(gradient?: Tensor): void {
    runBackward(this, gradient);
  }

  /** Calls fn with this tensor's gradient during backward(); fn may return a replacement. */
  registerHook(fn: GradHook): HookHandle {
    if (!this._requiresGrad) throw new Error("registerHook: this tensor does not require gradients");
    this.hooks.push(fn);
    return { remove: () => { this.hooks = this.hooks.filter((h) => h !== fn); } };
  }

  /** A tensor sharing storage with this one, cut from the graph (requiresGrad false). */
  detach(): Tensor {
    this.check("detach");
    return this.view_(this.shape, this.strides, this.offset);
  }

  /** Sets requiresGrad on a leaf and returns this (chainable). */
  requiresGrad_(flag = true): this {
    this.requiresGrad = flag;
    return this;
  }

  /** Drops the accumulated gradient. */
  zeroGrad(): void {
    if (this.grad !== null) this.grad.dispose();
    this.grad = null;
  }

  // ---- views ----
  reshape(...shape: (number | readonly number[])[]): Tensor {
    return views.reshape(this, flattenShapeArgs(shape));
  }
  view(...shape: (number | readonly number[])[]): Tensor {
    return views.reshape(this, flattenShapeArgs(shape));
  }
  permute(...dims: (number | readonly number[])[]): Tensor {
    return views.permute(this, flattenShapeArgs(dims));
  }
  transpose(dim0: number, dim1: number): Tensor {
    return views.transpose(this, dim0, dim1);
  }
  /** Matrix transpose of the last two dims. */
  get mT(): Tensor {
    return views.transpose(this, -2, -1);
  }
  slice(dim: number, start?: number, end?: number, step = 1): Tensor {
    return views.slice(this, dim, start, end, step);
  }
  expand(...shape: (number | readonly number[])[]): Tensor {
    return views.expand(this, flattenShapeArgs(shape));
  }
  squeeze(dim?: number): Tensor {
    return views.squeeze(this, dim);
  }
  unsqueeze(dim: number): Tensor {
    return views.unsqueeze(this, dim);
  }
  flatten(): Tensor {
    return views.reshape(this, [-1]);
  }
  contiguous(): Tensor {
    return views.contiguous(this);
  }
  clone(): Tensor {
    return views.clone(this);
  }
  /** A copy converted to a dtype, or moved to a device ("cpu", "cuda"); gradients flow back through either. */
  to(target: DType | Device | "cuda:0"): Tensor {
    if (isDeviceName(target) || /^(cpu|cuda)\b/.test(String(target))) return dev.toDevice(this, target as Device);
    return views.cast(this, checkDType(target, "to"));
  }
  /** This tensor on the GPU (throws, saying why, where cuda is unavailable). */
  cuda(): Tensor {
    return dev.toDevice(this, "cuda");
  }
  /** This tensor on the cpu. */
  cpu(): Tensor {
    return dev.toDevice(this, "cpu");
  }

  // ---- arithmetic ----
  add(other: TensorLike): Tensor { return ew.add(this, other); }
  sub(other: TensorLike): Tensor { return ew.sub(this, other); }
  mul(other: TensorLike): Tensor { return ew.mul(this, other); }
  div(other: TensorLike): Tensor { return ew.div(this, other); }
  pow(other: TensorLike): Tensor { return ew.pow(this, other); }
  maximum(other: TensorLike): Tensor { return ew.maximum(this, other); }
  minimum(other: TensorLike): Tensor { return ew.minimum(this, other); }
  eq(other: TensorLike): Tensor { return ew.compare("eq", this, other); }
  ne(other: TensorLike): Tensor { return ew.compare("ne", this, other); }
  lt(other: TensorLike): Tensor { return ew.compare("lt", this, other); }
  le(other: TensorLike): Tensor { return ew.compare("le", this, other); }
  gt(other: TensorLike): Tensor { return ew.compare("gt", this, other); }
  ge(other: TensorLike): Tensor { return ew.compare("ge", this, other); }

  neg(): Tensor { return ew.neg(this); }
  exp(): Tensor { return ew.exp(this); }
  log(): Tensor { return ew.log(this); }
  sqrt(): Tensor { return ew.sqrt(this); }
  rsqrt(): Tensor { return ew.rsqrt(this); }
  tanh(): Tensor { return ew.tanh(this); }
  sigmoid(): Tensor { return ew.sigmoid(this); }
  relu(): Tensor { return ew.relu(this); }
  /** GELU; approximate "none" (erf, the default, as in PyTorch) or "tanh". */
  gelu(approximate: "none" | "tanh" = "none"): Tensor { return ew.gelu(this, approximate); }
  silu(): Tensor { return ew.silu(this); }
  abs(): Tensor { return ew.abs(this); }

  // ---- reductions ----
  sum(dim?: number | readonly number[], keepdim = false): Tensor { return red.sum(this, dim, keepdim); }
  mean(dim?: number | readonly number[], keepdim = false): Tensor { return red.mean(this, dim, keepdim); }
  /** Largest values over dim (all dims when omitted); values only. */
  max(dim?: number | readonly number[], keepdim = false): Tensor { return red.max(this, dim, keepdim); }
  min(dim?: number | readonly number[], keepdim = false): Tensor { return red.min(this, dim, keepdim); }
  argmax(dim?: number, keepdim = false): Tensor { return red.argmax(this, dim, keepdim); }
  argmin(dim?: number, keepdim = false): Tensor { return red.argmin(this, dim, keepdim); }
  /** Variance with Bessel's correction by default (correction = 1). */
  var(dim?: number | readonly number[], options: { correction?: number; keepdim?: boolean } = {}): Tensor {
    return red.variance(this, dim, options.correction ?? 1, options.keepdim ?? false);
  }

  // ---- normalisation, products ----
  softmax(dim = -1): Tensor { return sm.softmax(this, dim); }
  logSoftmax(dim = -1): Tensor { return sm.logSoftmax(this, dim); }
  matmul(other: Tensor): Tensor { return lin.matmul(this, other); }

  // ---- indexing, splitting, sampling ----
  gather(dim: number, index: Tensor): Tensor { return ix.gather(this, dim, index); }
  scatter(dim: number, index: Tensor, src: TensorLike): Tensor { return ix.scatter(this, dim, index, src); }
  scatterAdd(dim: number, index: Tensor, src: TensorLike): Tensor { return ix.scatterAdd(this, dim, index, src); }
  indexSelect(dim: number, index: Tensor): Tensor { return ix.indexSelect(this, dim, index); }
  maskedFill(mask: Tensor, value: number): Tensor { return ix.maskedFill(this, mask, value); }
  /** condition ? this : other (PyTorch's x.where(condition, other)). */
  where(condition: Tensor, other: TensorLike): Tensor { return ix.where(condition, this, other); }
  split(splitSizeOrSections: number | readonly number[], dim = 0): Tensor[] { return join.split(this, splitSizeOrSections, dim); }
  chunk(chunks: number, dim = 0): Tensor[] { return join.chunk(this, chunks, dim); }
  topk(k: number, dim = -1, largest = true): { values: Tensor; indices: Tensor } { return samp.topk(this, k, dim, largest); }

  // ---- display ----
  toString(): string {
    return formatTensor(this);
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return formatTensor(this);
  }
  [Symbol.for("Jupyter.display")](): Record<string, string> {
    return this.mimeBundle();
  }
  /** The display bundle: text/plain, plus text/html for small 2-D tensors. */
  mimeBundle(): Record<string, string> {
    const bundle: Record<string, string> = { "text/plain": formatTensor(this) };
    const html = htmlTable(this);
    if (html !== null) bundle["text/html"] = html;
    return bundle;
  }
}

export type NestedArray = number | boolean | NestedArray[];

function nest(vals: (number | boolean)[], shape: readonly number[], dim: number, start: number): { value: NestedArray[]; next: number } {
  const out: NestedArray[] = [];
  let pos = start;
  if (dim === shape.length - 1) {
    for (let i = 0; i < shape[dim]; i++) out.push(vals[pos++]);
    return { value: out, next: pos };
  }
  for (let i = 0; i < shape[dim]; i++) {
    const r = nest(vals, shape, dim + 1, pos);
    out.push(r.value);
    pos = r.next;
  }
  return { value: out, next: pos };
}

function flattenShapeArgs(args: (number | readonly number[])[]): number[] {
  if (args.length === 1 && Array.isArray(args[0])) return [...(args[0] as readonly number[])];
  return args.map((a) => {
    if (typeof a !== "number") throw new TypeError("shape: pass dimensions either as numbers or as one array");
    return a;
  });
}

/** @internal raw typed array over an ArrayBuffer read from a storage. */
export function typedArrayOf(dtype: DType, buf: ArrayBuffer): DataArray {
  switch (dtype) {
    case "float32": return new Float32Array(buf);
    case "float64": return new Float64Array(buf);
    case "int32": return new Int32Array(buf);
    case "int64": return new BigInt64Array(buf);
    case "int8": return new Int8Array(buf);
    case "uint8": return new Uint8Array(buf);
    case "bool": return new Uint8Array(buf);
    default: return new Uint16Array(buf) as unknown as DataArrays["float32"];
  }
}

/** @internal a contiguous copy (no autograd). */
export function materialize(t: Tensor): Tensor {
  return castRaw(t, t.dtype);
}

/** @internal a contiguous copy converted to dtype (no autograd). */
export function castRaw(t: Tensor, dtype: DType): Tensor {
  t.check("copy");
  const out = Tensor.empty(t.shape, dtype, false, t.device);
  kernelsFor(t.device).tensorCopy(t.storage.native, t.offset, t.strides, out.storage.native, 0, out.strides, t.shape);
  return out;
}

/** @internal a contiguous copy of t on another device (no autograd). */
export function moveRaw(t: Tensor, device: Device): Tensor {
  t.check("to");
  const src = asContiguous(t);
  const out = Tensor.empty(t.shape, t.dtype, false, device);
  transfer(src.storage.native, src.device, src.offset, out.storage.native, device, 0, t.numel);
  if (src !== t) src.dispose();
  return out;
}

/** @internal t itself when contiguous with the given dtype, else a contiguous converted copy. */
export function asContiguous(t: Tensor, dtype: DType = t.dtype): Tensor {
  return t.isContiguous && t.dtype === dtype ? t : castRaw(t, dtype);
}

export function isTensor(v: unknown): v is Tensor {
  return v instanceof Tensor;
}

/** Every tensor the autograd graph of t still needs (saved inputs and outputs). */
function graphTensors(t: Tensor, out: Set<Tensor>): void {
  const stack: Tensor[] = [t];
  const seenNodes = new Set<GradNode>();
  while (stack.length > 0) {
    const cur = stack.pop() as Tensor;
    if (cur.grad !== null) out.add(cur.grad);
    const node = cur.gradFn;
    if (node === null || seenNodes.has(node)) continue;
    seenNodes.add(node);
    for (const s of node.saved) {
      if (!out.has(s)) {
        out.add(s);
        stack.push(s);
      }
    }
  }
}

configureScope(isTensor, graphTensors);

export const BYTES_PER = DTYPE_SIZE;
