// The Riemannian staircase (Boumal 2015; SE-Sync Algorithm 1): minimise
// tr(Yᵀ Q Y) over rank-r relaxations, r = r0, r0 + 1, ...; at each rank ask
// the certificate whether the critical point solves the semidefinite
// relaxation; if not, its negative eigenvector gives a descent direction out
// of the saddle into rank r + 1.
import { BlockManifold, appendColumn, type ManifoldKind } from "./stiefel.js";
import { riemannianTrustRegion, type QuadraticForm, type TrustRegionOptions } from "./trust-region.js";

/** What the staircase needs from a certificate at a rank-r point. */
export interface RankCertificate {
  certified: boolean;
  lambdaMin: number;
  /** Unit eigenvector of λ_min (d n values) when λ_min < 0. */
  descentDirection: Float64Array | null;
}

export type RankCertifier = (yt: Float64Array, r: number) => RankCertificate;

export interface StaircaseLevel {
  rank: number;
  cost: number;
  gradientNorm: number;
  iterations: number;
  hessianProducts: number;
  lambdaMin: number;
  certified: boolean;
  seconds: number;
}

export interface StaircaseOptions extends TrustRegionOptions {
  /** Largest rank tried (default 10 for Stiefel, 8 for the sphere). */
  maxRank?: number;
  /** Called when a level finishes. */
  onLevel?: (level: StaircaseLevel) => void;
}

export interface StaircaseResult {
  y: Float64Array;
  rank: number;
  cost: number;
  certified: boolean;
  lambdaMin: number;
  levels: StaircaseLevel[];
}

/** Leaves the saddle Y (rank r) along [0 | v] in rank r + 1, with a backtracking search. */
function escapeSaddle(
  m: BlockManifold,
  q: QuadraticForm,
  y: Float64Array,
  cost: number,
  v: Float64Array,
  gradTol: number,
): Float64Array | null {
  const up = m.lifted();
  const rows = m.n * m.d;
  const yUp = appendColumn(y, rows);
  const direction = appendColumn(new Float64Array(y.length), rows, v);
  // v is a unit vector and Y's norm is √(dn); start at that scale and halve.
  let alpha = Math.sqrt(m.n);
  for (let k = 0; k < 60; k++, alpha /= 2) {
    const trial = up.retract(yUp, up.axpby(alpha, direction, 0, direction));
    const qy = q(trial, up.r);
    const f = up.inner(trial, qy);
    if (f < cost) {
      // A step so small that the gradient vanishes would restart at the saddle.
      const grad = up.project(trial, qy, 2);
      if (up.norm(grad) > gradTol) return trial;
    }
  }
  return null;
}

/** Runs the staircase from y0 (rank r0 = y0.length / (n d)). */
export function riemannianStaircase(
  kind: ManifoldKind,
  n: number,
  d: number,
  q: QuadraticForm,
  y0: Float64Array,
  certify: RankCertifier,
  options: StaircaseOptions = {},
): StaircaseResult {
  let m = new BlockManifold(kind, n, d, y0.length / (n * d));
  const maxRank = options.maxRank ?? (kind === "stiefel" ? 10 : 8);
  const levels: StaircaseLevel[] = [];
  let y = y0;
  for (;;) {
    const start = performance.now();
    const tr = riemannianTrustRegion(m, q, y, options);
    const cert = certify(tr.y, m.r);
    const level: StaircaseLevel = {
      rank: m.r,
      cost: tr.cost,
      gradientNorm: tr.gradientNorm,
      iterations: tr.iterations,
      hessianProducts: tr.hessianProducts,
      lambdaMin: cert.lambdaMin,
      certified: cert.certified,
      seconds: (performance.now() - start) / 1000,
    };
    levels.push(level);
    options.onLevel?.(level);
    const done = (certified: boolean): StaircaseResult => ({
      y: tr.y,
      rank: m.r,
      cost: tr.cost,
      certified,
      lambdaMin: cert.lambdaMin,
      levels,
    });
    if (cert.certified) return done(true);
    if (m.r >= maxRank || !cert.descentDirection || !(cert.lambdaMin < 0)) return done(false);
    const escaped = escapeSaddle(m, q, tr.y, tr.cost, cert.descentDirection, options.gradientTolerance ?? 1e-6);
    if (!escaped) return done(false);
    m = m.lifted();
    y = escaped;
  }
}
