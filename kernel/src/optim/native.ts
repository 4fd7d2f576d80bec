// Typed face of the optimizer kernels (native/src/optim/optim.cc).
import { addon } from "@nbforge/native";
import type { NativeStorage } from "../tensor/native.js";

type S = NativeStorage;
type Nums = readonly number[];

export interface OptimNative {
  optimAdamW(params: readonly S[], pOffs: Nums, grads: readonly S[], gOffs: Nums, sizes: Nums, m: S, v: S, stateOffs: Nums,
    steps: Nums, lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, maximize: boolean): void;
  optimSGD(params: readonly S[], pOffs: Nums, grads: readonly S[], gOffs: Nums, sizes: Nums, buf: S | null, stateOffs: Nums,
    first: Nums, lr: number, momentum: number, dampening: number, weightDecay: number, nesterov: boolean, maximize: boolean): void;
  /** Per tensor: the sum of squares, or the largest magnitude when inf. */
  optimGradNorms(tensors: readonly S[], offs: Nums, sizes: Nums, inf: boolean): Float64Array;
  optimScale(tensors: readonly S[], offs: Nums, sizes: Nums, factor: number): void;
}

export const on = addon as unknown as OptimNative;
