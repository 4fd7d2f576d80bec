// The landmark-SLAM problem model shared by the reader, the simulator, the
// local solver, the certificate and the SE-Sync staircase.
//
// Indices here are 0-based and contiguous: readers remap the file's ids (in
// order of first appearance) and keep the originals in poseIds/landmarkIds.
// Matrices are dense row-major Float64Arrays; a rotation is d*d numbers.
//
// Cost (SE-Sync's convention, no 1/2):
//   F = Σ κ‖R_j − R_i R̃_ij‖²_F + τ‖t_j − t_i − R_i t̃_ij‖²   over pose edges
//     + Σ ν‖m_k − t_i − R_i ỹ_ik‖²                          over landmark edges

export type Dimension = 2 | 3;

/** A relative-pose measurement (R̃_ij, t̃_ij) from pose i to pose j. */
export interface PoseMeasurement {
  i: number;
  j: number;
  /** R̃_ij, d*d row-major (as read: for EDGE_SE3:QUAT not re-orthonormalised, as SE-Sync). */
  R: Float64Array;
  /** t̃_ij, length d. */
  t: Float64Array;
  /** Rotation weight κ. */
  kappa: number;
  /** Translation weight τ. */
  tau: number;
  /** The file's information matrix (row-major, full), kept so a writer can reproduce the line. */
  information?: Float64Array;
}

/** A landmark observation ỹ_ik: landmark k's position in pose i's frame. */
export interface LandmarkMeasurement {
  /** Pose index. */
  i: number;
  /** Landmark index (its own id space). */
  k: number;
  /** ỹ_ik, length d. */
  y: Float64Array;
  /** Weight ν = d / tr(I⁻¹). */
  nu: number;
  information?: Float64Array;
}

/** Values of every variable. */
export interface Estimate {
  d: Dimension;
  /** numPoses rotations, each d*d row-major, concatenated. */
  R: Float64Array;
  /** numPoses translations, each length d, concatenated. */
  t: Float64Array;
  /** numLandmarks positions, each length d, concatenated. */
  landmarks: Float64Array;
}

export interface Problem {
  d: Dimension;
  numPoses: number;
  numLandmarks: number;
  poseEdges: PoseMeasurement[];
  landmarkEdges: LandmarkMeasurement[];
  /** Original id of each pose index (from the file or the simulator). */
  poseIds: number[];
  /** Original id of each landmark index. */
  landmarkIds: number[];
  /** Initial guess from VERTEX lines (or a simulator's ground truth), when present. */
  initial?: Estimate;
  /** Where it came from (a file path or "simulated"), for messages. */
  source?: string;
}
