// Typed face of the native GEMM module (native/src/gemm/gemm_js.cc).
//   C = alpha * op(A) * op(B) + beta * C, row-major; op(X) = X or X^T;
//   op(A) is m x k, op(B) is k x n, C is m x n; lda/ldb/ldc are row strides as stored.
import { addon } from "@nbforge/native";

export type GemmBackend = "nbforge" | "blas";

export interface Blocking {
  mc: number;
  kc: number;
  nc: number;
}

export interface NativeGemm {
  gemmF32(transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
    a: Float32Array, lda: number, b: Float32Array, ldb: number, beta: number, c: Float32Array, ldc: number): void;
  gemmF64(transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
    a: Float64Array, lda: number, b: Float64Array, ldb: number, beta: number, c: Float64Array, ldc: number): void;
  /** "nbforge" always; "blas" where a system CBLAS (OpenBLAS) was found at run time. */
  gemmBackends(): GemmBackend[];
  gemmBackend(): GemmBackend;
  setGemmBackend(name: GemmBackend): void;
  /** The shared library behind the "blas" backend, or null. */
  blasLibrary(): string | null;
  /** Test hook: run the portable C++ kernels even on AVX2 machines; returns the previous setting. */
  forcePortable(on: boolean): boolean;
  gemmKernel(): "avx2" | "portable";
  gemmBlocking(dtype: "float32" | "float64"): Blocking;
  setGemmBlocking(dtype: "float32" | "float64", blocking: Partial<Blocking>): void;
  numThreads(): number;
  setNumThreads(n: number): void;
  addF32(a: Float32Array, b: Float32Array, out: Float32Array): void;
  copyF32(src: Float32Array, dst: Float32Array): void;
  /** Measured single-precision FMA peak of all pool threads, GFLOP/s. */
  fmaPeakGflops(seconds?: number): number;
}

export const nativeGemm = addon as unknown as NativeGemm;
