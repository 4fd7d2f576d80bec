// Indexing (gather, scatter, scatter_add, index_select, masked_fill, where) and
// joining (cat, stack, split) against PyTorch in float32 (rel. error <= 1e-5) and
// float64 (<= 1e-10), exact for integer results; float64 gradchecks; error messages.
import {
  cat, gather, gradcheck, indexSelect, manualSeed, maskedFill, randn, scatter, scatterAdd, split, stack, tensor, where, zeros,
  type DType, type Tensor,
} from "nbforge";
import { relError, runTorch, type RefCase, type RefResult } from "./torch-ref.js";

const seed = Date.now() % 1_000_000_007;
let state = seed;
function rint(n: number): number {
  state = (state * 1103515245 + 12345) % 2147483648;
  return Math.floor((state / 2147483648) * n);
}
/** Random integer indices in [0, n) as float64 (converted with .to("int64") inside each op). */
function idx(shape: number[], n: number): Tensor {
  const len = shape.reduce((a, b) => a * b, 1);
  return tensor(Float64Array.from({ length: len }, () => rint(n)), { shape });
}
/** A permutation-row index: distinct positions along dim 1 of [rows, k] out of n (scatter without collisions). */
function distinct(rows: number, k: number, n: number): Tensor {
  const v: number[] = [];
  for (let r = 0; r < rows; r++) {
    const p = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) { const j = rint(i + 1); [p[i], p[j]] = [p[j], p[i]]; }
    v.push(...p.slice(0, k));
  }
  return tensor(Float64Array.from(v), { shape: [rows, k] });
}
function mask(shape: number[]): Tensor {
  const len = shape.reduce((a, b) => a * b, 1);
  return tensor(Float64Array.from({ length: len }, () => rint(2)), { shape });
}
const I = (t: Tensor) => t.to("int64");
const B = (t: Tensor) => t.gt(0.5);

interface Case {
  name: string;
  code: string;
  make: (dtype: DType) => Tensor[];
  fn: (...x: Tensor[]) => Tensor;
  backward?: boolean;
}

const CASES: Case[] = [
  { name: "gather", code: "torch.gather(x[0], 1, x[1].long())", make: (d) => [randn([5, 7, 3], { dtype: d }), idx([5, 4, 3], 7)], fn: (a, i) => a.gather(1, I(i)) },
  { name: "gather_dim0_smaller", code: "torch.gather(x[0], 0, x[1].long())", make: (d) => [randn([6, 5], { dtype: d }), idx([9, 3], 6)], fn: (a, i) => gather(a, 0, I(i)) },
  { name: "gather_strided", code: "torch.gather(x[0].mT, -1, x[1].long())", make: (d) => [randn([8, 4], { dtype: d }), idx([4, 10], 8)], fn: (a, i) => a.mT.gather(-1, I(i)) },
  { name: "scatter", code: "x[0].scatter(1, x[1].long(), x[2])", make: (d) => [randn([4, 9], { dtype: d }), distinct(4, 5, 9), randn([4, 5], { dtype: d })], fn: (a, i, s) => scatter(a, 1, I(i), s) },
  { name: "scatter_scalar", code: "x[0].scatter(0, x[1].long(), 2.5)", make: (d) => [randn([5, 3], { dtype: d }), idx([2, 3], 5)], fn: (a, i) => a.scatter(0, I(i), 2.5) },
  { name: "scatter_add", code: "x[0].scatter_add(1, x[1].long(), x[2])", make: (d) => [randn([3, 6, 2], { dtype: d }), idx([3, 11, 2], 6), randn([3, 11, 2], { dtype: d })], fn: (a, i, s) => scatterAdd(a, 1, I(i), s) },
  { name: "index_select", code: "torch.index_select(x[0], 1, x[1].long())", make: (d) => [randn([4, 6, 5], { dtype: d }), idx([9], 6)], fn: (a, i) => indexSelect(a, 1, I(i)) },
  { name: "index_select_dim0", code: "x[0].index_select(0, x[1].long())", make: (d) => [randn([7, 3], { dtype: d }), idx([12], 7)], fn: (a, i) => a.indexSelect(0, I(i)) },
  { name: "masked_fill", code: "x[0].masked_fill(x[1] > 0.5, -3.0)", make: (d) => [randn([4, 5, 6], { dtype: d }), mask([5, 1])], fn: (a, m) => maskedFill(a, B(m), -3) },
  { name: "where", code: "torch.where(x[0] > 0.5, x[1], x[2])", make: (d) => [mask([4, 1, 6]), randn([5, 6], { dtype: d }), randn([4, 5, 1], { dtype: d })], fn: (c, a, b) => where(B(c), a, b) },
  { name: "where_scalar", code: "torch.where(x[0] > 0.5, x[1], 0.0)", make: (d) => [mask([3, 4]), randn([3, 4], { dtype: d })], fn: (c, a) => a.where(B(c), 0) },
  { name: "cat", code: "torch.cat([x[0], x[1], x[2]], 1)", make: (d) => [randn([3, 2, 4], { dtype: d }), randn([3, 5, 4], { dtype: d }), randn([3, 1, 4], { dtype: d })], fn: (a, b, c) => cat([a, b, c], 1) },
  { name: "cat_strided", code: "torch.cat([x[0].mT, x[1]], -1)", make: (d) => [randn([6, 3], { dtype: d }), randn([3, 2], { dtype: d })], fn: (a, b) => cat([a.mT, b], -1) },
  { name: "stack", code: "torch.stack([x[0], x[1]], 1)", make: (d) => [randn([3, 4], { dtype: d }), randn([3, 4], { dtype: d })], fn: (a, b) => stack([a, b], 1) },
  { name: "split", code: "torch.cat([p * (i + 1) for i, p in enumerate(torch.split(x[0], [2, 3, 1], 1))], 1)", make: (d) => [randn([3, 6], { dtype: d })], fn: (a) => cat(split(a, [2, 3, 1], 1).map((p, i) => p.mul(i + 1)), 1) },
  { name: "split_size", code: "torch.split(x[0], 2, 0)[2] * 3", make: (d) => [randn([5, 4], { dtype: d })], fn: (a) => a.split(2, 0)[2].mul(3) },
];

const TOL: Record<string, number> = { float32: 1e-5, float64: 1e-10 };
interface Prepared { c: Case; dtype: DType; ref: RefCase }
const prepared: Prepared[] = [];
let refs: Map<string, RefResult>;

beforeAll(() => {
  manualSeed(seed);
  for (const dtype of ["float32", "float64"] as DType[]) {
    for (const c of CASES) {
      const inputs = c.make(dtype).map((t) => (t.dtype === dtype ? t : t.to(dtype)));
      const out = c.fn(...inputs);
      const gy = c.backward === false ? undefined : randn([...out.shape], { dtype });
      prepared.push({ c, dtype, ref: { id: `${c.name}_${dtype}`, code: c.code, inputs, gy } });
    }
  }
  refs = runTorch(prepared.map((p) => p.ref));
});

function check(p: Prepared): void {
  const ref = refs.get(p.ref.id) as RefResult;
  const inputs = p.ref.inputs.map((x) => x.detach().requiresGrad_(p.ref.gy !== undefined));
  const out = p.c.fn(...inputs);
  expect(out.shape).toEqual(ref.shape);
  const tol = TOL[p.dtype];
  const fwd = relError(out.data() as Float64Array, ref.out);
  if (!(fwd <= tol)) throw new Error(`${p.ref.id} forward: relative error ${fwd} > ${tol} (seed ${seed})`);
  if (p.ref.gy === undefined) return;
  out.backward(p.ref.gy);
  inputs.forEach((x, i) => {
    const g = ref.grads[i];
    if (g === null) return;
    // torch gives index/mask inputs no gradient through .long() / > 0.5; nbforge neither
    if (x.grad === null) {
      expect(g.every((v) => v === 0)).toBe(true);
      return;
    }
    const err = relError((x.grad as Tensor).data() as Float64Array, g);
    if (!(err <= tol)) throw new Error(`${p.ref.id} backward input ${i}: relative error ${err} > ${tol} (seed ${seed})`);
  });
}

describe("indexing and joining against PyTorch", () => {
  for (const dtype of ["float32", "float64"]) {
    for (const c of CASES) test(`${c.name} ${dtype}`, () => check(prepared.find((p) => p.c === c && p.dtype === dtype) as Prepared));
  }
});

describe("indexing on every dtype", () => {
  const dtypes: DType[] = ["float32", "float64", "bfloat16", "float16", "int32", "int64", "int8", "uint8", "bool"];
  for (const d of dtypes) {
    test(`${d}: gather, index_select, scatter, scatter_add, masked_fill, where, cat`, () => {
      const x = tensor([[1, 0, 3], [4, 5, 0]], { dtype: d });
      const v = (t: Tensor) => t.toArray();
      const i = tensor([[2, 0], [1, 1]], { dtype: "int64" });
      const one = d === "bool" ? 1 : 1;
      expect(v(x.gather(1, i))).toEqual(v(tensor([[3, 1], [5, 5]], { dtype: d })));
      expect(v(x.indexSelect(1, tensor([2, 2, 0], { dtype: "int32" })))).toEqual(v(tensor([[3, 3, 1], [0, 0, 4]], { dtype: d })));
      expect(v(x.scatter(1, i, one))).toEqual(v(tensor([[1, 0, 1], [4, 1, 0]], { dtype: d })));
      if (d !== "bool") {
        expect(v(x.scatterAdd(1, i, tensor([[1, 1], [1, 1]], { dtype: d })))).toEqual(v(tensor([[2, 0, 4], [4, 7, 0]], { dtype: d })));
      }
      expect(v(x.maskedFill(tensor([true, false, true]), 1))).toEqual(v(tensor([[1, 0, 1], [1, 5, 1]], { dtype: d })));
      expect(v(where(tensor([[true], [false]]), x, zeros([3], { dtype: d })))).toEqual(v(tensor([[1, 0, 3], [0, 0, 0]], { dtype: d })));
      expect(v(cat([x, x.slice(1, 0, 1)], 1))).toEqual(v(tensor([[1, 0, 3, 1], [4, 5, 0, 4]], { dtype: d })));
    });
  }
  test("scatter_add accumulates repeated indices; cat and where promote dtypes", () => {
    const out = zeros([4]).scatterAdd(0, tensor([1, 1, 3, 1], { dtype: "int64" }), tensor([1, 2, 3, 4]));
    expect(out.toArray()).toEqual([0, 7, 0, 3]);
    expect(cat([tensor([1], { dtype: "int32" }), tensor([2.5], { dtype: "float64" })]).dtype).toBe("float64");
    expect(where(tensor([true, false]), tensor([1], { dtype: "int64" }), tensor([0.5])).toArray()).toEqual([1, 0.5]);
  });
  test("split and chunk return views; stack adds a dim", () => {
    const x = tensor([[1, 2, 3, 4, 5]]);
    const parts = x.split(2, 1);
    expect(parts.map((p) => p.shape)).toEqual([[1, 2], [1, 2], [1, 1]]);
    expect(parts[1].storage).toBe(x.storage);
    expect(x.chunk(2, 1).map((p) => p.toArray())).toEqual([[[1, 2, 3]], [[4, 5]]]);
    expect(stack([x, x], -1).shape).toEqual([1, 5, 2]);
  });
});

describe("gradcheck (float64)", () => {
  const f64 = { dtype: "float64" as const, requiresGrad: true };
  const nrm = (s: number[]) => randn(s, f64);
  const ix = (v: number[][]) => tensor(v, { dtype: "int64" });
  const cases: [string, (...x: Tensor[]) => Tensor, () => Tensor[]][] = [
    ["gather", (a) => a.gather(1, ix([[0, 2, 2], [1, 0, 1]])), () => [nrm([2, 3])]],
    ["scatter (input and src)", (a, s) => a.scatter(1, ix([[2, 0], [1, 2]]), s), () => [nrm([2, 3]), nrm([2, 3])]],
    ["scatter_add (input and src)", (a, s) => a.scatterAdd(0, ix([[1, 1, 0]]), s), () => [nrm([2, 3]), nrm([1, 3])]],
    ["index_select", (a) => a.indexSelect(0, tensor([2, 0, 2], { dtype: "int64" })).mul(a.indexSelect(0, tensor([1, 1, 0], { dtype: "int64" }))), () => [nrm([3, 2])]],
    ["masked_fill", (a) => a.maskedFill(tensor([true, false, true]), 7).mul(a), () => [nrm([2, 3])]],
    ["where (broadcast)", (a, b) => where(tensor([[true], [false]]), a, b), () => [nrm([2, 3]), nrm([3])]],
    ["cat", (a, b) => cat([a, b.exp(), a], 1), () => [nrm([2, 1]), nrm([2, 2])]],
    ["stack", (a, b) => stack([a, b], 1).tanh(), () => [nrm([2, 3]), nrm([2, 3])]],
    ["split", (a) => { const [p, q] = a.split([1, 2], 1); return p.mul(q.sum(1, true)); }, () => [nrm([2, 3])]],
  ];
  for (const [name, fn, make] of cases) test(name, () => expect(gradcheck(fn, make())).toBe(true));
});

describe("errors name the operands and the fix", () => {
  const x = tensor([[1, 2, 3], [4, 5, 6]]);
  test("out-of-range and wrongly typed indices", () => {
    expect(() => x.gather(1, tensor([[0, 3]], { dtype: "int64" }))).toThrow(/gather: index 3 at position \[0,1\] is out of range for dimension 1 of size 3; indices must lie in 0\.\.2/);
    expect(() => x.gather(1, tensor([[0, 1]]))).toThrow(/gather: index must be an integer tensor \(int64\), got float32; cast it with \.to\("int64"\)/);
    expect(() => x.indexSelect(0, tensor([-1], { dtype: "int64" }))).toThrow(/index_select: index -1 .* out of range for dimension 0 of size 2/);
    expect(() => x.scatterAdd(0, tensor([[0, 2]], { dtype: "int64" }), tensor([[1, 1]]))).toThrow(/scatter_add: index 2 .* dimension 0 of size 2/);
    expect(() => x.indexSelect(0, tensor([[0]], { dtype: "int64" }))).toThrow(/index_select: index must be 1-d, got \[1,1\]/);
  });
  test("bad shapes and dtypes", () => {
    expect(() => x.gather(0, tensor([[0, 0, 0, 0]], { dtype: "int64" }))).toThrow(/gather: index \[1,4\] does not fit input \[2,3\]: dimension 1/);
    expect(() => x.gather(0, tensor([0], { dtype: "int64" }))).toThrow(/same number of dims/);
    expect(() => x.scatter(1, tensor([[0, 1]], { dtype: "int64" }), tensor([[1]]))).toThrow(/index \[1,2\] does not fit src \[1,1\]/);
    expect(() => x.maskedFill(tensor([true, false]), 0)).toThrow(/masked_fill: mask \[2\] does not broadcast to input \[2,3\]/);
    expect(() => x.maskedFill(tensor([1, 0, 1]), 0)).toThrow(/masked_fill: mask must be a bool tensor, got float32/);
    expect(() => where(tensor([true, false, true, false]), x, 0)).toThrow(/where: condition \[4\] does not broadcast/);
    expect(() => cat([x, tensor([[1, 2]])], 0)).toThrow(/cat: tensor 1 \[1,2\] and tensor 0 \[2,3\] differ in dimension 1 \(2 vs 3\); only dim 0 may differ/);
    expect(() => cat([x, tensor([1, 2, 3])])).toThrow(/cat: tensor 1 \[3\] has 1 dims but tensor 0 \[2,3\] has 2/);
    expect(() => stack([x, x.slice(0, 0, 1)])).toThrow(/stack: tensor 1 \[1,3\] differs from tensor 0 \[2,3\]/);
    expect(() => x.split([1, 1], 1)).toThrow(/split: sizes \[1,1\] add up to 2 but dimension 1 of \[2,3\] has 3/);
  });
});
