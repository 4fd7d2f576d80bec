// From a relaxed solution to an estimate: rounding to SO(d) (native: thin SVD
// through the r×r Gram matrix, the determinant sign fix, per-block projection)
// and the choice of gauge that puts pose 0 at the identity.
import type { BlockManifold } from "./stiefel.js";

/** n row-major d×d rotations from a point of St(d, r)^n or of the sphere product. */
export function roundToRotations(manifold: BlockManifold, yt: Float64Array): Float64Array {
  return manifold.round(yt);
}

/** R_i ← R_0ᵀ R_i for every i: the same solution with pose 0's rotation the identity. */
export function fixGauge(rotations: Float64Array, n: number, d: number): Float64Array {
  const out = new Float64Array(rotations.length);
  const r0 = rotations.subarray(0, d * d);
  for (let i = 0; i < n; i++) {
    const o = i * d * d;
    for (let a = 0; a < d; a++) {
      for (let b = 0; b < d; b++) {
        let acc = 0;
        for (let k = 0; k < d; k++) acc += r0[k * d + a] * rotations[o + k * d + b];
        out[o + a * d + b] = acc;
      }
    }
  }
  return out;
}
