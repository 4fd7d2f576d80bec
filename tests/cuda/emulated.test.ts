// The cuda device's orchestration, run on machines without a GPU: with the
// emulation test hook, "cuda" tensors live in host memory and run the CPU
// kernels, so everything but the CUDA kernels themselves is exercised — each op
// must allocate its results on its inputs' device (a result left on the cpu
// would make the next op fail its device check), transfers must carry values
// both ways, and autograd must bring every gradient back to its leaf's device.
// The numbers must equal the cpu run's exactly (same kernels). Where a real GPU
// is present the same cases run again on it, within a float32 tolerance (integer
// results, random draws and quantization codes still exactly). The CUDA kernels
// are checked against references by native/cuda/check.sh on a GPU machine.
import {
  Generator, Tensor, cat, crossEntropy, cudaAvailable, cudaStatus, dequantize, dropout, embedding, gather, indexSelect, layerNorm,
  maskedFill, multinomial, quantize, randn, rmsNorm, scaledDotProductAttention, scatter, scatterAdd, split, stack, tensor, topk, where,
  zeros, ones, arange, full, rand, linear, rotary, type Device,
} from "nbforge";
import { emulateCudaForTests } from "nbforge/dist/tensor/device.js";

type Case = { name: string; inputs: () => Tensor[]; fn: (dev: Device, ...xs: Tensor[]) => Tensor | Tensor[] };

const idx = (values: number[], dev: Device, shape?: number[]) => tensor(values, { dtype: "int64", device: dev }).reshape(shape ?? [values.length]);

const cases: Case[] = [
  { name: "add/sub/mul/div/pow with broadcast and scalars", inputs: () => [randn([3, 4]), randn([4]).abs().add(0.5)],
    fn: (_d, a, b) => a.add(b).sub(1.5).mul(b).div(b.add(1)).add(b.pow(a.tanh())) },
  { name: "maximum/minimum and comparisons", inputs: () => [randn([5, 6]), randn([6])],
    fn: (_d, a, b) => a.maximum(b).add(a.minimum(b)).add(a.gt(b).to("float32")).add(a.le(0).to("float32")) },
  { name: "unary ops", inputs: () => [randn([7, 3])],
    fn: (_d, x) => x.exp().add(x.abs().add(0.1).log()).add(x.sigmoid()).add(x.relu()).add(x.gelu()).add(x.gelu("tanh")).add(x.silu()).add(x.neg()).add(x.abs().add(1).rsqrt()) },
  { name: "reductions with keepdim, var, max/min, argmax", inputs: () => [randn([3, 4, 5])],
    fn: (_d, x) => [x.sum(), x.mean(1, true), x.var([0, 2], { keepdim: true }), x.max(2), x.min(0, true), x.argmax(1), x.argmin(-1, true)] },
  { name: "softmax, log_softmax over dims", inputs: () => [randn([4, 6, 3])], fn: (_d, x) => x.softmax(1).add(x.logSoftmax(-1)) },
  { name: "matmul, batched with broadcast, transposed operand", inputs: () => [randn([2, 3, 4]), randn([5, 4])],
    fn: (_d, a, b) => a.matmul(b.mT) },
  { name: "views: reshape, permute, slice (step), expand, contiguous, cast", inputs: () => [randn([4, 6])],
    fn: (_d, x) => [x.permute(1, 0).contiguous().reshape([3, 8]), x.slice(1, 1, 6, 2).mul(2), x.slice(0, 0, 1).expand(3, 6).add(1), x.to("bfloat16").to("float32"), x.to("float16").mul(3)] },
  { name: "layer_norm and rms_norm with affine", inputs: () => [randn([5, 8]), randn([8]), randn([8])],
    fn: (_d, x, w, b) => layerNorm(x, 8, w, b).add(rmsNorm(x, [8], w)) },
  { name: "embedding", inputs: () => [randn([10, 4])], fn: (d, w) => embedding(idx([1, 3, 3, 9, 0, 1], d, [2, 3]), w) },
  { name: "cross_entropy with ignore_index and label smoothing", inputs: () => [randn([6, 5])],
    fn: (d, x) => [crossEntropy(x, idx([0, 4, -100, 2, 1, 3], d), { labelSmoothing: 0.2 }), crossEntropy(x, idx([1, 1, 2, 2, 3, 3], d), { reduction: "none" })] },
  { name: "dropout (the same mask on both devices)", inputs: () => [randn([8, 9])],
    fn: (_d, x) => dropout(x, 0.3, { generator: new Generator(7) }) },
  { name: "attention with mask and a KV cache", inputs: () => [randn([2, 3, 8]), randn([2, 5, 8]), randn([2, 5, 8]), randn([2, 3, 5])],
    fn: (_d, q, k, v, m) => scaledDotProductAttention(q, k, v, { mask: m }) },
  { name: "gather, scatter, scatter_add, index_select", inputs: () => [randn([3, 4]), randn([3, 2])],
    fn: (d, x, s) => [gather(x, 1, idx([0, 3, 1, 1, 2, 0], d, [3, 2])), scatter(x, 1, idx([0, 3, 1, 2, 2, 0], d, [3, 2]), s),
      scatterAdd(x, 1, idx([0, 0, 1, 1, 3, 3], d, [3, 2]), s), indexSelect(x, 1, idx([3, 0, 3], d))] },
  { name: "masked_fill and where", inputs: () => [randn([4, 5]), randn([5])],
    fn: (_d, x, y) => [maskedFill(x, x.gt(0.2), -1), where(x.lt(0), x, y), x.where(x.gt(y), 2)] },
  { name: "fused linear (both weight layouts, bias) and rotary",
    inputs: () => [randn([2, 3, 4]), randn([5, 4]), randn([4, 5]), randn([5]), randn([1, 2, 3, 4]), randn([1, 1, 3, 4]), randn([1, 1, 3, 4])],
    fn: (_d, x, wOutIn, wInOut, b, r, cos, sin) => [linear(x, wOutIn, b), linear(x, wInOut, null, "in_out"), rotary(r, cos, sin)] },
  { name: "cat, stack, split", inputs: () => [randn([2, 3]), randn([4, 3])],
    fn: (_d, a, b) => [cat([a, b], 0), stack([a, b.slice(0, 0, 2)], 1), ...split(b, [1, 3], 0).map((t) => t.mul(2))] },
];

// Ops without gradients: compared on values and devices only.
const plainCases: { name: string; fn: (dev: Device) => Tensor[] }[] = [
  { name: "creation with { device }", fn: (d) => [zeros([2, 3], { device: d }), ones([3], { dtype: "int32", device: d }), full([2], 2.5, { device: d }),
    arange(0, 5, 1, { device: d }), randn([5], { device: d, generator: new Generator(3) }), rand([4], { device: d, generator: new Generator(4) }),
    tensor([[1, 2], [3, 4]], { dtype: "float64", device: d })] },
  { name: "topk", fn: (d) => { const r = topk(tensor([[3, 1, 4, 1, 5], [9, 2, 6, 5, 3]], { device: d }), 3); return [r.values, r.indices]; } },
  { name: "multinomial", fn: (d) => [multinomial(tensor([[0.1, 0, 0.5, 0.4], [1, 1, 1, 1]], { device: d }), 3, { generator: new Generator(9) })] },
  { name: "int8 / int4 quantize, dequantize", fn: (d) => {
    const x = randn([100], { generator: new Generator(5), device: d });
    const q8 = quantize(x, { bits: 8, blockSize: 32 });
    const q4 = quantize(x, { bits: 4, blockSize: 16 });
    return [q8.data, q8.scales, dequantize(q8), q4.data, dequantize(q4)];
  } },
];

function asList(r: Tensor | Tensor[]): Tensor[] {
  return Array.isArray(r) ? r : [r];
}

// exact: the emulation (same kernels); otherwise a real GPU, floats within tol.
let tolerance = 0;

function expectSame(cpu: Tensor, cuda: Tensor, what: string): void {
  expect({ what, device: cuda.device }).toEqual({ what, device: "cuda" });
  expect({ what, shape: cuda.shape, dtype: cuda.dtype }).toEqual({ what, shape: cpu.shape, dtype: cpu.dtype });
  const floating = cpu.dtype === "float32" || cpu.dtype === "float64" || cpu.dtype === "bfloat16" || cpu.dtype === "float16";
  if (tolerance === 0 || !floating) {
    expect(cuda.toArray()).toEqual(cpu.toArray());
    return;
  }
  const a = cpu.data() as Float32Array, b = cuda.data() as Float32Array;
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(a[i]) || Number.isNaN(b[i])) expect({ what, i, nan: Number.isNaN(b[i]) }).toEqual({ what, i, nan: Number.isNaN(a[i]) });
    else worst = Math.max(worst, Math.abs(a[i] - b[i]) / (1 + Math.abs(a[i])));
  }
  expect({ what, worst: worst <= tolerance }).toEqual({ what, worst: true });
}

const realGpu = cudaAvailable();
const modes: { name: string; emulate: boolean; tol: number; run: boolean }[] = [
  { name: "emulated on the cpu", emulate: true, tol: 0, run: true },
  { name: `on the GPU (${realGpu ? cudaStatus().device : `skipped: ${cudaStatus().reason}`})`, emulate: false, tol: 1e-4, run: realGpu },
];

describe.each(modes.map((m) => [m.name, m] as const))("the cuda device's orchestration, %s", (_name, mode) => {
  if (!mode.run) {
    test.skip("needs a GPU", () => undefined);
    return;
  }
  let was = false;
  beforeAll(() => {
    was = emulateCudaForTests(mode.emulate);
    tolerance = mode.tol;
  });
  afterAll(() => { emulateCudaForTests(was); });

  test("cuda is available in this mode", () => {
    expect(cudaAvailable()).toBe(true);
    if (mode.emulate) expect(cudaStatus().reason).toMatch(/emulated/);
  });

  test.each(cases.map((c) => [c.name, c] as const))("%s: same values, results and gradients on cuda", (_n, c) => {
    const xs = c.inputs();
    const cpuIn = xs.map((x) => x.detach().requiresGrad_(true));
    const cudaIn = xs.map((x) => x.detach().cuda().requiresGrad_(true));
    cudaIn.forEach((x) => expect(x.device).toBe("cuda"));
    const outC = asList(c.fn("cpu", ...cpuIn));
    const outG = asList(c.fn("cuda", ...cudaIn));
    outC.forEach((o, i) => expectSame(o, outG[i], `output ${i}`));
    const lossOf = (outs: Tensor[]) => outs.filter((o) => o.requiresGrad).map((o) => o.to("float32").sum()).reduce((a, b) => a.add(b));
    if (!outC.some((o) => o.requiresGrad)) return;
    lossOf(outC).backward();
    lossOf(outG).backward();
    cpuIn.forEach((x, i) => {
      if (x.grad === null) return expect(cudaIn[i].grad).toBeNull();
      expectSame(x.grad, cudaIn[i].grad as Tensor, `grad of input ${i}`);
    });
  });

  test.each(plainCases.map((c) => [c.name, c] as const))("%s: same values on cuda", (_n, c) => {
    const a = c.fn("cpu");
    const b = c.fn("cuda");
    a.forEach((t, i) => expectSame(t, b[i], `result ${i}`));
  });

  test("values cross devices both ways; cpu() of a cuda leaf is differentiable", () => {
    const x = randn([3, 4], { device: "cuda", requiresGrad: true });
    expect(x.device).toBe("cuda");
    const h = x.cpu();
    expect(h.device).toBe("cpu");
    expect(h.toArray()).toEqual(x.toArray());
    h.mul(3).sum().backward();
    expect(x.grad?.device).toBe("cuda");
    expectSame(full([3, 4], 3), x.grad as Tensor, "grad of cpu()");
    expect(x.to("cuda").storage).toBe(x.storage);  // already there: a view
    expect(String(x)).toMatch(/device=cuda/);
    expect(x.sum().item()).toBeCloseTo(h.sum().item(), 5);
  });

  test("mixing devices in one op names both", () => {
    const a = randn([2], { device: "cuda" });
    const b = randn([2]);
    expect(() => a.add(b)).toThrow("add: a is on cuda, b on cpu; move one with .to()");
    expect(() => where(b.gt(0), a, b)).toThrow("where: a is on cpu, b on cuda; move one with .to()");
  });
});
