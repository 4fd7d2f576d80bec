// The `cuda` device of Tensor. On machines without a GPU (this one, CI) every
// way into cuda fails with an error that says why, and everything else works as
// before; the device checks of ops are tested with a tensor that only claims
// to be on cuda (it never reaches a kernel). Ops on a real GPU against the cpu:
// emulated.test.ts (its second half runs where a GPU is present).
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { addon } from "@nbforge/native";
import {
  Tensor, crossEntropy, cudaAvailable, cudaMemory, cudaStatus, defineOp, embedding, layerNorm, randn, scaledDotProductAttention,
  tensor, zeros, type Device,
} from "nbforge";
import { StorageRef } from "nbforge/dist/tensor/tensor.js";

const status = cudaStatus();
const gpu = status.available;
// One line in the test log saying which half of this file ran.
const why = gpu ? `cuda available: ${status.device}` : `cuda unavailable (${status.reason})`;

/** A tensor that says it lives on `device` but holds cpu memory: enough to reach the device checks. */
function claimingDevice(values: number[], device: Device): Tensor {
  const src = tensor(values);
  const ref = new StorageRef(src.storage.native, "float32", values.length, device);
  src.storage.refs++;  // the new ref shares the native storage; keep it alive past src.dispose()
  return new Tensor(ref, [values.length], [1], 0);
}

describe(`cuda device status: ${why}`, () => {
  test("cudaStatus agrees with the addon and gives a reason", () => {
    const info = (addon.cudaInfo as unknown as () => { available: boolean; reason: string })();
    expect(cudaAvailable()).toBe(info.available);
    expect(status.reason).toBe(info.reason);
    expect(status.reason.length).toBeGreaterThan(0);
    if (!gpu) expect(status.reason).toMatch(/^(not built: |no GPU found|built, but )/);
  });

  test("cpu tensors say so, and to(\"cpu\") is a view that gradients pass through", () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    expect(x.device).toBe("cpu");
    const y = x.to("cpu");
    expect(y.device).toBe("cpu");
    expect(y.storage).toBe(x.storage);
    y.mul(2).sum().backward();
    expect(x.grad?.toArray()).toEqual([2, 2, 2]);
    expect(x.cpu().toArray()).toEqual([1, 2, 3]);
  });

  test("unknown devices are named in the error", () => {
    expect(() => zeros([2], { device: "tpu" as Device })).toThrow(/device: unknown device "tpu"; expected "cpu" or "cuda"/);
    expect(() => tensor([1]).to("gpu" as Device)).toThrow(/unknown dtype "gpu"/);
    expect(() => tensor([1]).to("cuda:1" as Device)).toThrow('to: unknown device "cuda:1"; expected "cpu" or "cuda"');
  });

  test("every native kernel the ops call through kernelsFor() has a cuda twin", () => {
    // The emulation test (emulated.test.ts) runs the cpu natives for "cuda", so it
    // cannot notice a kernel missing from addon.cudaKernels; this can.
    const dir = fileURLToPath(new URL("../../../kernel/src/tensor/", import.meta.url));
    const files = readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith(".ts"));
    const used = new Set<string>();
    for (const f of files) {
      const text = readFileSync(join(dir, f), "utf8");
      for (const m of text.matchAll(/kernelsFor\([^)]*\)\.(tensor\w+)/g)) used.add(m[1]);
    }
    expect(used.size).toBeGreaterThan(20);
    const kernels = addon.cudaKernels as unknown as Record<string, unknown>;
    expect([...used].filter((name) => typeof kernels[name] !== "function")).toEqual([]);
  });

  test("every native cpu kernel has a cuda twin with the same name", () => {
    const kernels = addon.cudaKernels as unknown as Record<string, unknown>;
    const names = Object.keys(kernels);
    expect(names.length).toBeGreaterThanOrEqual(27);
    for (const name of names) {
      expect(typeof kernels[name]).toBe("function");
      expect(typeof (addon as unknown as Record<string, unknown>)[name]).toBe("function");
    }
  });
});

(gpu ? describe.skip : describe)(`without a GPU (${why})`, () => {
  const reason = new RegExp(`cuda is unavailable on this machine: ${status.reason.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`);

  test("to(\"cuda\"), cuda() and { device: \"cuda\" } fail and say why", () => {
    const x = tensor([1, 2]);
    expect(() => x.to("cuda")).toThrow(reason);
    expect(() => x.cuda()).toThrow(reason);
    expect(() => x.to("cuda:0")).toThrow(/to\("cuda"\) of a float32 tensor \[2\]: cuda is unavailable/);
    expect(() => zeros([2, 3], { device: "cuda" })).toThrow(reason);
    expect(() => randn([4], { device: "cuda" })).toThrow(/\{ device: "cuda" \}: cuda is unavailable on this machine/);
    expect(() => tensor([[1, 2]], { device: "cuda" })).toThrow(reason);
    expect(x.toArray()).toEqual([1, 2]);
  });

  test("the native cuda storage refuses with the loader's reason", () => {
    const Storage = addon.CudaStorage as unknown as new (dtype: number, numel: number) => unknown;
    expect(() => new Storage(0, 4)).toThrow(`cuda is unavailable: ${status.reason}`);
    expect(cudaMemory()).toEqual({ liveStorages: 0, liveBytes: 0, cachedBytes: 0 });
  });

  test("the cuda kernels refuse cpu storages (and everything else) with an error, never a crash", () => {
    const Storage = addon.TensorStorage as unknown as new (dtype: number, numel: number) => unknown;
    const cpu = new Storage(0, 64);
    const kernels = addon.cudaKernels as unknown as Record<string, (...args: unknown[]) => unknown>;
    const argLists: unknown[][] = [
      Array.from({ length: 22 }, (_, i) => (i % 3 === 1 ? cpu : i % 3 === 2 ? [2, 2] : 0)),
      Array.from({ length: 22 }, () => cpu),
      [],
    ];
    for (const [name, fn] of Object.entries(kernels)) {
      for (const args of argLists) {
        expect(() => fn(...args)).toThrow(/must be a cuda storage|cuda is unavailable|A number was expected|An array was expected|An object was expected|A boolean was expected|A string was expected/);
      }
      expect(name).toMatch(/^tensor/);
    }
  });

  test("failed cuda creations leak no cpu tensors", () => {
    const before = (addon.tensorMemoryStats as unknown as () => { liveStorages: number })().liveStorages;
    for (let i = 0; i < 5; i++) expect(() => zeros([1000], { device: "cuda" })).toThrow(reason);
    expect((addon.tensorMemoryStats as unknown as () => { liveStorages: number })().liveStorages).toBe(before);
  });
});

describe("device checks of ops", () => {
  test("binary ops name both operands' devices", () => {
    const a = tensor([1, 2]);
    const b = claimingDevice([3, 4], "cuda");
    expect(b.device).toBe("cuda");
    expect(() => a.add(b)).toThrow("add: a is on cpu, b on cuda; move one with .to()");
    expect(() => b.mul(a)).toThrow("mul: a is on cuda, b on cpu; move one with .to()");
    expect(() => a.matmul(b.reshape([2, 1]))).toThrow(/^matmul: a is on cpu, b on cuda; move one with \.to\(\)$/);
  });

  test("ops with named inputs use the names", () => {
    const w = claimingDevice([1, 2, 3, 4], "cuda").reshape([2, 2]);
    expect(() => embedding(tensor([0, 1], { dtype: "int64" }), w)).toThrow(/^embedding: a is on cpu, b on cuda; move one with \.to\(\)$/);
    const logits = randn([2, 3]);
    expect(() => crossEntropy(logits, claimingDevice([0, 1], "cuda"))).toThrow(/on cpu, b on cuda; move one with \.to\(\)/);
    expect(() => layerNorm(randn([2, 2]), [2], claimingDevice([1, 1], "cuda"))).toThrow(/on cpu, b on cuda/);
    const q = randn([1, 2, 4]);
    expect(() => scaledDotProductAttention(q, q, claimingDevice(new Array(8).fill(0), "cuda").reshape([1, 2, 4]))).toThrow(/a is on cpu, c on cuda/);
  });

  test("an op without a kernel for a device says so", () => {
    const cpuOnly = defineOp<Record<string, never>>({
      name: "test_cpu_only_op",
      infer: ([x]) => ({ shape: x.shape, dtype: x.dtype }),
      kernels: { cpu: ([x]) => x.view_(x.shape, x.strides, x.offset) },
    });
    expect(() => cpuOnly([claimingDevice([1], "cuda")], {})).toThrow(
      'test_cpu_only_op: no cuda kernel for this op yet; move the inputs with .to("cpu") and back with .to("cuda")',
    );
  });

  test("backward with a gradient on another device names both", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const y = x.mul(3);
    expect(() => y.backward(claimingDevice([1, 1], "cuda"))).toThrow("backward: the tensor is on cpu, the gradient on cuda; move one with .to()");
  });
});
