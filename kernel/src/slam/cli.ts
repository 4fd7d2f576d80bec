// `nbforge slam certify FILE.g2o [--json]`: solve locally from the file's
// VERTEX guesses (or a chordal initialisation when it has none), then certify
// the local solution. Exit status 0 when certified, 1 when not.
import { buildDataMatrix } from "./data-matrix.js";
import { certify } from "./certify.js";
import { chordalRotations } from "./chordal.js";
import { readG2O } from "./g2o.js";
import { solveLocal } from "./local-solver.js";
import type { Estimate, Problem } from "./problem.js";
import { SOLVE_USAGE, SolveUsageError, solveCommand } from "./solve-cli.js";

export const SLAM_USAGE = `usage:
  nbforge slam certify FILE.g2o [--json] [--max-iterations N]
      solve locally (Levenberg–Marquardt) from the file's VERTEX guesses, or a chordal
      initialisation when it has none, and certify global optimality; exit 0 when certified, 1 when not
      --json prints one object: poses, landmarks, measurements, cost, certified, lambdaMin,
      dualityGap, times { dataMatrix, optimize, verify, total } (seconds)
${SOLVE_USAGE}`;
// `nbforge slam solve` (the SE-Sync global solver, issue 8) is dispatched in slamCommand below.

export class SlamUsageError extends Error {}

/** The JSON that `nbforge slam certify --json` prints. */
export interface CertifyReport {
  poses: number;
  landmarks: number;
  measurements: number;
  cost: number;
  certified: boolean;
  lambdaMin: number;
  dualityGap: number;
  times: { dataMatrix: number; optimize: number; verify: number; total: number };
}

/** The file's VERTEX guesses, else chordal rotations with their optimal translations and landmarks. */
export function initialEstimate(problem: Problem): Estimate {
  if (problem.initial !== undefined) return problem.initial;
  const dm = buildDataMatrix(problem);
  const R = chordalRotations(dm.connectionLaplacian, problem.d, problem.numPoses);
  const { t, landmarks } = dm.recoverTranslations(R);
  return { d: problem.d, R, t, landmarks };
}

/** Reads, solves locally and certifies one file. */
export function certifyFile(path: string, options: { maxIterations?: number; onProgress?: (line: string) => void } = {}): CertifyReport {
  const started = performance.now();
  const problem = readG2O(path);
  const progress = options.onProgress;
  progress?.(`${path}: ${problem.d}-D, ${problem.numPoses} poses, ${problem.numLandmarks} landmarks, ` +
    `${problem.poseEdges.length + problem.landmarkEdges.length} measurements`);
  const optimizeStart = performance.now();
  const init = initialEstimate(problem);
  const local = solveLocal(problem, init, {
    maxIterations: options.maxIterations,
    onIteration: progress && ((i) => progress(`  LM iteration ${i.iteration}: cost ${i.cost.toPrecision(12)}, |grad| ${i.gradientNorm.toExponential(2)}`)),
  });
  const optimize = (performance.now() - optimizeStart) / 1000;
  progress?.(`  local solution: cost ${local.cost.toPrecision(15)} after ${local.iterations} iterations (${local.reason})`);
  const cert = certify(problem, local.estimate);
  return {
    poses: problem.numPoses,
    landmarks: problem.numLandmarks,
    measurements: problem.poseEdges.length + problem.landmarkEdges.length,
    cost: local.cost,
    certified: cert.certified,
    lambdaMin: cert.lambdaMin,
    dualityGap: cert.dualityGap,
    times: {
      dataMatrix: cert.times.dataMatrix,
      optimize,
      verify: cert.times.verify,
      total: (performance.now() - started) / 1000,
    },
  };
}

function describe(r: CertifyReport): string {
  const t = r.times;
  return [
    `poses ${r.poses}, landmarks ${r.landmarks}, measurements ${r.measurements}`,
    `cost ${r.cost.toPrecision(15)}`,
    `${r.certified ? "certified globally optimal" : "NOT certified"}: λ_min ${r.lambdaMin.toExponential(3)}, duality gap ${r.dualityGap.toExponential(3)}`,
    `times (s): data matrix ${t.dataMatrix.toFixed(3)}, optimize ${t.optimize.toFixed(3)}, verify ${t.verify.toFixed(3)}, total ${t.total.toFixed(3)}`,
  ].join("\n");
}

function takeOption(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  if (at < 0) return undefined;
  const value = args[at + 1];
  if (value === undefined || value.startsWith("--")) throw new SlamUsageError(`${name} needs a value`);
  args.splice(at, 2);
  return value;
}

/** `nbforge slam ...`; returns the exit status. */
export async function slamCommand(argv: string[]): Promise<number> {
  const [sub, ...args] = argv;
  switch (sub) {
    case "certify": {
      const json = args.includes("--json");
      const rest = args.filter((a) => a !== "--json");
      const max = takeOption(rest, "--max-iterations");
      const maxIterations = max === undefined ? undefined : Number(max);
      if (maxIterations !== undefined && !(Number.isInteger(maxIterations) && maxIterations > 0)) {
        throw new SlamUsageError(`--max-iterations must be a positive integer, got "${max}"`);
      }
      const unknown = rest.filter((a) => a.startsWith("-"));
      if (unknown.length > 0) throw new SlamUsageError(`slam certify: unknown option ${unknown[0]}`);
      if (rest.length !== 1) throw new SlamUsageError("slam certify: give one .g2o file, e.g. nbforge slam certify data/intel.g2o --json");
      // Progress goes to stderr, so --json output stays one object on stdout.
      const report = certifyFile(rest[0], { maxIterations, onProgress: json ? undefined : (line) => process.stderr.write(`${line}\n`) });
      console.log(json ? JSON.stringify(report) : describe(report));
      return report.certified ? 0 : 1;
    }
    case "solve":
      try {
        return solveCommand(args);
      } catch (e) {
        if (e instanceof SolveUsageError) throw new SlamUsageError(e.message);
        throw e;
      }
    case undefined:
    case "-h":
    case "--help":
      console.log(SLAM_USAGE);
      return sub === undefined ? 2 : 0;
    default:
      throw new SlamUsageError(`slam: unknown subcommand "${sub}"`);
  }
}
