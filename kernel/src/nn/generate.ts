// Autoregressive generation: greedy or sampled (temperature, top-k, top-p)
// with a seeded generator, stop tokens, left-padded batches, and a KV cache so
// each step feeds only the new token. Every step runs in a tidy() scope; only
// the cache survives between steps.
import { noGrad } from "../tensor/autograd.js";
import { Generator, defaultGeneratorOf, tensor } from "../tensor/creation.js";
import { multinomial, topk } from "../tensor/ops/sampling.js";
import { tidy } from "../tensor/scope.js";
import { fmtShape, type Tensor } from "../tensor/tensor.js";
import type { CausalLM } from "./causal-lm.js";

export interface GenerateOptions {
  /** How many tokens to add at most. */
  maxNewTokens: number;
  /** Sample instead of taking the most likely token (default false: greedy). */
  doSample?: boolean;
  /** Divides the logits before sampling (default 1). */
  temperature?: number;
  /** Sample only among the k most likely tokens. */
  topK?: number;
  /** Sample only among the most likely tokens whose probabilities sum to at least p (nucleus). */
  topP?: number;
  /** A row stops after producing any of these (e.g. the EOS id). */
  stopTokens?: readonly number[];
  /** Seeded randomness for sampling (default: the global generator). */
  generator?: Generator;
  /** Use the KV cache (default true); false recomputes the whole prefix each step. */
  useCache?: boolean;
  /** Fills prompts shorter than the longest (on the left) and finished rows (default 0). */
  padTokenId?: number;
  /** Called after each step with the step number (for progress bars). */
  onStep?: (step: number) => void;
}

export interface GenerateResult {
  /** Each row's new tokens, up to and including its stop token. */
  tokens: number[][];
  /** Prompts (left-padded) plus new tokens as int64 [batch, prompt + steps]; finished rows continue with padTokenId. */
  sequences: Tensor;
  /** 1 for real tokens, 0 for padding, int64 like sequences. */
  attentionMask: Tensor;
}

function onDevice(t: Tensor, device: Tensor["device"]): Tensor {
  return t.device === device ? t : t.to(device);
}

/** int64 [rows, cols] from equal-length rows of integers. */
function ids2d(rows: readonly (readonly number[])[]): Tensor {
  return tensor(Int32Array.from(rows.flat()), { shape: [rows.length, rows[0].length], dtype: "int64" });
}

function promptRows(prompt: Tensor | readonly (readonly number[])[]): number[][] {
  if (Array.isArray(prompt)) return prompt.map((r) => [...r]);
  const t = prompt as Tensor;
  if (t.ndim !== 2 || (t.dtype !== "int32" && t.dtype !== "int64")) throw new TypeError(`generate: prompt ${fmtShape(t.shape)} ${t.dtype} must be int ids [batch, time] or arrays of ids`);
  const flat = Array.from(t.to("float64").data() as Float64Array);
  return Array.from({ length: t.shape[0] }, (_, b) => flat.slice(b * t.shape[1], (b + 1) * t.shape[1]));
}

/** Picks one token per row of last-position logits [B, V]. */
function pick(logits: Tensor, o: GenerateOptions, gen: Generator): number[] {
  if (!o.doSample) return Array.from(logits.argmax(-1).to("float64").data() as Float64Array);
  const t = o.temperature ?? 1;
  if (!(t > 0)) throw new RangeError(`generate: temperature must be > 0 when sampling, got ${t}; use doSample: false for greedy`);
  const [batch, vocab] = logits.shape;
  const k = Math.min(o.topK ?? vocab, vocab);
  if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`generate: topK must be a positive integer, got ${o.topK}`);
  const p = o.topP ?? 1;
  if (!(p > 0 && p <= 1)) throw new RangeError(`generate: topP must be in (0, 1], got ${o.topP}`);
  const scaled = t === 1 ? logits : logits.div(t);
  if (k === vocab && p === 1) return Array.from(multinomial(scaled.softmax(-1), 1, { generator: gen }).to("float64").data() as Float64Array);
  // sorted candidates: the top-k values, descending
  const { values, indices } = topk(scaled, k, -1);
  let probs = values.softmax(-1);
  if (p < 1) {
    const pr = probs.to("float64").data() as Float64Array;
    for (let b = 0; b < batch; b++) {
      let acc = 0;
      for (let j = 0; j < k; j++) {
        // keep the smallest prefix whose mass reaches p (always at least one token)
        if (acc >= p) pr[b * k + j] = 0;
        acc += pr[b * k + j];
      }
    }
    probs = tensor(pr, { shape: [batch, k] });
  }
  const choice = multinomial(probs, 1, { generator: gen });
  return Array.from(indices.gather(-1, choice).to("float64").data() as Float64Array);
}

export function generate(model: CausalLM, prompt: Tensor | readonly (readonly number[])[], o: GenerateOptions): GenerateResult {
  if (!(Number.isInteger(o.maxNewTokens) && o.maxNewTokens >= 0)) throw new RangeError(`generate: maxNewTokens must be a non-negative integer, got ${o.maxNewTokens}`);
  const rows = promptRows(prompt);
  if (rows.length === 0 || rows.some((r) => r.length === 0)) throw new RangeError("generate: every prompt needs at least one token");
  const pad = o.padTokenId ?? 0;
  const batch = rows.length;
  const width = Math.max(...rows.map((r) => r.length));
  const padded = rows.some((r) => r.length !== width);
  // left padding: every row's last prompt token sits in the last column
  const seqs = rows.map((r) => [...new Array<number>(width - r.length).fill(pad), ...r]);
  const mask = rows.map((r) => [...new Array<number>(width - r.length).fill(0), ...new Array<number>(r.length).fill(1)]);
  const stops = new Set(o.stopTokens ?? []);
  const gen = o.generator ?? defaultGeneratorOf();
  const useCache = o.useCache ?? true;
  const cache = useCache ? model.newCache() : null;
  const out: number[][] = rows.map(() => []);
  const done = new Array<boolean>(batch).fill(false);
  // token ids are made on the cpu and sent where the model's weights are
  const device = model.parameters()[0]?.device ?? "cpu";
  const wasTraining = model.training;
  model.eval();
  try {
    for (let step = 0; step < o.maxNewTokens && !done.every(Boolean); step++) {
      const next = tidy(() => noGrad(() => {
        const len = seqs[0].length;
        const feed = cache !== null && step > 0 ? seqs.map((s) => s.slice(len - 1)) : seqs;
        const ids = onDevice(ids2d(feed), device);
        const am = padded ? onDevice(ids2d(mask), device) : null;
        const h = model.hiddenStates(ids, { cache, attentionMask: am });
        const last = h.slice(1, h.shape[1] - 1).reshape([batch, h.shape[2]]);
        return pick(model.lmHead.forward(last), o, gen);
      }));
      for (let b = 0; b < batch; b++) {
        const tok = done[b] ? pad : next[b];
        seqs[b].push(tok);
        mask[b].push(done[b] ? 0 : 1);
        if (!done[b]) {
          out[b].push(tok);
          if (stops.has(tok)) done[b] = true;
        }
      }
      o.onStep?.(step + 1);
    }
  } finally {
    cache?.dispose();
    model.train(wasTraining);
  }
  return {
    tokens: out,
    sequences: ids2d(seqs),
    attentionMask: ids2d(mask),
  };
}
