// The Tensor API: creation and dtypes, views without copies, reading back,
// autograd features, error messages, display, and deterministic memory.
import {
  Generator, Tensor, arange, full, manualSeed, memory, noGrad, ones, rand, randn, tensor, tidy, zeros, keep,
} from "nbforge";

describe("creation and dtypes", () => {
  test("zeros, ones, full, arange", () => {
    expect(zeros([2, 2]).toArray()).toEqual([[0, 0], [0, 0]]);
    expect(ones([3], { dtype: "int32" }).toArray()).toEqual([1, 1, 1]);
    expect(full([2], 7.5, { dtype: "float64" }).data()).toEqual(new Float64Array([7.5, 7.5]));
    expect(arange(5).toArray()).toEqual([0, 1, 2, 3, 4]);
    expect(arange(1, 2, 0.25).toArray()).toEqual([1, 1.25, 1.5, 1.75]);
    expect(arange(0, 3, 1, { dtype: "int64" }).data()).toEqual(new BigInt64Array([0n, 1n, 2n]));
  });

  test("tensor() from nested arrays and typed arrays", () => {
    const t = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe("float32");
    expect(t.device).toBe("cpu");
    expect(tensor([true, false]).dtype).toBe("bool");
    expect(tensor([true, false]).toArray()).toEqual([true, false]);
    const f = tensor(new Float64Array([1, 2, 3, 4]), { shape: [2, 2] });
    expect(f.dtype).toBe("float64");
    expect(f.toArray()).toEqual([[1, 2], [3, 4]]);
    expect(tensor(new Int32Array([5, -6])).toArray()).toEqual([5, -6]);
    expect(tensor(3.5).item()).toBe(3.5);
  });

  test("casts through every dtype, bfloat16/float16 stored with float32 math", () => {
    const v = tensor([0.5, -1.25, 3, 100.75], { dtype: "float64" });
    expect(v.to("float16").to("float64").toArray()).toEqual([0.5, -1.25, 3, 100.75]);
    expect(v.to("bfloat16").data()).toEqual(new Float32Array([0.5, -1.25, 3, 101]));
    expect(v.to("int32").toArray()).toEqual([0, -1, 3, 100]);
    expect(v.to("int64").data()).toEqual(new BigInt64Array([0n, -1n, 3n, 100n]));
    expect(v.to("int8").toArray()).toEqual([0, -1, 3, 100]);
    expect(tensor([1, 0, 2]).to("uint8").toArray()).toEqual([1, 0, 2]);
    expect(tensor([1, 0, -2]).to("bool").toArray()).toEqual([true, false, true]);
    const h = tensor([1, 2, 3], { dtype: "float16" });
    const s = h.mul(h).add(1);
    expect(s.dtype).toBe("float16");
    expect(s.toArray()).toEqual([2, 5, 10]);
    expect(tensor([1, 2], { dtype: "int32" }).add(tensor([0.5, 0.5])).dtype).toBe("float32");
    expect(tensor([1, 2], { dtype: "int32" }).add(3).toArray()).toEqual([4, 5]);
    expect(tensor([7, 9], { dtype: "int64" }).sum().data()).toEqual(new BigInt64Array([16n]));
    expect(tensor([1, 2]).lt(tensor([2, 2])).toArray()).toEqual([true, false]);
  });

  test("seeded generators reproduce", () => {
    manualSeed(42);
    const a = randn([100]).data();
    manualSeed(42);
    expect(randn([100]).data()).toEqual(a);
    const g1 = new Generator(7);
    const g2 = new Generator(7);
    expect(rand([10], { generator: g1 }).data()).toEqual(rand([10], { generator: g2 }).data());
    expect(rand([10], { generator: g1 }).data()).not.toEqual(rand([10], { generator: new Generator(8) }).data());
    const big = randn([200000], { dtype: "float64", generator: new Generator(1) });
    expect(Math.abs(big.mean().item())).toBeLessThan(0.01);
    expect(Math.abs(big.var().item() - 1)).toBeLessThan(0.02);
    const u = rand([100000], { generator: new Generator(3), low: 2, high: 4 });
    expect(u.min().item()).toBeGreaterThanOrEqual(2);
    expect(u.max().item()).toBeLessThan(4);
  });
});

describe("views share storage", () => {
  test("reshape, permute, slice, expand are views; contiguous copies only when needed", () => {
    const t = arange(24).reshape(2, 3, 4);
    const p = t.permute(2, 0, 1);
    expect(p.storage).toBe(t.storage);
    expect(p.shape).toEqual([4, 2, 3]);
    expect(p.isContiguous).toBe(false);
    const s = t.slice(2, 1, 3);
    expect(s.storage).toBe(t.storage);
    expect(s.toArray()).toEqual([[[1, 2], [5, 6], [9, 10]], [[13, 14], [17, 18], [21, 22]]]);
    const e = tensor([1, 2]).reshape(2, 1).expand(2, 3);
    expect(e.strides).toEqual([1, 0]);
    expect(e.toArray()).toEqual([[1, 1, 1], [2, 2, 2]]);
    expect(p.contiguous().storage).not.toBe(t.storage);
    expect(t.contiguous().storage).toBe(t.storage);
    expect(t.transpose(0, 2).reshape(-1).slice(0, 0, 3).toArray()).toEqual([0, 12, 4]);
    expect(t.slice(-1, -2).shape).toEqual([2, 3, 2]);
  });

  test("item, data and toArray", () => {
    const t = tensor([[1.5, 2], [3, 4]], { dtype: "float64" });
    expect(t.sum().item()).toBe(10.5);
    expect(t.transpose(0, 1).data()).toEqual(new Float64Array([1.5, 3, 2, 4]));
    expect(() => t.item()).toThrow("item: tensor [2,2] has 4 elements; item() needs exactly one");
  });
});

describe("autograd", () => {
  test("the example from the issue", () => {
    const w = randn([512, 512], { requiresGrad: true });
    const x = randn([64, 512]);
    const loss = x.matmul(w).gelu().mean();
    loss.backward();
    expect(w.grad).toBeInstanceOf(Tensor);
    expect(w.grad?.shape).toEqual([512, 512]);
    expect(x.grad).toBeNull();
  });

  test("gradients accumulate across backward calls and zeroGrad clears them", () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    x.mul(x).sum().backward();
    expect(x.grad?.toArray()).toEqual([2, 4, 6]);
    x.mul(3).sum().backward();
    expect(x.grad?.toArray()).toEqual([5, 7, 9]);
    x.zeroGrad();
    expect(x.grad).toBeNull();
  });

  test("an explicit gradient is read, never adopted or changed: .grad stays after the caller disposes it", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const g = tensor([3, 4]);
    x.backward(g); // the root is the leaf itself
    const v = x.reshape([2]);
    const g2 = tensor([5, 6]);
    v.backward(g2); // a view's backward hands the gradient (or a view of it) to the leaf
    g.dispose();
    g2.dispose();
    expect(x.grad?.toArray()).toEqual([8, 10]);
    const y = tensor([1, 2], { requiresGrad: true });
    const gy = tensor([7, 9]);
    y.add(0).backward(gy);
    expect(gy.toArray()).toEqual([7, 9]);
    gy.dispose();
    expect(y.grad?.toArray()).toEqual([7, 9]);
  });

  test("a tensor used twice gets both contributions", () => {
    const x = tensor([2], { dtype: "float64", requiresGrad: true });
    const y = x.mul(x).add(x.exp());
    y.backward();
    expect(x.grad?.item()).toBeCloseTo(4 + Math.exp(2), 12);
  });

  test("backward with an explicit gradient, and errors without one", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const y = x.mul(2);
    expect(() => y.backward()).toThrow(/implicit only for scalars.*\[2\]/);
    y.backward(tensor([1, 10]));
    expect(x.grad?.toArray()).toEqual([2, 20]);
    expect(() => tensor([1]).backward()).toThrow(/does not require gradients/);
  });

  test("noGrad and detach stop recording", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const y = noGrad(() => x.mul(2));
    expect(y.requiresGrad).toBe(false);
    expect(y.gradFn).toBeNull();
    const d = x.detach();
    expect(d.requiresGrad).toBe(false);
    expect(d.storage).toBe(x.storage);
    const z = x.mul(2);
    expect(z.requiresGrad).toBe(true);
    expect(z.gradFn?.name).toBe("mul");
  });

  test("hooks see and can replace gradients", () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    const h = x.mul(2);
    const seen: number[][] = [];
    h.registerHook((g) => { seen.push(g.toArray() as number[]); return g.mul(10); });
    h.sum().backward();
    expect(seen).toEqual([[1, 1, 1]]);
    expect(x.grad?.toArray()).toEqual([20, 20, 20]);
    const handle = x.registerHook(() => tensor([0, 0, 0]));
    x.zeroGrad();
    x.sum().backward();
    expect(x.grad?.toArray()).toEqual([0, 0, 0]);
    handle.remove();
    x.zeroGrad();
    x.sum().backward();
    expect(x.grad?.toArray()).toEqual([1, 1, 1]);
  });

  test("integer tensors cannot require gradients", () => {
    expect(() => tensor([1], { dtype: "int32", requiresGrad: true })).toThrow(/only floating-point tensors can require gradients/);
  });
});

describe("error messages name both operands", () => {
  test("shapes", () => {
    expect(() => tensor([[1, 2, 3], [4, 5, 6]]).matmul(ones([4, 5]))).toThrow("matmul: [2,3] @ [4,5]: inner dimensions 3 and 4 differ");
    expect(() => ones([2, 3]).add(ones([4]))).toThrow("add: shapes [2,3] and [4] do not broadcast");
    expect(() => ones([2, 3, 4]).matmul(ones([5, 4, 6]))).toThrow("matmul: [2,3,4] @ [5,4,6]: batch dimensions [2] and [5] do not broadcast");
    expect(() => ones([3]).matmul(ones([4]))).toThrow("matmul: [3] @ [4]: inner dimensions 3 and 4 differ");
    expect(() => ones([6]).reshape(4, 2)).toThrow("reshape: cannot reshape [6] (6 elements) into [4,2] (8 elements)");
    expect(() => ones([2, 3]).expand(2, 4)).toThrow(/expand: \[2,3\] -> \[2,4\]/);
    expect(() => ones([2, 3]).sum(2)).toThrow(/sum: dimension 2 is out of range for a tensor with 2 dims/);
    expect(() => ones([2, 3]).permute(0, 0)).toThrow(/permute: \[0,0\] is not a permutation/);
    expect(() => tensor([[1, 2], [3]])).toThrow(/ragged nested array/);
  });

  test("dtypes", () => {
    expect(() => ones([2, 2]).matmul(ones([2, 2], { dtype: "float64" }))).toThrow(
      'matmul: [2,2] float32 @ [2,2] float64: dtypes differ; cast one with .to("float32")',
    );
    expect(() => ones([2, 2], { dtype: "int32" }).matmul(ones([2, 2], { dtype: "int32" }))).toThrow(/needs floating-point tensors/);
    expect(() => ones([2], { dtype: "int32" }).mean()).toThrow(/mean: needs a floating-point tensor, got int32/);
    expect(() => ones([2]).to("complex64" as never)).toThrow(/unknown dtype "complex64"/);
  });

  test("use after dispose", () => {
    const t = ones([2]);
    t.dispose();
    expect(() => t.add(1)).toThrow("add: tensor [2] float32 was used after dispose()");
  });
});

describe("display", () => {
  test("text/plain like PyTorch's repr, with ... for large tensors", () => {
    expect(String(tensor([[1, 2], [3, 4]]))).toBe("tensor([[1., 2.],\n        [3., 4.]], shape=[2, 2], dtype=float32, device=cpu)");
    expect(String(tensor([0.5, -1.25], { dtype: "float64" }))).toBe("tensor([ 0.5000, -1.2500], shape=[2], dtype=float64, device=cpu)");
    const big = arange(10000).reshape(100, 100);
    const text = String(big);
    expect(text).toContain("...");
    expect(text.split("\n").length).toBe(7);
    expect(String(tensor([1], { requiresGrad: true }).mul(2))).toContain("gradFn=mul");
  });

  test("a Jupyter mime bundle with an HTML table for small 2-D tensors", () => {
    const bundle = tensor([[1, 2], [3, 4]]).mimeBundle();
    expect(bundle["text/plain"]).toContain("shape=[2, 2]");
    const viaProtocol = (tensor([1]) as unknown as Record<symbol, () => Record<string, string>>)[Symbol.for("Jupyter.display")]();
    expect(viaProtocol["text/plain"]).toContain("tensor([1.]");
    expect(bundle["text/html"]).toContain("<table");
    expect(bundle["text/html"]).toContain("<td>4.</td>");
    expect(arange(3).mimeBundle()["text/html"]).toBeUndefined();
  });
});

describe("memory", () => {
  test("tidy disposes intermediates and keeps what is returned", () => {
    const before = memory().tensors;
    const kept = tidy(() => {
      const a = ones([10]);
      const b = a.mul(2).add(1);
      return { b };
    });
    expect(memory().tensors).toBe(before + 1);
    expect(kept.b.item === undefined).toBe(false);
    expect(kept.b.toArray()).toEqual(Array(10).fill(3));
    kept.b.dispose();
    expect(memory().tensors).toBe(before);
  });

  test("tidy keeps the autograd graph of returned tensors", () => {
    const w = tensor([1, 2, 3], { requiresGrad: true });
    const loss = tidy(() => w.mul(w).exp().sum());
    loss.backward();
    expect(w.grad?.shape).toEqual([3]);
    const k = tidy(() => keep(ones([2])));
    expect(k.isDisposed).toBe(false);
  });

  test("a 10,000-step training loop inside tidy stays bounded", () => {
    const w = randn([32, 16], { requiresGrad: true });
    const b = zeros([16], { requiresGrad: true });
    const x = randn([8, 32]);
    const start = memory();
    global.gc?.();
    const rss0 = process.memoryUsage().rss;
    let peakTensors = 0;
    let peakBytes = 0;
    for (let step = 0; step < 10000; step++) {
      tidy(() => {
        const loss = x.matmul(w).add(b).gelu().softmax(-1).mean();
        loss.backward();
        noGrad(() => {
          const nw = w.sub(w.grad!.mul(0.01));
          w.zeroGrad();
          b.zeroGrad();
          void nw;
        });
        const m = memory();
        peakTensors = Math.max(peakTensors, m.tensors);
        peakBytes = Math.max(peakBytes, m.bytes);
      });
    }
    const end = memory();
    expect(end.tensors).toBe(start.tensors);
    expect(end.bytes).toBe(start.bytes);
    expect(peakTensors - start.tensors).toBeLessThan(100);
    expect(peakBytes - start.bytes).toBeLessThan(1 << 20);
    const growth = process.memoryUsage().rss - rss0;
    expect(growth).toBeLessThan(64 * 1024 * 1024);
  });
});
