// Learning-rate schedules. Each is a closed form lr(step, baseLr), so a schedule
// restored from its state dict (the step and the base rates) continues exactly.
// Like torch.optim.lr_scheduler, constructing one sets the step-0 rate, and
// step() is called once per optimizer step, after it.
import type { BaseHyper, Optimizer } from "./optimizer.js";

export interface SchedulerStateDict {
  lastStep: number;
  baseLrs: number[];
}

export abstract class LRScheduler {
  /** The learning rate each group had when the schedule was made. */
  baseLrs: number[];
  /** How many times step() has run. */
  lastStep = 0;

  constructor(readonly optimizer: Optimizer<BaseHyper>) {
    this.baseLrs = optimizer.paramGroups.map((g) => g.hyper.lr);
  }

  /** The rate at `step` for a group whose base rate is baseLr. */
  abstract lrAt(step: number, baseLr: number): number;

  /** Sets each group's rate for the current step; subclasses call it at the end of their constructor. */
  protected apply(): void {
    this.optimizer.paramGroups.forEach((g, i) => {
      g.hyper.lr = this.lrAt(this.lastStep, this.baseLrs[i]);
    });
  }

  /** Advances one step and sets the new rates. */
  step(): void {
    this.lastStep++;
    this.apply();
  }

  /** The rates the last step() set, one per group. */
  get lastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.hyper.lr);
  }

  stateDict(): SchedulerStateDict {
    return { lastStep: this.lastStep, baseLrs: [...this.baseLrs] };
  }

  loadStateDict(sd: SchedulerStateDict): void {
    if (sd === null || typeof sd !== "object" || !Number.isInteger(sd.lastStep) || !Array.isArray(sd.baseLrs)) {
      throw new TypeError("LRScheduler.loadStateDict: expected { lastStep, baseLrs } from a scheduler's stateDict()");
    }
    if (sd.baseLrs.length !== this.baseLrs.length) {
      throw new RangeError(`LRScheduler.loadStateDict: ${sd.baseLrs.length} base rates for an optimizer with ${this.baseLrs.length} groups`);
    }
    this.lastStep = sd.lastStep;
    this.baseLrs = [...sd.baseLrs];
    this.apply();
  }
}

function requireInt(v: number, name: string, where: string, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new RangeError(`${where}: ${name} must be an integer ≥ ${min}, got ${v}`);
}

export interface WarmupCosineLROptions {
  /** Steps of linear warmup from startFactor × base to the base rate. */
  warmupSteps: number;
  /** The step at which the cosine reaches minLr (it stays there afterwards). */
  totalSteps: number;
  /** The floor of the cosine (default 0). */
  minLr?: number;
  /** The warmup's starting fraction of the base rate (default 0). */
  startFactor?: number;
}

/**
 * Linear warmup, then cosine decay to minLr (the GPT-2/3 recipe):
 * t < W: base·(s + (1 − s)·t/W); after: minLr + (base − minLr)·(1 + cos(π·min(1, (t − W)/(T − W))))/2.
 */
export class WarmupCosineLR extends LRScheduler {
  readonly warmupSteps: number;
  readonly totalSteps: number;
  readonly minLr: number;
  readonly startFactor: number;
  constructor(optimizer: Optimizer<BaseHyper>, o: WarmupCosineLROptions) {
    super(optimizer);
    const where = "WarmupCosineLR";
    requireInt(o.warmupSteps, "warmupSteps", where, 0);
    requireInt(o.totalSteps, "totalSteps", where, o.warmupSteps + 1);
    this.warmupSteps = o.warmupSteps;
    this.totalSteps = o.totalSteps;
    this.minLr = o.minLr ?? 0;
    this.startFactor = o.startFactor ?? 0;
    if (!(this.startFactor >= 0 && this.startFactor <= 1)) throw new RangeError(`${where}: startFactor must lie in [0, 1], got ${this.startFactor}`);
    this.apply();
  }
  lrAt(t: number, base: number): number {
    const W = this.warmupSteps;
    if (t < W) return base * (this.startFactor + ((1 - this.startFactor) * t) / W);
    const progress = Math.min(1, (t - W) / (this.totalSteps - W));
    return this.minLr + ((base - this.minLr) * (1 + Math.cos(Math.PI * progress))) / 2;
  }
}

export interface LinearLROptions {
  startFactor?: number;
  endFactor?: number;
  totalIters?: number;
}

/** torch.optim.lr_scheduler.LinearLR: the factor moves linearly from startFactor to endFactor over totalIters steps, then holds. */
export class LinearLR extends LRScheduler {
  readonly startFactor: number;
  readonly endFactor: number;
  readonly totalIters: number;
  constructor(optimizer: Optimizer<BaseHyper>, o: LinearLROptions = {}) {
    super(optimizer);
    this.startFactor = o.startFactor ?? 1 / 3;
    this.endFactor = o.endFactor ?? 1;
    this.totalIters = o.totalIters ?? 5;
    if (!(this.startFactor > 0 && this.startFactor <= 1) || !(this.endFactor >= 0 && this.endFactor <= 1)) {
      throw new RangeError(`LinearLR: startFactor must lie in (0, 1] and endFactor in [0, 1], got ${this.startFactor} and ${this.endFactor}`);
    }
    requireInt(this.totalIters, "totalIters", "LinearLR", 1);
    this.apply();
  }
  lrAt(t: number, base: number): number {
    return base * (this.startFactor + ((this.endFactor - this.startFactor) * Math.min(this.totalIters, t)) / this.totalIters);
  }
}

export interface ConstantLROptions {
  /** The multiplier while t < totalIters (default 1: the base rate throughout). */
  factor?: number;
  totalIters?: number;
}

/** A constant rate: base·factor for the first totalIters steps, then base (torch's ConstantLR; the defaults keep the base rate). */
export class ConstantLR extends LRScheduler {
  readonly factor: number;
  readonly totalIters: number;
  constructor(optimizer: Optimizer<BaseHyper>, o: ConstantLROptions = {}) {
    super(optimizer);
    this.factor = o.factor ?? 1;
    this.totalIters = o.totalIters ?? 0;
    if (!(this.factor >= 0 && this.factor <= 1)) throw new RangeError(`ConstantLR: factor must lie in [0, 1], got ${this.factor}`);
    requireInt(this.totalIters, "totalIters", "ConstantLR", 0);
    this.apply();
  }
  lrAt(t: number, base: number): number {
    return t < this.totalIters ? base * this.factor : base;
  }
}

/** The rate is base × fn(step), with fn your own callback (torch's LambdaLR). */
export class LambdaLR extends LRScheduler {
  constructor(optimizer: Optimizer<BaseHyper>, private readonly fn: (step: number) => number) {
    super(optimizer);
    if (typeof fn !== "function") throw new TypeError("LambdaLR: pass a function step => factor");
    this.apply();
  }
  lrAt(t: number, base: number): number {
    const f = this.fn(t);
    if (!Number.isFinite(f)) throw new RangeError(`LambdaLR: the callback returned ${f} at step ${t}; it must return a finite factor`);
    return base * f;
  }
}
