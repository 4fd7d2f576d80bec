// The tensor kernels of @nbforge/native, typed. Only this file casts the raw addon.
import { addon } from "@nbforge/native";

export interface NativeStorage {
  dispose(): void;
  /** Takes a new buffer after dispose(), so wrapper objects can be recycled. */
  reset(dtype: number, numel: number, zero?: boolean): void;
  write(values: ArrayBufferView, offset: number): void;
  read(offset: number, count: number): ArrayBuffer;
  readonly numel: number;
  readonly dtype: number;
  readonly bytes: number;
  readonly disposed: boolean;
}

type S = NativeStorage;
type Dims = readonly number[];

export interface TensorNative {
  TensorStorage: new (dtype: number, numel: number, zero?: boolean) => NativeStorage;
  tensorMemoryStats(): { liveStorages: number; liveBytes: number; cachedBytes: number };
  tensorEmptyCache(): void;
  tensorCopy(src: S, srcOff: number, srcStrides: Dims, dst: S, dstOff: number, dstStrides: Dims, shape: Dims): void;
  tensorBinary(op: number, a: S, aOff: number, aStrides: Dims, b: S, bOff: number, bStrides: Dims, out: S, outOff: number, shape: Dims): void;
  tensorUnary(op: number, x: S, xOff: number, out: S, outOff: number, n: number): void;
  tensorUnaryBackward(op: number, x: S, xOff: number, y: S, yOff: number, gy: S, gyOff: number, gx: S, gxOff: number, n: number): void;
  tensorReduce(op: number, x: S, xOff: number, outer: number, red: number, inner: number, out: S, outOff: number, correction: number): void;
  tensorSoftmax(log: boolean, x: S, xOff: number, out: S, outOff: number, rows: number, n: number): void;
  tensorSoftmaxBackward(log: boolean, y: S, yOff: number, gy: S, gyOff: number, gx: S, gxOff: number, rows: number, n: number): void;
  tensorMatmul(
    a: S, aOff: number, aBatchStride: number, lda: number, transA: boolean,
    b: S, bOff: number, bBatchStride: number, ldb: number, transB: boolean,
    out: S, outOff: number, batch: number, m: number, n: number, k: number,
  ): void;
  tensorFill(out: S, off: number, n: number, value: number): void;
  tensorArange(out: S, off: number, n: number, start: number, step: number): void;
  tensorRandom(kind: number, out: S, off: number, n: number, seedLo: number, seedHi: number, counter: number, a: number, b: number): number;
  tensorKernelPath(select?: "portable" | "avx2" | "auto"): "portable" | "avx2";
}

export const nt = addon as unknown as TensorNative;

export const BINARY = { add: 0, sub: 1, mul: 2, div: 3, pow: 4, maximum: 5, minimum: 6, eq: 7, ne: 8, lt: 9, le: 10, gt: 11, ge: 12 } as const;
export type BinaryKernel = keyof typeof BINARY;

export const UNARY = {
  neg: 0, exp: 1, log: 2, sqrt: 3, rsqrt: 4, tanh: 5, sigmoid: 6, relu: 7, gelu_tanh: 8, gelu_erf: 9, silu: 10, abs: 11,
} as const;
export type UnaryKernel = keyof typeof UNARY;

export const REDUCE = { sum: 0, mean: 1, max: 2, min: 3, argmax: 4, argmin: 5, var: 6 } as const;
export type ReduceKernel = keyof typeof REDUCE;

/** Selects the elementwise kernel path ("portable" or "avx2"; "auto" picks the best the CPU runs); returns the path in use. */
export function kernelPath(select?: "portable" | "avx2" | "auto"): "portable" | "avx2" {
  return select === undefined ? nt.tensorKernelPath() : nt.tensorKernelPath(select);
}
