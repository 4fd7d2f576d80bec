// layer_norm and rms_norm against PyTorch (forward and backward, float32 and
// float64, on the AVX2 and the portable kernel path), float64 gradchecks, reduced-precision storage and error messages.
import { gradcheck, layerNorm, manualSeed, randn, rmsNorm, type DType, type Tensor } from "nbforge";
import { torchSuite } from "./nn-ref.js";

const r = (shape: number[], dtype: DType) => randn(shape, { dtype });
// torch 1.13 has no F.rms_norm; this is its definition
const RMS = (eps: string, w: string) => `x[0] * torch.rsqrt(x[0].pow(2).mean(-1, keepdim=True) + ${eps})${w}`;

torchSuite("layer_norm / rms_norm against PyTorch", [
  { name: "layer_norm weight+bias", code: "F.layer_norm(x[0], (64,), x[1], x[2], 1e-5)", make: (d) => [r([6, 5, 64], d), r([64], d), r([64], d)], fn: (x, w, b) => layerNorm(x, 64, w, b) },
  { name: "layer_norm 2 dims", code: "F.layer_norm(x[0], (3, 7), x[1], x[2], 1e-3)", make: (d) => [r([4, 3, 7], d), r([3, 7], d), r([3, 7], d)], fn: (x, w, b) => layerNorm(x, [3, 7], w, b, 1e-3) },
  { name: "layer_norm no affine", code: "F.layer_norm(x[0], (33,))", make: (d) => [r([9, 33], d)], fn: (x) => layerNorm(x, 33) },
  { name: "layer_norm weight only", code: "F.layer_norm(x[0], (10,), x[1], None)", make: (d) => [r([2, 3, 10], d), r([10], d)], fn: (x, w) => layerNorm(x, 10, w) },
  { name: "layer_norm large rows", code: "F.layer_norm(x[0], (512,), x[1], x[2])", make: (d) => [r([70, 512], d), r([512], d), r([512], d)], fn: (x, w, b) => layerNorm(x, 512, w, b) },
  { name: "layer_norm transposed input", code: "F.layer_norm(x[0].mT, (8,), x[1], x[2])", make: (d) => [r([8, 12], d), r([8], d), r([8], d)], fn: (x, w, b) => layerNorm(x.mT, 8, w, b) },
  { name: "rms_norm weight", code: RMS("1e-6", " * x[1]"), make: (d) => [r([5, 7, 48], d), r([48], d)], fn: (x, w) => rmsNorm(x, 48, w, 1e-6) },
  { name: "rms_norm no weight", code: RMS("1e-5", ""), make: (d) => [r([40, 130], d)], fn: (x) => rmsNorm(x, 130, null, 1e-5) },
  { name: "layer_norm wide rows, offset mean", code: "F.layer_norm(x[0] + 30, (1000,), x[1], x[2])", make: (d) => [r([33, 1000], d), r([1000], d), r([1000], d)], fn: (x, w, b) => layerNorm(x.add(30), 1000, w, b) },
  { name: "rms_norm wide rows weight", code: RMS("1e-6", " * x[1]"), make: (d) => [r([37, 777], d), r([777], d)], fn: (x, w) => rmsNorm(x, 777, w, 1e-6) },
], { bothPaths: true });

describe("layer_norm / rms_norm", () => {
  beforeAll(() => manualSeed(Date.now() % 1_000_000_007));
  const f64 = (shape: number[]) => randn(shape, { dtype: "float64", requiresGrad: true });

  test("gradcheck layer_norm (x, weight, bias)", () => {
    expect(gradcheck((x, w, b) => layerNorm(x, [2, 3], w, b), [f64([2, 2, 3]), f64([2, 3]), f64([2, 3])])).toBe(true);
  });
  test("gradcheck layer_norm without affine", () => {
    expect(gradcheck((x) => layerNorm(x, 5), [f64([3, 5])])).toBe(true);
  });
  test("gradcheck rms_norm (x, weight)", () => {
    expect(gradcheck((x, w) => rmsNorm(x, 4, w, 1e-6), [f64([3, 4]), f64([4])])).toBe(true);
  });
  test("gradcheck rms_norm without weight", () => {
    expect(gradcheck((x) => rmsNorm(x, 6), [f64([2, 6])])).toBe(true);
  });

  test("bfloat16 and float16 run in float32 and keep their dtype", () => {
    for (const dtype of ["bfloat16", "float16"] as DType[]) {
      const x32 = randn([4, 16]);
      const w32 = randn([16]);
      const x = x32.to(dtype).requiresGrad_();
      const w = w32.to(dtype).requiresGrad_();
      const y = layerNorm(x, 16, w);
      expect(y.dtype).toBe(dtype);
      const ref = layerNorm(x.to("float32"), 16, w.to("float32")).data() as Float32Array;
      const got = y.data() as Float32Array;
      for (let i = 0; i < ref.length; i++) expect(Math.abs(got[i] - ref[i])).toBeLessThan(0.05 * (1 + Math.abs(ref[i])));
      y.sum().backward();
      expect((x.grad as Tensor).dtype).toBe(dtype);
      expect((w.grad as Tensor).dtype).toBe(dtype);
      expect(rmsNorm(x, 16, w).dtype).toBe(dtype);
    }
  });

  test("bad shapes and dtypes name both operands", () => {
    const x = randn([2, 3, 4]);
    expect(() => layerNorm(x, 5)).toThrow("layer_norm: input [2,3,4] vs normalized_shape [5]");
    expect(() => layerNorm(x, [4], randn([3]))).toThrow("layer_norm: weight [3] vs input [2,3,4]");
    expect(() => layerNorm(x, [4], randn([4]), randn([4], { dtype: "float64" }))).toThrow("layer_norm: bias is float64 but input [2,3,4] is float32");
    expect(() => rmsNorm(x, [3, 5])).toThrow("rms_norm: input [2,3,4] vs normalized_shape [3,5]");
    expect(() => rmsNorm(x.to("int32"), 4)).toThrow(/rms_norm: input \[2,3,4\] is int32/);
  });
});
