// Keeps every line of CUDA code compiling where nvcc exists (this machine and CI
// have nvcc but no GPU): native/cuda/check.sh --compile-only builds the library
// and the C++/CUDA check program (sm_90 only, into a temporary folder, so the
// library npm install built stays as it is) and loads the library from Python to
// check every entry point the GPU check calls. Without nvcc the test is skipped
// and says so.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../../", import.meta.url));

function findNvcc(): string | null {
  const which = spawnSync("sh", ["-c", "command -v nvcc"], { encoding: "utf8" });
  if (which.status === 0 && which.stdout.trim() !== "") return which.stdout.trim();
  for (const dir of [process.env.CUDA_HOME, process.env.CUDA_PATH, "/usr/local/cuda"]) {
    if (dir !== undefined && dir !== "" && existsSync(`${dir}/bin/nvcc`)) return `${dir}/bin/nvcc`;
  }
  return null;
}

const nvcc = findNvcc();
const title = nvcc === null
  ? "CUDA compile check (skipped: nvcc not found on PATH, $CUDA_HOME/bin or /usr/local/cuda/bin)"
  : `CUDA compile check with ${nvcc}`;

(nvcc === null ? describe.skip : describe)(title, () => {
  test("check.sh --compile-only builds the library and the check program", () => {
    const out = mkdtempSync(join(tmpdir(), "nbf-cuda-compile-"));
    try {
      const r = spawnSync("bash", [join(root, "native/cuda/check.sh"), "--compile-only"], {
        encoding: "utf8",
        env: { ...process.env, NBF_CUDA_OUT: out, NBF_CUDA_ARCHS: "90" },
        timeout: 280_000,
      });
      const log = `${r.stdout}\n${r.stderr}`;
      if (r.status !== 0) throw new Error(`check.sh --compile-only failed (exit ${r.status}):\n${log.slice(-4000)}`);
      expect(log).toMatch(/check\.sh: compiled only/);
      expect(existsSync(join(out, "libnbforge_cuda.so"))).toBe(true);
      expect(existsSync(join(out, "nbf_cuda_check"))).toBe(true);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 300_000);
});

// The GPU check's Python half (test/check_ops.py) runs only where a GPU is; its
// --dry-run runs all its reference code on the cpu with the kernels stubbed out
// (so every check "fails"), which catches errors in the script itself here.
const library = join(root, "native/build/cuda/libnbforge_cuda.so");
const torchHere = spawnSync("/usr/bin/python3", ["-c", "import torch"], { encoding: "utf8" }).status === 0;
const dryTitle = !existsSync(library)
  ? "check_ops.py --dry-run (skipped: libnbforge_cuda.so was not built here)"
  : !torchHere ? "check_ops.py --dry-run (skipped: /usr/bin/python3 has no torch)" : "check_ops.py --dry-run";

(existsSync(library) && torchHere ? describe : describe.skip)(dryTitle, () => {
  test("runs every check group without an exception", () => {
    const r = spawnSync("/usr/bin/python3", [join(root, "native/cuda/test/check_ops.py"), library, "--dry-run", "--quick"], {
      encoding: "utf8",
      timeout: 120_000,
    });
    const log = `${r.stdout}\n${r.stderr}`;
    expect(log).not.toMatch(/raised \w+/);
    expect(log).not.toMatch(/Traceback/);
    const m = /(\d+) checks, \d+ failed/.exec(log);
    expect(m).not.toBeNull();
    expect(Number(m?.[1])).toBeGreaterThan(150);
  }, 150_000);
});

