// The `slam` namespace (`import { slam } from "nbforge"`): landmark SLAM with a
// certificate of global optimality (Holmes & Barfoot, RA-L 2023) on an SE-Sync
// pipeline. Problems and results returned here render as their measurement
// graph in a notebook (plot.slam); elsewhere they are plain objects.
import { readG2O as readFile, type ReadG2OOptions } from "./g2o.js";
import { simulate as simulateProblem, type SimulateOptions, type SimulatedProblem } from "./simulate.js";
import { solveLocal as solveLocalImpl, type LocalSolverOptions, type LocalSolverResult } from "./local-solver.js";
import { slamFigure, withDisplay } from "./display.js";
import { solve as solveGlobal, type SolveOptions, type SolveResult } from "./solve.js";
import type { Estimate, Problem } from "./problem.js";

export type { Dimension, Estimate, LandmarkMeasurement, PoseMeasurement, Problem } from "./problem.js";
export { formatG2O, writeG2O, G2OParseError, SUPPORTED_TAGS, quaternionToRotation, rotationToQuaternion } from "./g2o.js";
export type { ReadG2OOptions, WriteG2OOptions } from "./g2o.js";
export type { SimulateOptions, SimulatedProblem, Trajectory, LandmarkField } from "./simulate.js";
export { spanningTreeEstimate } from "./local-solver.js";
export type { LocalSolverOptions, LocalSolverResult, IterationInfo, StopReason } from "./local-solver.js";
export { cost, costTerms, edgeResiduals, checkEstimate } from "./cost.js";
export type { CostTerms, EdgeResiduals } from "./cost.js";
export { checkConnected, connectedComponents, DisconnectedGraphError, IdMap } from "./graph.js";
export type { Component } from "./graph.js";
export { certify } from "./certify.js";
export type { CertifyOptions, Certificate, EstimateCertificate, CertifyTimes } from "./certify.js";
export { slamData, slamFigure as figure, suspectPoses } from "./display.js";
export type { SlamFigureOptions } from "./display.js";
export type { SolveOptions, SolveProgress, SolveResult, SolveTimes, Relaxation } from "./solve.js";
export type { PosePrior } from "./priors.js";

/** Reads a g2o file (a path or the text itself); see g2o.ts for the lines understood. */
export function readG2O(pathOrText: string, options?: ReadG2OOptions): Problem {
  const problem = readFile(pathOrText, options);
  return withDisplay(problem, () => slamFigure(problem));
}

/** A seeded simulated landmark problem with its ground truth (drawn at `initial`). */
export function simulate(options?: SimulateOptions): SimulatedProblem {
  const problem = simulateProblem(options);
  return withDisplay(problem, () => slamFigure(problem, { estimate: problem.initial ?? problem.truth }));
}

/** Levenberg–Marquardt from `init` (default: the VERTEX guesses, else a spanning tree); renders at its solution. */
export function solveLocal(problem: Problem, init?: Estimate, options?: LocalSolverOptions): LocalSolverResult {
  const result = solveLocalImpl(problem, init, options);
  return withDisplay(result, () =>
    slamFigure(problem, { estimate: result.estimate, title: `${problem.source ?? "SLAM"}: local solution` }),
  );
}

/**
 * Certifiably optimal solution by the SE-Sync pipeline (Riemannian staircase,
 * rounding, certificate; in 2-D CPL-SLAM's complex relaxation where the real
 * one is not tight); renders at its solution.
 */
export function solve(problem: Problem, options?: SolveOptions): SolveResult {
  const result = solveGlobal(problem, options);
  return withDisplay(result, () =>
    slamFigure(problem, {
      estimate: result.estimate,
      title: `${problem.source ?? "SLAM"}: ${result.certified ? "certified optimum" : "not certified"} (f = ${result.cost.toPrecision(10)})`,
    }),
  );
}
