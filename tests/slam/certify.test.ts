// certify / certifyRotations against a dense NumPy/SciPy reference of S = Q − Λ
// (tests/slam/certify-reference.ts): λ_min, Λ, stationarity; a low-noise
// local solution certifies; a wound ring (a local minimum of a loop whose
// rotations wrap around it more than once) and the local minimum LM reaches on
// a high-noise grid from a bad start are rejected with a negative λ_min and
// its eigenvector; the CHOLMOD and native paths agree.
import { cholmodVersion } from "nbforge/dist/linalg/sparse-cholesky.js";
import { certify, certifyRotations, type EstimateCertificate } from "nbforge/dist/slam/certify.js";
import { buildDataMatrix, rotationsToColumns } from "nbforge/dist/slam/data-matrix.js";
import { solveLocal } from "nbforge/dist/slam/local-solver.js";
import { simulate } from "nbforge/dist/slam/simulate.js";
import type { Estimate, Problem } from "nbforge/dist/slam/problem.js";
import { maxAbs, maxAbsDiff, scipy, slamCase, type Result } from "./certify-reference.js";

const backends = cholmodVersion() === null ? (["native"] as const) : (["native", "cholmod"] as const);

const rot2 = (a: number): Float64Array => Float64Array.from([Math.cos(a), -Math.sin(a), Math.sin(a), Math.cos(a)]);

/** A loop of N poses, each odometry edge turning by 2π/N and stepping 1: a closed polygon. */
function ring(N: number, kappa: number, tau: number): Problem {
  const poseEdges = Array.from({ length: N }, (_, k) => ({ i: k, j: (k + 1) % N, R: rot2((2 * Math.PI) / N), t: Float64Array.from([1, 0]), kappa, tau }));
  return { d: 2, numPoses: N, numLandmarks: 0, poseEdges, landmarkEdges: [], poseIds: [...Array(N).keys()], landmarkIds: [] };
}

/** Rotations that turn w times around the loop (w = 1 is the truth). */
function wound(N: number, w: number): Estimate {
  const R = new Float64Array(4 * N);
  const t = new Float64Array(2 * N);
  for (let k = 0; k < N; k++) {
    R.set(rot2((2 * Math.PI * k * w) / N), 4 * k);
    t[2 * k] = Math.cos((2 * Math.PI * k) / N);
    t[2 * k + 1] = Math.sin((2 * Math.PI * k) / N);
  }
  return { d: 2, R, t, landmarks: new Float64Array(0) };
}

const lowNoise = { rotation: 0.01, translation: 0.02, landmark: 0.02 };
const cases: { name: string; problem: Problem; estimate: Estimate; expectCertified: boolean }[] = [];
{
  const p2 = simulate({ d: 2, poses: 20, landmarks: 25, noise: lowNoise, seed: 21 });
  cases.push({ name: "2-D landmarks, local solution from the truth", problem: p2, estimate: solveLocal(p2, p2.truth).estimate, expectCertified: true });
  const p3 = simulate({ d: 3, poses: 15, landmarks: 20, noise: lowNoise, seed: 22 });
  cases.push({ name: "3-D landmarks, local solution from the truth", problem: p3, estimate: solveLocal(p3, p3.truth).estimate, expectCertified: true });
  const r = ring(12, 100, 1);
  cases.push({ name: "ring of 12, wound 3 times: a local minimum", problem: r, estimate: solveLocal(r, wound(12, 3)).estimate, expectCertified: false });
  // High noise, and a start with every rotation turned far off: LM stops in a local minimum.
  const g = simulate({ d: 2, poses: 40, landmarks: 0, loopClosures: 15, trajectory: "grid", noise: { rotation: 0.4, translation: 0.3, landmark: 0.3 }, seed: 5 });
  const start = structuredClone(g.truth);
  for (let i = 0; i < g.numPoses; i++) start.R.set(rot2(((i * 2.399) % (2 * Math.PI)) - Math.PI), 4 * i);
  cases.push({ name: "2-D grid, high noise, from the truth", problem: g, estimate: solveLocal(g, g.truth, { backend: "native" }).estimate, expectCertified: true });
  cases.push({ name: "2-D grid, high noise, from a bad start: a local minimum", problem: g, estimate: solveLocal(g, start, { backend: "native" }).estimate, expectCertified: false });
}

const results = new Map<string, EstimateCertificate>();
let reference: Result[] = [];
beforeAll(() => {
  for (const c of cases) for (const backend of backends) results.set(`${c.name}/${backend}`, certify(c.problem, c.estimate, { backend }));
  reference = scipy(
    cases.map((c) =>
      slamCase(c.problem, {
        r: c.problem.d,
        Yt: rotationsToColumns(c.estimate.R, c.problem.d, c.problem.numPoses),
        v: results.get(`${c.name}/native`)!.descentDirection!,
      }),
    ),
  );
});

describe("certify against the dense SciPy certificate", () => {
  cases.forEach((c, idx) => {
    for (const backend of backends) {
      test(`${backend}: ${c.name}`, () => {
        const cert = results.get(`${c.name}/${backend}`)!;
        const ref = reference[idx];
        const scale = Math.max(...Array.from(ref.eigs, Math.abs));
        expect(cert.certified).toBe(c.expectCertified);
        // λ_min and Λ as SciPy's dense eigh finds them.
        expect(Math.abs(cert.lambdaMin - ref.lambdaMin[0])).toBeLessThan(1e-8 * scale);
        expect(maxAbsDiff(cert.lambda, ref.lambda)).toBeLessThan(1e-9 * maxAbs(ref.lambda));
        // Stationarity of Λ: ‖S Rᵀ‖ is the first-order residual, as SciPy computes it.
        expect(Math.abs(cert.stationarity - ref.stationarity[0])).toBeLessThan(1e-6 * Math.max(1, ref.stationarity[0]));
        expect(Math.abs(cert.cost - ref.cost[0])).toBeLessThan(1e-9 * ref.cost[0]);
        expect(Math.abs(cert.cost - cert.dualValue)).toBeLessThan(1e-9 * cert.cost);
        expect(cert.times.total).toBeGreaterThan(0);
        expect(cert.times.verify).toBeGreaterThan(0);
        if (c.expectCertified) {
          expect(cert.choleskyPassed).toBe(true);
          expect(cert.boundProven).toBe(true);
          expect(cert.stationarity).toBeLessThan(1e-2);
          expect(ref.lambdaMin[0]).toBeGreaterThan(-1e-6);
          const dn = c.problem.d * c.problem.numPoses;
          expect(cert.suboptimalityBound).toBeLessThanOrEqual(dn * cert.eta + 1e-9 * cert.cost);
        } else {
          expect(cert.lambdaMin).toBeLessThan(0);
          expect(cert.dualityGap).toBeGreaterThan(0);
          // The descent direction is λ_min's eigenvector of SciPy's S.
          const v = cert.descentDirection!;
          const vs = backend === "native" ? ref : undefined;
          if (vs !== undefined) {
            expect(Math.abs(vs.vSv[0] - ref.lambdaMin[0])).toBeLessThan(1e-8 * scale);
            expect(vs.residual[0]).toBeLessThan(1e-5 * scale);
          }
          expect(v.length).toBe(c.problem.d * c.problem.numPoses);
        }
      });
    }
  });

  test("the CHOLMOD and native paths agree on cost and certificate", () => {
    if (backends.length < 2) return;
    for (const c of cases) {
      const a = results.get(`${c.name}/native`)!;
      const b = results.get(`${c.name}/cholmod`)!;
      expect(b.certified).toBe(a.certified);
      expect(Math.abs(a.cost - b.cost)).toBeLessThan(1e-10 * a.cost);
      expect(Math.abs(a.lambdaMin - b.lambdaMin)).toBeLessThan(1e-8 * Math.max(1, Math.abs(a.lambdaMin)));
    }
  });

  test("the bad start's local minimum costs more than the certified solution, and its bound covers the gap", () => {
    const good = results.get(`${cases[3].name}/native`)!;
    const bad = results.get(`${cases[4].name}/native`)!;
    expect(bad.cost).toBeGreaterThan(good.cost + 1);
    expect(bad.suboptimalityBound).toBeGreaterThanOrEqual(bad.cost - good.cost);
  });

  test("the ground truth of a noise-free ring certifies; the wound one's bound shows its gap", () => {
    const r = ring(12, 100, 1);
    const good = certify(r, solveLocal(r, wound(12, 1)).estimate);
    const bad = results.get(`${cases[2].name}/native`)!;
    expect(good.certified).toBe(true);
    // The wound point's cost exceeds the optimum (0 here) and its (indicative) bound covers the difference.
    expect(bad.cost - good.cost).toBeGreaterThan(100);
    expect(bad.suboptimalityBound).toBeGreaterThanOrEqual(bad.cost - good.cost - 1e-6);
  });
});

describe("certifyRotations: the rank-r form of the staircase", () => {
  test("a certified point lifted to rank d + 1 (a zero column) certifies with the same λ_min", () => {
    const c = cases[0];
    const dm = buildDataMatrix(c.problem);
    const d = c.problem.d;
    const dn = d * c.problem.numPoses;
    const yt = rotationsToColumns(c.estimate.R, d, c.problem.numPoses);
    const lifted = new Float64Array(dn * (d + 1));
    lifted.set(yt);
    const a = certifyRotations(dm, yt, d);
    const b = certifyRotations(dm, lifted, d + 1);
    expect(b.certified).toBe(true);
    expect(Math.abs(a.lambdaMin - b.lambdaMin)).toBeLessThan(1e-9);
    expect(Math.abs(a.cost - b.cost)).toBeLessThan(1e-12 * a.cost);
  });

  test("never a false certificate: a λ_min of −1e-5 (M3500b has −2.7e-5) is rejected by default", () => {
    // The wound ring with every weight scaled by 1e-7: S scales too, λ_min ≈ −1e-5.
    const scaled = ring(12, 100e-7, 1e-7);
    const cert = certify(scaled, cases[2].estimate);
    expect(cert.lambdaMin).toBeLessThan(-5e-6);
    expect(cert.lambdaMin).toBeGreaterThan(-5e-5);
    expect(cert.certified).toBe(false);
    expect(cert.choleskyPassed).toBe(false);
    // A loose tolerance (SE-Sync's default is 1e-3) would pass it.
    expect(certify(scaled, cases[2].estimate, { eta: 1e-3 }).choleskyPassed).toBe(true);
  });

  test("the verdict does not depend on the units of the weights (η scales with the data matrix)", () => {
    // Many precise observations per pose: the data matrix is summed at a large scale (~1e6 here,
    // ~1e10 with the weights ×1e4, where an absolute η of 1e-6 sits below the rounding of the sums
    // and the Cholesky test fails at this certifiable point).
    const p = simulate({ d: 3, poses: 20, landmarks: 2000, maxObservations: 5, noise: { rotation: 0.01, translation: 0.01, landmark: 0.01 }, seed: 5 });
    const local = solveLocal(p, p.truth).estimate;
    const heavy = certify(p, local);
    expect(heavy.certified).toBe(true);
    const scaled = (c: number): Problem => ({
      ...p,
      poseEdges: p.poseEdges.map((e) => ({ ...e, kappa: c * e.kappa, tau: c * e.tau })),
      landmarkEdges: p.landmarkEdges.map((e) => ({ ...e, nu: c * e.nu })),
    });
    for (const c of [1e-6, 1e4]) {
      const cert = certify(scaled(c), local);
      expect(cert.certified).toBe(true);
      expect(cert.eta / heavy.eta).toBeCloseTo(c, 6);
      expect(cert.cost / heavy.cost).toBeCloseTo(c, 6);
    }
  });

  test("bad input gets a clear error", () => {
    const c = cases[0];
    const bent = structuredClone(c.estimate);
    bent.R[4 * 3] *= 1.1;
    expect(() => certify(c.problem, bent)).toThrow(/block 3 of the estimate is not orthonormal/);
    const short = { ...c.estimate, R: c.estimate.R.subarray(4) };
    expect(() => certify(c.problem, short)).toThrow(/estimate\.R has \d+ numbers/);
    const dm = buildDataMatrix(c.problem);
    expect(() => certifyRotations(dm, new Float64Array(10), 2)).toThrow(/Yt must hold \d+x2/);
    expect(() => certifyRotations(dm, new Float64Array(dm.d * dm.n), 1)).toThrow(/rank r must be an integer ≥ d = 2/);
    expect(() => certify(c.problem, c.estimate, { eta: -1 })).toThrow(/eta must be a positive number/);
  });
});
