// Priors on poses through an anchored "world" pose: a prior (R̄, t̄) on pose i
// is a relative-pose measurement from a world pose, pose 0 of an augmented
// problem, to pose i. The staircase fixes the gauge at pose 0 (identity
// rotation, zero translation), so the world pose stays the world frame and
// the estimate comes out in world coordinates.
import type { Estimate, PoseMeasurement, Problem } from "./problem.js";

export interface PosePrior {
  /** Pose index (0-based, as in the problem). */
  pose: number;
  /** The pose's rotation in the world frame, d×d row-major. */
  R: Float64Array;
  /** The pose's position in the world frame, length d. */
  t: Float64Array;
  /** Rotation weight κ (as for a relative-pose measurement). */
  kappa: number;
  /** Translation weight τ. */
  tau: number;
}

/** The problem with a world pose prepended (index 0) and one measurement per prior. */
export function withWorldPose(problem: Problem, priors: readonly PosePrior[]): Problem {
  const { d } = problem;
  const edges: PoseMeasurement[] = problem.poseEdges.map((e) => ({ ...e, i: e.i + 1, j: e.j + 1 }));
  priors.forEach((p, k) => {
    if (!Number.isInteger(p.pose) || p.pose < 0 || p.pose >= problem.numPoses) {
      throw new RangeError(`slam.solve: prior ${k} is on pose ${p.pose}; the problem has poses 0..${problem.numPoses - 1}`);
    }
    if (p.R.length !== d * d || p.t.length !== d) throw new RangeError(`slam.solve: prior ${k} needs R of ${d * d} and t of ${d} numbers`);
    if (!(p.kappa > 0 && p.tau > 0 && Number.isFinite(p.kappa) && Number.isFinite(p.tau))) {
      throw new RangeError(`slam.solve: prior ${k} has weights κ=${p.kappa}, τ=${p.tau}; both must be finite and > 0`);
    }
    edges.push({ i: 0, j: p.pose + 1, R: Float64Array.from(p.R), t: Float64Array.from(p.t), kappa: p.kappa, tau: p.tau });
  });
  const worldId = Math.max(-1, ...problem.poseIds) + 1;
  const initial = problem.initial && {
    d,
    R: concat(identity(d), problem.initial.R),
    t: concat(new Float64Array(d), problem.initial.t),
    landmarks: problem.initial.landmarks,
  };
  return {
    ...problem,
    numPoses: problem.numPoses + 1,
    poseEdges: edges,
    landmarkEdges: problem.landmarkEdges.map((e) => ({ ...e, i: e.i + 1 })),
    poseIds: [worldId, ...problem.poseIds],
    ...(initial ? { initial } : {}),
  };
}

/** The augmented problem's estimate without the world pose. */
export function withoutWorldPose(estimate: Estimate): Estimate {
  const { d } = estimate;
  return { d, R: estimate.R.slice(d * d), t: estimate.t.slice(d), landmarks: estimate.landmarks };
}

function identity(d: number): Float64Array {
  const m = new Float64Array(d * d);
  for (let a = 0; a < d; a++) m[a * d + a] = 1;
  return m;
}

function concat(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
