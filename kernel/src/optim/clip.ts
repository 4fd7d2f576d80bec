// Gradient clipping by global norm (torch.nn.utils.clip_grad_norm_): the norm of
// all gradients together, and every gradient scaled by maxNorm / (norm + 1e-6)
// when that is below 1. Norms and the rescale run natively.
import { Tensor } from "../tensor/tensor.js";
import { on } from "./native.js";
import { normPartOnDevice, scaleOnDevice } from "./device-step.js";

export interface ClipOptions {
  /** The norm's order: 2 (default) or Infinity. */
  normType?: number;
  /** Throw when the total norm is NaN or infinite. */
  errorIfNonfinite?: boolean;
}

/** Scales the gradients of params in place so their global norm is at most maxNorm; returns the norm before clipping. */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number, options: ClipOptions = {}): number {
  const normType = options.normType ?? 2;
  if (normType !== 2 && normType !== Infinity) throw new RangeError(`clipGradNorm: normType must be 2 or Infinity, got ${normType}`);
  if (!(maxNorm >= 0)) throw new RangeError(`clipGradNorm: maxNorm must be a non-negative number, got ${maxNorm}`);
  const grads: Tensor[] = [];
  for (const p of params) {
    if (!(p instanceof Tensor)) throw new TypeError("clipGradNorm: params must be Tensors (e.g. model.parameters())");
    if (p.grad === null) continue;
    if (!p.grad.isContiguous) throw new RangeError("clipGradNorm: a gradient is a strided view; gradients from backward() are contiguous");
    grads.push(p.grad);
  }
  if (grads.length === 0) return 0;
  const inf = normType === Infinity;
  const host = grads.filter((g) => g.device === "cpu");
  const parts = [...on.optimGradNorms(host.map((g) => g.storage.native), host.map((g) => g.offset), host.map((g) => g.numel), inf)];
  // Gradients on other devices (cuda) are reduced there.
  for (const g of grads) if (g.device !== "cpu") parts.push(normPartOnDevice(g, inf));
  let total = 0;
  for (const v of parts) total = inf ? Math.max(total, v) : total + v;
  if (!inf) total = Math.sqrt(total);
  if (options.errorIfNonfinite === true && !Number.isFinite(total)) {
    throw new RangeError(`clipGradNorm: the total gradient norm is ${total}; a loss or gradient overflowed`);
  }
  const coef = maxNorm / (total + 1e-6);
  if (coef < 1) {
    on.optimScale(host.map((g) => g.storage.native), host.map((g) => g.offset), host.map((g) => g.numel), coef);
    for (const g of grads) if (g.device !== "cpu") scaleOnDevice(g, coef);
  }
  return total;
}
