// Every differentiable op passes a float64 central-difference gradient check.
import { gradcheck, manualSeed, rand, randn, type Tensor } from "nbforge";

const f64 = { dtype: "float64" as const, requiresGrad: true };
const pos = (shape: number[]) => rand(shape, { ...f64, low: 0.5, high: 2 });
const nrm = (shape: number[]) => randn(shape, f64);

const cases: [string, (...x: Tensor[]) => Tensor, () => Tensor[]][] = [
  ["add (broadcast)", (a, b) => a.add(b), () => [nrm([2, 3]), nrm([3])]],
  ["sub (broadcast)", (a, b) => a.sub(b), () => [nrm([2, 1, 3]), nrm([4, 1])]],
  ["mul", (a, b) => a.mul(b), () => [nrm([3, 2]), nrm([3, 1])]],
  ["div", (a, b) => a.div(b), () => [nrm([2, 3]), pos([2, 3])]],
  ["pow", (a, b) => a.pow(b), () => [pos([2, 3]), nrm([3])]],
  ["maximum", (a, b) => a.maximum(b), () => [nrm([2, 3]), nrm([2, 3])]],
  ["minimum", (a, b) => a.minimum(b), () => [nrm([2, 3]), nrm([3])]],
  ["neg", (a) => a.neg(), () => [nrm([5])]],
  ["exp", (a) => a.exp(), () => [nrm([5])]],
  ["log", (a) => a.log(), () => [pos([5])]],
  ["sqrt", (a) => a.sqrt(), () => [pos([5])]],
  ["rsqrt", (a) => a.rsqrt(), () => [pos([5])]],
  ["tanh", (a) => a.tanh(), () => [nrm([5])]],
  ["sigmoid", (a) => a.sigmoid(), () => [nrm([5])]],
  ["relu", (a) => a.relu(), () => [nrm([6])]],
  ["gelu erf", (a) => a.gelu(), () => [nrm([6])]],
  ["gelu tanh", (a) => a.gelu("tanh"), () => [nrm([6])]],
  ["silu", (a) => a.silu(), () => [nrm([6])]],
  ["abs", (a) => a.abs(), () => [nrm([6])]],
  ["sum over dims", (a) => a.sum([0, 2]), () => [nrm([2, 3, 2])]],
  ["sum all", (a) => a.sum(), () => [nrm([3, 2])]],
  ["mean keepdim", (a) => a.mean(1, true), () => [nrm([3, 4])]],
  ["max along dim", (a) => a.max(1), () => [nrm([3, 4])]],
  ["min all", (a) => a.min(), () => [nrm([3, 4])]],
  ["var", (a) => a.var(0), () => [nrm([4, 3])]],
  ["var correction 0 keepdim", (a) => a.var(1, { correction: 0, keepdim: true }), () => [nrm([2, 5])]],
  ["softmax", (a) => a.softmax(-1), () => [nrm([2, 4])]],
  ["softmax dim 0", (a) => a.softmax(0), () => [nrm([3, 2])]],
  ["log_softmax", (a) => a.logSoftmax(1), () => [nrm([2, 4, 2])]],
  ["matmul", (a, b) => a.matmul(b), () => [nrm([3, 4]), nrm([4, 2])]],
  ["batched matmul (broadcast)", (a, b) => a.matmul(b), () => [nrm([2, 1, 2, 3]), nrm([3, 3, 2])]],
  ["matvec", (a, b) => a.matmul(b), () => [nrm([3, 4]), nrm([4])]],
  ["reshape", (a) => a.reshape(3, 2).mul(a.reshape(3, 2)), () => [nrm([2, 3])]],
  ["permute + contiguous", (a) => a.permute(2, 0, 1).contiguous(), () => [nrm([2, 3, 2])]],
  ["transpose", (a) => a.transpose(0, 1).exp(), () => [nrm([2, 3])]],
  ["slice with step", (a) => a.slice(1, 1, 5, 2).mul(2), () => [nrm([2, 6])]],
  ["expand", (a) => a.expand(3, 2, 4).tanh(), () => [nrm([2, 1])]],
  ["squeeze / unsqueeze", (a) => a.unsqueeze(0).squeeze(0).unsqueeze(2).sum(1), () => [nrm([2, 3])]],
  ["clone", (a) => a.clone().mul(a), () => [nrm([4])]],
  ["scalar operands", (a) => a.mul(3).add(1).div(2).sub(0.5).pow(2), () => [nrm([4])]],
  ["mlp: gelu(x @ w).mean()", (x, w) => x.matmul(w).gelu().mean(), () => [nrm([3, 4]), nrm([4, 5])]],
];

describe("gradcheck (float64, central differences)", () => {
  beforeAll(() => manualSeed(Date.now() % 1_000_000_007));
  for (const [name, fn, make] of cases) {
    test(name, () => {
      expect(gradcheck(fn, make())).toBe(true);
    });
  }

  test("gradcheck catches a wrong gradient", () => {
    const x = randn([3], f64);
    // detach() hides part of the function from autograd, so the gradient is wrong
    expect(() => gradcheck((a) => a.mul(a.detach()), [x])).toThrow(/gradcheck: input 0/);
  });

  test("gradcheck needs float64", () => {
    expect(() => gradcheck((a) => a.exp(), [randn([2], { requiresGrad: true })])).toThrow(/needs float64/);
  });
});
