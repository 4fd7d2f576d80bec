// A seeded simulator for 2-D and 3-D landmark SLAM problems: a trajectory,
// a landmark field, odometry along the trajectory, loop closures between
// nearby poses, and landmark observations within a sensing radius, all with
// isotropic Gaussian noise whose information matrices set the weights
// (translation τ = 1/σ_t², landmark ν = 1/σ_l², rotation κ as SE-Sync derives
// it from I_R = I/σ_R²: κ = 1/σ_R² in 2-D, 1/(2σ_R²) in 3-D).
import { expSO, mul, mulTN, applyT, rotationDof } from "./lie.js";
import type { Dimension, Estimate, LandmarkMeasurement, PoseMeasurement, Problem } from "./problem.js";

export type Trajectory =
  /** Laps of a circle (2-D), or a rising helix (3-D). */
  | "circle"
  /** A random walk on a unit lattice with 90° turns (Manhattan-like). */
  | "grid"
  /** A smooth random walk: small random turns every step. */
  | "random";

export type LandmarkField =
  /** Uniform in the trajectory's bounding box, grown by the sensing radius. */
  | "box"
  /** Each landmark within the sensing radius of a random pose (every landmark is seen). */
  | "along-path";

export interface SimulateOptions {
  /** 2 or 3 (default 3). */
  d?: Dimension;
  /** Number of poses (default 100). */
  poses?: number;
  /** Number of landmarks (default 200). */
  landmarks?: number;
  trajectory?: Trajectory;
  landmarkField?: LandmarkField;
  /** Distance between consecutive poses (default 1). */
  step?: number;
  /** A pose observes the landmarks within this distance (default 3 steps). */
  sensingRadius?: number;
  /** Keep at most this many observations per landmark, the nearest poses (default: all in range). */
  maxObservations?: number;
  /** Number of loop closures between poses closer than `closureRadius`, not consecutive (default poses / 10). */
  loopClosures?: number;
  /** Default 2 steps. */
  closureRadius?: number;
  /** Standard deviations: rotation in radians per axis, translation and landmark in distance units. */
  noise?: { rotation?: number; translation?: number; landmark?: number };
  /** Seed of the random generator (default 1). */
  seed?: number;
  /** What `problem.initial` holds: the ground truth (default), dead reckoning from odometry, or nothing. */
  initial?: "truth" | "odometry" | "none";
}

/** A simulated problem, with its ground truth and the dead-reckoning estimate. */
export interface SimulatedProblem extends Problem {
  truth: Estimate;
  odometry: Estimate;
}

/** Mulberry32 with Box–Muller normals: reproducible across runs and machines. */
function generator(seed: number): { uniform: () => number; normal: () => number } {
  let state = seed >>> 0;
  const uniform = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  return { uniform, normal };
}

function positive(name: string, v: number, integer = false): number {
  if (!Number.isFinite(v) || v < 0 || (integer && !Number.isInteger(v))) {
    throw new RangeError(`slam.simulate: ${name} must be a non-negative ${integer ? "integer" : "number"}, got ${v}`);
  }
  return v;
}

/** Ground-truth poses along the chosen trajectory. */
function trajectoryPoses(d: Dimension, n: number, kind: Trajectory, step: number, rng: ReturnType<typeof generator>): { R: Float64Array; t: Float64Array } {
  const dd = d * d;
  const R = new Float64Array(n * dd);
  const t = new Float64Array(n * d);
  const k = rotationDof(d);
  // Each kind is a sequence of body-frame motions: turn by ω, then move `step` along the body x axis.
  let laps = 0;
  let perLap = n;
  if (kind === "circle") {
    perLap = Math.max(8, Math.min(n, 50));
    laps = n / perLap;
  }
  let Rc: Float64Array = d === 2 ? Float64Array.of(1, 0, 0, 1) : Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1);
  const tc = new Float64Array(d);
  const turn = new Float64Array(k);
  for (let p = 0; p < n; p++) {
    R.set(Rc, p * dd);
    t.set(tc, p * d);
    turn.fill(0);
    if (kind === "circle") {
      turn[k - 1] = (2 * Math.PI) / perLap; // yaw about z
    } else if (kind === "grid") {
      const u = rng.uniform();
      if (u < 0.25) turn[k - 1] = Math.PI / 2;
      else if (u < 0.5) turn[k - 1] = -Math.PI / 2;
    } else {
      for (let a = 0; a < k; a++) turn[a] = (a === k - 1 ? 0.3 : 0.1) * rng.normal();
    }
    Rc = mul(d, Rc, 0, expSO(d, turn), 0);
    if (kind === "grid") {
      // In 3-D, sometimes pitch up or down by 90° too (a separate turn, so the result stays on the lattice).
      if (d === 3 && rng.uniform() < 0.15) Rc = mul(d, Rc, 0, expSO(d, [0, rng.uniform() < 0.5 ? Math.PI / 2 : -Math.PI / 2, 0]), 0);
      // Snap to the lattice so rounding does not drift.
      Rc = Rc.map((v) => Math.round(v));
    }
    for (let r = 0; r < d; r++) tc[r] += step * Rc[r * d]; // along the new body x axis
    if (kind === "circle" && d === 3) tc[2] += (step * 0.5) / Math.max(1, laps);
  }
  return { R, t };
}

/**
 * Simulates a landmark SLAM problem. Every pose is linked to the next by
 * odometry, so the measurement graph is connected; each landmark is observed
 * at least once (by its nearest pose when none is within the sensing radius).
 */
export function simulate(options: SimulateOptions = {}): SimulatedProblem {
  const d = options.d ?? 3;
  if (d !== 2 && d !== 3) throw new RangeError(`slam.simulate: d must be 2 or 3, got ${String(d)}`);
  const n = positive("poses", options.poses ?? 100, true);
  if (n < 2) throw new RangeError(`slam.simulate: poses must be at least 2, got ${n}`);
  const L = positive("landmarks", options.landmarks ?? 200, true);
  const step = positive("step", options.step ?? 1);
  const radius = positive("sensingRadius", options.sensingRadius ?? 3 * step);
  const maxObs = options.maxObservations ?? Infinity;
  if (!(maxObs >= 1)) throw new RangeError(`slam.simulate: maxObservations must be at least 1, got ${maxObs}`);
  const closures = positive("loopClosures", options.loopClosures ?? Math.floor(n / 10), true);
  const closureRadius = positive("closureRadius", options.closureRadius ?? 2 * step);
  const sigmaR = positive("noise.rotation", options.noise?.rotation ?? 0.01);
  const sigmaT = positive("noise.translation", options.noise?.translation ?? 0.01);
  const sigmaL = positive("noise.landmark", options.noise?.landmark ?? 0.01);
  if (sigmaR === 0 || sigmaT === 0 || sigmaL === 0) {
    throw new RangeError("slam.simulate: noise levels must be positive (they set the weights 1/σ²); use a tiny value such as 1e-9 for near-exact data");
  }
  const kind = options.trajectory ?? "grid";
  const field = options.landmarkField ?? "along-path";
  const rng = generator(options.seed ?? 1);
  const dd = d * d;
  const k = rotationDof(d);

  const truthPoses = trajectoryPoses(d, n, kind, step, rng);
  const { R, t } = truthPoses;

  // Landmark field.
  const m = new Float64Array(L * d);
  const lo = new Float64Array(d).fill(Infinity);
  const hi = new Float64Array(d).fill(-Infinity);
  for (let p = 0; p < n; p++) {
    for (let r = 0; r < d; r++) {
      lo[r] = Math.min(lo[r], t[p * d + r]);
      hi[r] = Math.max(hi[r], t[p * d + r]);
    }
  }
  for (let l = 0; l < L; l++) {
    if (field === "box") {
      for (let r = 0; r < d; r++) m[l * d + r] = lo[r] - radius + (hi[r] - lo[r] + 2 * radius) * rng.uniform();
    } else {
      // Uniform in the ball of radius `radius` around a random pose (rejection sampling).
      const p = Math.floor(rng.uniform() * n);
      const u = new Float64Array(d);
      let s: number;
      do {
        s = 0;
        for (let r = 0; r < d; r++) {
          u[r] = 2 * rng.uniform() - 1;
          s += u[r] * u[r];
        }
      } while (s > 1);
      for (let r = 0; r < d; r++) m[l * d + r] = t[p * d + r] + radius * u[r];
    }
  }

  // Information matrices of isotropic noise.
  const poseInfo = new Float64Array(d === 2 ? 9 : 36);
  const side = d === 2 ? 3 : 6;
  for (let r = 0; r < d; r++) poseInfo[r * side + r] = 1 / (sigmaT * sigmaT);
  for (let r = d; r < side; r++) poseInfo[r * side + r] = 1 / (sigmaR * sigmaR);
  const tau = 1 / (sigmaT * sigmaT);
  const kappa = d === 2 ? 1 / (sigmaR * sigmaR) : 1 / (2 * sigmaR * sigmaR);
  const landmarkInfo = new Float64Array(dd);
  for (let r = 0; r < d; r++) landmarkInfo[r * d + r] = 1 / (sigmaL * sigmaL);
  const nu = 1 / (sigmaL * sigmaL);

  const noisyRelative = (i: number, j: number): PoseMeasurement => {
    const Rij = mulTN(d, R, i * dd, R, j * dd);
    const noise = Float64Array.from({ length: k }, () => sigmaR * rng.normal());
    const dt = new Float64Array(d);
    for (let r = 0; r < d; r++) dt[r] = t[j * d + r] - t[i * d + r];
    const tij = applyT(d, R, i * dd, dt, 0);
    for (let r = 0; r < d; r++) tij[r] += sigmaT * rng.normal();
    return { i, j, R: mul(d, Rij, 0, expSO(d, noise), 0), t: tij, kappa, tau, information: poseInfo };
  };

  const poseEdges: PoseMeasurement[] = [];
  for (let p = 0; p + 1 < n; p++) poseEdges.push(noisyRelative(p, p + 1));
  const odometryCount = poseEdges.length;

  // Loop closures: random non-consecutive pairs closer than closureRadius.
  if (closures > 0) {
    const candidates: [number, number][] = [];
    const r2 = closureRadius * closureRadius;
    for (let i = 0; i < n; i++) {
      for (let j = i + 2; j < n; j++) {
        let s = 0;
        for (let r = 0; r < d; r++) s += (t[j * d + r] - t[i * d + r]) ** 2;
        if (s <= r2) candidates.push([i, j]);
      }
    }
    for (let c = 0; c < closures && candidates.length > 0; c++) {
      const at = Math.floor(rng.uniform() * candidates.length);
      const [i, j] = candidates[at];
      candidates[at] = candidates[candidates.length - 1];
      candidates.pop();
      poseEdges.push(noisyRelative(i, j));
    }
  }

  // Landmark observations: the poses within the sensing radius (nearest first, at most maxObs),
  // or the nearest pose when none is in range.
  const landmarkEdges: LandmarkMeasurement[] = [];
  const r2 = radius * radius;
  const near: { p: number; s: number }[] = [];
  for (let l = 0; l < L; l++) {
    near.length = 0;
    let best = 0;
    let bestS = Infinity;
    for (let p = 0; p < n; p++) {
      let s = 0;
      for (let r = 0; r < d; r++) s += (m[l * d + r] - t[p * d + r]) ** 2;
      if (s <= r2) near.push({ p, s });
      if (s < bestS) {
        bestS = s;
        best = p;
      }
    }
    if (near.length === 0) near.push({ p: best, s: bestS });
    if (near.length > maxObs) {
      near.sort((a, b) => a.s - b.s);
      near.length = maxObs;
      near.sort((a, b) => a.p - b.p);
    }
    for (const { p } of near) {
      const dm = new Float64Array(d);
      for (let r = 0; r < d; r++) dm[r] = m[l * d + r] - t[p * d + r];
      const y = applyT(d, R, p * dd, dm, 0);
      for (let r = 0; r < d; r++) y[r] += sigmaL * rng.normal();
      landmarkEdges.push({ i: p, k: l, y, nu, information: landmarkInfo });
    }
  }
  // Order observations by pose, as a robot records them.
  landmarkEdges.sort((a, b) => a.i - b.i || a.k - b.k);

  const truth: Estimate = { d, R, t, landmarks: m };
  const odometry = deadReckoning(d, n, poseEdges.slice(0, odometryCount), landmarkEdges, L);
  const problem: SimulatedProblem = {
    d,
    numPoses: n,
    numLandmarks: L,
    poseEdges,
    landmarkEdges,
    poseIds: Array.from({ length: n }, (_, p) => p),
    landmarkIds: Array.from({ length: L }, (_, l) => l),
    source: "simulated",
    truth,
    odometry,
  };
  const initial = options.initial ?? "truth";
  if (initial === "truth") problem.initial = truth;
  else if (initial === "odometry") problem.initial = odometry;
  return problem;
}

/** Composes the odometry from pose 0 at the origin; landmarks from their first observation. */
function deadReckoning(d: Dimension, n: number, odometry: PoseMeasurement[], observations: LandmarkMeasurement[], L: number): Estimate {
  const dd = d * d;
  const R = new Float64Array(n * dd);
  const t = new Float64Array(n * d);
  for (let r = 0; r < d; r++) R[r * d + r] = 1;
  for (const e of odometry) {
    R.set(mul(d, R, e.i * dd, e.R, 0), e.j * dd);
    for (let r = 0; r < d; r++) {
      let s = t[e.i * d + r];
      for (let c = 0; c < d; c++) s += R[e.i * dd + r * d + c] * e.t[c];
      t[e.j * d + r] = s;
    }
  }
  const landmarks = new Float64Array(L * d);
  const seen = new Uint8Array(L);
  for (const e of observations) {
    if (seen[e.k]) continue;
    seen[e.k] = 1;
    for (let r = 0; r < d; r++) {
      let s = t[e.i * d + r];
      for (let c = 0; c < d; c++) s += R[e.i * dd + r * d + c] * e.y[c];
      landmarks[e.k * d + r] = s;
    }
  }
  return { d, R, t, landmarks };
}
