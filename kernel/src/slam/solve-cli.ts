// `nbforge slam solve FILE.g2o [--json] [--out FILE]`: the SE-Sync pipeline
// (slam.solve) on one file. Progress (staircase level, gradient norm, cost)
// goes to stderr so that --json prints exactly one object on stdout. Exit
// status 0 when the returned estimate is certified optimal, 1 when not.
import { writeFileSync } from "node:fs";
import { readG2O } from "./g2o.js";
import { solve, type SolveResult } from "./solve.js";
import type { CertifyReport } from "./cli.js";

export const SOLVE_USAGE = `  nbforge slam solve FILE.g2o [--json] [--out FILE] [--relaxation auto|real|complex]
      certifiably optimal solution by the Riemannian staircase (SE-Sync; in 2-D CPL-SLAM's complex
      relaxation where the real one is not tight); exit 0 when certified, 1 when not
      --json prints certify's keys plus rank, relaxation, suboptimalityBound
      --out FILE writes the problem with the optimal estimate as VERTEX lines (g2o)`;

/** The JSON `nbforge slam solve --json` prints: `slam certify --json`'s keys plus the staircase's. */
export interface SolveReport extends Omit<CertifyReport, "times"> {
  suboptimalityBound: number;
  rank: number;
  relaxation: "real" | "complex";
  times: CertifyReport["times"] & { initialisation: number; rounding: number };
}

export function solveReport(r: SolveResult): SolveReport {
  return {
    poses: r.poses,
    landmarks: r.landmarks,
    measurements: r.measurements,
    cost: r.cost,
    certified: r.certified,
    lambdaMin: r.lambdaMin,
    dualityGap: r.dualityGap,
    suboptimalityBound: r.suboptimalityBound,
    rank: r.rank,
    relaxation: r.relaxation,
    times: { ...r.times },
  };
}

function describe(r: SolveReport): string {
  const t = r.times;
  return [
    `poses ${r.poses}, landmarks ${r.landmarks}, measurements ${r.measurements}`,
    `optimal cost ${r.cost.toPrecision(15)} (${r.relaxation} relaxation, rank ${r.rank})`,
    `${r.certified ? "certified globally optimal" : "NOT certified"}: λ_min ${r.lambdaMin.toExponential(3)}, ` +
      `duality gap ${r.dualityGap.toExponential(3)}, suboptimality bound ${r.suboptimalityBound.toExponential(3)}`,
    `times (s): data matrix ${t.dataMatrix.toFixed(3)}, initialisation ${t.initialisation.toFixed(3)}, optimize ${t.optimize.toFixed(3)}, ` +
      `rounding ${t.rounding.toFixed(3)}, verify ${t.verify.toFixed(3)}, total ${t.total.toFixed(3)}`,
  ].join("\n");
}

export class SolveUsageError extends Error {}

/** Runs `slam solve` with the arguments after the subcommand; returns the exit status. */
export function solveCommand(args: string[]): number {
  const rest = [...args];
  const json = rest.includes("--json");
  const take = (name: string): string | undefined => {
    const at = rest.indexOf(name);
    if (at < 0) return undefined;
    const value = rest[at + 1];
    if (value === undefined || value.startsWith("--")) throw new SolveUsageError(`slam solve: ${name} needs a value`);
    rest.splice(at, 2);
    return value;
  };
  const out = take("--out");
  const relaxation = take("--relaxation") ?? "auto";
  if (relaxation !== "auto" && relaxation !== "real" && relaxation !== "complex") {
    throw new SolveUsageError(`slam solve: --relaxation must be auto, real or complex, got "${relaxation}"`);
  }
  const files = rest.filter((a) => a !== "--json");
  const unknown = files.filter((a) => a.startsWith("-"));
  if (unknown.length > 0) throw new SolveUsageError(`slam solve: unknown option ${unknown[0]}\n${SOLVE_USAGE}`);
  if (files.length !== 1) throw new SolveUsageError(`slam solve: give one .g2o file, e.g. nbforge slam solve data/intel.g2o --json\n${SOLVE_USAGE}`);
  const problem = readG2O(files[0]);
  const result = solve(problem, {
    relaxation,
    onProgress: (e) => process.stderr.write(`${e.message}\n`),
  });
  if (out !== undefined) writeFileSync(out, result.g2o());
  const report = solveReport(result);
  console.log(json ? JSON.stringify(report) : describe(report));
  return report.certified ? 0 : 1;
}
