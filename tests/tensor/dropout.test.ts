// dropout: statistics of the mask, inverted scaling, determinism under a seed,
// eval mode, and a backward that reuses the forward's mask.
import { Generator, dropout, gradcheck, manualSeed, ones, randn, type Tensor } from "nbforge";

describe("dropout", () => {
  test("drops about p of the elements and scales the rest by 1/(1-p)", () => {
    for (const p of [0.1, 0.5, 0.8]) {
      const n = 200_000;
      const y = dropout(ones([n]), p, { generator: new Generator(7) });
      const v = y.data() as Float32Array;
      let zeros = 0;
      let sum = 0;
      let worst = 0;
      for (let i = 0; i < n; i++) {
        if (v[i] === 0) zeros++;
        else worst = Math.max(worst, Math.abs(v[i] - 1 / (1 - p)));
        sum += v[i];
      }
      expect(worst).toBeLessThan(1e-6);
      // binomial: 5 standard deviations
      const sd = Math.sqrt(n * p * (1 - p));
      expect(Math.abs(zeros - n * p)).toBeLessThan(5 * sd);
      // the expectation is preserved
      expect(Math.abs(sum / n - 1)).toBeLessThan((5 * sd) / n / (1 - p));
    }
  });

  test("the same seed gives the same mask; another seed, another mask", () => {
    const x = randn([1000], { dtype: "float64" });
    const a = dropout(x, 0.3, { generator: new Generator(42) }).data() as Float64Array;
    const b = dropout(x, 0.3, { generator: new Generator(42) }).data() as Float64Array;
    const c = dropout(x, 0.3, { generator: new Generator(43) }).data() as Float64Array;
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    manualSeed(5);
    const d = dropout(x, 0.3).data() as Float64Array;
    manualSeed(5);
    expect(Array.from(dropout(x, 0.3).data() as Float64Array)).toEqual(Array.from(d));
  });

  test("backward multiplies by the forward's mask", () => {
    const x = randn([64, 33], { requiresGrad: true });
    const y = dropout(x, 0.4, { generator: new Generator(1) });
    const g = randn([64, 33]);
    y.backward(g);
    const yv = y.data() as Float32Array;
    const xv = x.data() as Float32Array;
    const gv = g.data() as Float32Array;
    const gx = (x.grad as Tensor).data() as Float32Array;
    let worst = 0;
    for (let i = 0; i < yv.length; i++) {
      const m = yv[i] === 0 ? 0 : yv[i] / xv[i];
      worst = Math.max(worst, Math.abs(gx[i] - gv[i] * m) / (1 + Math.abs(gv[i] * m)));
      if (yv[i] !== 0) worst = Math.max(worst, Math.abs(m - 1 / 0.6) * 0.1);
    }
    expect(worst).toBeLessThan(1e-6);
  });

  test("gradcheck with a fixed generator (float64)", () => {
    const x = randn([3, 4], { dtype: "float64", requiresGrad: true });
    // a fresh generator per evaluation: every call draws the same mask
    expect(gradcheck((a) => dropout(a, 0.5, { generator: new Generator(9) }), [x])).toBe(true);
  });

  test("eval mode and p = 0 return the input; p = 1 zeroes everything", () => {
    const x = randn([10]);
    expect(dropout(x, 0.5, { training: false })).toBe(x);
    expect(dropout(x, 0)).toBe(x);
    expect(Array.from(dropout(x, 1).data() as Float32Array).every((v) => v === 0)).toBe(true);
  });

  test("bfloat16 keeps its dtype", () => {
    const x = randn([8]).to("bfloat16").requiresGrad_();
    const y = dropout(x, 0.5, { generator: new Generator(3) });
    expect(y.dtype).toBe("bfloat16");
    y.sum().backward();
    expect((x.grad as Tensor).dtype).toBe("bfloat16");
  });

  test("bad p and dtypes are explained", () => {
    expect(() => dropout(randn([2]), 1.5)).toThrow("dropout: probability p must be in [0, 1], got 1.5");
    expect(() => dropout(randn([2]).to("int32"), 0.5)).toThrow("dropout: input [2] is int32; it needs a floating-point tensor");
  });
});
