// g2o reader and writer for pose-graph and landmark SLAM.
//
// Lines read (fields counted after the tag):
//   EDGE_SE2 i j dx dy dθ I11 I12 I13 I22 I23 I33                        (11)
//   EDGE_SE3:QUAT i j dx dy dz qx qy qz qw I11..I16 I22..I26 … I66        (30)
//   LANDMARK2 pose lm dx dy I11 I12 I22              (CPL-SLAM)           (7)
//   LANDMARK3 pose lm dx dy dz I11 I12 I13 I22 I23 I33                    (11)
//   EDGE_SE2_XY pose lm dx dy I11 I12 I22            (g2o)                (7)
//   EDGE_SE3_TRACKXYZ pose lm param dx dy dz I11 I12 I13 I22 I23 I33      (12)
//   PARAMS_SE3OFFSET id x y z qx qy qz qw                                 (8)
//   VERTEX_SE2 id x y θ, VERTEX_SE3:QUAT id x y z qx qy qz qw,
//   VERTEX_XY id x y, VERTEX_TRACKXYZ id x y z     (initial guesses)
//   FIX id                                          (ignored: the cost is gauge invariant)
//
// Weights follow SE-Sync exactly, so costs match SE-Sync's on the same file:
//   2-D: τ = 2 / tr(I_t⁻¹), κ = I_θθ;  3-D: τ = 3 / tr(I_t⁻¹), κ = 3 / (2 tr(I_R⁻¹));
//   landmarks: ν = d / tr(I⁻¹).
// EDGE_SE3:QUAT builds R̃ from the quaternion without normalising it (Eigen's
// toRotationMatrix), as SE-Sync does; VERTEX quaternions are normalised, since
// they are guesses that must lie on SO(3).
// Pose ids and landmark ids are separate spaces, each remapped in order of
// first appearance. Blank lines and '#' comments are skipped (SE-Sync's and
// CPL-SLAM's readers repeat the previous edge on a blank line).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { checkConnected, IdMap } from "./graph.js";
import type { Dimension, Estimate, LandmarkMeasurement, PoseMeasurement, Problem } from "./problem.js";

interface TagSpec {
  fields: number;
  d: Dimension | 0;
  form: string;
}

const TAGS: Record<string, TagSpec> = {
  EDGE_SE2: { fields: 11, d: 2, form: "i j dx dy dθ I11 I12 I13 I22 I23 I33" },
  "EDGE_SE3:QUAT": { fields: 30, d: 3, form: "i j dx dy dz qx qy qz qw + 21 information entries" },
  LANDMARK2: { fields: 7, d: 2, form: "pose landmark dx dy I11 I12 I22" },
  LANDMARK3: { fields: 11, d: 3, form: "pose landmark dx dy dz I11 I12 I13 I22 I23 I33" },
  EDGE_SE2_XY: { fields: 7, d: 2, form: "pose landmark dx dy I11 I12 I22" },
  EDGE_SE3_TRACKXYZ: { fields: 12, d: 3, form: "pose landmark param dx dy dz I11 I12 I13 I22 I23 I33" },
  PARAMS_SE3OFFSET: { fields: 8, d: 3, form: "id x y z qx qy qz qw" },
  VERTEX_SE2: { fields: 4, d: 2, form: "id x y θ" },
  "VERTEX_SE3:QUAT": { fields: 8, d: 3, form: "id x y z qx qy qz qw" },
  VERTEX_XY: { fields: 3, d: 2, form: "id x y" },
  VERTEX_TRACKXYZ: { fields: 4, d: 3, form: "id x y z" },
  FIX: { fields: 1, d: 0, form: "id" },
};

/** The g2o tags the reader understands. */
export const SUPPORTED_TAGS: readonly string[] = Object.keys(TAGS);

/** Thrown for malformed g2o input; names the source and line. */
export class G2OParseError extends Error {
  readonly line: number;
  constructor(message: string, line: number) {
    super(message);
    this.name = "G2OParseError";
    this.line = line;
  }
}

export interface ReadG2OOptions {
  /** A name for messages (defaults to the path, or "g2o text"). */
  source?: string;
  /** Reject a disconnected measurement graph (default true). */
  checkConnected?: boolean;
}

// ---- small rotation helpers --------------------------------------------------

/** Eigen's Quaternion::toRotationMatrix(), without normalising (as SE-Sync). */
export function quaternionToRotation(qx: number, qy: number, qz: number, qw: number): Float64Array {
  const tx = 2 * qx, ty = 2 * qy, tz = 2 * qz;
  const twx = tx * qw, twy = ty * qw, twz = tz * qw;
  const txx = tx * qx, txy = ty * qx, txz = tz * qx;
  const tyy = ty * qy, tyz = tz * qy, tzz = tz * qz;
  return Float64Array.of(
    1 - (tyy + tzz), txy - twz, txz + twy,
    txy + twz, 1 - (txx + tzz), tyz - twx,
    txz - twy, tyz + twx, 1 - (txx + tyy),
  );
}

/**
 * The quaternion [qx, qy, qz, qw] (qw ≥ 0) whose toRotationMatrix() is R. Works
 * for the unnormalised quaternions EDGE_SE3:QUAT may carry: x², y², z² come from
 * the diagonal alone, and the rest from off-diagonal sums and differences.
 */
export function rotationToQuaternion(R: ArrayLike<number>): [number, number, number, number] {
  const x2 = (1 + R[0] - R[4] - R[8]) / 4;
  const y2 = (1 - R[0] + R[4] - R[8]) / 4;
  const z2 = (1 - R[0] - R[4] + R[8]) / 4;
  let q: [number, number, number, number];
  const big = Math.max(x2, y2, z2);
  if (big <= 1e-300) {
    q = [0, 0, 0, 1];
  } else if (big === x2) {
    const x = Math.sqrt(x2), s = 4 * x;
    q = [x, (R[1] + R[3]) / s, (R[2] + R[6]) / s, (R[7] - R[5]) / s];
  } else if (big === y2) {
    const y = Math.sqrt(y2), s = 4 * y;
    q = [(R[1] + R[3]) / s, y, (R[5] + R[7]) / s, (R[2] - R[6]) / s];
  } else {
    const z = Math.sqrt(z2), s = 4 * z;
    q = [(R[2] + R[6]) / s, (R[5] + R[7]) / s, z, (R[3] - R[1]) / s];
  }
  if (q[3] < 0) q = [-q[0], -q[1], -q[2], -q[3]];
  return q;
}

function rotation2(theta: number): Float64Array {
  const c = Math.cos(theta), s = Math.sin(theta);
  return Float64Array.of(c, -s, s, c);
}

// ---- information matrices -----------------------------------------------------

/** Full symmetric n x n matrix from its upper triangle, row by row. */
function fromUpper(n: number, upper: number[]): Float64Array {
  const m = new Float64Array(n * n);
  let p = 0;
  for (let r = 0; r < n; r++) {
    for (let c = r; c < n; c++) {
      m[r * n + c] = upper[p];
      m[c * n + r] = upper[p++];
    }
  }
  return m;
}

function upperOf(n: number, m: Float64Array): number[] {
  const out: number[] = [];
  for (let r = 0; r < n; r++) for (let c = r; c < n; c++) out.push(m[r * n + c]);
  return out;
}

/** The k x k block of an n x n matrix starting at (o, o). */
function block(m: Float64Array, n: number, o: number, k: number): Float64Array {
  const b = new Float64Array(k * k);
  for (let r = 0; r < k; r++) for (let c = 0; c < k; c++) b[r * k + c] = m[(o + r) * n + o + c];
  return b;
}

/**
 * tr(A⁻¹) of a symmetric 2x2 or 3x3 matrix, or NaN when A is not positive
 * definite (leading minors checked, so the weight is never silently negative).
 */
function traceOfInverse(a: Float64Array, k: number): number {
  if (k === 1) return a[0] > 0 ? 1 / a[0] : NaN;
  if (k === 2) {
    const det = a[0] * a[3] - a[1] * a[2];
    if (!(a[0] > 0 && det > 0)) return NaN;
    return (a[0] + a[3]) / det;
  }
  const [a00, a01, a02, , a11, a12, , , a22] = a;
  const c00 = a11 * a22 - a12 * a12;
  const c11 = a00 * a22 - a02 * a02;
  const c22 = a00 * a11 - a01 * a01;
  const det = a00 * c00 - a01 * (a01 * a22 - a12 * a02) + a02 * (a01 * a12 - a11 * a02);
  if (!(a00 > 0 && c22 > 0 && det > 0)) return NaN;
  return (c00 + c11 + c22) / det;
}

// ---- reader ---------------------------------------------------------------------

interface PendingTrack {
  line: number;
  i: number;
  k: number;
  param: number;
  y: Float64Array;
  information: Float64Array;
}

/** g2o text has a line break or starts with a known tag; anything else is a path. */
function looksLikeText(s: string): boolean {
  return s.includes("\n") || TAGS[s.trim().split(/\s+/)[0]] !== undefined;
}

/**
 * Reads a g2o file (a path, or the text itself) into a Problem with 0-based
 * contiguous indices; `poseIds`/`landmarkIds` keep the file's ids. VERTEX lines
 * become `initial` when every pose has one (landmarks without a VERTEX line are
 * placed from their first observation).
 */
export function readG2O(pathOrText: string, options: ReadG2OOptions = {}): Problem {
  let text: string;
  let source: string;
  if (looksLikeText(pathOrText)) {
    text = pathOrText;
    source = options.source ?? "g2o text";
  } else {
    if (!existsSync(pathOrText)) {
      throw new Error(`slam.readG2O: no file "${pathOrText}"; pass a path to a .g2o file or the g2o text itself`);
    }
    text = readFileSync(pathOrText, "utf8");
    source = options.source ?? pathOrText;
  }
  return parseG2O(text, source, options.checkConnected ?? true);
}

function parseG2O(text: string, source: string, connected: boolean): Problem {
  const poses = new IdMap();
  const landmarks = new IdMap();
  const poseEdges: PoseMeasurement[] = [];
  const landmarkEdges: LandmarkMeasurement[] = [];
  const tracks: PendingTrack[] = [];
  const offsets = new Map<number, { R: Float64Array; t: Float64Array }>();
  const poseGuess = new Map<number, { R: Float64Array; t: Float64Array; line: number }>();
  const landmarkGuess = new Map<number, { m: Float64Array; line: number }>();
  let d: Dimension | 0 = 0;
  let dLine = 0;

  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const lineNo = n + 1;
    const raw = lines[n].trim();
    if (raw === "" || raw.startsWith("#")) continue;
    const parts = raw.split(/\s+/);
    const tag = parts[0];
    const spec = TAGS[tag];
    const where = `g2o ${source} line ${lineNo}`;
    if (spec === undefined) {
      throw new G2OParseError(
        `${where}: unknown tag "${tag}"; supported tags: ${SUPPORTED_TAGS.join(", ")}`,
        lineNo,
      );
    }
    const found = parts.length - 1;
    if (found !== spec.fields) {
      throw new G2OParseError(
        `${where}: ${tag} expects ${spec.fields} fields (${spec.form}), found ${found}`,
        lineNo,
      );
    }
    const values = parts.slice(1).map((f, at) => {
      const v = Number(f);
      if (f === "" || !Number.isFinite(v)) {
        throw new G2OParseError(`${where}: ${tag} field ${at + 1} is "${f}", not a finite number`, lineNo);
      }
      return v;
    });
    const id = (at: number, what: string): number => {
      const v = values[at];
      if (!Number.isInteger(v)) {
        throw new G2OParseError(`${where}: ${tag} field ${at + 1} (${what} id) is "${parts[at + 1]}", not an integer`, lineNo);
      }
      return v;
    };
    // R and t of "x y z qx qy qz qw" at fields 2..8, the quaternion normalised (VERTEX and PARAMS lines).
    const unitPose = (): { R: Float64Array; t: Float64Array } => {
      const q = values.slice(4, 8);
      const norm = Math.hypot(...q);
      if (!(norm > 0)) throw new G2OParseError(`${where}: ${tag} quaternion is zero`, lineNo);
      return { R: quaternionToRotation(q[0] / norm, q[1] / norm, q[2] / norm, q[3] / norm), t: Float64Array.from(values.slice(1, 4)) };
    };
    if (spec.d !== 0) {
      if (d === 0) {
        d = spec.d;
        dLine = lineNo;
      } else if (spec.d !== d) {
        throw new G2OParseError(
          `${where}: ${tag} is ${spec.d}-D but line ${dLine} made this a ${d}-D file; a file holds one dimension`,
          lineNo,
        );
      }
    }
    // tr(I⁻¹) of a block, or an error when the block is not positive definite.
    const checked = (trInv: number, what: string): number => {
      if (!Number.isFinite(trInv) || trInv <= 0) {
        throw new G2OParseError(`${where}: ${tag} ${what} information matrix is not positive definite`, lineNo);
      }
      return trInv;
    };

    switch (tag) {
      case "EDGE_SE2": {
        const i = poses.intern(id(0, "pose"));
        const j = poses.intern(id(1, "pose"));
        const information = fromUpper(3, values.slice(5, 11));
        const trInv = checked(traceOfInverse(block(information, 3, 0, 2), 2), "translation");
        const kappa = information[8];
        if (!(kappa > 0)) throw new G2OParseError(`${where}: EDGE_SE2 rotation information I33 = ${kappa} must be positive`, lineNo);
        poseEdges.push({ i, j, R: rotation2(values[4]), t: Float64Array.of(values[2], values[3]), kappa, tau: 2 / trInv, information });
        break;
      }
      case "EDGE_SE3:QUAT": {
        const i = poses.intern(id(0, "pose"));
        const j = poses.intern(id(1, "pose"));
        const information = fromUpper(6, values.slice(9, 30));
        const trT = checked(traceOfInverse(block(information, 6, 0, 3), 3), "translation");
        const trR = checked(traceOfInverse(block(information, 6, 3, 3), 3), "rotation");
        poseEdges.push({
          i,
          j,
          R: quaternionToRotation(values[5], values[6], values[7], values[8]),
          t: Float64Array.of(values[2], values[3], values[4]),
          kappa: 3 / (2 * trR),
          tau: 3 / trT,
          information,
        });
        break;
      }
      case "LANDMARK2":
      case "EDGE_SE2_XY":
      case "LANDMARK3": {
        const k = spec.d;
        const i = poses.intern(id(0, "pose"));
        const lm = landmarks.intern(id(1, "landmark"));
        const information = fromUpper(k, values.slice(2 + k));
        const trInv = checked(traceOfInverse(information, k), "landmark");
        landmarkEdges.push({ i, k: lm, y: Float64Array.from(values.slice(2, 2 + k)), nu: k / trInv, information });
        break;
      }
      case "EDGE_SE3_TRACKXYZ": {
        const i = poses.intern(id(0, "pose"));
        const k = landmarks.intern(id(1, "landmark"));
        const information = fromUpper(3, values.slice(6, 12));
        checked(traceOfInverse(information, 3), "landmark");
        tracks.push({ line: lineNo, i, k, param: id(2, "parameter"), y: Float64Array.from(values.slice(3, 6)), information });
        break;
      }
      case "PARAMS_SE3OFFSET": {
        offsets.set(id(0, "parameter"), unitPose());
        break;
      }
      case "VERTEX_SE2":
      case "VERTEX_SE3:QUAT": {
        const v = id(0, "pose");
        if (poseGuess.has(v)) {
          throw new G2OParseError(`${where}: pose ${v} already has a VERTEX line (line ${poseGuess.get(v)?.line})`, lineNo);
        }
        poses.intern(v);
        if (tag === "VERTEX_SE2") {
          poseGuess.set(v, { R: rotation2(values[3]), t: Float64Array.of(values[1], values[2]), line: lineNo });
        } else {
          poseGuess.set(v, { ...unitPose(), line: lineNo });
        }
        break;
      }
      case "VERTEX_XY":
      case "VERTEX_TRACKXYZ": {
        const v = id(0, "landmark");
        if (landmarkGuess.has(v)) {
          throw new G2OParseError(`${where}: landmark ${v} already has a VERTEX line (line ${landmarkGuess.get(v)?.line})`, lineNo);
        }
        landmarks.intern(v);
        landmarkGuess.set(v, { m: Float64Array.from(values.slice(1)), line: lineNo });
        break;
      }
      case "FIX":
        id(0, "pose");
        break;
    }
  }

  // Sensor offsets: a TRACKXYZ measurement y is in the sensor frame (R_o, t_o)
  // of the pose, so in the pose frame it is t_o + R_o y with information
  // R_o I R_oᵀ; tr(I⁻¹), hence ν, is unchanged by the rotation.
  for (const tr of tracks) {
    const off = offsets.get(tr.param);
    if (off === undefined) {
      throw new G2OParseError(
        `g2o ${source} line ${tr.line}: EDGE_SE3_TRACKXYZ uses parameter ${tr.param}, but no PARAMS_SE3OFFSET line defines it`,
        tr.line,
      );
    }
    const y = new Float64Array(3);
    const info = new Float64Array(9);
    for (let r = 0; r < 3; r++) {
      y[r] = off.t[r] + off.R[r * 3] * tr.y[0] + off.R[r * 3 + 1] * tr.y[1] + off.R[r * 3 + 2] * tr.y[2];
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) s += off.R[r * 3 + a] * tr.information[a * 3 + b] * off.R[c * 3 + b];
        info[r * 3 + c] = s;
      }
    }
    landmarkEdges.push({ i: tr.i, k: tr.k, y, nu: 3 / traceOfInverse(tr.information, 3), information: info });
  }

  if (d === 0) {
    throw new G2OParseError(`g2o ${source}: no measurements found; expected lines such as EDGE_SE2 or EDGE_SE3:QUAT`, 0);
  }
  if (poseEdges.length === 0 && landmarkEdges.length === 0) {
    throw new G2OParseError(`g2o ${source}: VERTEX lines but no measurements (EDGE_* or LANDMARK* lines)`, 0);
  }

  const problem: Problem = {
    d,
    numPoses: poses.size,
    numLandmarks: landmarks.size,
    poseEdges,
    landmarkEdges,
    poseIds: poses.ids,
    landmarkIds: landmarks.ids,
    source,
  };
  const initial = initialGuess(problem, poseGuess, landmarkGuess, source);
  if (initial !== undefined) problem.initial = initial;
  if (connected) checkConnected(problem);
  return problem;
}

function initialGuess(
  problem: Problem,
  poseGuess: Map<number, { R: Float64Array; t: Float64Array }>,
  landmarkGuess: Map<number, { m: Float64Array }>,
  source: string,
): Estimate | undefined {
  if (poseGuess.size === 0) return undefined;
  const { d, numPoses, numLandmarks } = problem;
  if (poseGuess.size !== numPoses) {
    const missing = problem.poseIds.filter((id) => !poseGuess.has(id)).slice(0, 5);
    throw new G2OParseError(
      `g2o ${source}: VERTEX lines give ${poseGuess.size} of ${numPoses} poses (missing e.g. ${missing.join(", ")}); give every pose one, or none`,
      0,
    );
  }
  const R = new Float64Array(numPoses * d * d);
  const t = new Float64Array(numPoses * d);
  problem.poseIds.forEach((id, p) => {
    const g = poseGuess.get(id)!;
    R.set(g.R, p * d * d);
    t.set(g.t, p * d);
  });
  // Landmarks without a VERTEX line start at their first observation.
  const landmarks = new Float64Array(numLandmarks * d);
  const placed = new Uint8Array(numLandmarks);
  problem.landmarkIds.forEach((id, k) => {
    const g = landmarkGuess.get(id);
    if (g !== undefined) {
      landmarks.set(g.m, k * d);
      placed[k] = 1;
    }
  });
  for (const e of problem.landmarkEdges) {
    if (placed[e.k]) continue;
    placed[e.k] = 1;
    for (let r = 0; r < d; r++) {
      let s = t[e.i * d + r];
      for (let c = 0; c < d; c++) s += R[e.i * d * d + r * d + c] * e.y[c];
      landmarks[e.k * d + r] = s;
    }
  }
  return { d, R, t, landmarks };
}

// ---- writer ---------------------------------------------------------------------

export interface WriteG2OOptions {
  /**
   * How landmark observations are written: "cpl" (LANDMARK2/LANDMARK3, the
   * default, with landmark ids in their own space) or "g2o" (EDGE_SE2_XY /
   * EDGE_SE3_TRACKXYZ with an identity PARAMS_SE3OFFSET; g2o shares one id
   * space, so landmark ids are shifted past the pose ids when they collide).
   */
  landmarks?: "cpl" | "g2o";
  /** Write VERTEX lines from this estimate (default: the problem's `initial`, if any). */
  estimate?: Estimate | null;
}

const num = (v: number): string => String(v); // shortest text that reads back exactly

/** An isotropic information matrix reproducing the weights (for simulated problems). */
function poseInformation(d: Dimension, e: PoseMeasurement): Float64Array {
  if (e.information !== undefined) return e.information;
  const n = d === 2 ? 3 : 6;
  const m = new Float64Array(n * n);
  for (let r = 0; r < d; r++) m[r * n + r] = e.tau; // τ = d / tr((τ I)⁻¹)
  if (d === 2) m[8] = e.kappa;
  else for (let r = 3; r < 6; r++) m[r * n + r] = 2 * e.kappa; // κ = 3 / (2 tr((2κ I)⁻¹))
  return m;
}

function landmarkInformation(d: Dimension, e: LandmarkMeasurement): Float64Array {
  if (e.information !== undefined) return e.information;
  const m = new Float64Array(d * d);
  for (let r = 0; r < d; r++) m[r * d + r] = e.nu;
  return m;
}

function poseVertex(d: Dimension, id: number, R: Float64Array, t: Float64Array): string {
  if (d === 2) return `VERTEX_SE2 ${id} ${num(t[0])} ${num(t[1])} ${num(Math.atan2(R[2], R[0]))}`;
  return `VERTEX_SE3:QUAT ${id} ${[...t, ...rotationToQuaternion(R)].map(num).join(" ")}`;
}

/** The problem (and optionally an estimate) as g2o text; readG2O reads it back to the same problem. */
export function formatG2O(problem: Problem, options: WriteG2OOptions = {}): string {
  const { d } = problem;
  const style = options.landmarks ?? "cpl";
  const estimate = options.estimate === undefined ? problem.initial : options.estimate ?? undefined;
  const out: string[] = [];
  const poseId = (p: number): number => problem.poseIds[p] ?? p;
  let landmarkShift = 0;
  if (style === "g2o" && problem.numLandmarks > 0) {
    const poseSet = new Set(problem.poseIds);
    if (problem.landmarkIds.some((id) => poseSet.has(id))) landmarkShift = Math.max(...problem.poseIds) + 1;
  }
  const landmarkId = (k: number): number => (problem.landmarkIds[k] ?? k) + landmarkShift;
  if (style === "g2o" && d === 3 && problem.numLandmarks > 0) out.push("PARAMS_SE3OFFSET 0 0 0 0 0 0 0 1");
  if (estimate !== undefined) {
    for (let p = 0; p < problem.numPoses; p++) {
      out.push(poseVertex(d, poseId(p), estimate.R.subarray(p * d * d, (p + 1) * d * d), estimate.t.subarray(p * d, (p + 1) * d)));
    }
    // Landmark guesses: g2o's vertex lines (in the cpl style with the landmark id space's ids).
    for (let k = 0; k < problem.numLandmarks; k++) {
      const m = [...estimate.landmarks.subarray(k * d, (k + 1) * d)].map(num).join(" ");
      const id = style === "g2o" ? landmarkId(k) : problem.landmarkIds[k] ?? k;
      out.push(`${d === 2 ? "VERTEX_XY" : "VERTEX_TRACKXYZ"} ${id} ${m}`);
    }
  }
  for (const e of problem.poseEdges) {
    const info = upperOf(d === 2 ? 3 : 6, poseInformation(d, e)).map(num).join(" ");
    if (d === 2) {
      const theta = Math.atan2(e.R[2], e.R[0]);
      out.push(`EDGE_SE2 ${poseId(e.i)} ${poseId(e.j)} ${num(e.t[0])} ${num(e.t[1])} ${num(theta)} ${info}`);
    } else {
      const q = rotationToQuaternion(e.R).map(num).join(" ");
      out.push(`EDGE_SE3:QUAT ${poseId(e.i)} ${poseId(e.j)} ${[...e.t].map(num).join(" ")} ${q} ${info}`);
    }
  }
  for (const e of problem.landmarkEdges) {
    const info = upperOf(d, landmarkInformation(d, e)).map(num).join(" ");
    const y = [...e.y].map(num).join(" ");
    if (style === "cpl") out.push(`LANDMARK${d} ${poseId(e.i)} ${problem.landmarkIds[e.k] ?? e.k} ${y} ${info}`);
    else if (d === 2) out.push(`EDGE_SE2_XY ${poseId(e.i)} ${landmarkId(e.k)} ${y} ${info}`);
    else out.push(`EDGE_SE3_TRACKXYZ ${poseId(e.i)} ${landmarkId(e.k)} 0 ${y} ${info}`);
  }
  return out.join("\n") + "\n";
}

/** The problem as g2o text (see formatG2O), also written to `path` when one is given. */
export function writeG2O(problem: Problem, path?: string, options: WriteG2OOptions = {}): string {
  const text = formatG2O(problem, options);
  if (path !== undefined) writeFileSync(path, text);
  return text;
}
