// topk against PyTorch (values to 1e-5 / 1e-10, indices exactly, gradient through
// the values) and multinomial: determinism by seed, chi-square bounds on the
// sampled frequencies, no repeats without replacement, error messages.
import { Generator, gradcheck, manualSeed, multinomial, randn, tensor, topk, type DType, type Tensor } from "nbforge";
import { relError, runTorch, type RefCase, type RefResult } from "./torch-ref.js";

const seed = Date.now() % 1_000_000_007;
const TOL: Record<string, number> = { float32: 1e-5, float64: 1e-10 };

interface Case { name: string; shape: number[]; k: number; dim: number; largest: boolean }
const CASES: Case[] = [
  { name: "last_largest", shape: [6, 50], k: 5, dim: -1, largest: true },
  { name: "dim0_smallest", shape: [30, 4, 3], k: 7, dim: 0, largest: false },
  { name: "middle_all", shape: [3, 9, 2], k: 9, dim: 1, largest: true },
];

let refs: Map<string, RefResult>;
const inputs = new Map<string, Tensor>();
const grads = new Map<string, Tensor>();

beforeAll(() => {
  manualSeed(seed);
  const cases: RefCase[] = [];
  for (const dtype of ["float32", "float64"] as DType[]) {
    for (const c of CASES) {
      const x = randn(c.shape, { dtype });
      const gy = randn(c.shape.map((s, i) => (i === (c.dim + c.shape.length) % c.shape.length ? c.k : s)), { dtype });
      inputs.set(`${c.name}_${dtype}`, x);
      grads.set(`${c.name}_${dtype}`, gy);
      const call = `torch.topk(x[0], ${c.k}, ${c.dim}, largest=${c.largest ? "True" : "False"})`;
      cases.push({ id: `${c.name}_${dtype}_v`, code: `${call}.values`, inputs: [x], gy });
      cases.push({ id: `${c.name}_${dtype}_i`, code: `${call}.indices`, inputs: [x] });
    }
  }
  refs = runTorch(cases);
});

describe("topk against PyTorch", () => {
  for (const dtype of ["float32", "float64"]) {
    for (const c of CASES) {
      test(`${c.name} ${dtype}`, () => {
        const id = `${c.name}_${dtype}`;
        const x = (inputs.get(id) as Tensor).detach().requiresGrad_();
        const { values, indices } = topk(x, c.k, c.dim, c.largest);
        const rv = refs.get(`${id}_v`) as RefResult;
        const ri = refs.get(`${id}_i`) as RefResult;
        expect(values.shape).toEqual(rv.shape);
        expect(indices.dtype).toBe("int64");
        expect(Array.from(indices.data() as BigInt64Array, Number)).toEqual(Array.from(ri.out));
        const err = relError(values.data() as Float64Array, rv.out);
        if (!(err <= TOL[dtype])) throw new Error(`${id}: values relative error ${err} (seed ${seed})`);
        values.backward(grads.get(id) as Tensor);
        const gerr = relError((x.grad as Tensor).data() as Float64Array, rv.grads[0] as Float64Array);
        if (!(gerr <= TOL[dtype])) throw new Error(`${id}: gradient relative error ${gerr} (seed ${seed})`);
      });
    }
  }
  test("integer dtypes, smallest, NaN ranks largest", () => {
    const x = tensor([[5, 1, 9, 3]], { dtype: "int32" });
    expect(x.topk(2).values.toArray()).toEqual([[9, 5]]);
    expect(x.topk(2, 1, false).indices.toArray()).toEqual([[1, 3]]);
    const n = tensor([1, NaN, 3]);
    expect(n.topk(1).indices.toArray()).toEqual([1]);
    expect(tensor([2, 1], { dtype: "float16" }).topk(1, 0, false).values.toArray()).toEqual([1]);
  });
  test("gradcheck through the values", () => {
    expect(gradcheck((a) => a.topk(2, 1).values, [randn([3, 5], { dtype: "float64", requiresGrad: true })])).toBe(true);
    expect(gradcheck((a) => a.topk(2, 0, false).values.exp(), [randn([4, 2], { dtype: "float64", requiresGrad: true })])).toBe(true);
  });
  test("errors", () => {
    expect(() => tensor([[1, 2, 3]]).topk(4)).toThrow(/topk: k = 4 is out of range for dimension 1 of size 3 in \[1,3\]; pass 0 <= k <= 3/);
    expect(() => tensor([[1, 2, 3]]).topk(1, 2)).toThrow(/topk: dimension 2 is out of range/);
  });
});

/** Pearson chi-square statistic of counts against expected probabilities. */
function chiSquare(counts: number[], p: number[], n: number): number {
  return counts.reduce((acc, c, i) => acc + (c - n * p[i]) ** 2 / (n * p[i]), 0);
}

describe("multinomial", () => {
  const p = [0.1, 0.2, 0.05, 0.4, 0.25];
  test("same seed, same samples; different seed, different samples", () => {
    const a = multinomial(tensor(p), 50, { replacement: true, generator: new Generator(7) }).toArray();
    const b = multinomial(tensor(p), 50, { replacement: true, generator: new Generator(7) }).toArray();
    const c = multinomial(tensor(p), 50, { replacement: true, generator: new Generator(8) }).toArray();
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    manualSeed(3);
    const d = multinomial(tensor(p), 4).toArray();
    manualSeed(3);
    expect(multinomial(tensor(p), 4).toArray()).toEqual(d);
  });
  test("with replacement: frequencies pass a chi-square test (2-d rows, unnormalised weights)", () => {
    const n = 20000;
    const rows = tensor([p.map((v) => v * 3), [...p].reverse()]);
    const s = multinomial(rows, n, { replacement: true, generator: new Generator(seed) });
    expect(s.shape).toEqual([2, n]);
    const d = s.data() as BigInt64Array;
    for (let r = 0; r < 2; r++) {
      const counts = [0, 0, 0, 0, 0];
      for (let i = 0; i < n; i++) counts[Number(d[r * n + i])]++;
      const probs = r === 0 ? p : [...p].reverse();
      // 4 degrees of freedom: P(chi2 > 23.5) < 1e-4
      expect(chiSquare(counts, probs, n)).toBeLessThan(23.5);
    }
  });
  test("without replacement: distinct draws, first-draw distribution, zero weights never drawn", () => {
    const trials = 4000;
    const first = [0, 0, 0, 0, 0];
    const g = new Generator(seed + 1);
    const w = tensor(Array.from({ length: trials }, () => p));
    const s = multinomial(w, 3, { generator: g });
    const d = s.data() as BigInt64Array;
    for (let t = 0; t < trials; t++) {
      const row = [Number(d[3 * t]), Number(d[3 * t + 1]), Number(d[3 * t + 2])];
      expect(new Set(row).size).toBe(3);
      first[row[0]]++;
    }
    expect(chiSquare(first, p, trials)).toBeLessThan(23.5);
    const z = multinomial(tensor([0, 1, 0, 1]), 2, { generator: g }).toArray() as number[];
    expect([...z].sort()).toEqual([1, 3]);
  });
  test("errors", () => {
    expect(() => multinomial(tensor([0.5, 0.5]), 3)).toThrow(/cannot draw 3 samples without replacement from 2 categories; draw at most 2 or pass replacement: true/);
    expect(() => multinomial(tensor([0, 1, 0]), 2)).toThrow(/only 1 categories of non-zero probability/);
    expect(() => multinomial(tensor([0.5, -0.1]), 1)).toThrow(/finite and non-negative; row 0 has -0\.1\d* at column 1/);
    expect(() => multinomial(tensor([0, 0]), 1, { replacement: true })).toThrow(/row 0 of probabilities sums to 0/);
    expect(() => multinomial(tensor([1, 2], { dtype: "int64" }), 1)).toThrow(/multinomial: probabilities must be floating-point, got int64/);
    expect(() => multinomial(tensor([[[1]]]), 1)).toThrow(/must be 1-d or 2-d/);
  });
});
