// Forward and backward of every op against PyTorch, in float32 (rel. error <= 1e-5)
// and float64 (<= 1e-10), on fresh random inputs; elementwise ops run on both
// kernel paths (AVX2 and portable).
import { kernelPath, manualSeed, rand, randn, type DType, type Tensor } from "nbforge";
import { relError, runTorch, type RefCase, type RefResult } from "./torch-ref.js";

interface OpCase {
  name: string;
  code: string;
  shapes: number[][];
  fn: (...x: Tensor[]) => Tensor;
  /** input generator: "normal" (default), "positive" (0.5..2) */
  domain?: ("normal" | "positive")[];
  backward?: boolean;
  /** run again on the portable path */
  elementwise?: boolean;
}

const OPS: OpCase[] = [
  { name: "add", code: "x[0] + x[1]", shapes: [[4, 5, 6], [5, 1]], fn: (a, b) => a.add(b), elementwise: true },
  { name: "sub", code: "x[0] - x[1]", shapes: [[3, 40], [40]], fn: (a, b) => a.sub(b), elementwise: true },
  { name: "mul", code: "x[0] * x[1]", shapes: [[2, 3, 70], [2, 1, 70]], fn: (a, b) => a.mul(b), elementwise: true },
  { name: "div", code: "x[0] / x[1]", shapes: [[33, 17], [33, 17]], fn: (a, b) => a.div(b), domain: ["normal", "positive"], elementwise: true },
  { name: "pow", code: "x[0] ** x[1]", shapes: [[6, 7], [7]], fn: (a, b) => a.pow(b), domain: ["positive", "normal"], elementwise: true },
  { name: "pow_scalar", code: "x[0] ** 3", shapes: [[50]], fn: (a) => a.pow(3), elementwise: true },
  { name: "maximum", code: "torch.maximum(x[0], x[1])", shapes: [[8, 9], [9]], fn: (a, b) => a.maximum(b), elementwise: true },
  { name: "minimum", code: "torch.minimum(x[0], x[1])", shapes: [[8, 9], [8, 1]], fn: (a, b) => a.minimum(b), elementwise: true },
  { name: "neg", code: "-x[0]", shapes: [[100]], fn: (a) => a.neg(), elementwise: true },
  { name: "exp", code: "torch.exp(x[0])", shapes: [[300]], fn: (a) => a.exp(), elementwise: true },
  { name: "log", code: "torch.log(x[0])", shapes: [[300]], fn: (a) => a.log(), domain: ["positive"], elementwise: true },
  { name: "sqrt", code: "torch.sqrt(x[0])", shapes: [[300]], fn: (a) => a.sqrt(), domain: ["positive"], elementwise: true },
  { name: "rsqrt", code: "torch.rsqrt(x[0])", shapes: [[300]], fn: (a) => a.rsqrt(), domain: ["positive"], elementwise: true },
  { name: "tanh", code: "torch.tanh(x[0])", shapes: [[300]], fn: (a) => a.tanh(), elementwise: true },
  { name: "sigmoid", code: "torch.sigmoid(x[0])", shapes: [[300]], fn: (a) => a.sigmoid(), elementwise: true },
  { name: "relu", code: "torch.relu(x[0])", shapes: [[300]], fn: (a) => a.relu(), elementwise: true },
  { name: "gelu_tanh", code: "F.gelu(x[0], approximate='tanh')", shapes: [[300]], fn: (a) => a.gelu("tanh"), elementwise: true },
  { name: "gelu_erf", code: "F.gelu(x[0])", shapes: [[300]], fn: (a) => a.gelu(), elementwise: true },
  { name: "silu", code: "F.silu(x[0])", shapes: [[300]], fn: (a) => a.silu(), elementwise: true },
  { name: "abs", code: "torch.abs(x[0])", shapes: [[300]], fn: (a) => a.abs(), elementwise: true },
  { name: "sum_all", code: "x[0].sum()", shapes: [[20, 30]], fn: (a) => a.sum() },
  { name: "sum_dim", code: "x[0].sum(1)", shapes: [[4, 5, 6]], fn: (a) => a.sum(1) },
  { name: "sum_dims_keep", code: "x[0].sum((0, 2), keepdim=True)", shapes: [[4, 5, 6]], fn: (a) => a.sum([0, 2], true) },
  { name: "mean_last_keep", code: "x[0].mean(-1, keepdim=True)", shapes: [[7, 33]], fn: (a) => a.mean(-1, true) },
  { name: "mean_all", code: "x[0].mean()", shapes: [[64, 50]], fn: (a) => a.mean() },
  { name: "max_dim", code: "torch.amax(x[0], 1)", shapes: [[6, 7, 3]], fn: (a) => a.max(1) },
  { name: "min_all", code: "torch.amin(x[0])", shapes: [[6, 7]], fn: (a) => a.min() },
  { name: "var_dim", code: "x[0].var(1)", shapes: [[5, 40]], fn: (a) => a.var(1) },
  { name: "var_all_c0", code: "x[0].var(unbiased=False)", shapes: [[5, 8]], fn: (a) => a.var(undefined, { correction: 0 }) },
  { name: "argmax", code: "torch.argmax(x[0], 1)", shapes: [[9, 31]], fn: (a) => a.argmax(1), backward: false },
  { name: "argmin_all", code: "torch.argmin(x[0])", shapes: [[9, 31]], fn: (a) => a.argmin(), backward: false },
  { name: "softmax_last", code: "torch.softmax(x[0], -1)", shapes: [[10, 50]], fn: (a) => a.softmax(-1) },
  { name: "softmax_dim0", code: "torch.softmax(x[0], 0)", shapes: [[10, 6, 3]], fn: (a) => a.softmax(0) },
  { name: "log_softmax", code: "torch.log_softmax(x[0], -1)", shapes: [[10, 50]], fn: (a) => a.logSoftmax(-1) },
  { name: "log_softmax_dim1", code: "torch.log_softmax(x[0], 1)", shapes: [[4, 9, 5]], fn: (a) => a.logSoftmax(1) },
  { name: "matmul", code: "x[0] @ x[1]", shapes: [[64, 128], [128, 96]], fn: (a, b) => a.matmul(b) },
  { name: "matmul_transposed", code: "x[0].mT @ x[1].mT", shapes: [[40, 30], [20, 40]], fn: (a, b) => a.mT.matmul(b.mT) },
  { name: "bmm_broadcast", code: "x[0] @ x[1]", shapes: [[3, 16, 32], [32, 8]], fn: (a, b) => a.matmul(b) },
  { name: "bmm_batch_broadcast", code: "x[0] @ x[1]", shapes: [[2, 1, 5, 6], [3, 6, 4]], fn: (a, b) => a.matmul(b) },
  { name: "matvec", code: "x[0] @ x[1]", shapes: [[7, 6], [6]], fn: (a, b) => a.matmul(b) },
  { name: "vecmat", code: "x[0] @ x[1]", shapes: [[6], [6, 4]], fn: (a, b) => a.matmul(b) },
  {
    name: "views",
    code: "(x[0].permute(2, 0, 1)[:, 1:3, :].reshape(4, -1).expand(2, 4, 8) * x[1]).transpose(0, 2).contiguous()",
    shapes: [[3, 4, 4], [8]],
    fn: (a, b) => a.permute(2, 0, 1).slice(1, 1, 3).reshape(4, -1).expand(2, 4, 8).mul(b).transpose(0, 2).contiguous(),
  },
  {
    name: "mlp_gelu_mean",
    code: "F.gelu(x[0] @ x[1]).mean()",
    shapes: [[16, 64], [64, 64]],
    fn: (x, w) => x.matmul(w).gelu().mean(),
  },
];

const TOL: Record<string, number> = { float32: 1e-5, float64: 1e-10 };

const seed = Date.now() % 1_000_000_007;

interface Prepared {
  op: OpCase;
  dtype: DType;
  ref: RefCase;
}

const prepared: Prepared[] = [];
let refs: Map<string, RefResult>;

function input(shape: number[], domain: "normal" | "positive", dtype: DType): Tensor {
  return domain === "positive" ? rand(shape, { dtype, low: 0.5, high: 2 }) : randn(shape, { dtype });
}

beforeAll(() => {
  manualSeed(seed);
  for (const dtype of ["float32", "float64"] as DType[]) {
    for (const op of OPS) {
      const inputs = op.shapes.map((s, i) => input(s, op.domain?.[i] ?? "normal", dtype));
      const out = op.fn(...inputs);
      const gy = op.backward === false ? undefined : randn([...out.shape], { dtype });
      prepared.push({ op, dtype, ref: { id: `${op.name}_${dtype}`, code: op.code, inputs, gy } });
    }
  }
  refs = runTorch(prepared.map((p) => p.ref));
});

function check(p: Prepared): void {
  const ref = refs.get(p.ref.id) as RefResult;
  const inputs = p.ref.inputs.map((x) => x.detach().requiresGrad_(p.ref.gy !== undefined && x.dtype !== "int64"));
  const out = p.op.fn(...inputs);
  expect(out.shape).toEqual(ref.shape);
  const tol = TOL[p.dtype];
  const fwd = relError(out.data() as Float64Array, ref.out);
  if (!(fwd <= tol)) throw new Error(`${p.ref.id} forward: relative error ${fwd} > ${tol} (seed ${seed})`);
  if (p.ref.gy !== undefined) {
    out.backward(p.ref.gy);
    inputs.forEach((x, i) => {
      const g = ref.grads[i];
      if (g === null) return;
      expect(x.grad).not.toBeNull();
      const err = relError((x.grad as Tensor).data() as Float64Array, g);
      if (!(err <= tol)) throw new Error(`${p.ref.id} backward input ${i}: relative error ${err} > ${tol} (seed ${seed})`);
    });
  }
}

describe("ops against PyTorch", () => {
  afterAll(() => kernelPath("auto"));
  for (const dtype of ["float32", "float64"]) {
    for (const op of OPS) {
      test(`${op.name} ${dtype}`, () => {
        check(prepared.find((p) => p.op === op && p.dtype === dtype) as Prepared);
      });
      if (op.elementwise) {
        test(`${op.name} ${dtype} (portable path)`, () => {
          kernelPath("portable");
          try {
            check(prepared.find((p) => p.op === op && p.dtype === dtype) as Prepared);
          } finally {
            kernelPath("auto");
          }
        });
      }
    }
  }
});
