// The key/value cache of autoregressive generation: per layer, the keys and
// values [batch, kv_heads, time, head_dim] of every token seen so far, so each
// new token attends to them without recomputing the prefix. Cached tensors are
// kept out of tidy() scopes and freed when replaced or on dispose().
import { noGrad } from "../tensor/autograd.js";
import { cat } from "../tensor/ops/joining.js";
import { keep } from "../tensor/scope.js";
import { fmtShape, type Tensor } from "../tensor/tensor.js";

export class KVCache {
  private readonly keys: (Tensor | null)[];
  private readonly values: (Tensor | null)[];

  constructor(readonly numLayers: number) {
    this.keys = new Array<Tensor | null>(numLayers).fill(null);
    this.values = new Array<Tensor | null>(numLayers).fill(null);
  }

  /** Tokens cached so far (the first layer's time length). */
  get length(): number {
    const k = this.keys[0];
    return k === null ? 0 : k.shape[k.ndim - 2];
  }

  /** Appends this step's k, v [B, H, t, D] to layer's cache; returns the full keys and values. */
  update(layer: number, k: Tensor, v: Tensor): { k: Tensor; v: Tensor } {
    if (!(layer >= 0 && layer < this.numLayers)) throw new RangeError(`KVCache: layer ${layer} is outside 0..${this.numLayers - 1}`);
    const pk = this.keys[layer];
    const pv = this.values[layer];
    let fk: Tensor;
    let fv: Tensor;
    if (pk === null || pv === null) {
      // detached contiguous copies: the cache never carries an autograd graph
      fk = noGrad(() => k.detach().clone());
      fv = noGrad(() => v.detach().clone());
    } else {
      if (pk.shape[0] !== k.shape[0] || pk.shape[1] !== k.shape[1] || pk.shape[3] !== k.shape[3]) {
        throw new RangeError(`KVCache: layer ${layer} holds keys ${fmtShape(pk.shape)} but got ${fmtShape(k.shape)}; a cache serves one batch of one model`);
      }
      fk = noGrad(() => cat([pk, k.detach()], 2));
      fv = noGrad(() => cat([pv, v.detach()], 2));
      pk.dispose();
      pv.dispose();
    }
    this.keys[layer] = keep(fk);
    this.values[layer] = keep(fv);
    return { k: fk, v: fv };
  }

  /** Frees every cached tensor; the cache is empty afterwards. */
  dispose(): void {
    for (let i = 0; i < this.numLayers; i++) {
      this.keys[i]?.dispose();
      this.values[i]?.dispose();
      this.keys[i] = null;
      this.values[i] = null;
    }
  }
}
