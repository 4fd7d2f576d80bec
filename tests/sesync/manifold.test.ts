// The staircase's manifold pieces on small dense problems: tangent projection,
// retraction, gradient and Hessian against finite differences of
// f(Y) = tr(Yᵀ Q Y); rounding; the complex lift's adjoint.
import { dot } from "@nbforge/native";
import { BlockManifold, rotationsToPoint, slamNative } from "nbforge/dist/slam/stiefel.js";
import { denseApply, gaussian, randomRotation, randomSymmetric } from "./helpers.js";

function randomPoint(m: BlockManifold, normal: () => number): Float64Array {
  const g = Float64Array.from({ length: m.size }, normal);
  return m.retract(new Float64Array(m.size), g);
}

describe.each([
  ["stiefel", 3, 5],
  ["stiefel", 2, 4],
  ["stiefel", 3, 3],
  ["sphere", 2, 3],
] as const)("%s manifold, d = %i, r = %i", (kind, d, r) => {
  const n = 6;
  const m = new BlockManifold(kind, n, d, r);
  const normal = gaussian(11 + d * 10 + r);
  const size = n * d;
  const qDense = randomSymmetric(size, normal);
  const q = denseApply(qDense, size);
  const f = (y: Float64Array): number => m.inner(y, q(y, r));

  test("points satisfy the constraint and projections are tangent and idempotent", () => {
    const y = randomPoint(m, normal);
    for (let i = 0; i < n; i++) {
      const block = (a: number, c: number): number => y[c * size + i * d + a];
      if (kind === "stiefel") {
        for (let a = 0; a < d; a++) {
          for (let b = 0; b < d; b++) {
            let dot = 0;
            for (let c = 0; c < r; c++) dot += block(a, c) * block(b, c);
            expect(dot).toBeCloseTo(a === b ? 1 : 0, 12);
          }
        }
      } else {
        let dot = 0;
        for (let a = 0; a < d; a++) for (let c = 0; c < r; c++) dot += block(a, c) ** 2;
        expect(dot).toBeCloseTo(1, 12);
      }
    }
    const v = m.project(y, Float64Array.from({ length: m.size }, normal));
    const again = m.project(y, v);
    for (let k = 0; k < v.length; k++) expect(again[k]).toBeCloseTo(v[k], 12);
    // A tangent vector is orthogonal to the normal directions Y S (S symmetric per block).
    const normalDir = m.axpby(1, Float64Array.from({ length: m.size }, normal), -1, v);
    const projectedNormal = m.project(y, m.axpby(1, normalDir, -1, m.project(y, normalDir)));
    expect(m.norm(projectedNormal)).toBeLessThan(1e-12);
  });

  test("gradient and Hessian match the second-order expansion along the retraction", () => {
    const y = randomPoint(m, normal);
    const v = m.project(y, Float64Array.from({ length: m.size }, normal));
    const qy = q(y, r);
    const grad = m.project(y, qy, 2);
    const hv = m.hessian(y, q(v, r), v, m.lambda(y, qy), 2);
    const g = m.inner(grad, v);
    const h = m.inner(v, hv);
    // The polar retraction is second order, so f(R(tV)) = f + t g + t² h / 2 + O(t³).
    const errors = [1e-2, 5e-3].map((t) => Math.abs(f(m.retract(y, m.axpby(t, v, 0, v))) - (f(y) + t * g + 0.5 * t * t * h)));
    expect(errors[0]).toBeLessThan(1e-3 * Math.abs(h) + 1e-9);
    // Third-order error: halving t divides it by about 8.
    expect(errors[0] / errors[1]).toBeGreaterThan(6);
    expect(errors[0] / errors[1]).toBeLessThan(10);
  });
});

describe("rounding", () => {
  test.each([2, 3])("recovers rotations lifted to rank 6 by an orthogonal embedding (d = %i), sign fix included", (d) => {
    const normal = gaussian(5 + d);
    const n = 7;
    const r = 6;
    const rotations = new Float64Array(n * d * d);
    for (let i = 0; i < n; i++) rotations.set(randomRotation(d, normal), i * d * d);
    // Y_i = U R_i with U (r×d) orthonormal columns; with a reflection in U the
    // rounded blocks come out with det −1 unless the sign fix flips them.
    const lift = new BlockManifold("stiefel", 1, d, r);
    const u = randomPoint(lift, normal); // d×r with orthonormal rows = Uᵀ
    const yt = new Float64Array(n * d * r);
    const rows = n * d;
    for (let i = 0; i < n; i++) {
      for (let a = 0; a < d; a++) {
        for (let c = 0; c < r; c++) {
          // (Y_iᵀ)[a][c] = Σ_b R_i[b][a] Uᵀ[b][c]
          let acc = 0;
          for (let b = 0; b < d; b++) acc += rotations[i * d * d + b * d + a] * u[c * d + b] * (b === d - 1 ? -1 : 1);
          yt[c * rows + i * d + a] = acc;
        }
      }
    }
    const rounded = new BlockManifold("stiefel", n, d, r).round(yt);
    // Equal up to one global rotation G: R̂_i = G R_i, so R̂_i R_0ᵀ R̂_0... compare relative rotations.
    for (let i = 1; i < n; i++) {
      for (let a = 0; a < d; a++) {
        for (let b = 0; b < d; b++) {
          let want = 0;
          let got = 0;
          for (let k = 0; k < d; k++) {
            want += rotations[k * d + a] * rotations[i * d * d + k * d + b];
            got += rounded[k * d + a] * rounded[i * d * d + k * d + b];
          }
          expect(got).toBeCloseTo(want, 10);
        }
      }
      const det = d === 2 ? rounded[i * 4] * rounded[i * 4 + 3] - rounded[i * 4 + 1] * rounded[i * 4 + 2] : 1;
      if (d === 2) expect(det).toBeCloseTo(1, 12);
    }
  });

  test("the complex rounding recovers 2-D rotations from a unit-modulus embedding", () => {
    const normal = gaussian(3);
    const n = 5;
    const r = 3;
    const angles = Array.from({ length: n }, normal);
    const w = Array.from({ length: 2 * r }, normal); // w ∈ C^r, realified (re, im)
    const wn = Math.hypot(...w);
    const x = new Float64Array(2 * n * r);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < r; c++) {
        const [zr, zi] = [Math.cos(angles[i]), Math.sin(angles[i])];
        const [wr, wi] = [w[2 * c] / wn, w[2 * c + 1] / wn];
        x[c * 2 * n + 2 * i] = zr * wr - zi * wi;
        x[c * 2 * n + 2 * i + 1] = zr * wi + zi * wr;
      }
    }
    const rounded = new BlockManifold("sphere", n, 2, r).round(x);
    for (let i = 1; i < n; i++) {
      const got = Math.atan2(rounded[i * 4 + 2], rounded[i * 4]) - Math.atan2(rounded[2], rounded[0]);
      const want = angles[i] - angles[0];
      expect(Math.cos(got - want)).toBeCloseTo(1, 12);
    }
  });
});

test("the complex lift and its adjoint satisfy <Lx, z> = <x, Lᵀz>, and L maps a rotation's first column to Rᵀ", () => {
  const normal = gaussian(9);
  const n = 4;
  const r = 3;
  const x = Float64Array.from({ length: 2 * n * r }, normal);
  const z = Float64Array.from({ length: 4 * n * r }, normal);
  const lx = slamNative.slamComplexLift(x, n, r);
  const ltz = slamNative.slamComplexLiftAdjoint(z, n, r);
  expect(dot(lx, z)).toBeCloseTo(dot(x, ltz), 10);
  const rot = randomRotation(2, normal);
  const u = Float64Array.from([rot[0], rot[2]]);
  expect(Array.from(slamNative.slamComplexLift(u, 1, 1))).toEqual(Array.from(rotationsToPoint(rot, 1, 2, 2)));
});
