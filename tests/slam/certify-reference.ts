// SciPy references for the sparse Cholesky, LOBPCG, the data matrix and the
// certificate. One python process per call, arrays as little-endian base64.
// The SLAM reference builds the full quadratic form M of the cost directly
// from its definition (each residual as a row h with cost w·‖Z h‖², Z = [p R])
// and takes the Schur complement densely: it shares nothing with Eq. 17.
import type { Problem } from "nbforge/dist/slam/problem.js";
import { PYTHON_PRELUDE, runPython, type Case, type Result } from "../linalg/reference.js";

export type { Case, Result };

const SCRIPT = PYTHON_PRELUDE + String.raw`
def upper_csr(c):
    n = c["n"]
    a = sp.csr_matrix((c["values"], c["indices"], c["indptr"]), shape=(n, n))
    return (a + sp.triu(a, k=1).T).tocsc()

def slam_q(c):
    # Z = [p R], p = [t_0..t_{n-1}, m_0..m_{L-1}] (one column each), R = [R_0..R_{n-1}].
    d, n, L = c["d"], c["n"], c["L"]
    N = n + L
    M = np.zeros((N + d * n, N + d * n))
    pe = c["pose"].reshape(-1, 4 + d * d + d)  # i j kappa tau R t
    for row in pe:
        i, j, kappa, tau = int(row[0]), int(row[1]), row[2], row[3]
        Rm = row[4:4 + d * d].reshape(d, d); t = row[4 + d * d:]
        for col in range(d):  # column col of R_j - R_i Rm
            h = np.zeros(N + d * n); h[N + j * d + col] += 1; h[N + i * d:N + i * d + d] -= Rm[:, col]
            M += kappa * np.outer(h, h)
        h = np.zeros(N + d * n); h[j] += 1; h[i] -= 1; h[N + i * d:N + i * d + d] -= t
        M += tau * np.outer(h, h)
    le = c["landmark"].reshape(-1, 3 + d)  # i k nu y
    for row in le:
        i, k, nu = int(row[0]), int(row[1]), row[2]; y = row[3:]
        h = np.zeros(N + d * n); h[n + k] += 1; h[i] -= 1; h[N + i * d:N + i * d + d] -= y
        M += nu * np.outer(h, h)
    keep = np.arange(1, N)  # pose 0's translation grounded
    Mpp = M[np.ix_(keep, keep)]; MpR = M[keep, N:]; MRR = M[N:, N:]
    Q = MRR - MpR.T @ la.solve(Mpp, MpR, assume_a="pos")
    return Q, Mpp, MpR

def run(c):
    op = c["op"]
    if op == "spsolve":
        a = upper_csr(c) + c["shift"] * sp.identity(c["n"], format="csc")
        b = c["b"].reshape(c["k"], c["n"]).T
        return {"x": spla.spsolve(a, b).reshape(c["n"], c["k"]).T.ravel()}
    if op == "eigmin_sparse":
        a = upper_csr(c).toarray()
        w, v = la.eigh(a)
        return {"value": w[0], "values": w}
    if op == "slam":
        d, n = c["d"], c["n"]
        Q, Mpp, MpR = slam_q(c)
        out = {"Q": Q.ravel()}
        if "Yt" in c:
            r = c["r"]; Yt = c["Yt"].reshape(r, d * n).T  # dn x r
            QY = Q @ Yt
            Lam = np.zeros((d * n, d * n))
            for i in range(n):
                s = slice(i * d, i * d + d)
                B = QY[s] @ Yt[s].T
                Lam[s, s] = 0.5 * (B + B.T)
            S = Q - Lam
            w, V = la.eigh(S)
            out.update({"lambdaMin": w[0], "eigs": w, "stationarity": np.linalg.norm(S @ Yt), "cost": np.sum(Yt * QY),
                        "lambda": np.concatenate([Lam[i*d:i*d+d, i*d:i*d+d].ravel() for i in range(n)])})
            if "v" in c:
                v = c["v"]; out["vSv"] = v @ S @ v / (v @ v); out["residual"] = np.linalg.norm(S @ v - (v @ S @ v) / (v @ v) * v) / np.linalg.norm(v)
            if r == d:  # optimal translations and landmarks for these rotations (p_0 = 0)
                P = -la.solve(Mpp, MpR @ Yt, assume_a="pos")
                out["p"] = np.vstack([np.zeros((1, d)), P]).ravel()
        return out
    raise ValueError("unknown op " + op)

cases = json.load(sys.stdin)
json.dump([{k: enc(v) for k, v in run({k: dec(v) for k, v in c.items()}).items()} for c in cases], sys.stdout)
`;

/** Runs every case in one python process. */
export function scipy(cases: Case[]): Result[] {
  return runPython(SCRIPT, cases);
}

/** A SLAM problem's edges flattened for the "slam" case. */
export function slamCase(problem: Problem, extra: Case = {}): Case {
  const d = problem.d;
  const pose = new Float64Array(problem.poseEdges.length * (4 + d * d + d));
  problem.poseEdges.forEach((e, idx) => {
    const o = idx * (4 + d * d + d);
    pose.set([e.i, e.j, e.kappa, e.tau], o);
    pose.set(e.R, o + 4);
    pose.set(e.t, o + 4 + d * d);
  });
  const landmark = new Float64Array(problem.landmarkEdges.length * (3 + d));
  problem.landmarkEdges.forEach((e, idx) => {
    const o = idx * (3 + d);
    landmark.set([e.i, e.k, e.nu], o);
    landmark.set(e.y, o + 3);
  });
  return { op: "slam", d, n: problem.numPoses, L: problem.numLandmarks, pose, landmark, ...extra };
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`maxAbsDiff: lengths ${a.length} and ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
