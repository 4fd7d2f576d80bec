// Typed face of the indexing, sampling and quantization kernels
// (native/src/tensor/indexing.cc, sampling.cc, quantize.cc); called through
// kernelsFor(device) (device.ts).
import type { NativeStorage as S } from "./native.js";

type Dims = readonly number[];

export interface IndexingNative {
  tensorGather(x: S, xOff: number, xStrides: Dims, idx: S, idxOff: number, idxStrides: Dims, out: S, shape: Dims, dim: number, dimSize: number, what: string): void;
  tensorScatter(mode: 0 | 1, out: S, outOff: number, outStrides: Dims, idx: S, idxOff: number, idxStrides: Dims,
    src: S, srcOff: number, srcStrides: Dims, shape: Dims, dim: number, dimSize: number, what: string): void;
  tensorWhere(c: S, cOff: number, cStrides: Dims, a: S, aOff: number, aStrides: Dims, b: S, bOff: number, bStrides: Dims, out: S, shape: Dims): void;
  tensorTopk(x: S, xOff: number, rows: number, n: number, k: number, largest: boolean, out: S, outOff: number): void;
  tensorMultinomial(p: S, pOff: number, rows: number, n: number, samples: number, replacement: boolean, out: S, outOff: number,
    seedLo: number, seedHi: number, counter: number, what: string): number;
  tensorQuantize(bits: 8 | 4, x: S, xOff: number, n: number, block: number, data: S, scales: S): void;
  tensorDequantize(bits: 8 | 4, data: S, dataOff: number, scales: S, scalesOff: number, n: number, block: number, out: S): void;
}
