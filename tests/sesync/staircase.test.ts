// The staircase on dense rotation-synchronisation problems, certified with a
// dense eigensolver; the certified optimum's certificate matrix is checked
// independently with SciPy.
import { spawnSync } from "node:child_process";
import { eigh, Matrix } from "nbforge/dist/linalg/index.js";
import { riemannianStaircase } from "nbforge/dist/slam/staircase.js";
import { BlockManifold, rotationsToPoint } from "nbforge/dist/slam/stiefel.js";
import { denseApply, gaussian, randomRotation, rotationCost, synchronisation } from "./helpers.js";

const PYTHON = process.env.NBFORGE_PYTHON ?? "/usr/bin/python3";

/** S = Q − blockdiag(Λ) with Λ from Y (dense). */
function certificateMatrix(q: Float64Array, m: BlockManifold, y: Float64Array): Float64Array {
  const size = m.n * m.d;
  const lambda = m.lambda(y, denseApply(q, size)(y, m.r));
  const s = Float64Array.from(q);
  for (let i = 0; i < m.n; i++) {
    for (let a = 0; a < m.d; a++) for (let b = 0; b < m.d; b++) s[(i * m.d + a) * size + i * m.d + b] -= lambda[i * m.d * m.d + a * m.d + b];
  }
  return s;
}

function denseCertifier(q: Float64Array, n: number, d: number) {
  return (y: Float64Array, r: number) => {
    const m = new BlockManifold("stiefel", n, d, r);
    const s = certificateMatrix(q, m, y);
    const { values, vectors } = eigh(new Matrix(n * d, n * d, s));
    const size = n * d;
    const v = Float64Array.from({ length: size }, (_, k) => vectors.data[k * size]);
    return { certified: values[0] > -1e-8, lambdaMin: values[0], descentDirection: values[0] < 0 ? v : null };
  };
}

describe.each([2, 3])("staircase on rotation synchronisation, d = %i", (d) => {
  const n = 12;
  test.each([0.05, 0.6])("noise %f: certified optimum, rounds to rotations of the same cost, S ⪰ 0 (SciPy)", (noise) => {
    const { q, truth } = synchronisation(n, d, noise, 100 + d);
    const size = n * d;
    const apply = denseApply(q, size);
    // Start at the (noise-free) truth lifted to rank d + 1 with a poor twist.
    const y0 = rotationsToPoint(truth, n, d, d + 1);
    const result = riemannianStaircase("stiefel", n, d, apply, y0, denseCertifier(q, n, d), { gradientTolerance: 1e-10 });
    expect(result.certified).toBe(true);
    const m = new BlockManifold("stiefel", n, d, result.rank);
    const rotations = m.round(result.y);
    // The relaxation is exact here: the rounded rotations attain the relaxation's optimum.
    expect(rotationCost(q, rotations, n, d)).toBeCloseTo(result.cost, 8);
    const rounded = new BlockManifold("stiefel", n, d, d);
    const s = certificateMatrix(q, rounded, rotationsToPoint(rotations, n, d, d));
    const py = spawnSync(PYTHON, ["-c", "import sys,json,numpy as np,scipy.linalg as la; a=np.array(json.load(sys.stdin)); print(la.eigvalsh(a.reshape(int(len(a)**0.5),-1))[0])"], {
      input: JSON.stringify(Array.from(s)),
      encoding: "utf8",
    });
    expect(py.status).toBe(0);
    expect(Number(py.stdout)).toBeGreaterThan(-1e-7);
  });
});

test("from random rotations at rank d the staircase escapes its saddles and reaches the optimum found from the truth", () => {
  const n = 30;
  const d = 2;
  const { q, truth } = synchronisation(n, d, 1.0, 1);
  const apply = denseApply(q, n * d);
  const normal = gaussian(101);
  const start = new Float64Array(n * d * d);
  for (let i = 0; i < n; i++) start.set(randomRotation(d, normal), i * d * d);
  const fromRandom = riemannianStaircase("stiefel", n, d, apply, rotationsToPoint(start, n, d, d), denseCertifier(q, n, d), { gradientTolerance: 1e-10 });
  // Rank 2 and 3 are saddles (negative λ_min, the escape direction); rank 4 is certified.
  expect(fromRandom.levels.length).toBeGreaterThanOrEqual(2);
  expect(fromRandom.levels[0].lambdaMin).toBeLessThan(-1e-3);
  expect(fromRandom.certified).toBe(true);
  const fromTruth = riemannianStaircase("stiefel", n, d, apply, rotationsToPoint(truth, n, d, 5), denseCertifier(q, n, d), { gradientTolerance: 1e-10 });
  expect(fromTruth.certified).toBe(true);
  expect(Math.abs(fromRandom.cost - fromTruth.cost) / fromTruth.cost).toBeLessThan(1e-9);
});
