// A problem's measurements as flat typed arrays, the form every native SLAM
// routine takes (the data matrix's assembly and the local solver's
// linearisation). Plain loops: TypedArray.set on tiny arrays is slow.
import type { Problem } from "./problem.js";

export interface FlatEdges {
  /** (i, j) of each pose edge. */
  poseIJ: Int32Array;
  /** R̃ of each pose edge, d*d row-major. */
  poseR: Float64Array;
  /** t̃ of each pose edge. */
  poseT: Float64Array;
  /** (κ, τ) of each pose edge. */
  poseWeights: Float64Array;
  /** (pose, landmark) of each landmark edge. */
  lmIK: Int32Array;
  /** ỹ of each landmark edge. */
  lmY: Float64Array;
  /** ν of each landmark edge. */
  lmNu: Float64Array;
}

/**
 * Copies the measurements, checking each one's array lengths against d (the
 * callers' native code checks the indices, or they check them on the flat arrays).
 * `who` names the caller in errors.
 */
export function flattenEdges(problem: Problem, who: string): FlatEdges {
  const { d } = problem;
  const dd = d * d;
  const E = problem.poseEdges.length;
  const poseIJ = new Int32Array(2 * E);
  const poseR = new Float64Array(E * dd);
  const poseT = new Float64Array(E * d);
  const poseWeights = new Float64Array(2 * E);
  for (let q = 0; q < E; q++) {
    const { i, j, R, t, kappa, tau } = problem.poseEdges[q];
    if (R.length !== dd || t.length !== d) {
      throw new RangeError(`${who}: pose edge ${q} has R of ${R.length} and t of ${t.length} numbers; a ${d}-D problem needs ${dd} and ${d}`);
    }
    poseIJ[2 * q] = i;
    poseIJ[2 * q + 1] = j;
    for (let a = 0; a < dd; a++) poseR[q * dd + a] = R[a];
    for (let a = 0; a < d; a++) poseT[q * d + a] = t[a];
    poseWeights[2 * q] = kappa;
    poseWeights[2 * q + 1] = tau;
  }
  const M = problem.landmarkEdges.length;
  const lmIK = new Int32Array(2 * M);
  const lmY = new Float64Array(M * d);
  const lmNu = new Float64Array(M);
  for (let q = 0; q < M; q++) {
    const { i, k, y, nu } = problem.landmarkEdges[q];
    if (y.length !== d) throw new RangeError(`${who}: landmark edge ${q} has y of ${y.length} numbers; a ${d}-D problem needs ${d}`);
    lmIK[2 * q] = i;
    lmIK[2 * q + 1] = k;
    for (let a = 0; a < d; a++) lmY[q * d + a] = y[a];
    lmNu[q] = nu;
  }
  return { poseIJ, poseR, poseT, poseWeights, lmIK, lmY, lmNu };
}
