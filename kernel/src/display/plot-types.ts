// The data that nbforge's plots carry: the JSON inside the
// application/vnd.nbforge.*+json mime types, and the inputs that the training,
// sparsity and SLAM code hands to plot.metrics / plot.sparsity / plot.slam.
// The JupyterLab extension reads the same shapes (extension/src/types.ts mirrors
// the JSON forms), so a change here is a change of the wire format.

export const METRICS_MIME = "application/vnd.nbforge.metrics+json";
export const SPARSITY_MIME = "application/vnd.nbforge.sparsity+json";
export const SLAM_MIME = "application/vnd.nbforge.slam+json";
/** The comm target over which kernels stream live runs to the front end. */
export const LIVE_COMM_TARGET = "nbforge.live";

// ---------------------------------------------------------------- metrics

/** One curve: a metric of one run against step (and optionally tokens and wall time). */
export interface MetricsSeries {
  /** The metric's name: "loss", "eval/loss", "lr", ... */
  name: string;
  /** The run it belongs to, when several runs are overlaid. */
  run?: string;
  step: number[];
  value: number[];
  /** Seconds since the run started, one per point. */
  time?: number[];
  /** Tokens seen so far, one per point. */
  tokens?: number[];
}

export type MetricsXAxis = "step" | "tokens" | "time";
export type RunStatus = "running" | "finished" | "failed";

/** The JSON of application/vnd.nbforge.metrics+json. */
export interface MetricsData {
  title?: string;
  xAxis?: MetricsXAxis;
  /** Metric names drawn on a log scale (e.g. ["lr"]). */
  logY?: string[];
  /** EMA smoothing weight in [0, 1), as TensorBoard's slider. */
  smoothing?: number;
  series: MetricsSeries[];
  /** Present while a live run streams points over the nbforge.live comm. */
  live?: { id: string; status: RunStatus; startedAt: number; endedAt?: number };
}

// ---------------------------------------------------------------- sparsity

/**
 * One layer's N:M pattern: in every group of `m` consecutive weights along a row,
 * at most `n` are kept. `mask` is row-major rows×cols, either one byte per weight
 * (Uint8Array / number[] of 0|1) or bit-packed (LSB first) as produced by the
 * sparsity code; in JSON it travels as base64 of the bit-packed form.
 */
export interface SparsityLayerInput {
  name: string;
  rows: number;
  cols: number;
  n: number;
  m: number;
  mask: Uint8Array | number[] | { packed: Uint8Array };
  /** Row-major weights, drawn instead of the mask when given. */
  weights?: Float32Array | Float64Array | number[];
}

/** One layer in the JSON of application/vnd.nbforge.sparsity+json. */
export interface SparsityLayerData {
  name: string;
  rows: number;
  cols: number;
  n: number;
  m: number;
  /** base64 of the bit-packed mask (LSB first, row-major). */
  maskBits: string;
  /** Kept fraction of weights. */
  density: number;
  /** How often each in-group keep pattern occurs: pattern bits (LSB = first column) -> count. */
  patterns: { [bits: string]: number };
  /** Row-major weights, down-sampled to at most `weightsShape` when large. */
  weights?: number[];
  weightsShape?: [number, number];
}

export interface SparsityData {
  title?: string;
  layers: SparsityLayerData[];
}

// ---------------------------------------------------------------- SLAM

export type Vec = [number, number] | [number, number, number];

/** A pose: its position and, optionally, a heading (2-D, radians) or a rotation (row-major d×d). */
export interface SlamPose {
  id: number;
  position: Vec;
  heading?: number;
  rotation?: number[];
}

export interface SlamLandmark {
  id: number;
  position: Vec;
}

/**
 * A measurement edge. `from` is a pose id; `to` is a pose id for odometry and
 * loop closures and a landmark id for landmark observations.
 */
export interface SlamEdge {
  kind: "odometry" | "loop" | "landmark";
  from: number;
  to: number;
  /** The weighted squared residual of this measurement at the drawn estimate. */
  residual?: number;
  /** The measured translation (in the `from` pose's frame), shown on hover. */
  measurement?: number[];
}

/** The certificate of global optimality (Holmes and Barfoot), when one was computed. */
export interface SlamCertificate {
  verdict: "optimal" | "not-certified" | "failed";
  /** Smallest eigenvalue of the certificate matrix. */
  minEigenvalue?: number;
  /** Duality gap, cost of the estimate minus the dual bound. */
  gap?: number;
  /** Poses whose rows of the certificate matrix carry the negative eigenvector. */
  suspectPoses?: number[];
}

export interface SlamData {
  title?: string;
  d: 2 | 3;
  poses: SlamPose[];
  landmarks: SlamLandmark[];
  edges: SlamEdge[];
  certificate?: SlamCertificate;
  /** Total cost of the estimate. */
  cost?: number;
}
