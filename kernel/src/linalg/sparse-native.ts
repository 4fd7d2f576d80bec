// Typed view of the sparse Cholesky the native addon registers
// (native/src/sparse/sparse_addon.cc).
import { addon } from "@nbforge/native";

/** An opaque native factor (symbolic analysis + numeric values). */
export type SparseCholeskyHandle = { readonly __sparseCholesky: unique symbol };

export interface SparseAddon {
  sparseCholmodVersion(): string | null;
  sparseCholeskyAnalyze(backend: "cholmod" | "native", n: number, indptr: Int32Array, indices: Int32Array): SparseCholeskyHandle;
  /** pivot −1 on success, else the failing row/column of A and its pivot value. */
  sparseCholeskyFactor(handle: SparseCholeskyHandle, values: Float64Array, shift: number): { pivot: number; value: number };
  sparseCholeskySolve(handle: SparseCholeskyHandle, b: Float64Array, k: number): Float64Array;
  sparseCholeskyNnz(handle: SparseCholeskyHandle): number;
  /** Minimum-degree fill-reducing ordering of a symmetric upper-CSR pattern: perm[newIndex] = oldIndex. */
  sparseOrdering(n: number, indptr: Int32Array, indices: Int32Array): Int32Array;
}

export const sparseNative = addon as unknown as SparseAddon;
