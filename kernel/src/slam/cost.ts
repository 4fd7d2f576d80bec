// The landmark-SLAM cost in SE-Sync's convention (no ½):
//   F = Σ κ‖R_j − R_i R̃_ij‖²_F + τ‖t_j − t_i − R_i t̃_ij‖²   (pose edges)
//     + Σ ν‖m_k − t_i − R_i ỹ_ik‖²                          (landmark edges)
// so our optimal values equal SE-Sync's (and CPL-SLAM's) on the same file.
//
// One detail: SE-Sync's data matrix puts κI on both diagonal blocks of a
// rotation edge, i.e. it expands the rotation term as
//   κ(‖R_i‖² + ‖R_j‖² − 2⟨R_j, R_i R̃⟩),
// which equals κ‖R_j − R_i R̃‖² only when R̃ is orthogonal. EDGE_SE3:QUAT
// files carry slightly unnormalised quaternions, so we use SE-Sync's
// expansion: it differs from the Frobenius form by the constant
// Σ κ(d − ‖R̃‖²_F) for rotations in SO(d), and reproduces SE-Sync's f*.
import type { Estimate, Problem } from "./problem.js";
import { nativeEdges, slamLocalNative, type SlamLocalHandle } from "./local-native.js";

/** Throws a clear error when an estimate does not fit a problem. */
export function checkEstimate(problem: Problem, estimate: Estimate, who = "slam"): void {
  const { d, numPoses, numLandmarks } = problem;
  if (estimate.d !== d) throw new RangeError(`${who}: the estimate is ${estimate.d}-D but the problem is ${d}-D`);
  const expect = (name: string, got: number, want: number, per: string): void => {
    if (got !== want) {
      throw new RangeError(`${who}: estimate.${name} has ${got} numbers; the problem needs ${want} (${per})`);
    }
  };
  expect("R", estimate.R.length, numPoses * d * d, `${numPoses} poses x ${d * d}`);
  expect("t", estimate.t.length, numPoses * d, `${numPoses} poses x ${d}`);
  expect("landmarks", estimate.landmarks.length, numLandmarks * d, `${numLandmarks} landmarks x ${d}`);
}

/** The cost split by kind of term; `total` is F. */
export interface CostTerms {
  rotation: number;
  translation: number;
  landmark: number;
  total: number;
}

/** Each term of F, split by kind (rotation, translation, landmark). */
export function costTerms(problem: Problem, estimate: Estimate): CostTerms {
  checkEstimate(problem, estimate, "slam.cost");
  const [rotation, translation, landmark] = nativeCost(nativeEdges(problem, "slam.cost"), estimate);
  return { rotation, translation, landmark, total: rotation + translation + landmark };
}

/**
 * The [rotation, translation, landmark] terms of F for measurements already
 * in native memory (the local solver evaluates F this way every step). The
 * arithmetic is native/src/slam_local/local_solver.cc's cost_terms: the
 * rotation term is summed as ‖R_j − R_i R̃‖² + ‖R_i‖² − ‖R_i R̃‖², which
 * equals the expansion above and keeps its digits near a solution.
 */
export function nativeCost(edges: SlamLocalHandle, estimate: Estimate, perEdge?: EdgeResiduals): Float64Array {
  return slamLocalNative.slamLocalCost(edges, estimate.R, estimate.t, estimate.landmarks, perEdge?.pose ?? null, perEdge?.landmark ?? null);
}

/** F at the estimate, in SE-Sync's convention. */
export function cost(problem: Problem, estimate: Estimate): number {
  return costTerms(problem, estimate).total;
}

/** Weighted squared residual of every measurement, for finding outliers. */
export interface EdgeResiduals {
  /** κ‖R_j − R_i R̃‖² + τ‖t_j − t_i − R_i t̃‖² per pose edge. */
  pose: Float64Array;
  /** ν‖m_k − t_i − R_i ỹ‖² per landmark edge. */
  landmark: Float64Array;
}

/** Each measurement's contribution to F, in the problem's edge order. */
export function edgeResiduals(problem: Problem, estimate: Estimate): EdgeResiduals {
  checkEstimate(problem, estimate, "slam.edgeResiduals");
  const out: EdgeResiduals = { pose: new Float64Array(problem.poseEdges.length), landmark: new Float64Array(problem.landmarkEdges.length) };
  // One native pass, the same one as costTerms, keeps a single definition of F.
  nativeCost(nativeEdges(problem, "slam.edgeResiduals"), estimate, out);
  return out;
}
