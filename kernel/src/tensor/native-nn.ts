// Typed face of the neural-network kernels (native/src/tensor/norm.cc,
// embedding.cc, loss.cc, attention.cc): fused norms, embedding lookup,
// cross-entropy, dropout mask, scaled-dot-product attention; called through
// kernelsFor(device) (device.ts).
import type { NativeStorage } from "./native.js";

type S = NativeStorage;

export interface NativeNN {
  tensorNorm(rms: boolean, x: S, xOff: number, w: S | null, wOff: number, b: S | null, bOff: number,
    out: S, outOff: number, rows: number, n: number, eps: number, stats?: S | null, statsOff?: number): void;
  tensorNormBackward(rms: boolean, x: S, xOff: number, w: S | null, wOff: number, gy: S, gyOff: number,
    gx: S | null, gxOff: number, gw: S | null, gwOff: number, gb: S | null, gbOff: number, rows: number, n: number, eps: number,
    stats?: S | null, statsOff?: number): void;
  tensorEmbedding(idx: S, idxOff: number, count: number, w: S, wOff: number, num: number, dim: number, out: S, outOff: number): void;
  tensorEmbeddingBackward(idx: S, idxOff: number, count: number, gy: S, gyOff: number, num: number, dim: number,
    gw: S, gwOff: number, paddingIdx: number): void;
  /** Returns how many targets are not ignore_index. reduction: 0 none, 1 mean, 2 sum. */
  tensorCrossEntropy(x: S, xOff: number, tgt: S, tgtOff: number, out: S, outOff: number, rows: number, n: number,
    ignoreIndex: number, smoothing: number, reduction: number): number;
  tensorCrossEntropyBackward(x: S, xOff: number, tgt: S, tgtOff: number, gy: S, gyOff: number, gx: S, gxOff: number,
    rows: number, n: number, ignoreIndex: number, smoothing: number, reduction: number): void;
  /** In place: u[i] = u[i] >= p ? 1 / (1 - p) : 0. */
  tensorDropoutMask(u: S, off: number, n: number, p: number): void;
  tensorAttention(q: S, qOff: number, k: S, kOff: number, v: S, vOff: number, mask: S | null, maskOff: number,
    out: S, outOff: number, batch: number, lq: number, lk: number, d: number, dv: number, scale: number, causal: boolean): void;
  /** gq, gk, gv: contiguous at offset 0, overwritten. */
  tensorAttentionBackward(q: S, qOff: number, k: S, kOff: number, v: S, vOff: number, mask: S | null, maskOff: number,
    go: S, goOff: number, gq: S, gk: S, gv: S, batch: number, lq: number, lk: number, d: number, dv: number, scale: number, causal: boolean): void;
}
