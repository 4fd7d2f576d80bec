// Typed view of the sparse Cholesky the native addon registers
// (native/src/sparse/sparse_addon.cc).
import { addon } from "@nbforge/native";

/** An opaque native factor (symbolic analysis + numeric values). */
export type SparseCholeskyHandle = { readonly __sparseCholesky: unique symbol };

/** Triplets (row, col, value) as parallel arrays. */
export interface TripletBuffers {
  row: Int32Array;
  col: Int32Array;
  value: Float64Array;
}

export interface SparseAddon {
  /**
   * The landmark-SLAM data matrix pieces (native/src/sparse/slam_assembly.cc): rotation block triplets
   * (upper; the first connectionCount are the connection Laplacian), and the translation Laplacian
   * (upper) and coupling with pose 0 grounded.
   */
  sparseSlamAssemble(
    d: number,
    n: number,
    L: number,
    poseIJ: Int32Array,
    poseR: Float64Array,
    poseT: Float64Array,
    poseWeights: Float64Array,
    lmIK: Int32Array,
    lmY: Float64Array,
    lmNu: Float64Array,
  ): { rotation: TripletBuffers; connectionCount: number; laplacian: TripletBuffers; coupling: TripletBuffers };
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
