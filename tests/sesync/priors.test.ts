// Priors through an anchored world pose: the estimate comes out in world
// coordinates (near the ground truth that the priors state), certified, and
// its cost is the problem's cost (independent cost function) plus the
// priors' terms.
import { cost } from "nbforge/dist/slam/cost.js";
import { simulate } from "nbforge/dist/slam/simulate.js";
import { solve } from "nbforge/dist/slam/solve.js";

test.each([2, 3] as const)("priors on two poses put a %i-D solution in the world frame", (d) => {
  const problem = simulate({ d, poses: 40, landmarks: 30, loopClosures: 6, noise: { rotation: 0.02, translation: 0.02, landmark: 0.02 }, seed: 8 });
  const truth = problem.truth;
  const dd = d * d;
  const priors = [0, 25].map((pose) => ({
    pose,
    R: truth.R.slice(pose * dd, (pose + 1) * dd),
    t: truth.t.slice(pose * d, (pose + 1) * d),
    kappa: 100,
    tau: 100,
  }));
  const result = solve(problem, { priors });
  expect(result.certified).toBe(true);
  expect(result.poses).toBe(problem.numPoses);
  expect(result.estimate.R.length).toBe(problem.numPoses * dd);
  // Without priors the gauge puts pose 0 at the origin; with them every pose lands near the truth.
  let worst = 0;
  for (let i = 0; i < problem.numPoses; i++) {
    let e = 0;
    for (let a = 0; a < d; a++) e += (result.estimate.t[i * d + a] - truth.t[i * d + a]) ** 2;
    worst = Math.max(worst, Math.sqrt(e));
  }
  expect(worst).toBeLessThan(0.5);
  let priorCost = 0;
  for (const p of priors) {
    for (let k = 0; k < dd; k++) priorCost += p.kappa * (result.estimate.R[p.pose * dd + k] - p.R[k]) ** 2;
    for (let a = 0; a < d; a++) priorCost += p.tau * (result.estimate.t[p.pose * d + a] - p.t[a]) ** 2;
  }
  expect(result.cost).toBeCloseTo(cost(problem, result.estimate) + priorCost, 6);
});

test("a prior on a pose that does not exist is named", () => {
  const problem = simulate({ d: 2, poses: 5, landmarks: 3, seed: 1 });
  expect(() => solve(problem, { priors: [{ pose: 9, R: Float64Array.of(1, 0, 0, 1), t: Float64Array.of(0, 0), kappa: 1, tau: 1 }] })).toThrow(
    /prior 0 is on pose 9; the problem has poses 0..4/,
  );
});
