// `nbforge slam certify FILE.g2o [--json]` run as a user runs it: the JSON keys
// the issue fixes, SE-Sync's f* on a shared dataset, a certified and a rejected
// simulated file (exit status 0 and 1), and every bad invocation (exit 2).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { formatG2O } from "nbforge/dist/slam/g2o.js";
import { simulate } from "nbforge/dist/slam/simulate.js";
import { expSO } from "nbforge/dist/slam/lie.js";
import type { CertifyReport } from "nbforge/dist/slam/cli.js";
import { DATA, HAVE_DATA, datasetTable } from "./front-reference.js";

const CLI = resolve(dirname(fileURLToPath(import.meta.url)), "../../../kernel/dist/cli.js");
const dir = mkdtempSync(join(tmpdir(), "nbforge-slam-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, "slam", ...args], { encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const KEYS = ["certified", "cost", "dualityGap", "lambdaMin", "landmarks", "measurements", "poses", "times"];
const TIME_KEYS = ["dataMatrix", "optimize", "total", "verify"];

function parse(stdout: string): CertifyReport {
  const lines = stdout.trim().split("\n");
  expect(lines.length).toBe(1); // one JSON object, progress stays off stdout
  const report = JSON.parse(lines[0]) as CertifyReport;
  expect(Object.keys(report).sort()).toEqual(KEYS);
  expect(Object.keys(report.times).sort()).toEqual(TIME_KEYS);
  for (const k of TIME_KEYS) expect(report.times[k as keyof CertifyReport["times"]]).toBeGreaterThanOrEqual(0);
  expect(report.times.total).toBeGreaterThanOrEqual(report.times.optimize);
  return report;
}

/**
 * A 2-D landmark problem at high noise; `scramble` writes seeded random rotations
 * as the VERTEX guesses, from which Levenberg–Marquardt converges to a local
 * minimum (cost ≈ 1249.9 against 844.5 from the ground truth).
 */
function simulatedFile(name: string, scramble: boolean): string {
  const p = simulate({ d: 2, poses: 60, landmarks: 60, trajectory: "circle", loopClosures: 15, noise: { rotation: 0.2, translation: 0.2, landmark: 0.2 }, seed: 7 });
  const x = { ...p.truth, R: p.truth.R.slice() };
  if (scramble) {
    let s = 5;
    for (let i = 1; i < p.numPoses; i++) {
      s = (s * 16807) % 2147483647;
      x.R.set(expSO(2, [2 * Math.PI * (s / 2147483647 - 0.5)]), i * 4);
    }
  }
  const path = join(dir, name);
  writeFileSync(path, formatG2O(p, { estimate: x }));
  return path;
}

describe("nbforge slam certify", () => {
  (HAVE_DATA ? test : test.skip)("tinyGrid3D --json: the issue's keys, SE-Sync's f*, certified, exit 0", () => {
    const r = run("certify", resolve(DATA, "tinyGrid3D.g2o"), "--json");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const report = parse(r.stdout);
    const row = datasetTable().find((t) => t.file === "tinyGrid3D")!;
    expect(report.poses).toBe(row.poses);
    expect(report.landmarks).toBe(0);
    expect(report.measurements).toBe(row.poseEdges);
    expect(Math.abs(report.cost - row.optimum!) / row.optimum!).toBeLessThan(1e-9);
    expect(report.certified).toBe(true);
    expect(report.lambdaMin).toBeGreaterThan(-1e-6);
  });

  test("a simulated landmark file solved from the ground truth is certified", () => {
    const r = run("certify", simulatedFile("good.g2o", false), "--json");
    expect(r.status).toBe(0);
    const report = parse(r.stdout);
    expect(report).toMatchObject({ poses: 60, landmarks: 60, certified: true });
    expect(report.dualityGap).toBeLessThan(1e-6 * report.cost);
  });

  test("from scrambled rotations the local minimum is rejected: negative λ_min, exit 1", () => {
    const r = run("certify", simulatedFile("bad.g2o", true), "--json");
    expect(r.status).toBe(1);
    const report = parse(r.stdout);
    expect(report.certified).toBe(false);
    expect(report.lambdaMin).toBeLessThan(-1);
    expect(report.dualityGap).toBeGreaterThan(0);
    // The same file's problem solved from the ground truth is cheaper: this was a local minimum.
    const good = parse(run("certify", simulatedFile("good-again.g2o", false), "--json").stdout);
    expect(good.cost).toBeLessThan(report.cost - 100);
  });

  test("without --json: a readable summary on stdout, progress on stderr", () => {
    const r = run("certify", simulatedFile("text.g2o", false));
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("poses 60, landmarks 60, measurements");
    expect(r.stdout).toContain("certified globally optimal");
    expect(r.stderr).toContain("LM iteration 1:");
  });
});

describe("nbforge slam: bad invocations", () => {
  test("a missing file", () => {
    const r = run("certify", join(dir, "nope.g2o"), "--json");
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`no file "${join(dir, "nope.g2o")}"`);
  });

  test("a malformed file names the line", () => {
    const path = join(dir, "short.g2o");
    writeFileSync(path, "EDGE_SE2 0 1 1 0 0 1 0 0 1 0 1\nEDGE_SE2 1 2 1 0 0 1 0 0 1 0\n");
    const r = run("certify", path);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`g2o ${path} line 2: EDGE_SE2 expects 11 fields`);
  });

  test("no file, two files, an unknown option, a bad --max-iterations, an unknown subcommand", () => {
    for (const [args, message] of [
      [["certify"], "give one .g2o file"],
      [["certify", "a.g2o", "b.g2o"], "give one .g2o file"],
      [["certify", "a.g2o", "--fast"], "unknown option --fast"],
      [["certify", "a.g2o", "--max-iterations", "0"], '--max-iterations must be a positive integer, got "0"'],
      [["optimise", "a.g2o"], 'unknown subcommand "optimise"'],
    ] as const) {
      const r = run(...args);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(message);
      expect(r.stderr).toContain("nbforge slam certify FILE.g2o");
    }
  });

  test("--help prints the usage", () => {
    const r = run("--help");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("--json prints one object");
  });
});
