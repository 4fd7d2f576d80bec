// nbforge's public API. Primitives work in a plain Node script; in the kernel,
// anything with a Symbol.for("Jupyter.display") method renders richly.
export { display, clearOutput, mimeBundleOf, DISPLAY_PROTOCOL, DisplayHandle } from "./display/display.js";
export type { MimeBundle, Displayable, DisplayOptions } from "./display/display.js";
export { progress, Progress } from "./display/progress.js";
export type { ProgressOptions, Postfix } from "./display/progress.js";
export { liveMetrics, LiveMetrics } from "./display/live-metrics.js";
export type { LiveMetricsOptions } from "./display/live-metrics.js";
export type * from "./display/plot-types.js";
export { plot, Figure } from "./display/plot.js";
export type { MetricsInput, MetricsOptions, MetricsRow } from "./display/plot-metrics.js";
export { Comm, CommManager } from "./jupyter/comm.js";
export type { CommData, CommTarget } from "./jupyter/comm.js";
export * from "./tensor/index.js";
export {
  Matrix,
  cholesky,
  choleskySolve,
  solveTriangular,
  eigh,
  qr,
  svd,
  NotPositiveDefiniteError,
  SparseMatrix,
} from "./linalg/index.js";
export type {
  MatrixInput,
  EighResult,
  QrResult,
  SvdResult,
  SolveTriangularOptions,
  SparseOptions,
  Triplet,
  TripletArrays,
} from "./linalg/index.js";
export * from "./nn/index.js";
export * from "./optim/index.js";
export * from "./tokenizers/index.js";
export * from "./data/index.js";
// Landmark SLAM with a certificate of global optimality: slam.readG2O, slam.solveLocal, slam.certify, ...
export * as slam from "./slam/index.js";
export * from "./train/index.js";
