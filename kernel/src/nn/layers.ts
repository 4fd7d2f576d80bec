// The basic layers, with PyTorch's parameter names and layouts so their state
// dicts match torch.nn and Hugging Face: Linear (weight [out, in]), GPT-2's
// Conv1D (weight [in, out]), Embedding, LayerNorm, RMSNorm, Dropout.
import { Generator, defaultGeneratorOf, full, rand, randn, zeros } from "../tensor/creation.js";
import type { DType } from "../tensor/dtype.js";
import { dropout } from "../tensor/ops/dropout.js";
import { embedding } from "../tensor/ops/embedding.js";
import { layerNorm, rmsNorm } from "../tensor/ops/norm.js";
import { linear, type LinearLayout } from "../tensor/ops/linear.js";
import { fmtShape, type Tensor } from "../tensor/tensor.js";
import { Module } from "./module.js";

/** How new parameters are initialised: the generator (default: the global one) and dtype (default float32). */
export interface InitOptions {
  generator?: Generator;
  dtype?: DType;
}

function gen(o: InitOptions): Generator {
  return o.generator ?? defaultGeneratorOf();
}

function lastDim(x: Tensor, want: number, who: string, name: string): void {
  if (x.shape[x.ndim - 1] !== want) {
    throw new RangeError(`${who}: input ${fmtShape(x.shape)} must end in ${name} = ${want}`);
  }
}

/**
 * x [..., in] through a weight stored [out, in] ("out_in", Linear) or [in, out]
 * ("in_out", Conv1D), plus b: the fused native linear op on the CPU; elsewhere
 * one flat matmul over all leading dims (a batched [B, T, in] product would run B
 * small products, and B weight-gradient products plus a sum in backward).
 */
export function project(x: Tensor, w: Tensor, b: Tensor | null, layout: LinearLayout): Tensor {
  if (x.device === "cpu" && w.device === "cpu") return linear(x, w, b, layout);
  const lead = x.shape.slice(0, -1);
  const wt = layout === "out_in" ? w.mT : w;
  let y = (x.ndim === 2 ? x : x.reshape([-1, x.shape[x.ndim - 1]])).matmul(wt);
  if (b !== null) y = y.add(b);
  return x.ndim === 2 ? y : y.reshape([...lead, wt.shape[1]]);
}

/** Any module that maps [..., in] to [..., out]: Linear, Conv1D and LoRALinear. */
export interface Projection extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  forward(x: Tensor): Tensor;
}

export interface LinearOptions extends InitOptions {
  bias?: boolean;
  /** Standard deviation of a normal init (GPT-2 style); default: PyTorch's uniform(-1/sqrt(in), 1/sqrt(in)). */
  std?: number;
}

/** y = x Wᵀ + b with weight [out, in] (torch.nn.Linear). */
export class Linear extends Module implements Projection {
  constructor(readonly inFeatures: number, readonly outFeatures: number, options: LinearOptions = {}) {
    super();
    const g = gen(options);
    const dtype = options.dtype ?? "float32";
    const bound = 1 / Math.sqrt(inFeatures);
    const w = options.std !== undefined
      ? randn([outFeatures, inFeatures], { std: options.std, generator: g, dtype })
      : rand([outFeatures, inFeatures], { low: -bound, high: bound, generator: g, dtype });
    this.registerParameter("weight", w);
    if (options.bias ?? true) {
      this.registerParameter("bias", options.std !== undefined ? zeros([outFeatures], { dtype }) : rand([outFeatures], { low: -bound, high: bound, generator: g, dtype }));
    }
  }
  get weight(): Tensor { return this.param("weight"); }
  get bias(): Tensor | null { return this.hasParameter("bias") ? this.param("bias") : null; }

  forward(x: Tensor): Tensor {
    lastDim(x, this.inFeatures, "Linear", "in_features");
    const b = this.bias;
    return project(x, this.weight, b, "out_in");
  }
}

/** GPT-2's Conv1D: y = x W + b with weight [in, out] (the layout of Hugging Face GPT-2 checkpoints). */
export class Conv1D extends Module implements Projection {
  constructor(readonly inFeatures: number, readonly outFeatures: number, options: InitOptions & { std?: number } = {}) {
    super();
    const dtype = options.dtype ?? "float32";
    this.registerParameter("weight", randn([inFeatures, outFeatures], { std: options.std ?? 0.02, generator: gen(options), dtype }));
    this.registerParameter("bias", zeros([outFeatures], { dtype }));
  }
  get weight(): Tensor { return this.param("weight"); }
  get bias(): Tensor { return this.param("bias"); }

  forward(x: Tensor): Tensor {
    lastDim(x, this.inFeatures, "Conv1D", "nx");
    return project(x, this.weight, this.bias, "in_out");
  }
}

/** A lookup table [num, dim] indexed by integer ids (torch.nn.Embedding). */
export class Embedding extends Module {
  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, options: InitOptions & { std?: number; paddingIdx?: number } = {}) {
    super();
    this.paddingIdx = options.paddingIdx ?? null;
    this.registerParameter("weight", randn([numEmbeddings, embeddingDim], { std: options.std ?? 1, generator: gen(options), dtype: options.dtype ?? "float32" }));
  }
  readonly paddingIdx: number | null;
  get weight(): Tensor { return this.param("weight"); }

  forward(ids: Tensor): Tensor {
    return embedding(ids, this.weight, this.paddingIdx);
  }
}

/** Layer normalisation over the last dim with weight and (optional) bias (torch.nn.LayerNorm). */
export class LayerNorm extends Module {
  constructor(readonly normalizedShape: number, readonly eps = 1e-5, options: { bias?: boolean; dtype?: DType } = {}) {
    super();
    const dtype = options.dtype ?? "float32";
    this.registerParameter("weight", full([normalizedShape], 1, { dtype }));
    if (options.bias ?? true) this.registerParameter("bias", zeros([normalizedShape], { dtype }));
  }
  forward(x: Tensor): Tensor {
    lastDim(x, this.normalizedShape, "LayerNorm", "normalized_shape");
    return layerNorm(x, this.normalizedShape, this.param("weight"), this.hasParameter("bias") ? this.param("bias") : null, this.eps);
  }
}

/** Root-mean-square normalisation over the last dim with a weight (Llama's RMSNorm). */
export class RMSNorm extends Module {
  constructor(readonly normalizedShape: number, readonly eps = 1e-6, options: { dtype?: DType } = {}) {
    super();
    this.registerParameter("weight", full([normalizedShape], 1, { dtype: options.dtype ?? "float32" }));
  }
  forward(x: Tensor): Tensor {
    lastDim(x, this.normalizedShape, "RMSNorm", "hidden_size");
    return rmsNorm(x, this.normalizedShape, this.param("weight"), this.eps);
  }
}

/** Inverted dropout, active only in training mode; seeded by its generator. */
export class Dropout extends Module {
  constructor(readonly p = 0.1, readonly generator?: Generator) {
    super();
    if (!(p >= 0 && p <= 1)) throw new RangeError(`Dropout: p must be in [0, 1], got ${p}`);
  }
  forward(x: Tensor): Tensor {
    return dropout(x, this.p, { training: this.training, generator: this.generator });
  }
}
