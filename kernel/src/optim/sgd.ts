// SGD with momentum (PyTorch's formulation: the buffer starts as the first
// gradient, then buf = momentum * buf + (1 - dampening) * grad), Nesterov
// momentum, and L2 weight decay added to the gradient. Runs natively per group.
import { Optimizer, gradSegments, stateView, type ParamsInput } from "./optimizer.js";
import { on } from "./native.js";
import { sgdOnDevice } from "./device-step.js";

export interface SGDHyper {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  maximize: boolean;
}

export type SGDOptions = Partial<SGDHyper>;

/** torch.optim.SGD's defaults, with lr 1e-2 (PyTorch requires it). */
export const SGD_DEFAULTS: SGDHyper = { lr: 1e-2, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false };

export class SGD extends Optimizer<SGDHyper> {
  protected readonly bufferNames = ["momentum_buffer"] as const;
  /** Per group, per parameter: whether the momentum buffer holds a value yet. */
  private readonly started: boolean[][] = [];

  constructor(params: ParamsInput<SGDHyper>, options: SGDOptions = {}) {
    super(params, { ...SGD_DEFAULTS, ...options }, "SGD");
    this.allocateState();
  }

  protected groupAdded(gi: number): void {
    const g = this.paramGroups[gi];
    const { momentum, dampening, weightDecay, nesterov } = g.hyper;
    if (!(momentum >= 0)) throw new RangeError(`SGD: momentum must be non-negative, got ${momentum}`);
    if (!(weightDecay >= 0)) throw new RangeError(`SGD: weightDecay must be non-negative, got ${weightDecay}`);
    if (nesterov && (momentum <= 0 || dampening !== 0)) {
      throw new RangeError("SGD: Nesterov momentum needs momentum > 0 and dampening 0");
    }
    this.started[gi] = g.params.map(() => false);
  }

  step(): void {
    this.paramGroups.forEach((g, gi) => {
      const fl = this.flat[gi];
      const s = gradSegments(g, fl, "SGD.step");
      try {
        const h = g.hyper;
        const first = s.index.map((pi) => (this.started[gi][pi] ? 0 : 1));
        if (fl.device !== "cpu") {
          s.index.forEach((pi, k) => {
            const p = g.params[pi];
            const buf = h.momentum === 0 ? null : stateView(fl, 0, pi, p);
            sgdOnDevice(p, s.gradTensors[k], buf, { ...h, first: first[k] === 1 });
            buf?.dispose();
          });
        } else on.optimSGD(s.params, s.pOffs, s.grads, s.gOffs, s.sizes, h.momentum === 0 ? null : fl.buffers[0].storage.native,
          s.stateOffs, first, h.lr, h.momentum, h.dampening, h.weightDecay, h.nesterov, h.maximize);
        if (h.momentum !== 0) for (const pi of s.index) this.started[gi][pi] = true;
      } finally {
        s.dispose();
      }
    });
  }

  protected scalarState(gi: number, pi: number): Record<string, number> | null {
    return this.started[gi][pi] ? {} : null;
  }

  protected setScalarState(gi: number, pi: number, s: Record<string, number> | null): void {
    this.started[gi][pi] = s !== null;
  }
}
