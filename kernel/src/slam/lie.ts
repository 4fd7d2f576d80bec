// Small SO(d) helpers for the simulator and the local solver: the exponential
// map, products of d x d row-major matrices, and the so(d) generators used
// for right perturbations R·Exp(ω).
import type { Dimension } from "./problem.js";

/** Number of rotation parameters: 1 in 2-D, 3 in 3-D. */
export function rotationDof(d: Dimension): number {
  return d === 2 ? 1 : 3;
}

/** Exp(ω) ∈ SO(d) for ω of length 1 (2-D angle) or 3 (Rodrigues' formula). */
export function expSO(d: Dimension, w: ArrayLike<number>, at = 0): Float64Array {
  if (d === 2) {
    const c = Math.cos(w[at]), s = Math.sin(w[at]);
    return Float64Array.of(c, -s, s, c);
  }
  const x = w[at], y = w[at + 1], z = w[at + 2];
  const th2 = x * x + y * y + z * z;
  const th = Math.sqrt(th2);
  // sin(θ)/θ and (1 − cos θ)/θ² by Taylor series near 0, where they lose digits.
  const a = th < 1e-4 ? 1 - th2 / 6 : Math.sin(th) / th;
  const b = th < 1e-4 ? 0.5 - th2 / 24 : (1 - Math.cos(th)) / th2;
  return Float64Array.of(
    1 - b * (y * y + z * z), b * x * y - a * z, b * x * z + a * y,
    b * x * y + a * z, 1 - b * (x * x + z * z), b * y * z - a * x,
    b * x * z - a * y, b * y * z + a * x, 1 - b * (x * x + y * y),
  );
}

/** C = A B for d x d row-major blocks (A at a[ao], B at b[bo]). */
export function mul(d: number, a: ArrayLike<number>, ao: number, b: ArrayLike<number>, bo: number): Float64Array {
  const c = new Float64Array(d * d);
  for (let r = 0; r < d; r++) {
    for (let k = 0; k < d; k++) {
      const v = a[ao + r * d + k];
      for (let col = 0; col < d; col++) c[r * d + col] += v * b[bo + k * d + col];
    }
  }
  return c;
}

/** Aᵀ B for d x d row-major blocks. */
export function mulTN(d: number, a: ArrayLike<number>, ao: number, b: ArrayLike<number>, bo: number): Float64Array {
  const c = new Float64Array(d * d);
  for (let k = 0; k < d; k++) {
    for (let r = 0; r < d; r++) {
      const v = a[ao + k * d + r];
      for (let col = 0; col < d; col++) c[r * d + col] += v * b[bo + k * d + col];
    }
  }
  return c;
}

/** y = A x for a d x d block A at a[ao] and x at x[xo]. */
export function apply(d: number, a: ArrayLike<number>, ao: number, x: ArrayLike<number>, xo: number): Float64Array {
  const y = new Float64Array(d);
  for (let r = 0; r < d; r++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += a[ao + r * d + k] * x[xo + k];
    y[r] = s;
  }
  return y;
}

/** y = Aᵀ x. */
export function applyT(d: number, a: ArrayLike<number>, ao: number, x: ArrayLike<number>, xo: number): Float64Array {
  const y = new Float64Array(d);
  for (let k = 0; k < d; k++) {
    const v = x[xo + k];
    for (let r = 0; r < d; r++) y[r] += a[ao + k * d + r] * v;
  }
  return y;
}

/**
 * The so(d) generators G_a (row-major d x d), so that [ω]× = Σ ω_a G_a:
 * 2-D: [[0,−1],[1,0]]; 3-D: the skew matrices of e_x, e_y, e_z.
 */
export function generators(d: Dimension): Float64Array[] {
  if (d === 2) return [Float64Array.of(0, -1, 1, 0)];
  return [
    Float64Array.of(0, 0, 0, 0, 0, -1, 0, 1, 0),
    Float64Array.of(0, 0, 1, 0, 0, 0, -1, 0, 0),
    Float64Array.of(0, -1, 0, 1, 0, 0, 0, 0, 0),
  ];
}
