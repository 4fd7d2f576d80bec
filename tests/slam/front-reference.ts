// Independent references for the SLAM reader, cost and local solver: a small
// NumPy g2o reader + cost (its own parser and id handling, written from the
// dataset README's formulas), SciPy's least_squares, and the dataset README's
// table of counts and reference optima.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const PYTHON = process.env.NBFORGE_PYTHON ?? "/usr/bin/python3";
const here = dirname(fileURLToPath(import.meta.url));
/** The shared datasets (tests skip when absent: the package must not need them). */
export const DATA = process.env.NBFORGE_SLAM_DATA ?? resolve(here, "../../../../shared/datasets/slam");
export const HAVE_DATA = existsSync(resolve(DATA, "README.md"));

export interface DatasetRow {
  file: string;
  d: number;
  poses: number;
  landmarks: number;
  poseEdges: number;
  landmarkEdges: number;
  /** f* from SE-Sync / CPL-SLAM, or undefined when held back. */
  optimum: number | undefined;
}

/** The README's table: | file | d | poses | landmarks | edges | f* | … */
export function datasetTable(): DatasetRow[] {
  const rows: DatasetRow[] = [];
  for (const line of readFileSync(resolve(DATA, "README.md"), "utf8").split("\n")) {
    const cells = line.split("|").map((c) => c.trim());
    if (cells.length < 8 || !/^\d$/.test(cells[2])) continue;
    const edges = cells[5].match(/^(\d+)(?:\s*\+\s*(\d+) landmark)?$/);
    if (edges === null) throw new Error(`dataset README: cannot read the edges cell "${cells[5]}"`);
    const f = Number(cells[6]);
    rows.push({
      file: cells[1],
      d: Number(cells[2]),
      poses: Number(cells[3]),
      landmarks: Number(cells[4]),
      poseEdges: Number(edges[1]),
      landmarkEdges: Number(edges[2] ?? 0),
      optimum: Number.isFinite(f) ? f : undefined,
    });
  }
  return rows;
}

// The NumPy side. Weights as the dataset README states them; the rotation
// term expanded as SE-Sync's data matrix does, κ(‖R_i‖² + ‖R_j‖² − 2⟨R_j, R_i R̃⟩); R̃ from the
// quaternion as I + 2w[v]x + 2[v]x², which equals Eigen's unnormalised
// toRotationMatrix() without sharing its formula.
const SCRIPT = String.raw`
import sys, json
import numpy as np

def skew(v):
    return np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])

def quat(x, y, z, w):
    v = np.array([x, y, z]); K = skew(v)
    return np.eye(3) + 2 * w * K + 2 * K @ K

def rot2(th):
    return np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])

def full(n, up):
    m = np.zeros((n, n)); k = 0
    for r in range(n):
        for c in range(r, n):
            m[r, c] = m[c, r] = up[k]; k += 1
    return m

def read(text):
    pe, le, vp = [], [], {}
    for line in text.splitlines():
        p = line.split()
        if not p: continue
        tag, v = p[0], [float(s) for s in p[1:]]
        if tag == "EDGE_SE2":
            I = full(3, v[5:11])
            pe.append((int(v[0]), int(v[1]), rot2(v[4]), np.array(v[2:4]), I[2, 2], 2 / np.trace(np.linalg.inv(I[:2, :2]))))
        elif tag == "EDGE_SE3:QUAT":
            I = full(6, v[9:30])
            pe.append((int(v[0]), int(v[1]), quat(*v[5:9]), np.array(v[2:5]),
                       3 / (2 * np.trace(np.linalg.inv(I[3:, 3:]))), 3 / np.trace(np.linalg.inv(I[:3, :3]))))
        elif tag in ("LANDMARK2", "LANDMARK3"):
            d = 2 if tag == "LANDMARK2" else 3
            I = full(d, v[2 + d:])
            le.append((int(v[0]), int(v[1]), np.array(v[2:2 + d]), d / np.trace(np.linalg.inv(I))))
        elif tag == "VERTEX_SE2":
            vp[int(v[0])] = (rot2(v[3]), np.array(v[1:3]))
        elif tag == "VERTEX_SE3:QUAT":
            q = np.array(v[4:8]); q = q / np.linalg.norm(q)
            vp[int(v[0])] = (quat(*q), np.array(v[1:4]))
    return pe, le, vp

def cost(pe, le, R, t, m):
    f = 0.0
    for i, j, Rm, tm, kappa, tau in pe:
        # SE-Sync's expansion of the rotation term (kappa I on both diagonal blocks)
        f += kappa * (np.sum(R[i] ** 2) + np.sum(R[j] ** 2) - 2 * np.sum(R[j] * (R[i] @ Rm)))
        f += tau * np.sum((t[j] - t[i] - R[i] @ tm) ** 2)
    for i, k, y, nu in le:
        f += nu * np.sum((m[k] - t[i] - R[i] @ y) ** 2)
    return f

out = []
for c in json.load(sys.stdin):
    pe, le, vp = read(open(c["path"]).read() if "path" in c else c["text"])
    if c["at"] == "vertex":
        R = {k: v[0] for k, v in vp.items()}; t = {k: v[1] for k, v in vp.items()}; m = {}
    else:
        d = c["d"]; n = len(c["poseIds"])
        Ra = np.array(c["R"]).reshape(n, d, d); ta = np.array(c["t"]).reshape(n, d)
        ma = np.array(c["m"]).reshape(-1, d)
        R = dict(zip(c["poseIds"], Ra)); t = dict(zip(c["poseIds"], ta)); m = dict(zip(c["landmarkIds"], ma))
    out.append(cost(pe, le, R, t, m))
json.dump(out, sys.stdout)
`;

export type CostCase =
  | { path: string; at: "vertex" }
  | { text: string; at: "vertex" }
  | {
      path?: string;
      text?: string;
      at: "estimate";
      d: number;
      poseIds: number[];
      landmarkIds: number[];
      R: number[];
      t: number[];
      m: number[];
    };

function runPython(script: string, input: unknown): unknown {
  const run = spawnSync(PYTHON, ["-c", script], { input: JSON.stringify(input), maxBuffer: 1 << 28, encoding: "utf8" });
  if (run.error !== undefined || run.status !== 0) {
    throw new Error(`NumPy/SciPy reference failed (${PYTHON}; install python3-scipy): ${run.error?.message ?? ""}\n${run.stderr}`);
  }
  return JSON.parse(run.stdout);
}

/** F by the NumPy reader, at the file's VERTEX guesses or at a given estimate (keyed by the file's ids). */
export function numpyCost(cases: CostCase[]): number[] {
  return runPython(SCRIPT, cases) as number[];
}

// SciPy least_squares on the same cost, parametrising each rotation by a
// rotation vector (scipy.spatial.transform) around the starting rotation,
// with the residuals √κ(R_j − R_i R̃), √τ(...), √ν(...).
const LSQ = String.raw`
import sys, json
import numpy as np
from scipy.optimize import least_squares
from scipy.spatial.transform import Rotation

c = json.load(sys.stdin)
d, n, L = c["d"], c["n"], c["L"]
R0 = np.array(c["R"]).reshape(n, d, d); t0 = np.array(c["t"]).reshape(n, d); m0 = np.array(c["m"]).reshape(L, d)
pe = c["pose"]; le = c["landmark"]
k = 1 if d == 2 else 3

def rot(w):
    if d == 2:
        return np.array([[np.cos(w[0]), -np.sin(w[0])], [np.sin(w[0]), np.cos(w[0])]])
    return Rotation.from_rotvec(w).as_matrix()

def unpack(x):
    w = x[:n * k].reshape(n, k); t = x[n * k:n * k + n * d].reshape(n, d); m = x[n * k + n * d:].reshape(L, d)
    R = np.array([R0[p] @ rot(w[p]) for p in range(n)])
    return R, t0 + t, m0 + m

def res(x):
    R, t, m = unpack(x)
    out = []
    for e in pe:
        i, j = e["i"], e["j"]; Rm = np.array(e["R"]).reshape(d, d); tm = np.array(e["t"])
        out.append(np.sqrt(e["kappa"]) * (R[j] - R[i] @ Rm).ravel())
        out.append(np.sqrt(e["tau"]) * (t[j] - t[i] - R[i] @ tm))
    for e in le:
        out.append(np.sqrt(e["nu"]) * (m[e["k"]] - t[e["i"]] - R[e["i"]] @ np.array(e["y"])))
    return np.concatenate(out)

x0 = np.zeros(n * k + n * d + L * d)
sol = least_squares(res, x0, method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=20000)
json.dump({"cost": float(np.sum(sol.fun ** 2)), "start": float(np.sum(res(x0) ** 2))}, sys.stdout)
`;

export interface LsqInput {
  d: number;
  n: number;
  L: number;
  R: number[];
  t: number[];
  m: number[];
  pose: { i: number; j: number; R: number[]; t: number[]; kappa: number; tau: number }[];
  landmark: { i: number; k: number; y: number[]; nu: number }[];
}

/** SciPy least_squares (Levenberg–Marquardt) from the given start: the converged F and the starting F. */
export function scipyLeastSquares(input: LsqInput): { cost: number; start: number } {
  return runPython(LSQ, input) as { cost: number; start: number };
}
