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
  const { d } = problem;
  const dd = d * d;
  const { R, t, landmarks } = estimate;
  let rotation = 0;
  let translation = 0;
  let landmark = 0;
  for (const e of problem.poseEdges) {
    const Ri = e.i * dd;
    const Rj = e.j * dd;
    // ‖R_i‖² + ‖R_j‖² − 2⟨R_j, R_i R̃⟩, summed as ‖R_j − R_i R̃‖² + ‖R_i‖² − ‖R_i R̃‖²
    // (the first part is small near a solution, so it keeps its digits).
    let sr = 0;
    for (let r = 0; r < d; r++) {
      for (let c = 0; c < d; c++) {
        let p = 0; // (R_i R̃)_rc
        for (let a = 0; a < d; a++) p += R[Ri + r * d + a] * e.R[a * d + c];
        const diff = R[Rj + r * d + c] - p;
        const ri = R[Ri + r * d + c];
        sr += diff * diff + (ri - p) * (ri + p);
      }
    }
    let st = 0;
    for (let r = 0; r < d; r++) {
      let p = 0;
      for (let a = 0; a < d; a++) p += R[Ri + r * d + a] * e.t[a];
      const diff = t[e.j * d + r] - t[e.i * d + r] - p;
      st += diff * diff;
    }
    rotation += e.kappa * sr;
    translation += e.tau * st;
  }
  for (const e of problem.landmarkEdges) {
    const Ri = e.i * dd;
    let s = 0;
    for (let r = 0; r < d; r++) {
      let p = 0;
      for (let a = 0; a < d; a++) p += R[Ri + r * d + a] * e.y[a];
      const diff = landmarks[e.k * d + r] - t[e.i * d + r] - p;
      s += diff * diff;
    }
    landmark += e.nu * s;
  }
  return { rotation, translation, landmark, total: rotation + translation + landmark };
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
  const pose = new Float64Array(problem.poseEdges.length);
  const landmark = new Float64Array(problem.landmarkEdges.length);
  // One edge at a time through costTerms keeps a single definition of F.
  problem.poseEdges.forEach((e, n) => {
    pose[n] = costTerms({ ...problem, poseEdges: [e], landmarkEdges: [] }, estimate).total;
  });
  problem.landmarkEdges.forEach((e, n) => {
    landmark[n] = costTerms({ ...problem, poseEdges: [], landmarkEdges: [e] }, estimate).total;
  });
  return { pose, landmark };
}
