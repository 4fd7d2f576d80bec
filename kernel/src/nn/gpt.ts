// GPT-2 (Radford et al. 2019) with Hugging Face's module names, so
// model.safetensors from transformers' GPT2LMHeadModel loads as is:
// transformer.{wte,wpe,h.N.{ln_1,attn.{c_attn,c_proj},ln_2,mlp.{c_fc,c_proj}},ln_f}
// and lm_head tied to wte. Projections are GPT-2's Conv1D (weight [in, out]).
import { Generator } from "../tensor/creation.js";
import type { DType } from "../tensor/dtype.js";
import type { Tensor } from "../tensor/tensor.js";
import { configFrom, readCheckpointTensors, readConfigJson } from "../io/checkpoint.js";
import { attend } from "./attention.js";
import { CausalLM, type ForwardOptions } from "./causal-lm.js";
import { bool, checkModelType, int, num, str, type HFConfig } from "./hf-config.js";
import type { KVCache } from "./kv-cache.js";
import { Conv1D, Dropout, Embedding, LayerNorm, type Projection } from "./layers.js";
import { Module, ModuleList } from "./module.js";

export interface GPTConfig {
  vocabSize: number;
  /** Context length (n_positions). */
  nPositions: number;
  nEmbd: number;
  nLayer: number;
  nHead: number;
  /** MLP width (default 4 * nEmbd). */
  nInner?: number;
  /** "gelu_new" (tanh approximation, GPT-2's default) or "gelu" (erf). */
  activation?: "gelu_new" | "gelu" | "gelu_pytorch_tanh";
  layerNormEpsilon?: number;
  embdPdrop?: number;
  attnPdrop?: number;
  residPdrop?: number;
  /** GPT-2's scale_attn_by_inverse_layer_idx (default false). */
  scaleAttnByInverseLayerIdx?: boolean;
  tieWordEmbeddings?: boolean;
  /** Adds a scalar value head v_head (reward / critic model). */
  valueHead?: boolean;
  /** Seed of the weight initialisation (default 0). */
  seed?: number;
  dtype?: DType;
}

type Resolved = Required<Omit<GPTConfig, "dtype">> & { dtype: DType };

function resolve(c: GPTConfig): Resolved {
  for (const k of ["vocabSize", "nPositions", "nEmbd", "nLayer", "nHead"] as const) {
    if (!(Number.isInteger(c[k]) && c[k] > 0)) throw new RangeError(`GPT: config.${k} must be a positive integer, got ${c[k]}`);
  }
  if (c.nEmbd % c.nHead !== 0) throw new RangeError(`GPT: nEmbd ${c.nEmbd} must be divisible by nHead ${c.nHead}`);
  return {
    nInner: 4 * c.nEmbd, activation: "gelu_new", layerNormEpsilon: 1e-5, embdPdrop: 0.1, attnPdrop: 0.1, residPdrop: 0.1,
    scaleAttnByInverseLayerIdx: false, tieWordEmbeddings: true, valueHead: false, seed: 0, dtype: "float32",
    ...Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined && v !== null)),
  } as Resolved;
}

/** GPT-2 multi-head causal self-attention: one Conv1D makes q, k, v; another projects back. */
export class GPT2Attention extends Module {
  readonly nHead: number;
  readonly headDim: number;
  private readonly scale: number;
  constructor(readonly config: Resolved, readonly layerIdx: number, gen: Generator) {
    super();
    const C = config.nEmbd;
    this.nHead = config.nHead;
    this.headDim = C / config.nHead;
    this.scale = 1 / Math.sqrt(this.headDim) / (config.scaleAttnByInverseLayerIdx ? layerIdx + 1 : 1);
    this.registerModule("c_attn", new Conv1D(C, 3 * C, { generator: gen, dtype: config.dtype }));
    // GPT-2 scales the residual projections by 1/sqrt(2 * n_layer) at init
    this.registerModule("c_proj", new Conv1D(C, C, { generator: gen, dtype: config.dtype, std: 0.02 / Math.sqrt(2 * config.nLayer) }));
    // attention-probability dropout (applied inside attend, which then skips the fused kernel)
    this.registerModule("attn_dropout", new Dropout(config.attnPdrop, gen));
    this.registerModule("resid_dropout", new Dropout(config.residPdrop, gen));
  }

  forward(x: Tensor, mask: Tensor | null, cache: KVCache | null): Tensor {
    const [B, T, C] = x.shape;
    const qkv = this.child<Projection>("c_attn").forward(x);
    const [q, k, v] = qkv.split(C, 2).map((t) => t.reshape([B, T, this.nHead, this.headDim]).permute(0, 2, 1, 3));
    const kv = cache === null ? { k, v } : cache.update(this.layerIdx, k, v);
    const drop = this.child<Dropout>("attn_dropout");
    const y = attend(q, kv.k, kv.v, { scale: this.scale, mask, dropoutP: drop.p, training: drop.training, generator: drop.generator });
    const merged = y.permute(0, 2, 1, 3).reshape([B, T, C]);
    return this.child<Dropout>("resid_dropout").forward(this.child<Projection>("c_proj").forward(merged));
  }
}

/** GPT-2's MLP: c_fc to nInner, GELU, c_proj back, dropout. */
export class GPT2MLP extends Module {
  constructor(readonly config: Resolved, gen: Generator) {
    super();
    this.registerModule("c_fc", new Conv1D(config.nEmbd, config.nInner, { generator: gen, dtype: config.dtype }));
    this.registerModule("c_proj", new Conv1D(config.nInner, config.nEmbd, { generator: gen, dtype: config.dtype, std: 0.02 / Math.sqrt(2 * config.nLayer) }));
    this.registerModule("dropout", new Dropout(config.residPdrop, gen));
  }
  forward(x: Tensor): Tensor {
    const h = this.child<Projection>("c_fc").forward(x).gelu(this.config.activation === "gelu" ? "none" : "tanh");
    return this.child<Dropout>("dropout").forward(this.child<Projection>("c_proj").forward(h));
  }
}

/** A pre-norm transformer block: x + attn(ln_1(x)), then + mlp(ln_2(x)). */
export class GPT2Block extends Module {
  constructor(config: Resolved, layerIdx: number, gen: Generator) {
    super();
    this.registerModule("ln_1", new LayerNorm(config.nEmbd, config.layerNormEpsilon, { dtype: config.dtype }));
    this.registerModule("attn", new GPT2Attention(config, layerIdx, gen));
    this.registerModule("ln_2", new LayerNorm(config.nEmbd, config.layerNormEpsilon, { dtype: config.dtype }));
    this.registerModule("mlp", new GPT2MLP(config, gen));
  }
  forward(x: Tensor, mask: Tensor | null, cache: KVCache | null): Tensor {
    const h = x.add(this.child<GPT2Attention>("attn").forward(this.child<LayerNorm>("ln_1").forward(x), mask, cache));
    return h.add(this.child<GPT2MLP>("mlp").forward(this.child<LayerNorm>("ln_2").forward(h)));
  }
}

/** The GPT-2 body (Hugging Face's GPT2Model): embeddings, blocks, final norm. */
export class GPT2Model extends Module {
  constructor(readonly config: Resolved, gen: Generator) {
    super();
    this.registerModule("wte", new Embedding(config.vocabSize, config.nEmbd, { std: 0.02, generator: gen, dtype: config.dtype }));
    this.registerModule("wpe", new Embedding(config.nPositions, config.nEmbd, { std: 0.01, generator: gen, dtype: config.dtype }));
    this.registerModule("drop", new Dropout(config.embdPdrop, gen));
    this.registerModule("h", new ModuleList(Array.from({ length: config.nLayer }, (_, i) => new GPT2Block(config, i, gen))));
    this.registerModule("ln_f", new LayerNorm(config.nEmbd, config.layerNormEpsilon, { dtype: config.dtype }));
  }
}

/** GPT-2 language model (GPT2LMHeadModel), optionally with a scalar value head. */
export class GPT extends CausalLM {
  readonly config: Readonly<Resolved>;
  constructor(config: GPTConfig) {
    super();
    const c = resolve(config);
    this.config = c;
    const gen = new Generator(c.seed);
    const body = this.registerModule("transformer", new GPT2Model(c, gen));
    this.addHeads(body.child<Embedding>("wte"), { tie: c.tieWordEmbeddings, valueHead: c.valueHead, std: 0.02, generator: gen, dtype: c.dtype });
  }

  get numLayers(): number { return this.config.nLayer; }
  get vocabSize(): number { return this.config.vocabSize; }
  get hiddenSize(): number { return this.config.nEmbd; }

  hiddenStates(ids: Tensor, options: ForwardOptions = {}): Tensor {
    const body = this.child<GPT2Model>("transformer");
    const dtype = this.config.dtype === "float64" ? "float64" : "float32";
    const inp = this.bodyInput(ids, options, this.config.nPositions, dtype);
    const tok = body.child<Embedding>("wte").forward(ids);
    let x = body.child<Dropout>("drop").forward(tok.add(body.child<Embedding>("wpe").forward(inp.positions)));
    for (const block of body.child<ModuleList<GPT2Block>>("h")) x = block.forward(x, inp.mask, inp.cache);
    return body.child<LayerNorm>("ln_f").forward(x);
  }

  /** This model's config in Hugging Face's GPT2Config form. */
  hfConfig(): HFConfig {
    const c = this.config;
    return {
      architectures: ["GPT2LMHeadModel"], model_type: "gpt2", vocab_size: c.vocabSize, n_positions: c.nPositions, n_ctx: c.nPositions,
      n_embd: c.nEmbd, n_layer: c.nLayer, n_head: c.nHead, n_inner: c.nInner, activation_function: c.activation,
      layer_norm_epsilon: c.layerNormEpsilon, embd_pdrop: c.embdPdrop, attn_pdrop: c.attnPdrop, resid_pdrop: c.residPdrop,
      scale_attn_weights: true, scale_attn_by_inverse_layer_idx: c.scaleAttnByInverseLayerIdx, tie_word_embeddings: c.tieWordEmbeddings,
      ...(c.valueHead ? { nbforge_value_head: true } : {}),
    };
  }

  /** A GPTConfig from a Hugging Face GPT-2 config.json object. */
  static configFromHF(c: HFConfig): GPTConfig {
    checkModelType(c, ["gpt2"], "GPT");
    if (c.scale_attn_weights === false) throw new Error("GPT: config.json sets scale_attn_weights false, which nbforge does not support");
    const act = str(c, "activation_function", "gelu_new");
    if (act !== "gelu_new" && act !== "gelu" && act !== "gelu_pytorch_tanh") {
      throw new Error(`GPT: activation_function "${act}" is not supported (use "gelu_new", "gelu_pytorch_tanh" or "gelu")`);
    }
    const nEmbd = int(c, "n_embd");
    const inner = c.n_inner;
    return {
      vocabSize: int(c, "vocab_size"), nPositions: int(c, "n_positions"), nEmbd, nLayer: int(c, "n_layer"), nHead: int(c, "n_head"),
      nInner: inner === null || inner === undefined ? 4 * nEmbd : int(c, "n_inner"), activation: act,
      layerNormEpsilon: num(c, "layer_norm_epsilon", 1e-5), embdPdrop: num(c, "embd_pdrop", 0.1), attnPdrop: num(c, "attn_pdrop", 0.1),
      residPdrop: num(c, "resid_pdrop", 0.1), scaleAttnByInverseLayerIdx: bool(c, "scale_attn_by_inverse_layer_idx", false),
      tieWordEmbeddings: bool(c, "tie_word_embeddings", true), valueHead: bool(c, "nbforge_value_head", false),
    };
  }

  /** A freshly initialised model from a Hugging Face config.json: the parsed object, or a folder / file path holding it. */
  static fromConfig(config: HFConfig | string, overrides: Partial<GPTConfig> = {}): GPT {
    return new GPT({ ...GPT.configFromHF(configFrom(config)), ...overrides });
  }

  /** Loads a Hugging Face GPT-2 checkpoint folder (config.json + model.safetensors or shards). */
  static fromPretrained(dir: string, overrides: Partial<GPTConfig> = {}): GPT {
    const model = new GPT({ ...GPT.configFromHF(readConfigJson(dir)), ...overrides });
    const raw = readCheckpointTensors(dir);
    const sd: Record<string, Tensor> = {};
    for (const [name, t] of Object.entries(raw)) {
      // GPT2Model checkpoints (e.g. the original "gpt2") omit the "transformer." prefix;
      // attn.bias / attn.masked_bias are causal-mask buffers that nbforge does not need
      if (/\.attn\.(masked_)?bias$/.test(name)) {
        t.dispose();
        continue;
      }
      const key = name.startsWith("transformer.") || name.startsWith("lm_head.") || name.startsWith("v_head.") ? name : `transformer.${name}`;
      sd[key] = t;
    }
    model.loadPretrained(sd);
    return model;
  }
}

