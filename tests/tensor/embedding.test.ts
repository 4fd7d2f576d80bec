// embedding against PyTorch (forward and the scatter-add gradient, with repeated
// indices and padding_idx), float64 gradcheck, int32 indices and error messages.
import { embedding, gradcheck, manualSeed, rand, randn, tensor, type DType, type Tensor } from "nbforge";
import { torchSuite } from "./nn-ref.js";

/** Random integer indices in [0, num) of the given shape and dtype. */
function indices(shape: number[], num: number, dtype: "int32" | "int64" = "int64"): Tensor {
  const u = rand(shape, { dtype: "float64", low: 0, high: num }).data() as Float64Array;
  return tensor(Float64Array.from(u, (v) => Math.floor(v)), { shape, dtype });
}

const r = (shape: number[], dtype: DType) => randn(shape, { dtype });

torchSuite("embedding against PyTorch", [
  { name: "embedding 2-D indices (repeats)", code: "F.embedding(x[0].long(), x[1])", make: (d) => [indices([4, 9], 6), r([6, 5], d)], ints: [0], fn: (i, w) => embedding(i, w) },
  { name: "embedding padding_idx", code: "F.embedding(x[0].long(), x[1], padding_idx=2)", make: (d) => [indices([30], 4), r([4, 3], d)], ints: [0], fn: (i, w) => embedding(i, w, 2) },
  { name: "embedding negative padding_idx", code: "F.embedding(x[0].long(), x[1], padding_idx=-1)", make: (d) => [indices([2, 3, 4], 5), r([5, 8], d)], ints: [0], fn: (i, w) => embedding(i, w, -1) },
  { name: "embedding wide rows int32", code: "F.embedding(x[0].long(), x[1])", make: (d) => [indices([64], 50, "int32"), r([50, 300], d)], ints: [0], fn: (i, w) => embedding(i, w) },
]);

describe("embedding", () => {
  beforeAll(() => manualSeed(Date.now() % 1_000_000_007));

  test("gradcheck (weight, repeated indices)", () => {
    const idx = tensor([[0, 2, 2], [3, 0, 1]], { dtype: "int64" });
    expect(gradcheck((w) => embedding(idx, w).mul(embedding(idx, w)), [randn([4, 3], { dtype: "float64", requiresGrad: true })])).toBe(true);
  });

  test("bfloat16 weights are copied exactly and get a bfloat16 gradient", () => {
    const w = randn([5, 4]).to("bfloat16").requiresGrad_();
    const idx = tensor([4, 0, 4], { dtype: "int32" });
    const y = embedding(idx, w);
    expect(y.dtype).toBe("bfloat16");
    const rows = w.toArray() as number[][];
    expect(y.toArray()).toEqual([rows[4], rows[0], rows[4]]);
    y.sum().backward();
    expect((w.grad as Tensor).dtype).toBe("bfloat16");
    expect((w.grad as Tensor).sum(1).toArray()).toEqual([4, 0, 0, 0, 8]);
  });

  test("bad indices and shapes name both operands", () => {
    const w = randn([5, 4]);
    expect(() => embedding(tensor([1, 5], { dtype: "int64" }), w)).toThrow("embedding: index 5 at position 1 is out of range for a table of 5 rows");
    expect(() => embedding(tensor([-1], { dtype: "int64" }), w)).toThrow(/index -1/);
    expect(() => embedding(tensor([1, 2]), w)).toThrow("embedding: indices [2] are float32, weight [5,4]: indices must be int32 or int64");
    expect(() => embedding(tensor([1], { dtype: "int64" }), randn([5]))).toThrow("embedding: weight [5] for indices [1]: weight must be 2-D");
    expect(() => embedding(tensor([1], { dtype: "int64" }), w, 7)).toThrow(/paddingIdx 7 is outside/);
  });
});
