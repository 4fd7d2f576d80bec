// Trainer: the training loop. Each optimizer step runs `gradAccumulation`
// micro-batches (forward, loss / gradAccumulation, backward; gradients add up),
// clips the global gradient norm, steps the optimizer and the schedule, and
// reports { step, loss, lr, gradNorm } to the callbacks, a live metrics display
// and a progress bar. Evaluation hooks run every evalEvery steps; checkpoints
// every checkpointEvery steps hold everything a bit-identical resume needs.
import { noGrad } from "../tensor/autograd.js";
import { tidy } from "../tensor/scope.js";
import type { Tensor } from "../tensor/tensor.js";
import type { Module } from "../nn/module.js";
import type { BaseHyper, Optimizer } from "../optim/optimizer.js";
import type { LRScheduler } from "../optim/schedule.js";
import { clipGradNorm } from "../optim/clip.js";
import type { Batch, DataLoader } from "../data/loader.js";
import { progress, type Progress } from "../display/progress.js";
import { liveMetrics, type LiveMetrics } from "../display/live-metrics.js";
import { loadCheckpoint, saveCheckpoint } from "./checkpoint.js";

/** What one optimizer step reports. */
export interface StepLog {
  step: number;
  /** The mean loss over the step's micro-batches. */
  loss: number;
  /** The first group's learning rate used by this step. */
  lr: number;
  /** The global gradient norm before clipping (when maxGradNorm is set). */
  gradNorm?: number;
}

export interface TrainerCallback {
  /** After every optimizer step. */
  onStep?(log: StepLog, trainer: Trainer<Module>): void;
  /** After every evaluation, with its metrics. */
  onEvaluate?(step: number, metrics: Record<string, number>, trainer: Trainer<Module>): void;
  /** After a checkpoint is written. */
  onCheckpoint?(step: number, dir: string, trainer: Trainer<Module>): void;
  /** When fit() returns. */
  onEnd?(trainer: Trainer<Module>): void;
}

export interface TrainerOptions<M extends Module = Module> {
  model: M;
  optimizer: Optimizer<BaseHyper>;
  scheduler?: LRScheduler | null;
  data: DataLoader;
  /** The scalar loss of a batch; called with the model in training mode and gradients on. */
  loss: (model: M, batch: Batch) => Tensor;
  /** Optimizer steps to train for (fit() stops at this step). */
  maxSteps: number;
  /** Micro-batches per optimizer step (default 1). */
  gradAccumulation?: number;
  /** Clip the global gradient norm to this (default: no clipping). */
  maxGradNorm?: number | null;
  /** An evaluation hook: called in eval mode without gradients, returns named metrics. */
  evaluate?: ((model: M, step: number) => Record<string, number>) | null;
  /** Evaluate every this many steps, and after the last (default: only after the last). */
  evalEvery?: number;
  /** Write a checkpoint every checkpointEvery steps (and after the last) into checkpointDir. */
  checkpointDir?: string | null;
  checkpointEvery?: number;
  callbacks?: readonly TrainerCallback[];
  /** Show a progress bar (default true). */
  progress?: boolean;
  /** Stream loss, lr and evaluation metrics to a live display (default true; a title names it). */
  liveMetrics?: boolean | { title?: string };
}

export class Trainer<M extends Module = Module> {
  /** Optimizer steps taken so far. */
  step = 0;
  /** Every step's log, from the start of the run (a resume restores the earlier ones). */
  history: StepLog[] = [];
  /** Every evaluation's metrics by step. */
  evaluations: { step: number; metrics: Record<string, number> }[] = [];
  readonly options: TrainerOptions<M>;

  constructor(options: TrainerOptions<M>) {
    const where = "Trainer";
    if (!Number.isInteger(options.maxSteps) || options.maxSteps < 0) throw new RangeError(`${where}: maxSteps must be a non-negative integer, got ${options.maxSteps}`);
    const accum = options.gradAccumulation ?? 1;
    if (!Number.isInteger(accum) || accum < 1) throw new RangeError(`${where}: gradAccumulation must be a positive integer, got ${accum}`);
    for (const k of ["evalEvery", "checkpointEvery"] as const) {
      const v = options[k];
      if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new RangeError(`${where}: ${k} must be a positive integer, got ${v}`);
    }
    if (options.checkpointEvery !== undefined && (options.checkpointDir ?? null) === null) {
      throw new Error(`${where}: checkpointEvery needs a checkpointDir to write into`);
    }
    if (typeof options.loss !== "function") throw new TypeError(`${where}: loss must be a function (model, batch) => scalar Tensor`);
    this.options = options;
  }

  private get parts() {
    const o = this.options;
    return { model: o.model, optimizer: o.optimizer, scheduler: o.scheduler ?? null, dataLoader: o.data };
  }

  /** The next batch, starting a new epoch when one ends, on the model's device. */
  private nextBatch(): Batch {
    let b = this.options.data.next();
    if (b === null) b = this.options.data.next();
    if (b === null) throw new Error("Trainer: the data loader yields no batches");
    // Loaders build batches on the cpu; a model on another device (cuda) gets them moved there.
    const device = this.options.model.parameters()[0]?.device ?? "cpu";
    if (device === "cpu") return b;
    const moved: Batch = {};
    for (const [k, t] of Object.entries(b)) {
      moved[k] = t.to(device);
      t.dispose();
    }
    return moved;
  }

  /** One optimizer step over gradAccumulation micro-batches; returns its log. */
  trainStep(): StepLog {
    const o = this.options;
    const accum = o.gradAccumulation ?? 1;
    o.model.train();
    o.optimizer.zeroGrad();
    let total = 0;
    for (let i = 0; i < accum; i++) {
      const batch = this.nextBatch();
      try {
        total += tidy(() => {
          const loss = o.loss(o.model, batch);
          if (loss.numel !== 1) throw new RangeError(`Trainer: the loss function returned a tensor of shape [${loss.shape.join(", ")}]; it must return a scalar`);
          const value = loss.item();
          (accum === 1 ? loss : loss.div(accum)).backward();
          return value;
        });
      } finally {
        for (const t of Object.values(batch)) t.dispose();
      }
    }
    const log: StepLog = { step: this.step + 1, loss: total / accum, lr: o.optimizer.paramGroups[0].hyper.lr };
    if (o.maxGradNorm != null) log.gradNorm = clipGradNorm(o.model.parameters(), o.maxGradNorm);
    o.optimizer.step();
    o.optimizer.zeroGrad();
    o.scheduler?.step();
    this.step++;
    this.history.push(log);
    return log;
  }

  /** Runs the evaluation hook now (eval mode, no gradients) and reports it. */
  evaluate(): Record<string, number> {
    const o = this.options;
    if (o.evaluate == null) return {};
    o.model.eval();
    let metrics: Record<string, number>;
    try {
      metrics = noGrad(() => tidy(() => (o.evaluate as (m: M, s: number) => Record<string, number>)(o.model, this.step)));
    } finally {
      o.model.train();
    }
    this.evaluations.push({ step: this.step, metrics });
    for (const cb of o.callbacks ?? []) cb.onEvaluate?.(this.step, metrics, this as unknown as Trainer<Module>);
    return metrics;
  }

  /** Writes a checkpoint of the run as it stands into dir. */
  saveCheckpoint(dir: string): void {
    saveCheckpoint(dir, this.parts, this.step, { history: this.history, evaluations: this.evaluations });
    for (const cb of this.options.callbacks ?? []) cb.onCheckpoint?.(this.step, dir, this as unknown as Trainer<Module>);
  }

  /** Restores model, optimizer, schedule, data position, random generators, step and history from dir. */
  loadCheckpoint(dir: string): void {
    const { step, extra } = loadCheckpoint(dir, this.parts);
    this.step = step;
    this.history = Array.isArray(extra.history) ? (extra.history as StepLog[]) : [];
    this.evaluations = Array.isArray(extra.evaluations) ? (extra.evaluations as Trainer["evaluations"]) : [];
  }

  /** The trainer's model (typed as given). */
  get model(): M {
    return this.options.model;
  }

  /** Trains from the current step to maxSteps; returns the history. */
  fit(): StepLog[] {
    const o = this.options;
    const bar: Progress<number> | null = o.progress === false ? null : progress(o.maxSteps, { label: "train" });
    const live: LiveMetrics | null = o.liveMetrics === false ? null
      : liveMetrics({ title: typeof o.liveMetrics === "object" ? o.liveMetrics.title : "training" });
    if (bar !== null && this.step > 0) bar.update(this.step);
    let status: "finished" | "failed" = "failed";
    try {
      while (this.step < o.maxSteps) {
        const log = this.trainStep();
        const shown: Record<string, number> = { loss: log.loss, lr: log.lr };
        if (log.gradNorm !== undefined) shown.gradNorm = log.gradNorm;
        live?.log(log.step, shown);
        bar?.update(1, { loss: log.loss });
        for (const cb of o.callbacks ?? []) cb.onStep?.(log, this as unknown as Trainer<Module>);
        const last = this.step === o.maxSteps;
        if (o.evaluate != null && (last || (o.evalEvery !== undefined && this.step % o.evalEvery === 0))) {
          const metrics = this.evaluate();
          live?.log(this.step, Object.fromEntries(Object.entries(metrics).map(([k, v]) => [`eval/${k}`, v])));
        }
        if (o.checkpointDir != null && (last || (o.checkpointEvery !== undefined && this.step % o.checkpointEvery === 0))) {
          this.saveCheckpoint(o.checkpointDir);
        }
      }
      status = "finished";
    } finally {
      bar?.close();
      live?.close(status);
    }
    for (const cb of o.callbacks ?? []) cb.onEnd?.(this as unknown as Trainer<Module>);
    return this.history;
  }
}

/** Trains with a new Trainer (see TrainerOptions) and returns it, history and evaluations included. */
export function fit<M extends Module>(options: TrainerOptions<M>): Trainer<M> {
  const trainer = new Trainer(options);
  trainer.fit();
  return trainer;
}
