// Sampling: topk along a dim (indices from a native partial sort; values are a
// gather of them, so the gradient flows through gather's) and multinomial draws
// from rows of probabilities with the seeded Philox Generator.
import { isFloat, type DType } from "../dtype.js";
import { defaultGeneratorOf, type Generator } from "../creation.js";
import { kernelsFor } from "../device.js";
import { Tensor, asContiguous, fmtShape } from "../tensor.js";
import { gather } from "./indexing.js";
import { allDevices, defineOp } from "./registry.js";
import { normDim } from "./views.js";

function lastDimView(t: Tensor, dim: number): Tensor {
  if (dim === t.ndim - 1) return t;
  const perm = t.shape.map((_, i) => i);
  perm[dim] = t.ndim - 1;
  perm[t.ndim - 1] = dim;
  return t.view_(perm.map((d) => t.shape[d]), perm.map((d) => t.strides[d]), t.offset);
}

interface TopkAttrs { k: number; dim: number; largest: boolean }

const topkOp = defineOp<TopkAttrs>({
  name: "topk",
  infer: ([x], { k, dim }) => {
    if (!Number.isInteger(k) || k < 0 || k > x.shape[dim]) {
      throw new RangeError(`topk: k = ${k} is out of range for dimension ${dim} of size ${x.shape[dim]} in ${fmtShape(x.shape)}; pass 0 <= k <= ${x.shape[dim]}`);
    }
    const shape = [...x.shape];
    shape[dim] = k;
    return { shape, dtype: "int64" };
  },
  kernels: allDevices(
    ([x], { k, dim, largest }) => {
      const moved = lastDimView(x, dim);
      const wt: DType = x.dtype === "bfloat16" || x.dtype === "float16" ? "float32" : x.dtype;
      const src = asContiguous(moved, wt);
      const n = moved.shape[moved.ndim - 1];
      const rows = n === 0 ? 0 : moved.numel / n;
      const resShape = [...moved.shape];
      resShape[resShape.length - 1] = k;
      const res = Tensor.empty(resShape, "int64", false, x.device);
      kernelsFor(x.device).tensorTopk(src.storage.native, src.offset, rows, n, k, largest, res.storage.native, 0);
      if (src !== moved) src.dispose();
      if (moved !== x) moved.dispose();
      if (dim === x.ndim - 1) return res;
      const back = lastDimView(res, dim);
      res.dispose();
      return back;
    },
  ),
});

/** The k largest (or smallest) values along dim, sorted, and their int64 indices (PyTorch's torch.topk). */
export function topk(x: Tensor, k: number, dim = -1, largest = true): { values: Tensor; indices: Tensor } {
  if (x.dtype === "bool") throw new TypeError("topk: not defined for bool tensors; convert with .to(\"int64\")");
  const xv = x.ndim === 0 ? x.reshape([1]) : x;
  const d = normDim(dim, xv.ndim, "topk");
  const indices = topkOp([xv], { k, dim: d, largest });
  let values = gather(xv, d, indices);
  if (x.ndim === 0) {
    values = values.reshape([]);
    return { values, indices: indices.reshape([]) };
  }
  return { values, indices };
}

export interface MultinomialOptions {
  /** Draw with replacement (default false, as in PyTorch). */
  replacement?: boolean;
  /** The generator (default: the global one that manualSeed seeds). */
  generator?: Generator;
}

interface MultinomialAttrs { samples: number; replacement: boolean; generator: Generator }

const multinomialOp = defineOp<MultinomialAttrs>({
  name: "multinomial",
  infer: ([p], { samples, replacement }) => {
    if (!isFloat(p.dtype)) throw new TypeError(`multinomial: probabilities must be floating-point, got ${p.dtype}; cast with .to("float32")`);
    if (p.ndim !== 1 && p.ndim !== 2) throw new RangeError(`multinomial: probabilities must be 1-d or 2-d (rows of categories), got ${fmtShape(p.shape)}`);
    const n = p.shape[p.ndim - 1];
    if (n === 0) throw new RangeError(`multinomial: probabilities ${fmtShape(p.shape)} have no categories`);
    if (!Number.isInteger(samples) || samples < 0) throw new RangeError(`multinomial: numSamples must be a non-negative integer, got ${samples}`);
    if (!replacement && samples > n) {
      throw new RangeError(`multinomial: cannot draw ${samples} samples without replacement from ${n} categories; draw at most ${n} or pass replacement: true`);
    }
    return { shape: p.ndim === 1 ? [samples] : [p.shape[0], samples], dtype: "int64" };
  },
  kernels: allDevices(
    ([p], { samples, replacement, generator }, out) => {
      const src = asContiguous(p, "float64");
      const n = p.shape[p.ndim - 1];
      const rows = p.ndim === 1 ? 1 : p.shape[0];
      const res = Tensor.empty(out.shape, "int64", false, p.device);
      try {
        generator.draw((lo, hi, counter) =>
          kernelsFor(p.device).tensorMultinomial(src.storage.native, src.offset, rows, n, samples, replacement, res.storage.native, 0, lo, hi, counter, "multinomial"));
      } catch (e) {
        res.dispose();
        throw e;
      } finally {
        if (src !== p) src.dispose();
      }
      return res;
    },
  ),
});

/**
 * numSamples int64 category indices per row of non-negative weights p (1-d, or
 * 2-d with one distribution per row; rows need not sum to 1), drawn with the
 * seeded generator: the same seed gives the same samples.
 */
export function multinomial(p: Tensor, numSamples: number, options: MultinomialOptions = {}): Tensor {
  return multinomialOp([p], { samples: numSamples, replacement: options.replacement ?? false, generator: options.generator ?? defaultGeneratorOf() });
}
