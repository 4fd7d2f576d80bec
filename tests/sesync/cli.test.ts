// `nbforge slam solve`: the JSON has certify's keys plus rank, the --out file
// reads back as the same problem with the optimal estimate (its cost, by the
// independent cost function, equals the reported optimum), bad usage is named.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { readG2O } from "nbforge/dist/slam/g2o.js";
import { cost } from "nbforge/dist/slam/cost.js";
import { DATA, HAVE_DATA } from "../slam/front-reference.js";
import { referenceOptimum } from "./reference-optima.js";

const CLI = resolve("kernel/dist/cli.js");
const maybe = HAVE_DATA ? test : test.skip;

maybe("slam solve --json --out on MIT", () => {
  const dir = mkdtempSync(join(tmpdir(), "nbforge-sesync-"));
  try {
    const out = join(dir, "MIT-optimal.g2o");
    const run = spawnSync(process.execPath, [CLI, "slam", "solve", join(DATA, "MIT.g2o"), "--json", "--out", out], { encoding: "utf8" });
    expect(run.status).toBe(0);
    const report = JSON.parse(run.stdout) as Record<string, unknown> & { times: Record<string, number>; cost: number };
    for (const key of ["poses", "landmarks", "measurements", "cost", "certified", "lambdaMin", "dualityGap", "times", "rank"]) expect(report).toHaveProperty(key);
    for (const key of ["dataMatrix", "optimize", "verify", "total"]) expect(report.times[key]).toBeGreaterThanOrEqual(0);
    expect(report.certified).toBe(true);
    expect(report.poses).toBe(808);
    expect(Math.abs(report.cost - referenceOptimum("MIT")) / referenceOptimum("MIT")).toBeLessThan(1e-6);
    // Progress (staircase level, gradient norm, cost) went to stderr.
    expect(run.stderr).toMatch(/staircase rank 5: f = [\d.]+, \|grad f\| = /);
    const written = readG2O(out);
    expect(written.initial).toBeDefined();
    // VERTEX lines hold the estimate to full precision, so its cost is the optimum.
    expect(Math.abs(cost(written, written.initial!) - report.cost) / report.cost).toBeLessThan(1e-9);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("slam solve usage errors name the problem", () => {
  const none = spawnSync(process.execPath, [CLI, "slam", "solve"], { encoding: "utf8" });
  expect(none.status).not.toBe(0);
  expect(none.stderr).toMatch(/give one \.g2o file/);
  const bad = spawnSync(process.execPath, [CLI, "slam", "solve", "x.g2o", "--relaxation", "imaginary"], { encoding: "utf8" });
  expect(bad.status).not.toBe(0);
  expect(bad.stderr).toMatch(/--relaxation must be auto, real or complex/);
});
