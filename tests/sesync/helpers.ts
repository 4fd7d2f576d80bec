// Small dense problems for the staircase's pieces: random points, dense Q,
// and rotation synchronisation problems whose Q is a connection Laplacian.
import { seededRandom } from "../support/seeded-random.js";

export function gaussian(seed: number): () => number {
  const u = seededRandom(seed);
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

/** y = Q x for a dense symmetric N×N Q and x of N×k values column-major. */
export function denseApply(q: Float64Array, size: number): (x: Float64Array, k: number) => Float64Array {
  return (x, k) => {
    const y = new Float64Array(size * k);
    for (let c = 0; c < k; c++) {
      for (let i = 0; i < size; i++) {
        let acc = 0;
        for (let j = 0; j < size; j++) acc += q[i * size + j] * x[c * size + j];
        y[c * size + i] = acc;
      }
    }
    return y;
  };
}

export function randomSymmetric(size: number, normal: () => number): Float64Array {
  const q = new Float64Array(size * size);
  for (let i = 0; i < size; i++) {
    for (let j = 0; j <= i; j++) q[i * size + j] = q[j * size + i] = normal();
  }
  return q;
}

/** A random rotation (row-major d×d): a normal angle times `scale` about a random axis. */
export function randomRotation(d: number, normal: () => number, scale = Math.PI): Float64Array {
  if (d === 2) {
    const a = scale * normal();
    return Float64Array.from([Math.cos(a), -Math.sin(a), Math.sin(a), Math.cos(a)]);
  }
  // Axis–angle with a random axis.
  const axis = [normal(), normal(), normal()];
  const len = Math.hypot(...axis);
  const [x, y, z] = axis.map((v) => v / len);
  const a = scale * normal();
  const c = Math.cos(a), s = Math.sin(a), t = 1 - c;
  return Float64Array.from([
    t * x * x + c, t * x * y - s * z, t * x * z + s * y,
    t * x * y + s * z, t * y * y + c, t * y * z - s * x,
    t * x * z - s * y, t * y * z + s * x, t * z * z + c,
  ]);
}

export function matmulSmall(a: Float64Array, b: Float64Array, d: number): Float64Array {
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) for (let k = 0; k < d; k++) out[i * d + j] += a[i * d + k] * b[k * d + j];
  return out;
}

export function transposeSmall(a: Float64Array, d: number): Float64Array {
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) out[j * d + i] = a[i * d + j];
  return out;
}

/**
 * Rotation synchronisation on a ring with chords: Q = L(G̃ρ) (dense dn×dn) for
 * measurements R̃_ij = R_iᵀ R_j · noise, so f(R) = Σ κ‖R_j − R_i R̃_ij‖²_F = tr(Q RᵀR).
 */
export function synchronisation(n: number, d: number, noise: number, seed: number): { q: Float64Array; truth: Float64Array } {
  const normal = gaussian(seed);
  const truth = new Float64Array(n * d * d);
  for (let i = 0; i < n; i++) truth.set(randomRotation(d, normal), i * d * d);
  const size = n * d;
  const q = new Float64Array(size * size);
  const edges: [number, number][] = [];
  for (let i = 0; i < n; i++) edges.push([i, (i + 1) % n]);
  for (let i = 0; i < n; i += 3) edges.push([i, (i + Math.floor(n / 2)) % n]);
  for (const [i, j] of edges) {
    const ri = truth.subarray(i * d * d, (i + 1) * d * d);
    const rj = truth.subarray(j * d * d, (j + 1) * d * d);
    const rij = matmulSmall(matmulSmall(transposeSmall(ri, d), rj, d), randomRotation(d, normal, noise), d);
    // κ‖R_j − R_i R̃‖² = κ(2d − 2 tr(R_iᵀ... )): diagonal blocks κI, off-diagonal −κ R̃ (block (i, j) in Yt's convention).
    const kappa = 1;
    for (let a = 0; a < d; a++) {
      q[(i * d + a) * size + i * d + a] += kappa;
      q[(j * d + a) * size + j * d + a] += kappa;
      for (let b = 0; b < d; b++) {
        q[(i * d + a) * size + j * d + b] -= kappa * rij[a * d + b];
        q[(j * d + b) * size + i * d + a] -= kappa * rij[a * d + b];
      }
    }
  }
  return { q, truth };
}

/** f(R) = Σ over Yt = Rᵀ of tr(Yᵀ Q Y), for n rotations row-major. */
export function rotationCost(q: Float64Array, rotations: Float64Array, n: number, d: number): number {
  const size = n * d;
  const yt = new Float64Array(size * d);
  for (let i = 0; i < n; i++) for (let a = 0; a < d; a++) for (let c = 0; c < d; c++) yt[c * size + i * d + a] = rotations[i * d * d + c * d + a];
  const qy = denseApply(q, size)(yt, d);
  let f = 0;
  for (let k = 0; k < yt.length; k++) f += yt[k] * qy[k];
  return f;
}
