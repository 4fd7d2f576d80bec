// The g2o reader and writer: the shared datasets' counts (from their README),
// the cost at the files' VERTEX guesses against an independent NumPy reader,
// id remapping, landmark formats, round trips and every bad-input error.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { readG2O, writeG2O, formatG2O, G2OParseError, SUPPORTED_TAGS } from "nbforge/dist/slam/g2o.js";
import { cost } from "nbforge/dist/slam/cost.js";
import { DisconnectedGraphError } from "nbforge/dist/slam/graph.js";
import type { Estimate, Problem } from "nbforge/dist/slam/problem.js";
import { seededRandom } from "../support/seeded-random.js";
import { DATA, HAVE_DATA, datasetTable, numpyCost } from "./front-reference.js";

const withData = HAVE_DATA ? describe : describe.skip;

/** A random estimate (rotations from normalised random quaternions / angles). */
function randomEstimate(problem: Problem, seed: number): Estimate {
  const random = seededRandom(seed);
  const { d } = problem;
  const R = new Float64Array(problem.numPoses * d * d);
  for (let p = 0; p < problem.numPoses; p++) {
    if (d === 2) {
      const a = 2 * Math.PI * random();
      R.set([Math.cos(a), -Math.sin(a), Math.sin(a), Math.cos(a)], p * 4);
    } else {
      const q = [random() - 0.5, random() - 0.5, random() - 0.5, random() - 0.5];
      const s = Math.hypot(...q);
      const [x, y, z, w] = q.map((v) => v / s);
      R.set([
        1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
        2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
        2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
      ], p * 9);
    }
  }
  const t = Float64Array.from({ length: problem.numPoses * d }, () => 20 * (random() - 0.5));
  const landmarks = Float64Array.from({ length: problem.numLandmarks * d }, () => 20 * (random() - 0.5));
  return { d, R, t, landmarks };
}

function expectSameProblem(a: Problem, b: Problem, tol = 1e-12): void {
  expect(b.d).toBe(a.d);
  expect(b.numPoses).toBe(a.numPoses);
  expect(b.numLandmarks).toBe(a.numLandmarks);
  expect(b.poseIds).toEqual(a.poseIds);
  expect(b.landmarkIds).toEqual(a.landmarkIds);
  expect(b.poseEdges.length).toBe(a.poseEdges.length);
  expect(b.landmarkEdges.length).toBe(a.landmarkEdges.length);
  // One expect for the whole problem: jest's per-call cost dominates otherwise.
  let worst = 0;
  let lengths = true;
  const close = (x: ArrayLike<number>, y: ArrayLike<number>): void => {
    lengths &&= x.length === y.length;
    for (let n = 0; n < x.length; n++) worst = Math.max(worst, Math.abs(x[n] - y[n]) / Math.max(1, Math.abs(y[n])));
  };
  let ends = true;
  a.poseEdges.forEach((e, n) => {
    const f = b.poseEdges[n];
    ends &&= f.i === e.i && f.j === e.j;
    close(f.R, e.R);
    close(f.t, e.t);
    close([f.kappa, f.tau], [e.kappa, e.tau]);
  });
  a.landmarkEdges.forEach((e, n) => {
    const f = b.landmarkEdges[n];
    ends &&= f.i === e.i && f.k === e.k;
    close(f.y, e.y);
    close([f.nu], [e.nu]);
  });
  if (a.initial !== undefined) {
    expect(b.initial).toBeDefined();
    close(b.initial!.R, a.initial.R);
    close(b.initial!.t, a.initial.t);
  }
  expect({ lengths, ends }).toEqual({ lengths: true, ends: true });
  expect(worst).toBeLessThanOrEqual(tol);
}

withData("the shared SLAM datasets", () => {
  const table = datasetTable();

  test("the README lists the datasets", () => {
    expect(table.length).toBeGreaterThanOrEqual(20);
  });

  test.each(table.map((r) => [r.file, r] as const))("%s: dimension and counts match the README", (_name, row) => {
    const problem = readG2O(resolve(DATA, `${row.file}.g2o`));
    expect(problem.d).toBe(row.d);
    expect(problem.numPoses).toBe(row.poses);
    expect(problem.numLandmarks).toBe(row.landmarks);
    expect(problem.poseEdges.length).toBe(row.poseEdges);
    expect(problem.landmarkEdges.length).toBe(row.landmarkEdges);
  });

  test("the cost at the VERTEX guesses equals an independent NumPy reader's", () => {
    const files = ["tinyGrid3D", "smallGrid3D", "MIT", "intel", "M3500", "parking-garage", "sphere2500"];
    const ours = files.map((f) => {
      const p = readG2O(resolve(DATA, `${f}.g2o`));
      expect(p.initial).toBeDefined();
      return cost(p, p.initial!);
    });
    const theirs = numpyCost(files.map((f) => ({ path: resolve(DATA, `${f}.g2o`), at: "vertex" as const })));
    files.forEach((f, n) => {
      expect(ours[n]).toBeGreaterThan(0);
      expect(Math.abs(ours[n] - theirs[n]) / theirs[n]).toBeLessThan(1e-11);
    });
  });

  test("victoriaPark: the cost at a random estimate equals NumPy's (landmark ids in their own space)", () => {
    const path = resolve(DATA, "victoriaPark.g2o");
    const p = readG2O(path);
    expect(p.landmarkIds.slice(0, 2)).toEqual([5, 9]); // first appearance: LANDMARK2 4 5, LANDMARK2 8 9
    const est = randomEstimate(p, 7);
    const [theirs] = numpyCost([{
      path, at: "estimate", d: 2, poseIds: p.poseIds, landmarkIds: p.landmarkIds,
      R: [...est.R], t: [...est.t], m: [...est.landmarks],
    }]);
    expect(Math.abs(cost(p, est) - theirs) / theirs).toBeLessThan(1e-11);
  });

  test("kitti files: blank lines are skipped, never read as a copy of the previous edge", () => {
    for (const file of ["kitti_00", "kitti_02", "kitti_05"]) {
      const path = resolve(DATA, `${file}.g2o`);
      const lines = readFileSync(path, "utf8").split("\n");
      const edgeLines = lines.filter((l) => l.startsWith("EDGE_SE2 ")).length;
      expect(lines.some((l, n) => l.trim() === "" && n < lines.length - 1)).toBe(true);
      expect(readG2O(path).poseEdges.length).toBe(edgeLines);
    }
  });

  test("round trip: write then read gives the same problem (pose graph, landmarks in both styles)", () => {
    const dir = mkdtempSync(join(tmpdir(), "nbforge-g2o-"));
    try {
      for (const f of ["smallGrid3D", "intel", "victoriaPark"]) {
        const p = readG2O(resolve(DATA, `${f}.g2o`));
        const out = join(dir, `${f}.g2o`);
        writeG2O(p, out);
        expectSameProblem(p, readG2O(out));
        if (p.numLandmarks > 0) {
          const again = readG2O(formatG2O(p, { landmarks: "g2o", estimate: randomEstimate(p, 3) }));
          expect(again.numLandmarks).toBe(p.numLandmarks);
          expect(again.landmarkEdges.length).toBe(p.landmarkEdges.length);
          expect(Math.abs(cost(again, again.initial!) - cost(p, again.initial!)) / cost(p, again.initial!)).toBeLessThan(1e-12);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("g2o reader", () => {
  const info3 = "1 0 0 0 0 0 1 0 0 0 0 1 0 0 0 4 0 0 4 0 4";

  test("ids are remapped in order of first appearance; landmark ids form their own space", () => {
    const p = readG2O(
      [
        "EDGE_SE2 17 3 1 0 0 10 0 0 10 0 100",
        "",
        "LANDMARK2 3 17 2 1 4 0 4",
        "EDGE_SE2 3 -2 1 0 0.1 10 0 0 10 0 100",
        "LANDMARK2 17 17 3 0 4 0 4",
        "LANDMARK2 -2 900 0 1 4 0 4",
      ].join("\n"),
    );
    expect(p.poseIds).toEqual([17, 3, -2]);
    expect(p.landmarkIds).toEqual([17, 900]);
    expect(p.poseEdges.map((e) => [e.i, e.j])).toEqual([[0, 1], [1, 2]]);
    expect(p.landmarkEdges.map((e) => [e.i, e.k])).toEqual([[1, 0], [0, 0], [2, 1]]);
    expect(p.initial).toBeUndefined();
  });

  test("weights: EDGE_SE2 τ = 2/tr(I_t⁻¹), κ = I33; LANDMARK2 ν = 2/tr(I⁻¹)", () => {
    const p = readG2O("EDGE_SE2 0 1 1 2 0.5 4 1 0 3 0 7\nLANDMARK2 0 0 1 1 2 1 5\n");
    // I_t = [[4,1],[1,3]]: inverse trace (4+3)/11.
    expect(p.poseEdges[0].tau).toBeCloseTo(2 / (7 / 11), 14);
    expect(p.poseEdges[0].kappa).toBe(7);
    expect(p.landmarkEdges[0].nu).toBeCloseTo(2 / (7 / 9), 14);
    expect(Array.from(p.poseEdges[0].R)).toEqual([Math.cos(0.5), -Math.sin(0.5), Math.sin(0.5), Math.cos(0.5)]);
  });

  test("EDGE_SE3:QUAT keeps an unnormalised quaternion (as SE-Sync); weights from the 6x6 blocks", () => {
    const q = [0.2, -0.1, 0.3, 0.9].map((v) => v * 1.1);
    const p = readG2O(`EDGE_SE3:QUAT 0 1 1 2 3 ${q.join(" ")} ${info3}\n`);
    const e = p.poseEdges[0];
    const theirs = numpyCost([{
      text: `EDGE_SE3:QUAT 0 1 1 2 3 ${q.join(" ")} ${info3}\n`, at: "estimate", d: 3, poseIds: [0, 1], landmarkIds: [],
      R: [1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1], t: [0, 0, 0, 0, 0, 0], m: [],
    }]);
    // With R_i = R_j = I and t = 0: F = κ(2·3 − 2 tr R̃) + τ‖t̃‖² (SE-Sync's expansion).
    const identity = { d: 3 as const, R: Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1), t: new Float64Array(6), landmarks: new Float64Array(0) };
    expect(Math.abs(cost(p, identity) - theirs[0])).toBeLessThan(1e-12 * theirs[0]);
    // R̃ is not orthogonal: its rows have norm |q|² ≠ 1 in general.
    const rowNorm = Math.hypot(e.R[0], e.R[1], e.R[2]);
    expect(Math.abs(rowNorm - 1)).toBeGreaterThan(1e-3);
    expect(e.tau).toBeCloseTo(1, 14); // I_t = I: 3 / 3
    expect(e.kappa).toBeCloseTo(3 / (2 * (3 / 4)), 14); // I_R = 4I
  });

  test("EDGE_SE3_TRACKXYZ with PARAMS_SE3OFFSET: the observation moves into the pose frame", () => {
    // Sensor offset: 90° about z, shifted by (1, 0, 0.5).
    const s = Math.SQRT1_2;
    const text = [
      `PARAMS_SE3OFFSET 4 1 0 0.5 0 0 ${s} ${s}`,
      `EDGE_SE3:QUAT 0 1 1 0 0 0 0 0 1 ${info3}`,
      "EDGE_SE3_TRACKXYZ 0 7 4 2 3 4 2 0 0 2 0 2",
      "EDGE_SE3_TRACKXYZ 1 7 4 1 3 4 2 0 0 2 0 2",
    ].join("\n");
    const p = readG2O(text);
    expect(p.numLandmarks).toBe(1);
    const y = p.landmarkEdges[0].y;
    // R_o (2,3,4) = (-3,2,4); plus t_o = (-2, 2, 4.5).
    expect(Array.from(y).map((v) => Math.round(v * 1e12) / 1e12)).toEqual([-2, 2, 4.5]);
    expect(p.landmarkEdges[0].nu).toBeCloseTo(2, 14);
    // LANDMARK3 with the transformed observation gives the same cost.
    const same = readG2O([
      `EDGE_SE3:QUAT 0 1 1 0 0 0 0 0 1 ${info3}`,
      `LANDMARK3 0 7 ${[...y].join(" ")} 2 0 0 2 0 2`,
      `LANDMARK3 1 7 ${[...p.landmarkEdges[1].y].join(" ")} 2 0 0 2 0 2`,
    ].join("\n"));
    const est: Estimate = { d: 3, R: Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1, 0, -1, 0, 1, 0, 0, 0, 0, 1), t: Float64Array.of(0, 0, 0, 1, 0.5, 0), landmarks: Float64Array.of(1, 2, 3) };
    expect(cost(p, est)).toBeCloseTo(cost(same, est), 12);
    // A round trip through the g2o style (identity offset) keeps it.
    expectSameProblem(same, readG2O(formatG2O(p, { landmarks: "g2o", estimate: null })));
  });

  test("VERTEX lines give the initial estimate; unseen landmarks start at their first observation", () => {
    const p = readG2O([
      "VERTEX_SE2 5 1 2 0",
      "VERTEX_SE2 6 2 2 1.5707963267948966",
      "EDGE_SE2 5 6 1 0 1.5707963267948966 1 0 0 1 0 1",
      "LANDMARK2 6 0 3 0 1 0 1",
    ].join("\n"));
    expect(p.initial).toBeDefined();
    const m = Array.from(p.initial!.landmarks);
    expect(m[0]).toBeCloseTo(2, 12);
    expect(m[1]).toBeCloseTo(5, 12);
  });

  test("comments, CRLF line ends and FIX lines are accepted", () => {
    const p = readG2O("# a comment\r\nFIX 0\r\nEDGE_SE2 0 1 1 0 0 1 0 0 1 0 1\r\n\r\n");
    expect(p.poseEdges.length).toBe(1);
  });
});

describe("g2o reader: bad input", () => {
  const bad = (text: string): Error => {
    try {
      readG2O(text, { source: "bad.g2o" });
    } catch (e) {
      return e as Error;
    }
    throw new Error("expected readG2O to throw");
  };

  test("a short line names its line number, the expected field count and what was found", () => {
    const e = bad("EDGE_SE2 0 1 1 0 0 1 0 0 1 0 1\n\nEDGE_SE3:QUAT 0 1 0 0 0 0 0 0 1 1 0 0 0 0 0 1 0 0 0 0 1 0 0 0 1 0 0 1 0\n");
    expect(e).toBeInstanceOf(G2OParseError);
    expect(e.message).toContain("g2o bad.g2o line 3: EDGE_SE3:QUAT expects 30 fields");
    expect(e.message).toContain("found 29");
    expect((e as G2OParseError).line).toBe(3);
  });

  test("a long line too", () => {
    expect(bad("LANDMARK2 0 1 1 0 1 0 1 9\n").message).toMatch(/line 1: LANDMARK2 expects 7 fields .*found 8/);
  });

  test("an unknown tag lists the supported ones", () => {
    const e = bad("EDGE_SE2 0 1 1 0 0 1 0 0 1 0 1\nEDGE_SE2_POINT 0 1 2\n");
    expect(e.message).toContain('line 2: unknown tag "EDGE_SE2_POINT"');
    for (const tag of SUPPORTED_TAGS) expect(e.message).toContain(tag);
    expect(SUPPORTED_TAGS).toEqual(expect.arrayContaining(["EDGE_SE2", "EDGE_SE3:QUAT", "LANDMARK2", "LANDMARK3", "EDGE_SE2_XY", "EDGE_SE3_TRACKXYZ", "PARAMS_SE3OFFSET"]));
  });

  test("a field that is not a number, and an id that is not an integer", () => {
    expect(bad("EDGE_SE2 0 1 1 x 0 1 0 0 1 0 1\n").message).toContain('line 1: EDGE_SE2 field 4 is "x", not a finite number');
    expect(bad("EDGE_SE2 0 1.5 1 0 0 1 0 0 1 0 1\n").message).toContain("field 2 (pose id) is \"1.5\", not an integer");
  });

  test("a disconnected measurement graph names its components", () => {
    const e = bad([
      "EDGE_SE2 0 1 1 0 0 1 0 0 1 0 1",
      "EDGE_SE2 1 2 1 0 0 1 0 0 1 0 1",
      "EDGE_SE2 10 11 1 0 0 1 0 0 1 0 1",
      "LANDMARK2 11 4 1 0 1 0 1",
      "LANDMARK2 30 8 1 0 1 0 1",
    ].join("\n"));
    expect(e).toBeInstanceOf(DisconnectedGraphError);
    expect(e.message).toContain("disconnected (3 components)");
    expect(e.message).toContain("poses 0, 1, 2");
    expect(e.message).toContain("poses 10, 11; landmark 4");
    expect(e.message).toContain("pose 30; landmark 8");
    expect((e as DisconnectedGraphError).components.length).toBe(3);
  });

  test("mixed 2-D and 3-D lines", () => {
    expect(bad("EDGE_SE2 0 1 1 0 0 1 0 0 1 0 1\nLANDMARK3 0 1 1 0 0 1 0 0 1 0 1\n").message).toContain(
      "line 2: LANDMARK3 is 3-D but line 1 made this a 2-D file",
    );
  });

  test("an information matrix that is not positive definite", () => {
    expect(bad("EDGE_SE2 0 1 1 0 0 1 2 0 1 0 1\n").message).toContain("line 1: EDGE_SE2 translation information matrix is not positive definite");
    expect(bad("EDGE_SE2 0 1 1 0 0 1 0 0 1 0 0\n").message).toContain("rotation information I33 = 0 must be positive");
    expect(bad("EDGE_SE2 0 1 1 0 0 1 0 0 1 0 1\nLANDMARK2 0 1 1 0 -1 0 1\n").message).toContain("line 2: LANDMARK2 landmark information matrix");
  });

  test("a TRACKXYZ edge whose offset parameter is missing", () => {
    expect(bad("EDGE_SE3_TRACKXYZ 0 1 3 1 2 3 1 0 0 1 0 1\n").message).toContain(
      "line 1: EDGE_SE3_TRACKXYZ uses parameter 3, but no PARAMS_SE3OFFSET line defines it",
    );
  });

  test("VERTEX lines for some poses only, or twice for one pose", () => {
    expect(bad("VERTEX_SE2 0 0 0 0\nEDGE_SE2 0 1 1 0 0 1 0 0 1 0 1\n").message).toContain("VERTEX lines give 1 of 2 poses (missing e.g. 1)");
    expect(bad("VERTEX_SE2 0 0 0 0\nVERTEX_SE2 0 0 0 0\n").message).toContain("line 2: pose 0 already has a VERTEX line (line 1)");
  });

  test("no measurements, and a path that does not exist", () => {
    expect(bad("# nothing\n").message).toContain("no measurements found");
    expect(() => readG2O("/no/such/file.g2o")).toThrow('slam.readG2O: no file "/no/such/file.g2o"');
  });
});
