// CPL-SLAM's complex relaxation: the certificate's λ_min against SciPy's
// eigvalsh of the Hermitian S̃ = Q̃ − diag(λ), where Q̃ is assembled in NumPy
// from the dense real data matrix by its own formula (Q̃_ij = (Q00 + Q11) +
// i(Q01 − Q10) per 2×2 block), not through our lift; and slam.solve with
// either relaxation reaching the same certified optimum.
import { spawnSync } from "node:child_process";
import { buildDataMatrix } from "nbforge/dist/slam/data-matrix.js";
import { simulate } from "nbforge/dist/slam/simulate.js";
import { solve } from "nbforge/dist/slam/solve.js";
import { certifyComplex, complexForm } from "nbforge/dist/slam/complex-relaxation.js";
import { LiftedMatrix } from "nbforge/dist/slam/lifted-matrix.js";
import { BlockManifold } from "nbforge/dist/slam/stiefel.js";
import { gaussian } from "./helpers.js";

const PYTHON = process.env.NBFORGE_PYTHON ?? "/usr/bin/python3";

const SCRIPT = String.raw`
import sys, json
import numpy as np, scipy.linalg as la
data = json.load(sys.stdin)
n, r = data["n"], data["r"]
Q = np.array(data["Q"]).reshape(2 * n, 2 * n)
x = np.array(data["x"]).reshape(r, 2 * n)          # column-major 2n x r: row c of this is column c
X = x[:, 0::2].T + 1j * x[:, 1::2].T               # n x r complex, row i = x_i
Qc = np.zeros((n, n), dtype=complex)
for i in range(n):
    for j in range(n):
        b = Q[2*i:2*i+2, 2*j:2*j+2]
        Qc[i, j] = (b[0, 0] + b[1, 1]) + 1j * (b[0, 1] - b[1, 0])
lam = np.real(np.einsum("ij,jk,ik->i", Qc, X, X.conj()))  # λ_i = Re((Q̃ X X^H)_ii)
S = Qc - np.diag(lam)
print(json.dumps({"lambdaMin": float(la.eigvalsh(S)[0]), "cost": float(np.sum(lam))}))
`;

describe("complex certificate", () => {
  const problem = simulate({ d: 2, poses: 25, landmarks: 12, noise: { rotation: 0.3, translation: 0.2, landmark: 0.2 }, seed: 4 });
  const dm = buildDataMatrix(problem);
  const n = problem.numPoses;
  const size = 2 * n;
  const dense = new Float64Array(size * size);
  const identity = new Float64Array(size * size);
  for (let k = 0; k < size; k++) identity[k * size + k] = 1;
  dense.set(dm.applyQ(identity, size));
  const qc = complexForm((x, k) => dm.applyQ(x, k), n);

  test.each([1, 2])("λ_min and the cost at a random rank-%i point match SciPy", (r) => {
    const normal = gaussian(20 + r);
    const m = new BlockManifold("sphere", n, 2, r);
    const x = m.retract(new Float64Array(m.size), Float64Array.from({ length: m.size }, normal));
    const cert = certifyComplex(qc, new LiftedMatrix(dm, "complex"), x, r);
    const py = spawnSync(PYTHON, ["-c", SCRIPT], { input: JSON.stringify({ n, r, Q: Array.from(dense), x: Array.from(x) }), encoding: "utf8" });
    expect(py.stderr).toBe("");
    const ref = JSON.parse(py.stdout) as { lambdaMin: number; cost: number };
    expect(cert.cost).toBeCloseTo(ref.cost, 8);
    expect(Math.abs(cert.lambdaMin - ref.lambdaMin)).toBeLessThan(1e-7 * Math.max(1, Math.abs(ref.lambdaMin)));
    // A random point is far from optimal: the certificate must refuse it, with a descent direction.
    expect(ref.lambdaMin).toBeLessThan(-1e-3);
    expect(cert.certified).toBe(false);
    expect(cert.choleskyPassed).toBe(false);
    expect(cert.descentDirection).not.toBeNull();
  });

  test("the real and complex relaxations certify the same optimum", () => {
    const real = solve(problem, { relaxation: "real" });
    const complex = solve(problem, { relaxation: "complex" });
    expect(real.certified).toBe(true);
    expect(complex.certified).toBe(true);
    expect(complex.relaxation).toBe("complex");
    expect(Math.abs(real.cost - complex.cost) / real.cost).toBeLessThan(1e-9);
    expect(complex.lambdaMin).toBeGreaterThan(-1e-6);
  });
});
