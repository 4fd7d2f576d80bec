// Llama (Touvron et al. 2023) with Hugging Face's module names, so
// transformers' LlamaForCausalLM checkpoints load as is:
// model.{embed_tokens, layers.N.{input_layernorm, self_attn.{q,k,v,o}_proj,
// post_attention_layernorm, mlp.{gate,up,down}_proj}, norm} and lm_head.
// RMSNorm, rotary position embeddings, SwiGLU MLP and grouped-query attention
// (num_key_value_heads < num_attention_heads: each key/value head serves a group).
import { Generator } from "../tensor/creation.js";
import type { DType } from "../tensor/dtype.js";
import type { Tensor } from "../tensor/tensor.js";
import { configFrom, readCheckpointTensors, readConfigJson } from "../io/checkpoint.js";
import { attend } from "./attention.js";
import { CausalLM, type ForwardOptions } from "./causal-lm.js";
import { bool, checkModelType, int, num, str, type HFConfig } from "./hf-config.js";
import type { KVCache } from "./kv-cache.js";
import { Embedding, Linear, RMSNorm, type Projection } from "./layers.js";
import { Module, ModuleList } from "./module.js";
import { RotaryTables, applyRotary, type RopeScaling } from "./rotary.js";

export interface LlamaConfig {
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  /** Key/value heads for grouped-query attention (default numAttentionHeads). */
  numKeyValueHeads?: number;
  /** Per-head size (default hiddenSize / numAttentionHeads). */
  headDim?: number;
  maxPositionEmbeddings?: number;
  rmsNormEps?: number;
  ropeTheta?: number;
  ropeScaling?: RopeScaling | null;
  attentionBias?: boolean;
  mlpBias?: boolean;
  attentionDropout?: number;
  tieWordEmbeddings?: boolean;
  /** Initialiser standard deviation (default 0.02). */
  initializerRange?: number;
  valueHead?: boolean;
  seed?: number;
  dtype?: DType;
}

type Resolved = Required<Omit<LlamaConfig, "dtype" | "ropeScaling">> & { dtype: DType; ropeScaling: RopeScaling | null };

function resolve(c: LlamaConfig): Resolved {
  for (const k of ["vocabSize", "hiddenSize", "intermediateSize", "numHiddenLayers", "numAttentionHeads"] as const) {
    if (!(Number.isInteger(c[k]) && c[k] > 0)) throw new RangeError(`Llama: config.${k} must be a positive integer, got ${c[k]}`);
  }
  const r = {
    numKeyValueHeads: c.numAttentionHeads, headDim: c.hiddenSize / c.numAttentionHeads, maxPositionEmbeddings: 2048, rmsNormEps: 1e-6,
    ropeTheta: 10000, ropeScaling: null, attentionBias: false, mlpBias: false, attentionDropout: 0, tieWordEmbeddings: false,
    initializerRange: 0.02, valueHead: false, seed: 0, dtype: "float32",
    ...Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined)),
  } as Resolved;
  if (!Number.isInteger(r.headDim)) throw new RangeError(`Llama: hiddenSize ${c.hiddenSize} is not divisible by numAttentionHeads ${c.numAttentionHeads}; set headDim`);
  if (r.numAttentionHeads % r.numKeyValueHeads !== 0) {
    throw new RangeError(`Llama: numAttentionHeads ${r.numAttentionHeads} must be a multiple of numKeyValueHeads ${r.numKeyValueHeads}`);
  }
  return r;
}

/** [B, Hkv, T, D] -> [B, Hkv * groups, T, D], each key/value head repeated for its group of query heads. */
function repeatKV(x: Tensor, groups: number): Tensor {
  if (groups === 1) return x;
  const [B, H, T, D] = x.shape;
  return x.unsqueeze(2).expand([B, H, groups, T, D]).reshape([B, H * groups, T, D]);
}

/** Grouped-query causal self-attention with rotary position embeddings. */
export class LlamaAttention extends Module {
  constructor(readonly config: Resolved, readonly layerIdx: number, gen: Generator) {
    super();
    const c = config;
    const o = { bias: c.attentionBias, std: c.initializerRange, generator: gen, dtype: c.dtype };
    this.registerModule("q_proj", new Linear(c.hiddenSize, c.numAttentionHeads * c.headDim, o));
    this.registerModule("k_proj", new Linear(c.hiddenSize, c.numKeyValueHeads * c.headDim, o));
    this.registerModule("v_proj", new Linear(c.hiddenSize, c.numKeyValueHeads * c.headDim, o));
    this.registerModule("o_proj", new Linear(c.numAttentionHeads * c.headDim, c.hiddenSize, o));
  }

  forward(x: Tensor, rope: { cos: Tensor; sin: Tensor }, mask: Tensor | null, cache: KVCache | null, gen: Generator): Tensor {
    const c = this.config;
    const [B, T] = x.shape;
    const heads = (name: string, n: number) => this.child<Projection>(name).forward(x).reshape([B, T, n, c.headDim]).permute(0, 2, 1, 3);
    const q = applyRotary(heads("q_proj", c.numAttentionHeads), rope.cos, rope.sin);
    const k = applyRotary(heads("k_proj", c.numKeyValueHeads), rope.cos, rope.sin);
    const v = heads("v_proj", c.numKeyValueHeads);
    const kv = cache === null ? { k, v } : cache.update(this.layerIdx, k, v);
    const groups = c.numAttentionHeads / c.numKeyValueHeads;
    const y = attend(q, repeatKV(kv.k, groups), repeatKV(kv.v, groups), {
      scale: 1 / Math.sqrt(c.headDim), mask, dropoutP: c.attentionDropout, training: this.training, generator: gen,
    });
    return this.child<Projection>("o_proj").forward(y.permute(0, 2, 1, 3).reshape([B, T, c.numAttentionHeads * c.headDim]));
  }
}

/** SwiGLU MLP (Shazeer 2020): down(silu(gate(x)) * up(x)). */
export class LlamaMLP extends Module {
  constructor(readonly config: Resolved, gen: Generator) {
    super();
    const c = config;
    const o = { bias: c.mlpBias, std: c.initializerRange, generator: gen, dtype: c.dtype };
    this.registerModule("gate_proj", new Linear(c.hiddenSize, c.intermediateSize, o));
    this.registerModule("up_proj", new Linear(c.hiddenSize, c.intermediateSize, o));
    this.registerModule("down_proj", new Linear(c.intermediateSize, c.hiddenSize, o));
  }
  forward(x: Tensor): Tensor {
    const g = this.child<Projection>("gate_proj").forward(x).silu();
    return this.child<Projection>("down_proj").forward(g.mul(this.child<Projection>("up_proj").forward(x)));
  }
}

export class LlamaDecoderLayer extends Module {
  constructor(config: Resolved, layerIdx: number, gen: Generator) {
    super();
    this.registerModule("input_layernorm", new RMSNorm(config.hiddenSize, config.rmsNormEps, { dtype: config.dtype }));
    this.registerModule("self_attn", new LlamaAttention(config, layerIdx, gen));
    this.registerModule("post_attention_layernorm", new RMSNorm(config.hiddenSize, config.rmsNormEps, { dtype: config.dtype }));
    this.registerModule("mlp", new LlamaMLP(config, gen));
  }
  forward(x: Tensor, rope: { cos: Tensor; sin: Tensor }, mask: Tensor | null, cache: KVCache | null, gen: Generator): Tensor {
    const attn = this.child<LlamaAttention>("self_attn").forward(this.child<RMSNorm>("input_layernorm").forward(x), rope, mask, cache, gen);
    const h = x.add(attn);
    return h.add(this.child<LlamaMLP>("mlp").forward(this.child<RMSNorm>("post_attention_layernorm").forward(h)));
  }
}

/** The Llama body (Hugging Face's LlamaModel). */
export class LlamaModel extends Module {
  constructor(config: Resolved, gen: Generator) {
    super();
    this.registerModule("embed_tokens", new Embedding(config.vocabSize, config.hiddenSize, { std: config.initializerRange, generator: gen, dtype: config.dtype }));
    this.registerModule("layers", new ModuleList(Array.from({ length: config.numHiddenLayers }, (_, i) => new LlamaDecoderLayer(config, i, gen))));
    this.registerModule("norm", new RMSNorm(config.hiddenSize, config.rmsNormEps, { dtype: config.dtype }));
  }
}

/** Llama language model (LlamaForCausalLM), optionally with a scalar value head. */
export class Llama extends CausalLM {
  readonly config: Readonly<Resolved>;
  private readonly rotary: RotaryTables;
  /** Draws dropout masks (attention and residual); named `generator` so a checkpoint (train/rng.ts) saves and restores it. */
  readonly generator: Generator;
  constructor(config: LlamaConfig) {
    super();
    const c = resolve(config);
    this.config = c;
    this.generator = new Generator(c.seed);
    this.rotary = new RotaryTables(c.headDim, c.ropeTheta, c.ropeScaling, c.dtype === "float64" ? "float64" : "float32");
    const body = this.registerModule("model", new LlamaModel(c, this.generator));
    this.addHeads(body.child<Embedding>("embed_tokens"), { tie: c.tieWordEmbeddings, valueHead: c.valueHead, std: c.initializerRange, generator: this.generator, dtype: c.dtype });
  }

  get numLayers(): number { return this.config.numHiddenLayers; }
  get vocabSize(): number { return this.config.vocabSize; }
  get hiddenSize(): number { return this.config.hiddenSize; }

  hiddenStates(ids: Tensor, options: ForwardOptions = {}): Tensor {
    const body = this.child<LlamaModel>("model");
    const dtype = this.config.dtype === "float64" ? "float64" : "float32";
    const inp = this.bodyInput(ids, options, null, dtype);
    const rope = this.rotary.lookup(inp.positions);
    let x = body.child<Embedding>("embed_tokens").forward(ids);
    for (const layer of body.child<ModuleList<LlamaDecoderLayer>>("layers")) x = layer.forward(x, rope, inp.mask, inp.cache, this.generator);
    return body.child<RMSNorm>("norm").forward(x);
  }

  hfConfig(): HFConfig {
    const c = this.config;
    return {
      architectures: ["LlamaForCausalLM"], model_type: "llama", vocab_size: c.vocabSize, hidden_size: c.hiddenSize,
      intermediate_size: c.intermediateSize, num_hidden_layers: c.numHiddenLayers, num_attention_heads: c.numAttentionHeads,
      num_key_value_heads: c.numKeyValueHeads, head_dim: c.headDim, max_position_embeddings: c.maxPositionEmbeddings,
      rms_norm_eps: c.rmsNormEps, rope_theta: c.ropeTheta, rope_scaling: c.ropeScaling, attention_bias: c.attentionBias,
      mlp_bias: c.mlpBias, attention_dropout: c.attentionDropout, hidden_act: "silu", tie_word_embeddings: c.tieWordEmbeddings,
      initializer_range: c.initializerRange, ...(c.valueHead ? { nbforge_value_head: true } : {}),
    };
  }

  static configFromHF(c: HFConfig): LlamaConfig {
    checkModelType(c, ["llama", "mistral"], "Llama");
    const act = str(c, "hidden_act", "silu");
    if (act !== "silu") throw new Error(`Llama: hidden_act "${act}" is not supported (Llama uses "silu")`);
    const heads = int(c, "num_attention_heads");
    const hidden = int(c, "hidden_size");
    if (c.sliding_window !== undefined && c.sliding_window !== null && c.use_sliding_window !== false && c.model_type === "mistral") {
      throw new Error("Llama: config.json asks for sliding-window attention, which nbforge does not implement");
    }
    return {
      vocabSize: int(c, "vocab_size"), hiddenSize: hidden, intermediateSize: int(c, "intermediate_size"),
      numHiddenLayers: int(c, "num_hidden_layers"), numAttentionHeads: heads, numKeyValueHeads: int(c, "num_key_value_heads", heads),
      headDim: int(c, "head_dim", hidden / heads), maxPositionEmbeddings: int(c, "max_position_embeddings", 2048),
      rmsNormEps: num(c, "rms_norm_eps", 1e-6), ropeTheta: num(c, "rope_theta", 10000),
      ropeScaling: (c.rope_scaling ?? null) as RopeScaling | null, attentionBias: bool(c, "attention_bias", false),
      mlpBias: bool(c, "mlp_bias", false), attentionDropout: num(c, "attention_dropout", 0),
      tieWordEmbeddings: bool(c, "tie_word_embeddings", false), initializerRange: num(c, "initializer_range", 0.02),
      valueHead: bool(c, "nbforge_value_head", false),
    };
  }

  /** A freshly initialised model from a Hugging Face config.json: the parsed object, or a folder / file path holding it. */
  static fromConfig(config: HFConfig | string, overrides: Partial<LlamaConfig> = {}): Llama {
    return new Llama({ ...Llama.configFromHF(configFrom(config)), ...overrides });
  }

  /** Loads a Hugging Face Llama checkpoint folder (config.json + model.safetensors or shards). */
  static fromPretrained(dir: string, overrides: Partial<LlamaConfig> = {}): Llama {
    const model = new Llama({ ...Llama.configFromHF(readConfigJson(dir)), ...overrides });
    const sd = readCheckpointTensors(dir);
    for (const name of Object.keys(sd)) {
      // older checkpoints carry the rotary inv_freq buffer, which nbforge recomputes
      if (name.endsWith("rotary_emb.inv_freq")) {
        sd[name].dispose();
        delete sd[name];
      }
    }
    model.loadPretrained(sd);
    return model;
  }

  dispose(): void {
    this.rotary.dispose();
    super.dispose();
  }
}
