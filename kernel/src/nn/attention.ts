// Causal attention shared by the model families: the fused native kernel
// (scaledDotProductAttention) when no attention dropout is active, and the
// composed softmax(q kᵀ·scale + mask)·v path when it is (dropout acts on the
// attention probabilities, which the fused kernel never materialises). Also
// turns a [batch, time] padding mask of 1s and 0s into an additive mask.
import type { Generator } from "../tensor/creation.js";
import { tensor } from "../tensor/creation.js";
import { dropout } from "../tensor/ops/dropout.js";
import { scaledDotProductAttention } from "../tensor/ops/attention.js";
import { fmtShape, type Tensor } from "../tensor/tensor.js";

/** A large negative score: exp() of it is 0, yet a fully masked row stays finite (no NaN), as in Hugging Face. */
export const MASKED = -1e30;

export interface AttendOptions {
  scale: number;
  /** Additive mask broadcastable to [B, H, Lq, Lk] (from paddingMask), or null. */
  mask: Tensor | null;
  /** Attention-probability dropout; applied only when training. */
  dropoutP: number;
  training: boolean;
  generator?: Generator;
}

/** Causal attention of q [B, H, Lq, D] over k, v [B, H, Lk, D]; the causal mask is aligned to the last key (KV cache). */
export function attend(q: Tensor, k: Tensor, v: Tensor, o: AttendOptions): Tensor {
  if (!(o.training && o.dropoutP > 0)) return scaledDotProductAttention(q, k, v, { scale: o.scale, mask: o.mask, causal: true });
  const lq = q.shape[2];
  const lk = k.shape[2];
  let scores = q.matmul(k.mT).mul(o.scale).add(causalMask(lq, lk, q.dtype === "float64" ? "float64" : "float32"));
  if (o.mask !== null) scores = scores.add(o.mask);
  const p = dropout(scores.softmax(-1), o.dropoutP, { training: true, generator: o.generator });
  return p.matmul(v);
}

/** Additive [Lq, Lk] mask: 0 where query i may see key j (j <= i + Lk - Lq), MASKED elsewhere. */
function causalMask(lq: number, lk: number, dtype: "float32" | "float64"): Tensor {
  const m = new Float64Array(lq * lk);
  for (let i = 0; i < lq; i++) for (let j = i + lk - lq + 1; j < lk; j++) m[i * lk + j] = MASKED;
  return tensor(m, { shape: [lq, lk], dtype });
}

/** [B, Lk] of 1 (attend) / 0 (padding) to an additive [B, 1, 1, Lk] mask in dtype. */
export function paddingMask(attentionMask: Tensor, batch: number, keys: number, dtype: "float32" | "float64"): Tensor {
  if (attentionMask.ndim !== 2 || attentionMask.shape[0] !== batch || attentionMask.shape[1] !== keys) {
    throw new RangeError(`attentionMask ${fmtShape(attentionMask.shape)} must be [batch, past + new tokens] = [${batch}, ${keys}] of 1 (attend) and 0 (padding)`);
  }
  return attentionMask.to(dtype).sub(1).mul(-MASKED).reshape([batch, 1, 1, keys]);
}
