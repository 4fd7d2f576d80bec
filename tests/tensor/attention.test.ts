// Fused causal scaled-dot-product attention against PyTorch (torch 1.13 has no
// F.scaled_dot_product_attention, so the reference spells it out: the causal
// mask aligned to the last key, as in the KV-cache path), float64 gradcheck,
// the KV-cache step matching the last row of a full pass, and error messages.
import { gradcheck, manualSeed, randn, scaledDotProductAttention as sdpa, tensor, type DType, type Tensor } from "nbforge";
import { torchSuite } from "./nn-ref.js";

const r = (shape: number[], dtype: DType) => randn(shape, { dtype });
const REF = (mask: string, scale = "q.shape[-1] ** -0.5") =>
  `(lambda q, k, v, m: torch.softmax((q @ k.mT * ${scale} + m).masked_fill(torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool).tril(k.shape[-2] - q.shape[-2]).logical_not(), float('-inf')), -1) @ v)(x[0], x[1], x[2], ${mask})`;

torchSuite("scaled_dot_product_attention against PyTorch", [
  { name: "causal [B,H,L,D]", code: REF("0"), make: (d) => [r([2, 3, 7, 8], d), r([2, 3, 7, 8], d), r([2, 3, 7, 8], d)], fn: (q, k, v) => sdpa(q, k, v) },
  { name: "causal Dv != D, scale", code: REF("0", "0.3"), make: (d) => [r([4, 5, 6], d), r([4, 5, 6], d), r([4, 5, 3], d)], fn: (q, k, v) => sdpa(q, k, v, { scale: 0.3 }) },
  { name: "causal + additive mask", code: REF("x[3]"), make: (d) => [r([2, 6, 4], d), r([2, 6, 4], d), r([2, 6, 4], d), r([6, 6], d)], consts: [3], fn: (q, k, v, m) => sdpa(q, k, v, { mask: m }) },
  { name: "kv cache: one query, 9 cached keys", code: REF("0"), make: (d) => [r([2, 2, 1, 16], d), r([2, 2, 9, 16], d), r([2, 2, 9, 16], d)], fn: (q, k, v) => sdpa(q, k, v) },
  { name: "kv cache: 3 queries, 10 keys", code: REF("0"), make: (d) => [r([3, 3, 8], d), r([3, 10, 8], d), r([3, 10, 8], d)], fn: (q, k, v) => sdpa(q, k, v) },
  {
    name: "not causal, mask",
    code: "torch.softmax(x[0] @ x[1].mT / 8 ** 0.5 + x[3], -1) @ x[2]",
    make: (d) => [r([2, 5, 8], d), r([2, 7, 8], d), r([2, 7, 8], d), r([2, 1, 7], d)],
    consts: [3],
    fn: (q, k, v, m) => sdpa(q, k, v, { causal: false, mask: m }),
  },
]);

describe("scaled_dot_product_attention", () => {
  beforeAll(() => manualSeed(Date.now() % 1_000_000_007));
  const f64 = (shape: number[]) => randn(shape, { dtype: "float64", requiresGrad: true });

  test("gradcheck causal (q, k, v)", () => {
    expect(gradcheck((q, k, v) => sdpa(q, k, v), [f64([2, 3, 2]), f64([2, 3, 2]), f64([2, 3, 3])])).toBe(true);
  });
  test("gradcheck kv-cache shape with a mask", () => {
    const m = randn([2, 4], { dtype: "float64" });
    expect(gradcheck((q, k, v) => sdpa(q, k, v, { mask: m }), [f64([1, 2, 3]), f64([1, 4, 3]), f64([1, 4, 2])])).toBe(true);
  });

  test("a KV-cache step gives the last row of the full causal pass", () => {
    const q = randn([2, 6, 8], { dtype: "float64" });
    const k = randn([2, 6, 8], { dtype: "float64" });
    const v = randn([2, 6, 8], { dtype: "float64" });
    const full = sdpa(q, k, v).slice(1, 5, 6).data() as Float64Array;
    const step = sdpa(q.slice(1, 5, 6), k, v).data() as Float64Array;
    let worst = 0;
    for (let i = 0; i < full.length; i++) worst = Math.max(worst, Math.abs(full[i] - step[i]));
    expect(worst).toBeLessThan(1e-12);
  });

  test("bfloat16 inputs keep their dtype", () => {
    const q = randn([1, 4, 8]).to("bfloat16").requiresGrad_();
    const y = sdpa(q, q, q);
    expect(y.dtype).toBe("bfloat16");
    y.sum().backward();
    expect((q.grad as Tensor).dtype).toBe("bfloat16");
  });

  test("bad shapes and dtypes name the operands", () => {
    const q = randn([2, 4, 8]);
    expect(() => sdpa(q, randn([2, 4, 6]), randn([2, 4, 8]))).toThrow("attention: query [2,4,8], key [2,4,6], value [2,4,8]: query and key feature sizes 8 and 6 differ");
    expect(() => sdpa(q, randn([3, 4, 8]), randn([3, 4, 8]))).toThrow("attention: query [2,4,8], key [3,4,8], value [3,4,8]: batch dimensions differ");
    expect(() => sdpa(q, q, randn([2, 5, 8]))).toThrow("key and value lengths 4 and 5 differ");
    expect(() => sdpa(q, q, q.to("float64"))).toThrow(/share one floating-point dtype, got float32, float32, float64/);
    expect(() => sdpa(q, q, q, { mask: randn([3, 4]) })).toThrow("attention: mask [3,4] does not broadcast to the scores [2,4,4]");
    expect(() => sdpa(q, q, q, { mask: tensor([[0]], { dtype: "float64" }) })).toThrow(/mask \[1,1\] is float64 but query \[2,4,8\] is float32/);
  });
});
