// Finite-difference gradient check in float64: compares the Jacobian autograd
// computes (one backward per output element) with central differences.
import { noGrad } from "./autograd.js";
import { tidy } from "./scope.js";
import { Tensor, fmtShape } from "./tensor.js";
import { tensor } from "./creation.js";

export interface GradcheckOptions {
  /** Finite-difference step (default 1e-6). */
  eps?: number;
  /** Absolute and relative tolerance (defaults 1e-5 and 1e-3, as in PyTorch). */
  atol?: number;
  rtol?: number;
}

function leafFrom(values: Float64Array, shape: readonly number[], requiresGrad: boolean): Tensor {
  return tensor(values, { shape, dtype: "float64", requiresGrad });
}

/** Returns true when analytical and numerical gradients agree; throws an Error describing the worst mismatch otherwise. */
export function gradcheck(fn: (...inputs: Tensor[]) => Tensor, inputs: readonly Tensor[], options: GradcheckOptions = {}): boolean {
  const eps = options.eps ?? 1e-6;
  const atol = options.atol ?? 1e-5;
  const rtol = options.rtol ?? 1e-3;
  inputs.forEach((x, i) => {
    if (x.dtype !== "float64") throw new TypeError(`gradcheck: input ${i} is ${x.dtype}; gradcheck needs float64 inputs (use .to("float64"))`);
  });
  const base = inputs.map((x) => x.data() as Float64Array);
  const wants = inputs.map((x) => x.requiresGrad);
  if (!wants.some(Boolean)) throw new Error("gradcheck: no input requires gradients");

  const evaluate = (vals: Float64Array[]): Float64Array =>
    tidy(() =>
      noGrad(() => {
        const out = fn(...vals.map((v, i) => leafFrom(v, inputs[i].shape, false)));
        if (out.dtype !== "float64") throw new TypeError(`gradcheck: fn returned ${out.dtype}; it must return float64`);
        return out.data() as Float64Array;
      }),
    );

  return tidy(() => {
    const leaves = base.map((v, i) => leafFrom(v, inputs[i].shape, wants[i]));
    const out = fn(...leaves);
    const nOut = out.numel;
    const analytical = leaves.map((l) => new Float64Array(nOut * l.numel));
    for (let j = 0; j < nOut; j++) {
      for (const l of leaves) l.zeroGrad();
      const onehot = new Float64Array(nOut);
      onehot[j] = 1;
      out.backward(tensor(onehot, { shape: out.shape, dtype: "float64" }));
      leaves.forEach((l, i) => {
        if (!wants[i] || l.grad === null) return;
        analytical[i].set(l.grad.data() as Float64Array, j * l.numel);
      });
    }
    for (let i = 0; i < leaves.length; i++) {
      if (!wants[i]) continue;
      const n = leaves[i].numel;
      for (let k = 0; k < n; k++) {
        const plus = base.map((v) => v);
        const minus = base.map((v) => v);
        plus[i] = Float64Array.from(base[i]);
        minus[i] = Float64Array.from(base[i]);
        plus[i][k] += eps;
        minus[i][k] -= eps;
        const fp = evaluate(plus);
        const fm = evaluate(minus);
        for (let j = 0; j < nOut; j++) {
          const num = (fp[j] - fm[j]) / (2 * eps);
          const ana = analytical[i][j * n + k];
          if (!(Math.abs(num - ana) <= atol + rtol * Math.abs(num))) {
            throw new Error(`gradcheck: input ${i} ${fmtShape(inputs[i].shape)}, element ${k}, output element ${j}: analytical ${ana} vs numerical ${num}`);
          }
        }
      }
    }
    return true;
  });
}
