// The Levenberg–Marquardt local solver: it reaches SE-Sync's published optima
// from the files' VERTEX guesses, agrees with SciPy's least_squares on small
// simulated problems, converges from the ground truth at low noise, and gives
// the same answer through CHOLMOD and our own sparse Cholesky.
import { resolve } from "node:path";
import { readG2O } from "nbforge/dist/slam/g2o.js";
import { simulate } from "nbforge/dist/slam/simulate.js";
import { cost, edgeResiduals } from "nbforge/dist/slam/cost.js";
import { solveLocal, spanningTreeEstimate, type IterationInfo } from "nbforge/dist/slam/local-solver.js";
import { cholmodVersion } from "nbforge/dist/linalg/sparse-cholesky.js";
import { certify } from "nbforge/dist/slam/certify.js";
import type { Problem } from "nbforge/dist/slam/problem.js";
import { DATA, HAVE_DATA, datasetTable, scipyLeastSquares } from "./front-reference.js";

const withData = HAVE_DATA ? describe : describe.skip;

withData("local solver on the shared datasets", () => {
  const optimum = new Map(datasetTable().map((r) => [r.file, r.optimum]));
  test.each(["tinyGrid3D", "smallGrid3D", "intel", "M3500"])("%s: from the VERTEX guesses it reaches SE-Sync's f*", (file) => {
    const p = readG2O(resolve(DATA, `${file}.g2o`));
    const r = solveLocal(p);
    const fStar = optimum.get(file)!;
    expect(r.converged).toBe(true);
    expect(Math.abs(r.cost - fStar) / fStar).toBeLessThan(1e-9);
    expect(r.cost).toBeLessThan(r.initialCost);
  });
});

function lsqInput(p: Problem, init = p.initial!): Parameters<typeof scipyLeastSquares>[0] {
  return {
    d: p.d,
    n: p.numPoses,
    L: p.numLandmarks,
    R: [...init.R],
    t: [...init.t],
    m: [...init.landmarks],
    pose: p.poseEdges.map((e) => ({ i: e.i, j: e.j, R: [...e.R], t: [...e.t], kappa: e.kappa, tau: e.tau })),
    landmark: p.landmarkEdges.map((e) => ({ i: e.i, k: e.k, y: [...e.y], nu: e.nu })),
  };
}

describe("slam.solveLocal", () => {
  test.each([2, 3] as const)("%i-D: from the ground truth at low noise it converges to SciPy least_squares' minimum", (d) => {
    const p = simulate({ d, poses: 8, landmarks: 10, loopClosures: 2, noise: { rotation: 0.01, translation: 0.05, landmark: 0.05 }, seed: 21 });
    const r = solveLocal(p, p.truth);
    expect(r.converged).toBe(true);
    expect(r.cost).toBeLessThan(cost(p, p.truth));
    const ref = scipyLeastSquares(lsqInput(p, p.truth));
    expect(Math.abs(ref.start - cost(p, p.truth)) / ref.start).toBeLessThan(1e-12); // same cost function
    expect(Math.abs(r.cost - ref.cost) / ref.cost).toBeLessThan(1e-9);
  });

  test("3-D, moderate noise, from dead reckoning: the same minimum as SciPy from the same start, Newton and Gauss–Newton models", () => {
    const p = simulate({ d: 3, poses: 12, landmarks: 15, loopClosures: 3, noise: { rotation: 0.05, translation: 0.1, landmark: 0.1 }, initial: "odometry", seed: 8 });
    const ref = scipyLeastSquares(lsqInput(p));
    for (const hessian of ["newton", "gauss-newton"] as const) {
      const r = solveLocal(p, undefined, { hessian });
      expect(r.converged).toBe(true);
      expect(Math.abs(r.cost - ref.cost) / ref.cost).toBeLessThan(1e-8);
    }
  });

  test("from scrambled rotations at high noise it stops at a genuine local minimum, which the certificate rejects", () => {
    const p = simulate({ d: 2, poses: 60, landmarks: 60, trajectory: "circle", loopClosures: 15, noise: { rotation: 0.2, translation: 0.2, landmark: 0.2 }, seed: 7 });
    const start = { ...p.truth, R: p.truth.R.slice() };
    let s = 5;
    for (let i = 1; i < p.numPoses; i++) {
      s = (s * 16807) % 2147483647;
      const a = 2 * Math.PI * (s / 2147483647 - 0.5);
      start.R.set([Math.cos(a), -Math.sin(a), Math.sin(a), Math.cos(a)], i * 4);
    }
    const local = solveLocal(p, start);
    const best = solveLocal(p, p.truth);
    expect(local.converged).toBe(true);
    expect(local.gradientNorm).toBeLessThan(1e-6); // a critical point, not an early stop
    expect(local.cost).toBeGreaterThan(best.cost + 100);
    const cert = certify(p, local.estimate);
    expect(cert.certified).toBe(false);
    expect(cert.lambdaMin).toBeLessThan(-1);
    expect(cert.descentDirection).not.toBeNull();
    expect(certify(p, best.estimate).certified).toBe(true);
  });

  test("without an initial estimate it starts from a spanning tree of the measurements", () => {
    const p = simulate({ d: 2, poses: 40, landmarks: 60, noise: { rotation: 0.005, translation: 0.02, landmark: 0.02 }, initial: "none", seed: 5 });
    const fromTruth = solveLocal(p, p.truth);
    const fromTree = solveLocal(p);
    expect(fromTree.converged).toBe(true);
    expect(Math.abs(fromTree.cost - fromTruth.cost) / fromTruth.cost).toBeLessThan(1e-9);
    // The tree estimate satisfies the n − 1 tree edges and each landmark's first observation (to rounding; typical terms are ~1).
    const tree = spanningTreeEstimate(p);
    const residuals = edgeResiduals(p, tree);
    expect(residuals.pose.filter((v) => v < 1e-8).length).toBeGreaterThanOrEqual(p.numPoses - 1);
    expect(residuals.landmark.filter((v) => v < 1e-8).length).toBeGreaterThanOrEqual(p.numLandmarks);
  });

  test("CHOLMOD and our own sparse Cholesky give the same minimum", () => {
    const p = simulate({ d: 3, poses: 30, landmarks: 50, seed: 13 });
    const ours = solveLocal(p, p.truth, { backend: "native" });
    expect(ours.backend).toBe("native");
    if (cholmodVersion() !== null) {
      const theirs = solveLocal(p, p.truth, { backend: "cholmod" });
      expect(theirs.backend).toBe("cholmod");
      expect(Math.abs(ours.cost - theirs.cost) / theirs.cost).toBeLessThan(1e-12);
    }
  });

  test("reports progress after every iteration", () => {
    const p = simulate({ d: 2, poses: 10, landmarks: 5, initial: "odometry", seed: 2 });
    const seen: IterationInfo[] = [];
    const r = solveLocal(p, undefined, { onIteration: (info) => seen.push(info), maxIterations: 3 });
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.length).toBeLessThanOrEqual(3);
    expect(seen.map((s) => s.iteration)).toEqual(seen.map((_, n) => n + 1));
    expect(r.history.length).toBeGreaterThanOrEqual(seen.length);
  });

  test("an estimate of the wrong size is refused with what it should be", () => {
    const p = simulate({ d: 3, poses: 5, landmarks: 4, seed: 1 });
    const bad = { ...p.truth, t: p.truth.t.subarray(0, 12) };
    expect(() => solveLocal(p, bad)).toThrow("slam.solveLocal: estimate.t has 12 numbers; the problem needs 15 (5 poses x 3)");
    expect(() => solveLocal(p, { ...p.truth, d: 2 })).toThrow("slam.solveLocal: the estimate is 2-D but the problem is 3-D");
  });
});
