// cross_entropy against torch.nn.functional.cross_entropy (forward and
// gradient; ignore_index, label smoothing, none/mean/sum, class dim 1 of an
// [N, C, d] input, a 1-D input), float64 gradcheck and error messages.
import { crossEntropy, gradcheck, manualSeed, rand, randn, tensor, type DType, type Tensor } from "nbforge";
import { torchSuite } from "./nn-ref.js";

/** Random class targets in [0, num) with every `every`-th set to ignore (when given). */
function targets(shape: number[], num: number, ignore?: number, every = 3, dtype: "int32" | "int64" = "int64"): Tensor {
  const u = rand(shape, { dtype: "float64", low: 0, high: num }).data() as Float64Array;
  return tensor(Float64Array.from(u, (v, i) => (ignore !== undefined && i % every === 1 ? ignore : Math.floor(v))), { shape, dtype });
}

const r = (shape: number[], dtype: DType) => randn(shape, { dtype, std: 2 });

torchSuite("cross_entropy against PyTorch", [
  { name: "mean", code: "F.cross_entropy(x[0], x[1].long())", make: (d) => [r([16, 10], d), targets([16], 10)], ints: [1], fn: (x, t) => crossEntropy(x, t) },
  { name: "sum", code: "F.cross_entropy(x[0], x[1].long(), reduction='sum')", make: (d) => [r([7, 33], d), targets([7], 33)], ints: [1], fn: (x, t) => crossEntropy(x, t, { reduction: "sum" }) },
  { name: "none", code: "F.cross_entropy(x[0], x[1].long(), reduction='none')", make: (d) => [r([9, 5], d), targets([9], 5)], ints: [1], fn: (x, t) => crossEntropy(x, t, { reduction: "none" }) },
  { name: "ignore_index default", code: "F.cross_entropy(x[0], x[1].long())", make: (d) => [r([12, 6], d), targets([12], 6, -100)], ints: [1], fn: (x, t) => crossEntropy(x, t) },
  { name: "ignore_index 0 + smoothing", code: "F.cross_entropy(x[0], x[1].long(), ignore_index=0, label_smoothing=0.1)", make: (d) => [r([20, 8], d), targets([20], 8, 0, 4, "int32")], ints: [1], fn: (x, t) => crossEntropy(x, t, { ignoreIndex: 0, labelSmoothing: 0.1 }) },
  { name: "smoothing sum", code: "F.cross_entropy(x[0], x[1].long(), label_smoothing=0.25, reduction='sum')", make: (d) => [r([6, 11], d), targets([6], 11, -100)], ints: [1], fn: (x, t) => crossEntropy(x, t, { labelSmoothing: 0.25, reduction: "sum" }) },
  { name: "smoothing none ignore", code: "F.cross_entropy(x[0], x[1].long(), label_smoothing=0.3, reduction='none', ignore_index=3)", make: (d) => [r([10, 7], d), targets([10], 7, 3)], ints: [1], fn: (x, t) => crossEntropy(x, t, { labelSmoothing: 0.3, reduction: "none", ignoreIndex: 3 }) },
  { name: "N C d (class dim 1)", code: "F.cross_entropy(x[0], x[1].long(), label_smoothing=0.1)", make: (d) => [r([3, 5, 4], d), targets([3, 4], 5, -100, 5)], ints: [1], fn: (x, t) => crossEntropy(x, t, { labelSmoothing: 0.1 }) },
  { name: "1-D input", code: "F.cross_entropy(x[0], x[1].long())", make: (d) => [r([9], d), tensor(4, { dtype: "int64" })], ints: [1], fn: (x, t) => crossEntropy(x, t) },
  { name: "large vocabulary", code: "F.cross_entropy(x[0], x[1].long(), label_smoothing=0.05)", make: (d) => [r([64, 1000], d), targets([64], 1000)], ints: [1], fn: (x, t) => crossEntropy(x, t, { labelSmoothing: 0.05 }) },
]);

describe("cross_entropy", () => {
  beforeAll(() => manualSeed(Date.now() % 1_000_000_007));
  const f64 = (shape: number[]) => randn(shape, { dtype: "float64", requiresGrad: true });

  test("gradcheck: mean, ignore_index, label smoothing", () => {
    const t = tensor([2, -100, 0, 3], { dtype: "int64" });
    expect(gradcheck((x) => crossEntropy(x, t, { labelSmoothing: 0.2 }), [f64([4, 5])])).toBe(true);
  });
  test("gradcheck: none over [N, C, d]", () => {
    const t = tensor([[1, 0], [2, 2]], { dtype: "int64" });
    expect(gradcheck((x) => crossEntropy(x, t, { reduction: "none" }), [f64([2, 3, 2])])).toBe(true);
  });

  test("all targets ignored: mean is NaN (as in PyTorch), sum is 0", () => {
    const x = randn([2, 3]);
    const t = tensor([-100, -100], { dtype: "int64" });
    expect(Number.isNaN(crossEntropy(x, t).item())).toBe(true);
    expect(crossEntropy(x, t, { reduction: "sum" }).item()).toBe(0);
  });

  test("bfloat16 logits keep their dtype", () => {
    const x = randn([4, 6]).to("bfloat16").requiresGrad_();
    const loss = crossEntropy(x, tensor([0, 1, 2, 3], { dtype: "int64" }));
    expect(loss.dtype).toBe("bfloat16");
    loss.backward();
    expect((x.grad as Tensor).dtype).toBe("bfloat16");
  });

  test("bad shapes, dtypes and targets name both operands", () => {
    const x = randn([4, 5]);
    expect(() => crossEntropy(x, tensor([0, 1, 2], { dtype: "int64" }))).toThrow("cross_entropy: input [4,5] float32, target [3] int64: target must have shape [4]");
    expect(() => crossEntropy(x, tensor([0, 1, 2, 3]))).toThrow("cross_entropy: input [4,5] float32, target [4] float32: target must hold int32 or int64 class indices");
    expect(() => crossEntropy(x.to("int32"), tensor([0, 1, 2, 3], { dtype: "int64" }))).toThrow(/input \[4,5\] int32.*floating-point/);
    expect(() => crossEntropy(x, tensor([0, 5, 2, 3], { dtype: "int64" }))).toThrow("cross_entropy: target 5 at position 1 is not a class index in [0, 5)");
    expect(() => crossEntropy(x, tensor([0, 1, 2, 3], { dtype: "int64" }), { labelSmoothing: 1.5 })).toThrow(/labelSmoothing must be in \[0, 1\]/);
  });
});
