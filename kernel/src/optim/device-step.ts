// Updates for parameters that live off the CPU (cuda). The native loops in
// native/src/optim/ read host memory, so here the same arithmetic, in the same
// order, is composed from the device's elementwise kernels (a handful of
// launches per parameter), and the results are copied back into the
// parameter's and the state's own storage, so every holder of them sees the update.
import { noGrad } from "../tensor/autograd.js";
import { tidy } from "../tensor/scope.js";
import { Tensor, fmtShape } from "../tensor/tensor.js";
import { copyInto } from "../nn/module.js";

/** Overwrites dst's elements with src's (any shape of the same size; copyInto converts device and dtype). */
export function writeInto(dst: Tensor, src: Tensor): void {
  if (dst.numel !== src.numel) throw new RangeError(`writeInto: ${fmtShape(src.shape)} does not fit ${fmtShape(dst.shape)}`);
  tidy(() => copyInto(dst, src.shape.join(",") === dst.shape.join(",") ? src : src.reshape(dst.shape)));
}

export interface AdamWScalars {
  lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; maximize: boolean; step: number;
}

/** One AdamW step of p with gradient g and moments m, v (views shaped like p), on p's device. */
export function adamwOnDevice(p: Tensor, g: Tensor, m: Tensor, v: Tensor, h: AdamWScalars): void {
  noGrad(() => tidy(() => {
    const gi = h.maximize ? g.neg() : g;
    const m2 = m.mul(h.beta1).add(gi.mul(1 - h.beta1));
    const v2 = v.mul(h.beta2).add(gi.mul(gi).mul(1 - h.beta2));
    const bc2Sqrt = Math.sqrt(1 - h.beta2 ** h.step);
    const stepSize = h.lr / (1 - h.beta1 ** h.step);
    const denom = v2.sqrt().div(bc2Sqrt).add(h.eps);
    const p2 = p.mul(1 - h.lr * h.weightDecay).sub(m2.div(denom).mul(stepSize));
    writeInto(m, m2);
    writeInto(v, v2);
    writeInto(p, p2);
  }));
}

export interface SGDScalars {
  lr: number; momentum: number; dampening: number; weightDecay: number; nesterov: boolean; maximize: boolean; first: boolean;
}

/** One SGD step of p with gradient g and momentum buffer buf (a view shaped like p, or null without momentum). */
export function sgdOnDevice(p: Tensor, g: Tensor, buf: Tensor | null, h: SGDScalars): void {
  noGrad(() => tidy(() => {
    let d = h.maximize ? g.neg() : g;
    if (h.weightDecay !== 0) d = d.add(p.mul(h.weightDecay));
    if (h.momentum !== 0 && buf !== null) {
      const b = h.first ? d : buf.mul(h.momentum).add(d.mul(1 - h.dampening));
      writeInto(buf, b);
      d = h.nesterov ? d.add(b.mul(h.momentum)) : b;
    }
    writeInto(p, p.sub(d.mul(h.lr)));
  }));
}

/** Sum of squares (or the largest magnitude when inf) of a device tensor, as a number. */
export function normPartOnDevice(g: Tensor, inf: boolean): number {
  return noGrad(() => tidy(() => {
    const x = g.to("float64");
    return (inf ? x.abs().max() : x.mul(x).sum()).item();
  }));
}

/** g *= factor in place on g's device. */
export function scaleOnDevice(g: Tensor, factor: number): void {
  noGrad(() => tidy(() => writeInto(g, g.mul(factor))));
}
