// Typed view of the local solver's native arithmetic
// (native/src/slam_local/local_solver_addon.cc), and the one place that
// flattens a problem's measurements for it.
import { addon } from "@nbforge/native";
import type { Problem } from "./problem.js";
import { flattenEdges } from "./flat-edges.js";

/** An opaque native copy of a problem's measurements (and, once asked for, JᵀJ's pattern). */
export type SlamLocalHandle = { readonly __slamLocal: unique symbol };

export interface SlamLocalAddon {
  slamLocalCreate(
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
    who?: string,
  ): SlamLocalHandle;
  /**
   * JᵀJ's upper CSR pattern by variable blocks (pose 0 fixed; poses 1.., then landmarks; each row starts at its
   * diagonal), and that of the system left when the landmarks are eliminated (`reduced`: the poses, then the
   * landmarks seen from more than 8 poses, which stay).
   */
  slamLocalPattern(h: SlamLocalHandle): { indptr: Int32Array; indices: Int32Array; unknowns: number; reduced: { indptr: Int32Array; indices: Int32Array; unknowns: number } };
  /** Overwrites values (JᵀJ), gradient (Jᵀr) and, when given, curvature (Newton's Σ r ∂²r, k x k per pose). */
  slamLocalLinearise(
    h: SlamLocalHandle,
    R: Float64Array,
    t: Float64Array,
    landmarks: Float64Array,
    values: Float64Array,
    gradient: Float64Array,
    curvature: Float64Array | null,
  ): void;
  /** [rotation, translation, landmark] terms of F; per-edge costs into the arrays given. */
  slamLocalCost(
    h: SlamLocalHandle,
    R: Float64Array,
    t: Float64Array,
    landmarks: Float64Array,
    poseCost: Float64Array | null,
    landmarkCost: Float64Array | null,
  ): Float64Array;
  /** x ⊞ αδ into the out arrays (which must not be the inputs). */
  slamLocalRetract(
    h: SlamLocalHandle,
    R: Float64Array,
    t: Float64Array,
    landmarks: Float64Array,
    delta: Float64Array,
    alpha: number,
    outR: Float64Array,
    outT: Float64Array,
    outLandmarks: Float64Array,
  ): void;
  /** D = diag(JᵀJ) floored at 1e-12 of its largest entry (Marquardt's scaling). */
  slamLocalScaling(h: SlamLocalHandle, values: Float64Array, D: Float64Array): void;
  /**
   * A = JᵀJ (+ curvature) + λD with the landmarks l eliminated: S = A_pp − A_pl A_ll⁻¹ A_lp (reduced pattern) and
   * rhs = g_p − A_pl A_ll⁻¹ g_l. False when a landmark block is not positive definite.
   */
  slamLocalReduce(
    h: SlamLocalHandle,
    values: Float64Array,
    curvature: Float64Array | null,
    D: Float64Array,
    lambda: number,
    gradient: Float64Array,
    S: Float64Array,
    rhs: Float64Array,
  ): boolean;
  /** The whole solution of A s = g from the reduced system's (after slamLocalReduce): s_l = A_ll⁻¹(g_l − A_lp s_p). */
  slamLocalBackSubstitute(h: SlamLocalHandle, values: Float64Array, gradient: Float64Array, reducedSolution: Float64Array, out: Float64Array): void;
  /** [‖g‖∞, gᵀδ, δᵀDδ, δᵀδ, tᵀt + mᵀm] in one pass (δ and D may be null: then only the first and last). */
  slamLocalStepStats(h: SlamLocalHandle, gradient: Float64Array, delta: Float64Array | null, D: Float64Array | null, t: Float64Array, landmarks: Float64Array): Float64Array;
}

export const slamLocalNative = addon as unknown as SlamLocalAddon;

/** The problem's measurements copied into native memory once (see flat-edges.ts). */
export function nativeEdges(problem: Problem, who: string): SlamLocalHandle {
  const { d, numPoses: n, numLandmarks: L } = problem;
  const f = flattenEdges(problem, who);
  return slamLocalNative.slamLocalCreate(d, n, L, f.poseIJ, f.poseR, f.poseT, f.poseWeights, f.lmIK, f.lmY, f.lmNu, who);
}
