// Optional CUDA: the addon loads native/build/cuda/libnbforge_cuda.so only when
// asked, and says plainly why CUDA is or is not available. On machines without a
// GPU (this one, CI) cudaAvailable() is false; where nvcc exists the library must
// have been built by `npm install` (native/cuda/build.sh).
import { execSync } from "node:child_process";
import { existsSync } from "node:fs";
import { addon } from "@nbforge/native";

type CudaInfo = {
  built: boolean;
  available: boolean;
  reason: string;
  library: string;
  devices: number;
  device: string;
};

const cudaAvailable = addon.cudaAvailable as (libraryPath?: string) => boolean;
const cudaInfo = addon.cudaInfo as (libraryPath?: string) => CudaInfo;

// The same search as native/cuda/build.sh: PATH, $CUDA_HOME/bin, $CUDA_PATH/bin, /usr/local/cuda/bin.
function nvccExists(): boolean {
  try {
    execSync("command -v nvcc", { stdio: "ignore", shell: "/bin/sh" });
    return true;
  } catch {
    const dirs = [process.env.CUDA_HOME, process.env.CUDA_PATH, "/usr/local/cuda"];
    return dirs.some((dir) => dir !== undefined && dir !== "" && existsSync(`${dir}/bin/nvcc`));
  }
}

// A GPU needs the NVIDIA driver's device nodes.
const gpuPresent = existsSync("/dev/nvidia0") || existsSync("/dev/nvidiactl");

describe("optional CUDA", () => {
  test("cudaAvailable() and cudaInfo() agree and never throw", () => {
    const info = cudaInfo();
    expect(typeof cudaAvailable()).toBe("boolean");
    expect(cudaAvailable()).toBe(info.available);
    expect(info.reason.length).toBeGreaterThan(0);
    expect(info.library).toMatch(/libnbforge_cuda\.so$/);
  });

  test("the library is built exactly where nvcc exists", () => {
    const info = cudaInfo();
    if (nvccExists()) {
      expect(info.built).toBe(true);
    } else {
      expect(info.built).toBe(false);
      expect(info.reason).toBe("not built: nvcc not found");
    }
  });

  (gpuPresent ? test.skip : test)("without a GPU, CUDA is unavailable and cudaInfo says why", () => {
    const info = cudaInfo();
    expect(cudaAvailable()).toBe(false);
    expect(info.available).toBe(false);
    expect(info.devices).toBe(0);
    if (info.built) expect(info.reason).toMatch(/^no GPU found/);
    else expect(info.reason).toMatch(/^not built: /);
  });

  test("a missing library reads as not built, without throwing", () => {
    const missing = "/nonexistent/nbforge/libnbforge_cuda.so";
    expect(cudaAvailable(missing)).toBe(false);
    const info = cudaInfo(missing);
    expect(info.built).toBe(false);
    expect(info.available).toBe(false);
    expect(info.reason).toMatch(/^not built: /);
  });

  test("a bad libraryPath is a TypeError naming the argument", () => {
    expect(() => (addon.cudaInfo as (p: unknown) => unknown)(42)).toThrow(/cudaInfo: libraryPath must be a string/);
    expect(cudaAvailable(42 as unknown as string)).toBe(false);
  });
});
