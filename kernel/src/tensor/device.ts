// Devices: "cpu" always; "cuda" where the addon's CUDA library was built (nvcc at
// install) and a GPU answers at run time (native/src/cuda_loader.cc). Every
// native kernel exists once per device with the same name and arguments: the
// CPU ones on the addon itself, the CUDA ones on addon.cudaKernels, taking
// storages of their own device. kernelsFor(device) picks the set, so an op's
// kernel for each device is its orchestration over that set.
import { addon } from "@nbforge/native";
import type { NativeStorage, TensorNative } from "./native.js";
import type { NativeNN } from "./native-nn.js";
import type { IndexingNative } from "./native-indexing.js";
import type { NativeLinear } from "./ops/linear.js";
import type { NativeRotary } from "./ops/rotary.js";

export type Device = "cpu" | "cuda";
export const DEVICES: readonly Device[] = ["cpu", "cuda"];

/** What the addon says about CUDA on this machine. */
export interface CudaStatus {
  /** Whether `cuda` tensors can be created here. */
  available: boolean;
  /** Whether libnbforge_cuda.so was built (nvcc found at install). */
  built: boolean;
  /** Why cuda is or is not available, e.g. "not built: nvcc not found" or "no GPU found (...)". */
  reason: string;
  /** Name of device 0 where available, e.g. "NVIDIA H200 (sm_90, 139.8 GiB)". */
  device: string;
  devices: number;
}

/** All kernels one device offers, under the CPU kernels' names. */
export type DeviceKernels = TensorNative & NativeNN & IndexingNative & NativeLinear & NativeRotary;

interface CudaAddon {
  cudaInfo(libraryPath?: string): CudaStatus & { library: string };
  CudaStorage: new (dtype: number, numel: number, zero?: boolean) => NativeStorage;
  cudaKernels: DeviceKernels;
  cudaUpload(cpu: NativeStorage, cpuOff: number, cuda: NativeStorage, cudaOff: number, count: number): void;
  cudaDownload(cuda: NativeStorage, cudaOff: number, cpu: NativeStorage, cpuOff: number, count: number): void;
  cudaMemoryStats(): { liveStorages: number; liveBytes: number; cachedBytes: number };
  cudaEmptyCache(): void;
  cudaSynchronize(): void;
}

const native = addon as unknown as CudaAddon & DeviceKernels & { TensorStorage: new (dtype: number, numel: number, zero?: boolean) => NativeStorage };

let status: CudaStatus | null = null;

// Test hook: the cuda device's orchestration on host memory with the CPU
// kernels, so machines without a GPU test the device plumbing (allocation on
// the right device, transfers, device checks, autograd across devices).
let emulated = false;
const EMULATED: CudaStatus = { available: true, built: false, reason: "emulated on the cpu (a test hook)", device: "emulated", devices: 1 };

/** @internal Runs "cuda" tensors on host memory with the CPU kernels (tests only); returns the previous setting. */
export function emulateCudaForTests(on: boolean): boolean {
  const was = emulated;
  emulated = on;
  return was;
}

/** The CUDA status, probed once per process (never throws). */
export function cudaStatus(): CudaStatus {
  if (emulated) return EMULATED;
  if (status === null) {
    try {
      const info = native.cudaInfo();
      status = { available: info.available, built: info.built, reason: info.reason, device: info.device, devices: info.devices };
    } catch (e) {
      status = { available: false, built: false, reason: `CUDA probe failed: ${(e as Error).message}`, device: "", devices: 0 };
    }
  }
  return status;
}

/** Whether tensors can live on "cuda" here; cudaStatus().reason says why not. */
export function cudaAvailable(): boolean {
  return cudaStatus().available;
}

/** Throws a clear error (naming `where` and the reason) unless cuda is available. */
export function requireCuda(where: string): void {
  const s = cudaStatus();
  if (!s.available) {
    throw new Error(`${where}: cuda is unavailable on this machine: ${s.reason}. Use the cpu (the default), or run where nvcc built the CUDA library and a GPU is present`);
  }
}

/** Validates a device name ("cpu", "cuda", "cuda:0"). */
export function checkDevice(d: unknown, where: string): Device {
  if (d === "cpu") return "cpu";
  if (d === "cuda" || d === "cuda:0") return "cuda";
  throw new TypeError(`${where}: unknown device ${JSON.stringify(d)}; expected "cpu" or "cuda"`);
}

export function isDeviceName(d: unknown): d is Device | "cuda:0" {
  return d === "cpu" || d === "cuda" || d === "cuda:0";
}

/** The native kernel set of a device. */
export function kernelsFor(device: Device): DeviceKernels {
  if (device === "cpu" || emulated) return native;
  requireCuda("cuda kernels");
  return native.cudaKernels;
}

/** A new native storage on the device. */
export function allocNative(device: Device, dtype: number, numel: number, zero: boolean): NativeStorage {
  if (device === "cpu" || emulated) return new native.TensorStorage(dtype, numel, zero);
  requireCuda("allocating a cuda tensor");
  return new native.CudaStorage(dtype, numel, zero);
}

/** Copies count contiguous elements between storages of the same dtype on different devices. */
export function transfer(src: NativeStorage, srcDevice: Device, srcOff: number, dst: NativeStorage, dstDevice: Device, dstOff: number, count: number): void {
  if (emulated && srcDevice !== dstDevice) native.tensorCopy(src, srcOff, [1], dst, dstOff, [1], [count]);
  else if (srcDevice === "cpu" && dstDevice === "cuda") native.cudaUpload(src, srcOff, dst, dstOff, count);
  else if (srcDevice === "cuda" && dstDevice === "cpu") native.cudaDownload(src, srcOff, dst, dstOff, count);
  else throw new Error(`transfer: ${srcDevice} -> ${dstDevice} is not a transfer between devices`);
}

/** Live and cached bytes of cuda memory (zeros where cuda is unavailable). */
export function cudaMemory(): { liveStorages: number; liveBytes: number; cachedBytes: number } {
  return native.cudaMemoryStats();
}

/** Frees cached (unused) cuda memory blocks. */
export function cudaEmptyCache(): void {
  native.cudaEmptyCache();
}

/** Waits for every queued cuda kernel (for timing; reads back already wait). */
export function cudaSynchronize(): void {
  requireCuda("cudaSynchronize");
  if (!emulated) native.cudaSynchronize();
}
