// The local solver's native arithmetic (native/src/slam_local): F against a
// direct evaluation of SE-Sync's expansion, the Schur-complement step on
// landmarks that only the fixed pose sees or that many poses share (against
// SciPy's least_squares), and clear errors for measurements that do not fit.
import { simulate } from "nbforge/dist/slam/simulate.js";
import { cost, costTerms, edgeResiduals } from "nbforge/dist/slam/cost.js";
import { solveLocal } from "nbforge/dist/slam/local-solver.js";
import type { Estimate, Problem } from "nbforge/dist/slam/problem.js";
import { scipyLeastSquares } from "./front-reference.js";

/** F written out as SE-Sync's data matrix expands it: κ(‖R_i‖² + ‖R_j‖² − 2⟨R_j, R_i R̃⟩) + τ‖·‖² + ν‖·‖². */
function referenceCost(p: Problem, x: Estimate): number {
  const d = p.d;
  const at = (M: Float64Array, o: number, r: number, c: number): number => M[o + r * d + c];
  let F = 0;
  for (const e of p.poseEdges) {
    let ii = 0, jj = 0, cross = 0;
    for (let r = 0; r < d; r++) {
      for (let c = 0; c < d; c++) {
        ii += at(x.R, e.i * d * d, r, c) ** 2;
        jj += at(x.R, e.j * d * d, r, c) ** 2;
        let v = 0;
        for (let a = 0; a < d; a++) v += at(x.R, e.i * d * d, r, a) * at(e.R, 0, a, c);
        cross += at(x.R, e.j * d * d, r, c) * v;
      }
    }
    F += e.kappa * (ii + jj - 2 * cross);
    for (let r = 0; r < d; r++) {
      let v = 0;
      for (let a = 0; a < d; a++) v += at(x.R, e.i * d * d, r, a) * e.t[a];
      F += e.tau * (x.t[e.j * d + r] - x.t[e.i * d + r] - v) ** 2;
    }
  }
  for (const e of p.landmarkEdges) {
    for (let r = 0; r < d; r++) {
      let v = 0;
      for (let a = 0; a < d; a++) v += at(x.R, e.i * d * d, r, a) * e.y[a];
      F += e.nu * (x.landmarks[e.k * d + r] - x.t[e.i * d + r] - v) ** 2;
    }
  }
  return F;
}

describe("slam local solver, native arithmetic", () => {
  test.each([2, 3] as const)("%i-D: F and its per-edge split equal a direct evaluation of SE-Sync's expansion", (d) => {
    const p = simulate({ d, poses: 15, landmarks: 20, loopClosures: 3, noise: { rotation: 0.1, translation: 0.1, landmark: 0.1 }, initial: "odometry", seed: 4 });
    for (const x of [p.truth, p.odometry]) {
      const ref = referenceCost(p, x);
      expect(Math.abs(cost(p, x) - ref) / ref).toBeLessThan(1e-12);
      const terms = costTerms(p, x);
      const per = edgeResiduals(p, x);
      const sum = [...per.pose, ...per.landmark].reduce((a, b) => a + b, 0);
      expect(Math.abs(sum - terms.total) / terms.total).toBeLessThan(1e-12);
      expect(Math.abs(per.landmark.reduce((a, b) => a + b, 0) - terms.landmark) / terms.landmark).toBeLessThan(1e-12);
    }
  });

  test("landmarks seen only from the fixed pose 0, by few poses (eliminated) and by many (kept): the same minimum as SciPy", () => {
    const base = simulate({ d: 3, poses: 14, landmarks: 10, sensingRadius: 5, maxObservations: 14, loopClosures: 2, noise: { rotation: 0.05, translation: 0.1, landmark: 0.1 }, initial: "odometry", seed: 12 });
    // Two extra landmarks observed from pose 0 alone (their unknowns decouple from every pose's).
    const L = base.numLandmarks;
    const extra = [Float64Array.of(1, 2, 0.5), Float64Array.of(-1, 0.3, 2)];
    const p: Problem = {
      ...base,
      numLandmarks: L + 2,
      landmarkIds: [...base.landmarkIds, L, L + 1],
      landmarkEdges: [...base.landmarkEdges, { i: 0, k: L, y: extra[0], nu: 3 }, { i: 0, k: L + 1, y: extra[1], nu: 0.5 }],
    };
    const start: Estimate = { ...base.odometry, landmarks: Float64Array.from([...base.odometry.landmarks, 0, 0, 0, 0, 0, 0]) };
    // Landmarks seen from more than 8 moving poses stay in the reduced system; the others are eliminated: both kinds occur.
    const seenFrom = Array.from({ length: L }, (_, k) => new Set(p.landmarkEdges.filter((e) => e.k === k && e.i > 0).map((e) => e.i)).size);
    expect(Math.max(...seenFrom)).toBeGreaterThan(8);
    expect(Math.min(...seenFrom)).toBeLessThanOrEqual(8);
    const ref = scipyLeastSquares({
      d: 3,
      n: p.numPoses,
      L: p.numLandmarks,
      R: [...start.R],
      t: [...start.t],
      m: [...start.landmarks],
      pose: p.poseEdges.map((e) => ({ i: e.i, j: e.j, R: [...e.R], t: [...e.t], kappa: e.kappa, tau: e.tau })),
      landmark: p.landmarkEdges.map((e) => ({ i: e.i, k: e.k, y: [...e.y], nu: e.nu })),
    });
    for (const hessian of ["newton", "gauss-newton"] as const) {
      const r = solveLocal(p, start, { hessian });
      expect(r.converged).toBe(true);
      expect(Math.abs(r.cost - ref.cost) / ref.cost).toBeLessThan(1e-8);
      // The pose-0-only landmarks land exactly where pose 0 sees them.
      for (let q = 0; q < 3; q++) expect(r.estimate.landmarks[L * 3 + q]).toBeCloseTo(start.t[q] + [...r.estimate.R.subarray(0, 9)].slice(q * 3, q * 3 + 3).reduce((s, v, a) => s + v * extra[0][a], 0), 9);
    }
  });

  test("measurements that do not fit the problem get errors naming the edge", () => {
    const p = simulate({ d: 2, poses: 5, landmarks: 4, seed: 2 });
    const badLandmark: Problem = { ...p, landmarkEdges: [...p.landmarkEdges, { i: 1, k: 9, y: Float64Array.of(0, 1), nu: 1 }] };
    expect(() => cost(badLandmark, p.truth)).toThrow(/slam\.cost: landmark edge \d+ joins pose 1 and landmark 9; expected a pose in 0\.\.4 and a landmark in 0\.\.3/);
    const badPose: Problem = { ...p, poseEdges: [...p.poseEdges, { i: 0, j: 7, R: Float64Array.of(1, 0, 0, 1), t: Float64Array.of(0, 0), kappa: 1, tau: 1 }] };
    expect(() => solveLocal(badPose, p.truth)).toThrow(/slam\.solveLocal: pose edge \d+ joins poses 0 and 7; expected poses in 0\.\.4/);
    const badShape: Problem = { ...p, landmarkEdges: [{ i: 1, k: 0, y: Float64Array.of(0, 1, 2), nu: 1 }] };
    expect(() => edgeResiduals(badShape, p.truth)).toThrow(/landmark edge 0 has y of 3 numbers; a 2-D problem needs 2/);
  });
});
