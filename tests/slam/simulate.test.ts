// The seeded simulator: reproducibility, counts, sensing radius, connectivity,
// the noise statistics the weights promise (E[F(truth)] = number of residual
// degrees of freedom), a g2o round trip, and bad options.
import { simulate } from "nbforge/dist/slam/simulate.js";
import { cost, costTerms } from "nbforge/dist/slam/cost.js";
import { checkConnected, connectedComponents } from "nbforge/dist/slam/graph.js";
import { formatG2O, readG2O } from "nbforge/dist/slam/g2o.js";

describe("slam.simulate", () => {
  test("the same seed gives the same problem; another seed a different one", () => {
    const a = simulate({ d: 3, poses: 30, landmarks: 40, seed: 5 });
    const b = simulate({ d: 3, poses: 30, landmarks: 40, seed: 5 });
    const c = simulate({ d: 3, poses: 30, landmarks: 40, seed: 6 });
    expect(formatG2O(a)).toBe(formatG2O(b));
    expect(formatG2O(a)).not.toBe(formatG2O(c));
  });

  test.each([
    [2, "grid"],
    [2, "circle"],
    [3, "grid"],
    [3, "circle"],
    [3, "random"],
  ] as const)("%i-D %s: counts, observations within the sensing radius, connected", (d, trajectory) => {
    const radius = 2.5;
    const p = simulate({ d, trajectory, poses: 60, landmarks: 80, sensingRadius: radius, loopClosures: 5, seed: 11 });
    expect(p.d).toBe(d);
    expect(p.numPoses).toBe(60);
    expect(p.numLandmarks).toBe(80);
    expect(p.poseEdges.length).toBeGreaterThanOrEqual(59);
    expect(p.poseEdges.length).toBeLessThanOrEqual(64);
    expect(connectedComponents(p).length).toBe(1);
    expect(() => checkConnected(p)).not.toThrow();
    // along-path landmarks are always within range of the pose they were placed near.
    const seen = new Uint8Array(80);
    let worst = 0;
    for (const e of p.landmarkEdges) {
      seen[e.k] = 1;
      let s = 0;
      for (let r = 0; r < d; r++) s += (p.truth.landmarks[e.k * d + r] - p.truth.t[e.i * d + r]) ** 2;
      worst = Math.max(worst, Math.sqrt(s));
    }
    expect(seen.every((v) => v === 1)).toBe(true);
    expect(worst).toBeLessThanOrEqual(radius + 1e-12);
    // Rotations are in SO(d).
    for (let q = 0; q < p.numPoses; q++) {
      const Rq = p.truth.R.subarray(q * d * d, (q + 1) * d * d);
      for (let r = 0; r < d; r++) {
        for (let c = 0; c < d; c++) {
          let s = 0;
          for (let a = 0; a < d; a++) s += Rq[a * d + r] * Rq[a * d + c];
          expect(Math.abs(s - (r === c ? 1 : 0))).toBeLessThan(1e-12);
        }
      }
    }
  });

  test("maxObservations keeps the nearest poses; a box field still observes every landmark", () => {
    const p = simulate({ d: 2, poses: 40, landmarks: 100, landmarkField: "box", sensingRadius: 1.5, maxObservations: 2, seed: 3 });
    const count = new Int32Array(100);
    for (const e of p.landmarkEdges) count[e.k]++;
    expect(Math.min(...count)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...count)).toBeLessThanOrEqual(2);
  });

  test.each([2, 3] as const)("%i-D: at the ground truth, each term of F averages its degrees of freedom", (d) => {
    // Translation and landmark terms are χ²_d; the rotation term is ≈ χ²_1 (2-D) or χ²_3 (3-D) for small noise.
    const p = simulate({ d, poses: 400, landmarks: 600, loopClosures: 40, noise: { rotation: 0.002, translation: 0.05, landmark: 0.1 }, seed: 2 });
    const terms = costTerms(p, p.truth);
    const rotationDof = d === 2 ? 2 : 3; // 2-D: ‖I − Exp(θ)‖²_F ≈ 2θ², and κ = 1/σ²
    const E = p.poseEdges.length;
    expect(terms.rotation / (E * rotationDof)).toBeGreaterThan(0.85);
    expect(terms.rotation / (E * rotationDof)).toBeLessThan(1.15);
    expect(terms.translation / (E * d)).toBeGreaterThan(0.85);
    expect(terms.translation / (E * d)).toBeLessThan(1.15);
    expect(terms.landmark / (p.landmarkEdges.length * d)).toBeGreaterThan(0.9);
    expect(terms.landmark / (p.landmarkEdges.length * d)).toBeLessThan(1.1);
  });

  test("initial: truth, odometry (dead reckoning matches the odometry exactly) or none", () => {
    const p = simulate({ d: 3, poses: 25, landmarks: 10, loopClosures: 0, initial: "odometry", seed: 9 });
    expect(p.initial).toBe(p.odometry);
    // Dead reckoning satisfies every odometry edge and every first observation, so only
    // the later observations of each landmark contribute.
    const odometryOnly = { ...p, landmarkEdges: [] };
    expect(cost(odometryOnly, p.odometry)).toBeLessThan(1e-9); // rounding only: each term is ~1 at the noise level
    expect(simulate({ d: 2, poses: 5, landmarks: 2, initial: "none" }).initial).toBeUndefined();
    expect(simulate({ d: 2, poses: 5, landmarks: 2 }).initial).toBeDefined();
  });

  test("a simulated problem survives a g2o round trip with its weights", () => {
    const p = simulate({ d: 3, poses: 20, landmarks: 15, noise: { rotation: 0.02, translation: 0.1, landmark: 0.3 }, seed: 4 });
    const q = readG2O(formatG2O(p, { estimate: p.truth }));
    expect(q.numPoses).toBe(20);
    expect(q.numLandmarks).toBe(15);
    expect(q.poseEdges[0].tau).toBeCloseTo(p.poseEdges[0].tau, 8);
    expect(q.poseEdges[0].kappa).toBeCloseTo(p.poseEdges[0].kappa, 6);
    expect(q.landmarkEdges[0].nu).toBeCloseTo(p.landmarkEdges[0].nu, 8);
    expect(Math.abs(cost(q, q.initial!) - cost(p, p.truth)) / cost(p, p.truth)).toBeLessThan(1e-10);
  });

  test("bad options name the option and the expected value", () => {
    expect(() => simulate({ d: 4 as 2 })).toThrow("slam.simulate: d must be 2 or 3, got 4");
    expect(() => simulate({ poses: 1 })).toThrow("poses must be at least 2");
    expect(() => simulate({ landmarks: 2.5 })).toThrow("landmarks must be a non-negative integer, got 2.5");
    expect(() => simulate({ noise: { rotation: 0 } })).toThrow("noise levels must be positive");
    expect(() => simulate({ sensingRadius: -1 })).toThrow("sensingRadius must be a non-negative number, got -1");
    expect(() => simulate({ maxObservations: 0 })).toThrow("maxObservations must be at least 1");
  });
});

describe("the slam namespace's display", () => {
  test("a problem and a local solution render as the measurement graph (nbforge mime type, SVG, text)", async () => {
    const { slam } = await import("nbforge");
    const p = slam.simulate({ d: 2, poses: 12, landmarks: 6, loopClosures: 2, seed: 3 });
    const render = (v: object): Record<string, unknown> =>
      (v as Record<symbol, () => Record<string, unknown>>)[Symbol.for("Jupyter.display")]();
    const bundle = render(p);
    const graph = bundle["application/vnd.nbforge.slam+json"] as { d: number; poses: unknown[]; landmarks: unknown[]; edges: { kind: string }[] };
    expect(graph.d).toBe(2);
    expect(graph.poses.length).toBe(12);
    expect(graph.landmarks.length).toBe(6);
    expect(graph.edges.filter((e) => e.kind === "odometry").length).toBe(11);
    expect(graph.edges.filter((e) => e.kind === "landmark").length).toBe(p.landmarkEdges.length);
    expect(String(bundle["image/svg+xml"])).toContain("<svg");
    expect(String(bundle["text/plain"])).toContain("12 poses, 6 landmarks");
    // Spreading a problem copies its data, not its display method.
    expect(Object.keys(p)).not.toContain(String(Symbol.for("Jupyter.display")));
    const r = slam.solveLocal(p, p.truth);
    const cert = slam.certify(p, r.estimate);
    const fig = slam.figure(p, { estimate: r.estimate, certificate: cert });
    const data = fig.data;
    expect(data.certificate?.verdict).toBe(cert.certified ? "optimal" : "not-certified");
    expect(data.cost).toBeCloseTo(r.cost, 9);
    expect(String(render(r)["text/plain"])).toContain("local solution");
  });
});
