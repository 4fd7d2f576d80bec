// Typed view of the float64 linear algebra the native addon registers
// (native/src/linalg/linalg_addon.cc). Matrices cross as row-major Float64Arrays.
import { addon } from "@nbforge/native";

export interface MirrorIndex {
  readonly tIndptr: Int32Array;
  readonly tIndices: Int32Array;
  readonly tPosition: Int32Array;
}

export interface CsrArrays extends Partial<MirrorIndex> {
  readonly indptr: Int32Array;
  readonly indices: Int32Array;
  readonly values: Float64Array;
}

export interface LinalgAddon {
  linalgCholesky(a: Float64Array, n: number): Float64Array;
  linalgSolveTriangular(
    t: Float64Array,
    n: number,
    b: Float64Array,
    nrhs: number,
    lower: boolean,
    transpose: boolean,
    unitDiagonal: boolean,
  ): Float64Array;
  linalgEigh(a: Float64Array, n: number): { values: Float64Array; vectors: Float64Array };
  linalgQr(a: Float64Array, rows: number, cols: number): { q: Float64Array; r: Float64Array };
  linalgSvd(a: Float64Array, rows: number, cols: number): { u: Float64Array; s: Float64Array; vt: Float64Array };
  linalgCsrFromTriplets(
    rows: number,
    cols: number,
    rowIndex: Int32Array,
    colIndex: Int32Array,
    values: Float64Array,
    symmetric: boolean,
  ): CsrArrays;
  linalgCsrCheck(
    rows: number,
    cols: number,
    indptr: Int32Array,
    indices: Int32Array,
    values: Float64Array,
    symmetric: boolean,
  ): Partial<MirrorIndex>;
  linalgCsrMatmul(
    rows: number,
    cols: number,
    indptr: Int32Array,
    indices: Int32Array,
    values: Float64Array,
    symmetric: boolean,
    tIndptr: Int32Array,
    tIndices: Int32Array,
    tPosition: Int32Array,
    x: Float64Array,
    k: number,
    out?: Float64Array,
  ): Float64Array;
}

export const native = addon as unknown as LinalgAddon;
