// The product manifolds of the Riemannian staircase, as thin wrappers over the
// per-block native arithmetic (native/src/slam):
//  - "stiefel": St(d, r)^n, SE-Sync's relaxation of SO(d)^n;
//  - "sphere":  the product of unit spheres S^{2r-1} that CPL-SLAM's complex
//    relaxation of 2-D SLAM lives on (C^r with unit norm, stored as 2 x r).
// A point is Yt = Yᵀ: (d n) x r values, column-major; block i is the d x r
// matrix Y_iᵀ (rows i d .. i d + d - 1). At rank r = d a rotation estimate
// gives Yt = Rᵀ.
import { addon, dot } from "@nbforge/native";

export type ManifoldKind = "stiefel" | "sphere";

interface SlamAddon {
  slamProject(kind: number, y: Float64Array, v: Float64Array, n: number, d: number, r: number, scale: number, out?: Float64Array): Float64Array;
  slamRetract(kind: number, y: Float64Array, v: Float64Array, n: number, d: number, r: number): Float64Array;
  slamLambda(kind: number, y: Float64Array, g: Float64Array, n: number, d: number, r: number): Float64Array;
  slamHessian(
    kind: number,
    y: Float64Array,
    qv: Float64Array,
    v: Float64Array,
    lambda: Float64Array,
    n: number,
    d: number,
    r: number,
    scale: number,
    out?: Float64Array,
  ): Float64Array;
  slamRound(kind: number, y: Float64Array, n: number, d: number, r: number): Float64Array;
  slamComplexLift(x: Float64Array, n: number, r: number): Float64Array;
  slamComplexLiftAdjoint(z: Float64Array, n: number, r: number): Float64Array;
  slamBlockApply(lambda: Float64Array, v: Float64Array, n: number, d: number, k: number): Float64Array;
  slamAxpby(alpha: number, x: Float64Array, beta: number, y: Float64Array, out?: Float64Array): Float64Array;
}

export const slamNative = addon as unknown as SlamAddon;

/** St(d, r)^n or the sphere product, with its tangent-space operations. */
export class BlockManifold {
  readonly kind: ManifoldKind;
  readonly n: number;
  readonly d: number;
  readonly r: number;
  readonly #code: number;

  constructor(kind: ManifoldKind, n: number, d: number, r: number) {
    if (kind === "stiefel" && r < d) throw new RangeError(`BlockManifold: St(${d}, ${r}) needs r >= d`);
    if (kind === "sphere" && d !== 2) throw new RangeError("BlockManifold: the sphere (complex) manifold is for d = 2");
    this.kind = kind;
    this.n = n;
    this.d = d;
    this.r = r;
    this.#code = kind === "stiefel" ? 0 : 1;
  }

  /** Number of values in a point or tangent vector. */
  get size(): number {
    return this.n * this.d * this.r;
  }

  /** scale · P_Y(V), the projection onto the tangent space at Y (into out when given; out may be v). */
  project(y: Float64Array, v: Float64Array, scale = 1, out?: Float64Array): Float64Array {
    return slamNative.slamProject(this.#code, y, v, this.n, this.d, this.r, scale, out);
  }

  /** Retr_Y(V): polar factor per block (Stiefel) or normalisation (sphere). */
  retract(y: Float64Array, v: Float64Array): Float64Array {
    return slamNative.slamRetract(this.#code, y, v, this.n, this.d, this.r);
  }

  /** The multiplier blocks Λ_i (n d×d, row-major) for the Euclidean gradient direction G = QY. */
  lambda(y: Float64Array, g: Float64Array): Float64Array {
    return slamNative.slamLambda(this.#code, y, g, this.n, this.d, this.r);
  }

  /** scale · P_Y(QV − Λ V): the Riemannian Hessian of tr(Yᵀ Q Y) is this with scale 2 (into out; out may be qv or v). */
  hessian(y: Float64Array, qv: Float64Array, v: Float64Array, lambda: Float64Array, scale: number, out?: Float64Array): Float64Array {
    return slamNative.slamHessian(this.#code, y, qv, v, lambda, this.n, this.d, this.r, scale, out);
  }

  /** Rounds Y to n rotations (row-major d×d): thin SVD + sign fix (Stiefel) or top complex singular vector. */
  round(y: Float64Array): Float64Array {
    return slamNative.slamRound(this.#code, y, this.n, this.d, this.r);
  }

  inner(a: Float64Array, b: Float64Array): number {
    return dot(a, b);
  }

  norm(a: Float64Array): number {
    return Math.sqrt(dot(a, a));
  }

  /** alpha·x + beta·y (into out when given; out may be x or y). */
  axpby(alpha: number, x: Float64Array, beta: number, y: Float64Array, out?: Float64Array): Float64Array {
    return slamNative.slamAxpby(alpha, x, beta, y, out);
  }

  /** The same manifold one rank higher. */
  lifted(): BlockManifold {
    return new BlockManifold(this.kind, this.n, this.d, this.r + 1);
  }
}

/** Yt with one more (zero) column: the embedding of rank r into rank r + 1. */
export function appendColumn(yt: Float64Array, rows: number, column?: Float64Array): Float64Array {
  const out = new Float64Array(yt.length + rows);
  out.set(yt);
  if (column) out.set(column, yt.length);
  return out;
}

/** Yt (dn×d) = Rᵀ for n row-major d×d rotations, padded with zero columns to rank r. */
export function rotationsToPoint(rotations: Float64Array, n: number, d: number, r: number): Float64Array {
  const rows = n * d;
  const yt = new Float64Array(rows * r);
  // Block i of Yt is R_iᵀ: entry (a, c) = R_i[c][a], stored at c * rows + i d + a.
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < d; a++) {
      for (let c = 0; c < d; c++) yt[c * rows + i * d + a] = rotations[i * d * d + c * d + a];
    }
  }
  return yt;
}
