// Checks slam.solve against the dataset README's reference optima f*
// (SE-Sync's or CPL-SLAM's certified values on the same files).
import { readG2O } from "nbforge/dist/slam/g2o.js";
import { solve, type SolveOptions, type SolveResult } from "nbforge/dist/slam/solve.js";
import { DATA, HAVE_DATA, datasetTable } from "../slam/front-reference.js";

export { HAVE_DATA };

export function referenceOptimum(file: string): number {
  const row = datasetTable().find((r) => r.file === file);
  if (row === undefined || row.optimum === undefined) throw new Error(`dataset README has no f* for ${file}`);
  return row.optimum;
}

export function solveFile(file: string, options: SolveOptions = {}): SolveResult {
  return solve(readG2O(`${DATA}/${file}.g2o`), options);
}

/** Certified, within 1e-6 relative of f*, with a proven bound that agrees. */
export function checkDataset(file: string): SolveResult {
  const optimum = referenceOptimum(file);
  const result = solveFile(file);
  expect(result.certified).toBe(true);
  expect(Math.abs(result.cost - optimum) / optimum).toBeLessThan(1e-6);
  // A proven bound (Cholesky of S + η'I), tight enough to separate f* at 1e-6.
  expect(result.boundProven).toBe(true);
  expect(result.suboptimalityBound).toBeLessThan(1e-6 * optimum);
  expect(result.lowerBound).toBeLessThanOrEqual(optimum * (1 + 1e-9));
  expect(result.lambdaMin).toBeGreaterThan(-1e-6);
  return result;
}
