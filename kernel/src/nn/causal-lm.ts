// What GPT and Llama share as causal language models: forward(ids) -> logits,
// an optional scalar value head (reward / critic models, as DeepSpeed-Chat's
// v_head), savePretrained, and the position ids a padding mask implies.
import { arange, tensor } from "../tensor/creation.js";
import type { DType } from "../tensor/dtype.js";
import { fmtShape, type Tensor } from "../tensor/tensor.js";
import { writeCheckpoint, type SaveCheckpointOptions } from "../io/checkpoint.js";
import { paddingMask as paddingMaskOf } from "./attention.js";
import { KVCache } from "./kv-cache.js";
import { Module, stateDictOnce } from "./module.js";
import type { Generator } from "../tensor/creation.js";
import { Linear, type Embedding } from "./layers.js";
import { generate, type GenerateOptions, type GenerateResult } from "./generate.js";

export interface ForwardOptions {
  /** [batch, past + new tokens] of 1 (attend) / 0 (padding); positions then count only real tokens. */
  attentionMask?: Tensor | null;
  /** Explicit position ids [batch or 1, new tokens] (default: from the cache length and the mask). */
  positionIds?: Tensor | null;
  /** A KV cache: its keys and values are used and this step's are appended. */
  cache?: KVCache | null;
}

/** What the transformer body hands to a head. */
export interface BodyInput {
  ids: Tensor;
  positions: Tensor;
  /** Additive padding mask [B, 1, 1, keys] or null. */
  mask: Tensor | null;
  cache: KVCache | null;
}

export abstract class CausalLM extends Module {
  abstract readonly numLayers: number;
  abstract readonly vocabSize: number;
  abstract readonly hiddenSize: number;
  /** The Hugging Face config.json this model writes (and was read from). */
  abstract hfConfig(): Record<string, unknown>;
  /** The final hidden states [B, T, hidden] (after the last norm). */
  abstract hiddenStates(ids: Tensor, options?: ForwardOptions): Tensor;
  /** The output projection (tied to the token embedding where the config says so). */
  get lmHead(): Linear {
    return this.child<Linear>("lm_head");
  }

  /** Registers lm_head (sharing the embedding's weight when tied) and the optional value head v_head. */
  protected addHeads(embedding: Embedding, o: { tie: boolean; valueHead: boolean; std: number; generator: Generator; dtype: DType }): void {
    const hidden = embedding.embeddingDim;
    const head = this.registerModule("lm_head", new Linear(hidden, embedding.numEmbeddings, { bias: false, std: o.std, generator: o.generator, dtype: o.dtype }));
    if (o.tie) {
      head.param("weight").dispose();
      head.registerParameter("weight", embedding.weight);
    }
    if (o.valueHead) this.registerModule("v_head", new Linear(hidden, 1, { bias: false, std: o.std, generator: o.generator, dtype: o.dtype }));
  }

  /** Loads checkpoint tensors (strict) and frees them: the model holds its own copies. */
  protected loadPretrained(sd: Record<string, Tensor>): void {
    try {
      this.loadStateDict(sd, { strict: true });
    } finally {
      for (const t of Object.values(sd)) t.dispose();
    }
  }

  /** Logits [B, T, vocab] for integer ids [B, T]. */
  forward(ids: Tensor, options: ForwardOptions = {}): Tensor {
    return this.lmHead.forward(this.hiddenStates(ids, options));
  }

  /** True when the model has a scalar value head (reward or critic model). */
  get hasValueHead(): boolean {
    return this.hasModule("v_head");
  }

  /** Scalar values [B, T] from the value head (one per position). */
  values(ids: Tensor, options: ForwardOptions = {}): Tensor {
    if (!this.hasValueHead) throw new Error(`${this.constructor.name}.values: this model has no value head; create it with { valueHead: true }`);
    const h = this.hiddenStates(ids, options);
    return this.child<Linear>("v_head").forward(h).squeeze(-1);
  }

  /** A fresh KV cache for this model. */
  newCache(): KVCache {
    return new KVCache(this.numLayers);
  }

  /** Autoregressive generation with the KV cache (see GenerateOptions). */
  generate(prompt: Tensor | readonly (readonly number[])[], options: GenerateOptions): GenerateResult {
    return generate(this, prompt, options);
  }

  /** Writes config.json and model.safetensors that transformers' from_pretrained reads. */
  savePretrained(dir: string, options: SaveCheckpointOptions = {}): void {
    // a tied lm_head is the embedding itself, registered after it: stored once, under the embedding's name (transformers re-ties it)
    const sd = stateDictOnce(this);
    const config = this.hfConfig();
    const dtypes = new Set(Object.values(sd).map((t) => t.dtype));
    if (dtypes.size === 1) config.torch_dtype = [...dtypes][0] as DType;
    writeCheckpoint(dir, config, sd, options);
  }

  /** Validates ids and builds what the body needs (positions, additive mask). */
  protected bodyInput(ids: Tensor, options: ForwardOptions, maxPositions: number | null, dtype: "float32" | "float64"): BodyInput {
    if ((ids.dtype !== "int32" && ids.dtype !== "int64") || ids.ndim !== 2) {
      throw new TypeError(`${this.constructor.name}.forward: ids ${fmtShape(ids.shape)} ${ids.dtype} must be an int32/int64 tensor [batch, time]`);
    }
    const [batch, time] = ids.shape;
    const cache = options.cache ?? null;
    const past = cache === null ? 0 : cache.length;
    if (maxPositions !== null && past + time > maxPositions) {
      throw new RangeError(`${this.constructor.name}: ${past + time} positions exceed the model's context of ${maxPositions} (n_positions / max_position_embeddings)`);
    }
    const am = options.attentionMask ?? null;
    let positions = options.positionIds ?? null;
    if (positions === null) positions = am === null ? arange(past, past + time, 1, { dtype: "int64" }).reshape([1, time]) : positionsFromMask(am, batch, past + time, time);
    // positions are made on the cpu; they follow the ids to their device
    if (positions.device !== ids.device) positions = positions.to(ids.device);
    return { ids, positions, mask: am === null ? null : paddingMaskOf(am, batch, past + time, dtype), cache };
  }
}

/** Positions that skip padding: cumsum(mask) - 1 (0 on padding), last `time` columns (as Hugging Face's generate). */
function positionsFromMask(am: Tensor, batch: number, keys: number, time: number): Tensor {
  if (am.ndim !== 2 || am.shape[0] !== batch || am.shape[1] !== keys) {
    throw new RangeError(`attentionMask ${fmtShape(am.shape)} must be [batch, past + new tokens] = [${batch}, ${keys}]`);
  }
  const m = am.to("float64").data() as Float64Array;
  const pos = new Int32Array(batch * time);
  for (let b = 0; b < batch; b++) {
    let c = 0;
    for (let j = 0; j < keys; j++) {
      const on = m[b * keys + j] !== 0;
      if (on) c++;
      if (j >= keys - time) pos[b * time + j - (keys - time)] = on ? c - 1 : 0;
    }
  }
  return tensor(pos, { shape: [batch, time] });
}
