// How SLAM problems and results show in a notebook: the measurement graph as
// plot.slam data (the application/vnd.nbforge.slam+json mime type, an SVG
// fallback and a text summary), drawn at an estimate, with each edge's
// residual and the certificate's verdict.
import { DISPLAY_PROTOCOL, type MimeBundle } from "../display/display.js";
import { plot, type Figure } from "../display/plot.js";
import type { SlamCertificate, SlamData, SlamEdge, Vec } from "../display/plot-types.js";
import type { EstimateCertificate } from "./certify.js";
import { cost, edgeResiduals } from "./cost.js";
import type { Estimate, Problem } from "./problem.js";

export interface SlamFigureOptions {
  title?: string;
  /** The estimate to draw (default: the problem's initial guess, if any). */
  estimate?: Estimate;
  certificate?: EstimateCertificate;
  /** How many poses to name as suspects when the certificate fails (default 10). */
  suspects?: number;
}

/**
 * The poses whose rows carry most of the certificate's negative eigenvector
 * (its d-row blocks with the largest norm): where the estimate is wrong.
 */
export function suspectPoses(problem: Problem, certificate: EstimateCertificate, count = 10): number[] {
  const v = certificate.descentDirection;
  if (v === null || certificate.certified) return [];
  const { d, numPoses: n } = problem;
  const dn = d * n;
  const r = v.length / dn; // column-major dn x r
  const weight = Array.from({ length: n }, (_, i) => {
    let s = 0;
    for (let c = 0; c < r; c++) for (let a = 0; a < d; a++) s += v[c * dn + i * d + a] ** 2;
    return { i, s };
  });
  return weight
    .sort((a, b) => b.s - a.s)
    .slice(0, count)
    .map((w) => problem.poseIds[w.i] ?? w.i);
}

function certificateData(problem: Problem, c: EstimateCertificate, suspects: number): SlamCertificate {
  return {
    verdict: c.certified ? "optimal" : "not-certified",
    minEigenvalue: c.lambdaMin,
    gap: c.dualityGap,
    suspectPoses: suspectPoses(problem, c, suspects),
  };
}

/** The plot.slam data of a problem drawn at an estimate. */
export function slamData(problem: Problem, options: SlamFigureOptions = {}): SlamData {
  const { d } = problem;
  const x = options.estimate ?? problem.initial;
  const vec = (a: ArrayLike<number>, o: number): Vec => (d === 2 ? [a[o], a[o + 1]] : [a[o], a[o + 1], a[o + 2]]);
  const poseId = (p: number): number => problem.poseIds[p] ?? p;
  const landmarkId = (k: number): number => problem.landmarkIds[k] ?? k;
  const zero = new Float64Array(d);
  const poses = Array.from({ length: problem.numPoses }, (_, p) => {
    const R = x?.R.subarray(p * d * d, (p + 1) * d * d);
    return {
      id: poseId(p),
      position: x ? vec(x.t, p * d) : vec(zero, 0),
      ...(R === undefined ? {} : d === 2 ? { heading: Math.atan2(R[2], R[0]) } : { rotation: [...R] }),
    };
  });
  const landmarks = Array.from({ length: problem.numLandmarks }, (_, k) => ({
    id: landmarkId(k),
    position: x ? vec(x.landmarks, k * d) : vec(zero, 0),
  }));
  const residuals = x ? edgeResiduals(problem, x) : undefined;
  const edges: SlamEdge[] = [
    ...problem.poseEdges.map((e, n): SlamEdge => ({
      kind: e.j === e.i + 1 ? "odometry" : "loop",
      from: poseId(e.i),
      to: poseId(e.j),
      measurement: [...e.t],
      ...(residuals ? { residual: residuals.pose[n] } : {}),
    })),
    ...problem.landmarkEdges.map((e, n): SlamEdge => ({
      kind: "landmark",
      from: poseId(e.i),
      to: landmarkId(e.k),
      measurement: [...e.y],
      ...(residuals ? { residual: residuals.landmark[n] } : {}),
    })),
  ];
  return {
    title: options.title ?? problem.source ?? "SLAM problem",
    d,
    poses,
    landmarks,
    edges,
    ...(x ? { cost: cost(problem, x) } : {}),
    ...(options.certificate ? { certificate: certificateData(problem, options.certificate, options.suspects ?? 10) } : {}),
  };
}

/** The measurement graph as a plot.slam figure (renders in a notebook; `String(fig)` is a text summary). */
export function slamFigure(problem: Problem, options: SlamFigureOptions = {}): Figure<SlamData> {
  return plot.slam(slamData(problem, options));
}

/**
 * Makes a problem (or a result holding one) render as its measurement graph
 * when it is a cell's value: a non-enumerable display method, so spreading or
 * serialising the object is unaffected.
 */
export function withDisplay<T extends object>(value: T, figure: () => Figure<SlamData>): T {
  Object.defineProperty(value, DISPLAY_PROTOCOL, {
    value: (): MimeBundle => figure().bundle(),
    enumerable: false,
    configurable: true,
  });
  return value;
}
