// Creating tensors: zeros, ones, full, rand, randn (seeded Philox generator),
// arange, and tensor() from nested arrays or typed arrays.
import { checkDType, computeType, isFloat, type DType } from "./dtype.js";
import { nt } from "./native.js";
import { Tensor, castRaw, fmtShape, moveRaw, numelOf } from "./tensor.js";
import { checkDevice, kernelsFor, requireCuda, type Device } from "./device.js";

export interface CreateOptions {
  dtype?: DType;
  requiresGrad?: boolean;
  /** "cpu" (default) or "cuda". */
  device?: Device | "cuda:0";
}

// Values are made on the cpu and moved once to the requested device (random
// tensors are drawn on their device: the same Philox stream gives the same numbers).
function finish(t: Tensor, opts: CreateOptions | undefined): Tensor {
  const target = opts?.device === undefined ? t.device : checkDevice(opts.device, "device");
  if (target !== t.device) {
    try {
      if (target === "cuda") requireCuda(`{ device: ${JSON.stringify(opts?.device)} }`);
    } catch (e) {
      t.dispose();
      throw e;
    }
    const moved = moveRaw(t, target);
    t.dispose();
    t = moved;
  }
  if (opts?.requiresGrad === true) t.requiresGrad = true;
  return t;
}

function checkShape(shape: readonly number[], where: string): readonly number[] {
  if (!Array.isArray(shape)) throw new TypeError(`${where}: shape must be an array of dimensions, e.g. [2, 3]`);
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new RangeError(`${where}: shape ${fmtShape(shape)} has ${d}; dimensions must be non-negative integers`);
  }
  return shape;
}

/** A tensor of shape filled with value. */
export function full(shape: readonly number[], value: number, opts?: CreateOptions): Tensor {
  const dtype = checkDType(opts?.dtype ?? "float32", "full");
  const t = Tensor.empty(checkShape(shape, "full"), dtype);
  nt.tensorFill(t.storage.native, 0, t.numel, value);
  return finish(t, opts);
}

export function zeros(shape: readonly number[], opts?: CreateOptions): Tensor {
  const dtype = checkDType(opts?.dtype ?? "float32", "zeros");
  return finish(Tensor.empty(checkShape(shape, "zeros"), dtype, true), opts);
}

export function ones(shape: readonly number[], opts?: CreateOptions): Tensor {
  return full(shape, 1, opts);
}

export function zerosLike(t: Tensor, opts?: CreateOptions): Tensor {
  return zeros(t.shape, { dtype: t.dtype, device: t.device, ...opts });
}

export function onesLike(t: Tensor, opts?: CreateOptions): Tensor {
  return ones(t.shape, { dtype: t.dtype, device: t.device, ...opts });
}

/** Values start, start+step, ... below end (float32 unless dtype says otherwise). arange(end) starts at 0. */
export function arange(start: number, end?: number, step = 1, opts?: CreateOptions): Tensor {
  if (end === undefined) {
    end = start;
    start = 0;
  }
  if (step === 0 || !Number.isFinite(step)) throw new RangeError("arange: step must be a finite non-zero number");
  const n = Math.max(0, Math.ceil((end - start) / step));
  const dtype = checkDType(opts?.dtype ?? "float32", "arange");
  const t = Tensor.empty([n], dtype);
  nt.tensorArange(t.storage.native, 0, n, start, step);
  return finish(t, opts);
}

// ---- random ----

/** A seeded counter-based random generator (Philox4x32-10): the same seed gives the same numbers. */
export class Generator {
  private seedLo = 0;
  private seedHi = 0;
  private counter = 0;
  constructor(seed = 0) {
    this.manualSeed(seed);
  }
  manualSeed(seed: number): this {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`manualSeed: seed must be a non-negative safe integer, got ${seed}`);
    this.seedLo = seed % 4294967296;
    this.seedHi = Math.floor(seed / 4294967296);
    this.counter = 0;
    return this;
  }
  /** The seed and how many Philox blocks have been drawn. */
  get state(): { seed: number; offset: number } {
    return { seed: this.seedHi * 4294967296 + this.seedLo, offset: this.counter };
  }
  /** @internal fills a float32/float64 tensor; kind 0 uniform [a, b), 1 normal(a, b). */
  fill(t: Tensor, kind: number, a: number, b: number): void {
    this.counter += kernelsFor(t.device).tensorRandom(kind, t.storage.native, t.offset, t.numel, this.seedLo, this.seedHi, this.counter, a, b);
  }
  /** @internal runs a native draw at the current offset; draw returns the Philox blocks it used. */
  draw(fn: (seedLo: number, seedHi: number, counter: number) => number): void {
    this.counter += fn(this.seedLo, this.seedHi, this.counter);
  }
}

let defaultGenerator = new Generator(0);

/** @internal the generator rand/randn/multinomial use without { generator }. */
export function defaultGeneratorOf(): Generator {
  return defaultGenerator;
}

/** Seeds the global generator that rand/randn use without { generator }. */
export function manualSeed(seed: number): Generator {
  defaultGenerator = new Generator(seed);
  return defaultGenerator;
}

export interface RandomOptions extends CreateOptions {
  generator?: Generator;
}

function random(shape: readonly number[], kind: number, a: number, b: number, opts: RandomOptions | undefined, where: string): Tensor {
  const dtype = checkDType(opts?.dtype ?? "float32", where);
  if (!isFloat(dtype)) throw new TypeError(`${where}: dtype must be floating-point, got ${dtype}`);
  const ct = computeType(dtype);
  const device = opts?.device === undefined ? "cpu" : checkDevice(opts.device, "device");
  if (device === "cuda") requireCuda(`{ device: ${JSON.stringify(opts?.device)} }`);
  const t = Tensor.empty(checkShape(shape, where), ct, false, device);
  (opts?.generator ?? defaultGenerator).fill(t, kind, a, b);
  if (ct === dtype) return finish(t, opts);
  const c = castRaw(t, dtype);
  t.dispose();
  return finish(c, opts);
}

/** Standard normal samples (Box–Muller over Philox). */
export function randn(shape: readonly number[], opts?: RandomOptions & { mean?: number; std?: number }): Tensor {
  return random(shape, 1, opts?.mean ?? 0, opts?.std ?? 1, opts, "randn");
}

/** Uniform samples in [low, high) (default [0, 1)). */
export function rand(shape: readonly number[], opts?: RandomOptions & { low?: number; high?: number }): Tensor {
  return random(shape, 0, opts?.low ?? 0, opts?.high ?? 1, opts, "rand");
}

// ---- from data ----

export type NestedNumbers = number | boolean | readonly NestedNumbers[];
export type TypedData = Float32Array | Float64Array | Int32Array | BigInt64Array | Int8Array | Uint8Array | Uint16Array;

export interface TensorOptions extends CreateOptions {
  /** For typed arrays: the shape (default: 1-D). */
  shape?: readonly number[];
}

function nativeDTypeOf(a: TypedData): DType | null {
  if (a instanceof Float32Array) return "float32";
  if (a instanceof Float64Array) return "float64";
  if (a instanceof Int32Array) return "int32";
  if (a instanceof BigInt64Array) return "int64";
  if (a instanceof Int8Array) return "int8";
  if (a instanceof Uint8Array) return "uint8";
  return null;
}

function flatten(data: NestedNumbers, shape: number[], out: number[], dim: number, where: string): void {
  if (Array.isArray(data)) {
    if (dim === shape.length) shape.push(data.length);
    else if (shape[dim] !== data.length) {
      throw new RangeError(`${where}: ragged nested array: dimension ${dim} has lengths ${shape[dim]} and ${data.length}`);
    }
    for (const v of data) flatten(v, shape, out, dim + 1, where);
    return;
  }
  if (dim !== shape.length && shape.length > 0) throw new RangeError(`${where}: ragged nested array: a number appears where dimension ${dim} expects an array`);
  if (typeof data === "boolean") out.push(data ? 1 : 0);
  else if (typeof data === "number") out.push(data);
  else throw new TypeError(`${where}: expected numbers, booleans or nested arrays of them, found ${typeof data}`);
}

function writeValues(values: ArrayLike<number>, shape: readonly number[], dtype: DType): Tensor {
  const t = Tensor.empty(shape, dtype);
  switch (dtype) {
    case "float64": t.storage.native.write(Float64Array.from(values), 0); return t;
    case "float32": t.storage.native.write(Float32Array.from(values), 0); return t;
    case "int32": t.storage.native.write(Int32Array.from(values), 0); return t;
    case "int8": t.storage.native.write(Int8Array.from(values), 0); return t;
    case "uint8": t.storage.native.write(Uint8Array.from(values), 0); return t;
    case "bool": t.storage.native.write(Uint8Array.from(values, (v) => (v !== 0 ? 1 : 0)), 0); return t;
    case "int64": t.storage.native.write(BigInt64Array.from(Array.from(values, (v) => BigInt(Math.trunc(v)))), 0); return t;
    default: {
      t.dispose();
      const f = writeValues(values, shape, "float64");
      const c = castRaw(f, dtype);
      f.dispose();
      return c;
    }
  }
}

/**
 * A tensor from nested arrays (float32 unless dtype says otherwise; booleans give bool)
 * or from a typed array (its own dtype; Uint16Array holds raw float16/bfloat16 bits and needs dtype).
 */
export function tensor(data: NestedNumbers | TypedData, opts?: TensorOptions): Tensor {
  const where = "tensor";
  if (ArrayBuffer.isView(data)) {
    const arr = data as TypedData;
    const shape = checkShape(opts?.shape ?? [arr.length], where);
    if (numelOf(shape) !== arr.length) throw new RangeError(`${where}: shape ${fmtShape(shape)} holds ${numelOf(shape)} values but the array has ${arr.length}`);
    let own = nativeDTypeOf(arr);
    if (arr instanceof Uint16Array) {
      if (opts?.dtype !== "float16" && opts?.dtype !== "bfloat16") {
        throw new TypeError(`${where}: a Uint16Array holds raw float16 or bfloat16 bits; pass { dtype: "float16" } or { dtype: "bfloat16" }`);
      }
      own = opts.dtype;
    }
    if (own === null) throw new TypeError(`${where}: unsupported typed array ${(arr as object).constructor.name}`);
    const dtype = checkDType(opts?.dtype ?? own, where);
    const t = Tensor.empty(shape, own);
    t.storage.native.write(arr, 0);
    if (dtype === own) return finish(t, opts);
    const c = castRaw(t, dtype);
    t.dispose();
    return finish(c, opts);
  }
  const shape: number[] = [];
  const values: number[] = [];
  flatten(data as NestedNumbers, shape, values, 0, where);
  const allBool = typeof data === "boolean" || (Array.isArray(data) && values.length > 0 && (data as unknown[]).flat(Infinity).every((v) => typeof v === "boolean"));
  const dtype = checkDType(opts?.dtype ?? (allBool ? "bool" : "float32"), where);
  return finish(writeValues(values, shape, dtype), opts);
}
