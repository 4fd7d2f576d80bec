// Truncated-Newton Riemannian trust-region method (Absil, Baker & Gallivan
// 2007) for f(Y) = tr(Yᵀ Q Y) on a BlockManifold, as SE-Sync runs it: the
// subproblem is solved by Steihaug–Toint truncated conjugate gradients with a
// preconditioner, the trust region measured in the preconditioner's norm.
import type { BlockManifold } from "./stiefel.js";

/** Q·Yt for Yt of (d n) x k values, column-major. */
export type QuadraticForm = (yt: Float64Array, k: number) => Float64Array;

/** An approximation of Q⁻¹ applied to (d n) x k values (projected afterwards). */
export type Preconditioner = (v: Float64Array, k: number) => Float64Array;

export interface TrustRegionOptions {
  /** Stop when the Riemannian gradient norm falls below this (default 1e-6). */
  gradientTolerance?: number;
  /** Stop when an accepted step lowers f by less than this times |f| (default 1e-14). */
  relativeDecreaseTolerance?: number;
  /** Outer iterations (default 500). */
  maxIterations?: number;
  /** tCG iterations per subproblem (default 1000). */
  maxInnerIterations?: number;
  /** tCG stops at ‖r‖ ≤ ‖r0‖ min(‖r0‖^θ, κ) (defaults κ = 0.1, θ = 1: superlinear). */
  kappa?: number;
  theta?: number;
  preconditioner?: Preconditioner;
  /**
   * Called at each new iterate with its multipliers Λ: a returned
   * preconditioner replaces `preconditioner` there (the staircase passes the
   * Newton-like (Q − Λ + σI)⁻¹ once it factors); null keeps the default.
   */
  preconditionerAt?: (point: { y: Float64Array; lambda: Float64Array; gradientNorm: number }) => Preconditioner | null;
  /** Called after each outer iteration. */
  onIteration?: (state: { iteration: number; cost: number; gradientNorm: number; radius: number; innerIterations: number; rank: number }) => void;
}

export interface TrustRegionResult {
  y: Float64Array;
  cost: number;
  gradientNorm: number;
  iterations: number;
  /** Hessian–vector products over all subproblems. */
  hessianProducts: number;
  stop: "gradient" | "decrease" | "iterations" | "radius" | "precision";
}

/** f, QY, Λ and the Riemannian gradient at a point, reused by every Hessian product there. */
interface PointState {
  y: Float64Array;
  qy: Float64Array;
  cost: number;
  lambda: Float64Array;
  grad: Float64Array;
  gradNorm: number;
}

function evaluate(m: BlockManifold, q: QuadraticForm, y: Float64Array): PointState {
  const qy = q(y, m.r);
  const grad = m.project(y, qy, 2);
  return { y, qy, cost: m.inner(y, qy), lambda: m.lambda(y, qy), grad, gradNorm: m.norm(grad) };
}

interface InnerResult {
  eta: Float64Array;
  heta: Float64Array;
  iterations: number;
  hitBoundary: boolean;
}

/** Steihaug–Toint tCG for min <g, η> + ½<η, Hη> subject to ‖η‖_P ≤ Δ. */
function truncatedCG(
  m: BlockManifold,
  q: QuadraticForm,
  s: PointState,
  radius: number,
  precondition: (v: Float64Array) => Float64Array,
  maxInner: number,
  kappa: number,
  theta: number,
  floor: number,
): InnerResult {
  // Q v is a fresh array (from the data matrix); the Hessian overwrites it in place.
  const hess = (v: Float64Array): Float64Array => {
    const qv = q(v, m.r);
    return m.hessian(s.y, qv, v, s.lambda, 2, qv);
  };
  let eta: Float64Array = new Float64Array(m.size);
  let heta: Float64Array = new Float64Array(m.size);
  const r: Float64Array = Float64Array.from(s.grad);
  const r0 = m.norm(r);
  let z = precondition(r);
  let zr = m.inner(z, r);
  let delta = m.axpby(-1, z, 0, z);
  // Preconditioned-norm bookkeeping: <η,Pη>, <η,Pδ>, <δ,Pδ> (P = preconditioner⁻¹).
  let ePe = 0;
  let ePd = 0;
  let dPd = zr;
  const r2 = radius * radius;
  for (let j = 0; j < maxInner; j++) {
    const hd = hess(delta);
    const dHd = m.inner(delta, hd);
    const alpha = zr / dHd;
    const ePeNew = ePe + 2 * alpha * ePd + alpha * alpha * dPd;
    if (!(dHd > 0) || ePeNew >= r2) {
      // Negative curvature or leaving the region: go to the boundary along δ.
      const tau = (-ePd + Math.sqrt(ePd * ePd + dPd * (r2 - ePe))) / dPd;
      eta = m.axpby(tau, delta, 1, eta, eta);
      heta = m.axpby(tau, hd, 1, heta, heta);
      return { eta, heta, iterations: j + 1, hitBoundary: true };
    }
    ePe = ePeNew;
    eta = m.axpby(alpha, delta, 1, eta, eta);
    heta = m.axpby(alpha, hd, 1, heta, heta);
    m.axpby(alpha, hd, 1, r, r);
    const rn = m.norm(r);
    // Superlinear target, but never below what the outer tolerance needs (the
    // gauge directions make the Hessian singular, so CG cannot go much lower).
    if (rn <= Math.max(r0 * Math.min(Math.pow(r0, theta), kappa), floor)) return { eta, heta, iterations: j + 1, hitBoundary: false };
    z = precondition(r);
    const zrOld = zr;
    zr = m.inner(z, r);
    const beta = zr / zrOld;
    delta = m.axpby(-1, z, beta, delta, delta);
    ePd = beta * (ePd + alpha * dPd);
    dPd = zr + beta * beta * dPd;
  }
  return { eta, heta, iterations: maxInner, hitBoundary: false };
}

/** Minimises tr(Yᵀ Q Y) over the manifold from y0. */
export function riemannianTrustRegion(
  m: BlockManifold,
  q: QuadraticForm,
  y0: Float64Array,
  options: TrustRegionOptions = {},
): TrustRegionResult {
  const gradTol = options.gradientTolerance ?? 1e-6;
  const relTol = options.relativeDecreaseTolerance ?? 1e-14;
  const maxIter = options.maxIterations ?? 500;
  const maxInner = options.maxInnerIterations ?? 1000;
  const kappa = options.kappa ?? 0.1;
  const theta = options.theta ?? 1;
  let current = options.preconditioner;
  const precondition = (v: Float64Array): Float64Array => {
    if (!current) return Float64Array.from(v);
    const z = current(v, m.r);
    return m.project(s.y, z, 1, z);
  };
  const choosePreconditioner = (): void => {
    current = options.preconditionerAt?.({ y: s.y, lambda: s.lambda, gradientNorm: s.gradNorm }) ?? options.preconditioner;
  };

  let s = evaluate(m, q, y0);
  choosePreconditioner();
  // Start with the radius of the preconditioned gradient step, the natural scale.
  let radius = Math.sqrt(Math.max(m.inner(precondition(s.grad), s.grad), 1e-300));
  const maxRadius = radius * 1e4;
  let hessianProducts = 0;
  let stop: TrustRegionResult["stop"] = "iterations";
  let iteration = 0;
  for (; iteration < maxIter; iteration++) {
    if (s.gradNorm <= gradTol) {
      stop = "gradient";
      break;
    }
    const inner = truncatedCG(m, q, s, radius, precondition, maxInner, kappa, theta, 0.1 * gradTol);
    hessianProducts += inner.iterations;
    const proposal = evaluate(m, q, m.retract(s.y, inner.eta));
    const model = -(m.inner(s.grad, inner.eta) + 0.5 * m.inner(inner.eta, inner.heta));
    // Guard the ratio against round-off once both decreases are tiny (Manopt's ρ regularisation).
    const reg = 1e3 * Number.EPSILON * Math.max(1, Math.abs(s.cost));
    const rho = (s.cost - proposal.cost + reg) / (model + reg);
    if (rho < 0.25) radius /= 4;
    else if (rho > 0.75 && inner.hitBoundary) radius = Math.min(2 * radius, maxRadius);
    let accepted = false;
    if (rho > 0.1 && model > 0) {
      const decrease = s.cost - proposal.cost;
      s = proposal;
      accepted = true;
      if (s.gradNorm > gradTol) choosePreconditioner();
      if (Math.abs(decrease) <= relTol * Math.max(1, Math.abs(s.cost)) && s.gradNorm <= 1e3 * gradTol) {
        stop = "decrease";
        options.onIteration?.({ iteration, cost: s.cost, gradientNorm: s.gradNorm, radius, innerIterations: inner.iterations, rank: m.r });
        iteration++;
        break;
      }
    }
    options.onIteration?.({ iteration, cost: s.cost, gradientNorm: s.gradNorm, radius, innerIterations: inner.iterations, rank: m.r });
    // Rejected with a predicted decrease below f's round-off: no representable
    // progress is left, the gradient has reached its floating-point floor.
    if (!accepted && (model <= reg || radius < 1e-14 * Math.sqrt(m.n))) {
      stop = model <= reg ? "precision" : "radius";
      iteration++;
      break;
    }
  }
  return { y: s.y, cost: s.cost, gradientNorm: s.gradNorm, iterations: iteration, hessianProducts, stop };
}
