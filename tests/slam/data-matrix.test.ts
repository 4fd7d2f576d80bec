// buildDataMatrix against a dense reference built in NumPy from the cost's
// definition (tests/slam/certify-reference.ts): Q, the cost and the optimal
// translations and landmarks, on simulated 2-D and 3-D landmark problems and
// a pose graph; both sparse Cholesky backends.
import { cholmodVersion } from "nbforge/dist/linalg/sparse-cholesky.js";
import { buildDataMatrix, rotationsToColumns, type DataMatrix } from "nbforge/dist/slam/data-matrix.js";
import { cost } from "nbforge/dist/slam/cost.js";
import { simulate } from "nbforge/dist/slam/simulate.js";
import type { Problem } from "nbforge/dist/slam/problem.js";
import { maxAbs, maxAbsDiff, scipy, slamCase, type Result } from "./certify-reference.js";

const backends = cholmodVersion() === null ? (["native"] as const) : (["native", "cholmod"] as const);

/** Q as a dense dn×dn matrix (column c = Q e_c), column-major. */
function denseQ(dm: DataMatrix): Float64Array {
  const dn = dm.d * dm.n;
  const eye = new Float64Array(dn * dn);
  for (let c = 0; c < dn; c++) eye[c * dn + c] = 1;
  return dm.applyQ(eye, dn);
}

const noise = { rotation: 0.05, translation: 0.05, landmark: 0.05 };
const problems: { name: string; problem: Problem & { truth: { R: Float64Array } } }[] = [
  { name: "2-D, 12 poses, 15 landmarks", problem: simulate({ d: 2, poses: 12, landmarks: 15, noise, seed: 11 }) },
  { name: "3-D, 10 poses, 12 landmarks", problem: simulate({ d: 3, poses: 10, landmarks: 12, noise, seed: 12 }) },
  { name: "3-D pose graph, 15 poses", problem: simulate({ d: 3, poses: 15, landmarks: 0, loopClosures: 3, noise, seed: 13 }) },
];
// A landmark seen once (it adds nothing) and one seen twice from the same pose.
{
  const p = problems[0].problem;
  const L = p.numLandmarks;
  p.landmarkEdges.push({ i: 3, k: L, y: Float64Array.from([0.5, 0.2]), nu: 4 });
  p.landmarkEdges.push({ i: 5, k: L + 1, y: Float64Array.from([0.1, -0.7]), nu: 2 });
  p.landmarkEdges.push({ i: 5, k: L + 1, y: Float64Array.from([0.15, -0.6]), nu: 3 });
  p.landmarkEdges.push({ i: 7, k: L + 1, y: Float64Array.from([0.3, 0.2]), nu: 1 });
  p.numLandmarks += 2;
  p.landmarkIds.push(1000, 1001);
}

let reference: Result[] = [];
beforeAll(() => {
  reference = scipy(
    problems.map(({ problem }) =>
      slamCase(problem, { r: problem.d, Yt: rotationsToColumns(problem.truth.R, problem.d, problem.numPoses) }),
    ),
  );
});

describe("buildDataMatrix matches the dense Schur complement of the cost", () => {
  problems.forEach(({ name, problem }, idx) => {
    for (const backend of backends) {
      test(`${backend}: ${name}`, () => {
        const dm = buildDataMatrix(problem, { backend });
        const ref = reference[idx];
        const q = denseQ(dm);
        // Q is symmetric, so column-major and row-major agree.
        expect(maxAbsDiff(q, ref.Q)).toBeLessThan(1e-9 * maxAbs(ref.Q));
        const f = dm.cost(problem.truth.R);
        expect(Math.abs(f - ref.cost[0])).toBeLessThan(1e-9 * ref.cost[0]);
        // Optimal translations and landmarks for the true rotations.
        const { t, landmarks } = dm.recoverTranslations(problem.truth.R);
        const p = Float64Array.from([...t, ...landmarks]);
        expect(maxAbsDiff(p, ref.p)).toBeLessThan(1e-8 * Math.max(1, maxAbs(ref.p)));
        // ...and F there (cost.ts, written independently) equals f(R).
        const F = cost(problem, { d: problem.d, R: problem.truth.R, t, landmarks });
        expect(Math.abs(F - f)).toBeLessThan(1e-9 * f);
      });
    }
  });

  test("the CHOLMOD and native paths give the same cost", () => {
    if (backends.length < 2) return;
    for (const { problem } of problems) {
      const a = buildDataMatrix(problem, { backend: "native" }).cost(problem.truth.R);
      const b = buildDataMatrix(problem, { backend: "cholmod" }).cost(problem.truth.R);
      expect(Math.abs(a - b)).toBeLessThan(1e-10 * a); // different orderings round differently
    }
  });

  test("factorShifted solves (Q − Λ + σI) x = b with the lifted sparse factor", () => {
    const { problem } = problems[1];
    const dm = buildDataMatrix(problem);
    const dn = dm.d * dm.n;
    const dd = dm.d * dm.d;
    const lambda = new Float64Array(dm.n * dd);
    for (let i = 0; i < dm.n; i++) for (let a = 0; a < dm.d; a++) lambda[i * dd + a * dm.d + a] = 0.5; // Λ = 0.5 I
    const b = Float64Array.from({ length: 2 * dn }, (_, i) => Math.sin(i));
    const solver = dm.factorShifted(lambda, 1.5);
    const x = solver.solveMany(b, 2);
    const qx = dm.applyQ(x, 2);
    const r = qx.map((v, i) => v + 1.0 * x[i] - b[i]); // (Q − 0.5I + 1.5I) x − b
    expect(maxAbs(r)).toBeLessThan(1e-9 * maxAbs(b) * maxAbs(reference[1].Q));
    // The reusable solver gives the same solves, and refactors in place for a new shift.
    const reusable = dm.shiftedSolver();
    reusable.factor(lambda, 1.5);
    expect(maxAbsDiff(reusable.solveMany(b, 2), x)).toBeLessThan(1e-12 * maxAbs(x));
    reusable.factor(null, 3);
    const y = reusable.solveMany(b, 2);
    const qy = dm.applyQ(y, 2);
    expect(maxAbs(qy.map((v, i) => v + 3 * y[i] - b[i]))).toBeLessThan(1e-9 * maxAbs(b) * maxAbs(reference[1].Q));
  });
});

describe("buildDataMatrix rejects bad input", () => {
  const base = (): Problem => structuredClone(problems[0].problem);
  test("edges out of range, bad weights, too few poses", () => {
    const p = base();
    p.landmarkEdges[0].k = p.numLandmarks + 5;
    expect(() => buildDataMatrix(p)).toThrow(/landmark edge 0 joins pose \d+ and landmark \d+; expected a pose in 0\.\.11 and a landmark in/);
    const q = base();
    q.poseEdges[2].tau = -1;
    expect(() => buildDataMatrix(q)).toThrow(/pose edge 2 .* has weights κ=.*τ=-1; both must be finite and ≥ 0/);
    const r = base();
    r.poseEdges[1].j = r.poseEdges[1].i;
    expect(() => buildDataMatrix(r)).toThrow(/pose edge 1 joins poses (\d+) and \1; expected two different poses/);
    expect(() => buildDataMatrix({ ...base(), numPoses: 1, poseEdges: [], landmarkEdges: [] })).toThrow(/at least 2 poses/);
  });
  test("translations not tied to pose 0", () => {
    const p = base();
    // Cut the graph: keep only edges and observations within poses 0..5, plus one edge 6 -> 7.
    p.poseEdges = p.poseEdges.filter((e) => e.i < 6 && e.j < 6);
    p.poseEdges.push({ ...problems[0].problem.poseEdges[6], i: 6, j: 7 });
    p.landmarkEdges = p.landmarkEdges.filter((e) => e.i < 6);
    p.numPoses = 8;
    expect(() => buildDataMatrix(p)).toThrow(/not all tied to pose 0 \(pose \d+ is in another component/);
  });
});
