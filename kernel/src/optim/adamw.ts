// AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization", Alg. 2):
// Adam's bias-corrected moments with the weight decay applied to the
// parameters directly (p *= 1 - lr * wd) rather than added to the gradient.
// The loop runs natively over each group's flat moment buffers.
import { Optimizer, gradSegments, stateView, type ParamsInput } from "./optimizer.js";
import { on } from "./native.js";
import { adamwOnDevice } from "./device-step.js";

export interface AdamWHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** Ascend the objective instead of descending it. */
  maximize: boolean;
}

export type AdamWOptions = Partial<AdamWHyper>;

/** torch.optim.AdamW's defaults. */
export const ADAMW_DEFAULTS: AdamWHyper = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-2, maximize: false };

export class AdamW extends Optimizer<AdamWHyper> {
  protected readonly bufferNames = ["exp_avg", "exp_avg_sq"] as const;
  /** Per group, per parameter: how many steps it has taken (0: no state yet). */
  private readonly steps: number[][] = [];

  constructor(params: ParamsInput<AdamWHyper>, options: AdamWOptions = {}) {
    super(params, { ...ADAMW_DEFAULTS, ...options }, "AdamW");
    this.allocateState();
  }

  protected groupAdded(gi: number): void {
    const g = this.paramGroups[gi];
    const { beta1, beta2, eps, weightDecay } = g.hyper;
    if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
      throw new RangeError(`AdamW: betas must lie in [0, 1), got beta1=${beta1}, beta2=${beta2}`);
    }
    if (!(eps >= 0)) throw new RangeError(`AdamW: eps must be non-negative, got ${eps}`);
    if (!(weightDecay >= 0)) throw new RangeError(`AdamW: weightDecay must be non-negative, got ${weightDecay}`);
    this.steps[gi] = g.params.map(() => 0);
  }

  step(): void {
    this.paramGroups.forEach((g, gi) => {
      const fl = this.flat[gi];
      const s = gradSegments(g, fl, "AdamW.step");
      try {
        const steps = s.index.map((pi) => ++this.steps[gi][pi]);
        const h = g.hyper;
        if (fl.device !== "cpu") {
          s.index.forEach((pi, k) => {
            const p = g.params[pi];
            const m = stateView(fl, 0, pi, p), v = stateView(fl, 1, pi, p);
            adamwOnDevice(p, s.gradTensors[k], m, v, { ...h, step: steps[k] });
            m.dispose();
            v.dispose();
          });
          return;
        }
        on.optimAdamW(s.params, s.pOffs, s.grads, s.gOffs, s.sizes, fl.buffers[0].storage.native, fl.buffers[1].storage.native,
          s.stateOffs, steps, h.lr, h.beta1, h.beta2, h.eps, h.weightDecay, h.maximize);
      } finally {
        s.dispose();
      }
    });
  }

  protected scalarState(gi: number, pi: number): Record<string, number> | null {
    const n = this.steps[gi][pi];
    return n === 0 ? null : { step: n };
  }

  protected setScalarState(gi: number, pi: number, s: Record<string, number> | null): void {
    const n = s === null ? 0 : s.step;
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`AdamW.loadStateDict: step must be a non-negative integer, got ${n}`);
    this.steps[gi][pi] = n;
  }
}
