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
