// Training checkpoints: a folder with
//   model.safetensors       the model's state dict (a tied weight stored once)
//   config.json             for models with a Hugging Face config, so fromPretrained reads the folder
//   optimizer.safetensors   the optimizer's per-parameter tensors, "state.<index>.<name>"
//   trainer_state.json      step, optimizer hyper-parameters and scalar state,
//                           schedule, data loader position, random generators, history
// Everything is written to a temporary folder and renamed into place, so an
// interrupted save never leaves a half checkpoint under the final name.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, basename } from "node:path";
import { readSafetensors, writeSafetensors } from "../io/safetensors.js";
import { stateDictOnce, type Module } from "../nn/module.js";
import type { BaseHyper, Optimizer, OptimizerStateDict, ParamState } from "../optim/optimizer.js";
import type { LRScheduler, SchedulerStateDict } from "../optim/schedule.js";
import type { DataLoader, DataLoaderState } from "../data/loader.js";
import { Tensor } from "../tensor/tensor.js";
import { loadRngState, rngState, type RngState } from "./rng.js";

export const CHECKPOINT_FORMAT = "nbforge-trainer-checkpoint/1";

export interface TrainingParts {
  model: Module;
  optimizer?: Optimizer<BaseHyper> | null;
  scheduler?: LRScheduler | null;
  dataLoader?: DataLoader | null;
}

export interface TrainerStateFile {
  format: string;
  step: number;
  optimizer: { paramGroups: (BaseHyper & { params: number[] })[]; scalars: Record<string, Record<string, number>> } | null;
  scheduler: SchedulerStateDict | null;
  dataLoader: DataLoaderState | null;
  rng: RngState;
  /** Anything else the caller keeps (e.g. the loss history). */
  extra: Record<string, unknown>;
}

/** Writes a checkpoint of the parts at `step` into dir (replacing an older one there). */
export function saveCheckpoint(dir: string, parts: TrainingParts, step: number, extra: Record<string, unknown> = {}): void {
  const tmp = join(dirname(dir), `.${basename(dir)}.tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  // Model: each tensor once (tied weights load under any of their names).
  writeSafetensors(join(tmp, "model.safetensors"), stateDictOnce(parts.model), { format: "pt" });
  // A model that has a Hugging Face config (GPT, Llama) makes the folder loadable by fromPretrained too.
  const hf = (parts.model as unknown as { hfConfig?: () => Record<string, unknown> }).hfConfig;
  if (typeof hf === "function") writeFileSync(join(tmp, "config.json"), JSON.stringify(hf.call(parts.model), null, 2) + "\n");
  let optimizer: TrainerStateFile["optimizer"] = null;
  if (parts.optimizer != null) {
    const sd = parts.optimizer.stateDict();
    const tensors: Record<string, Tensor> = {};
    const scalars: Record<string, Record<string, number>> = {};
    for (const [idx, entry] of Object.entries(sd.state)) {
      scalars[idx] = {};
      for (const [name, v] of Object.entries(entry)) {
        if (v instanceof Tensor) tensors[`state.${idx}.${name}`] = v;
        else scalars[idx][name] = v;
      }
    }
    writeSafetensors(join(tmp, "optimizer.safetensors"), tensors);
    optimizer = { paramGroups: sd.paramGroups, scalars };
  }
  const state: TrainerStateFile = {
    format: CHECKPOINT_FORMAT,
    step,
    optimizer,
    scheduler: parts.scheduler?.stateDict() ?? null,
    dataLoader: parts.dataLoader?.stateDict() ?? null,
    rng: rngState(parts.model),
    extra,
  };
  writeFileSync(join(tmp, "trainer_state.json"), JSON.stringify(state, null, 1) + "\n");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dirname(dir), { recursive: true });
  renameSync(tmp, dir);
}

/** Restores the parts from a checkpoint folder; returns its step and extra data. */
export function loadCheckpoint(dir: string, parts: TrainingParts): { step: number; extra: Record<string, unknown> } {
  const statePath = join(dir, "trainer_state.json");
  if (!existsSync(statePath)) throw new Error(`loadCheckpoint: ${dir} has no trainer_state.json; is it a folder written by saveCheckpoint or Trainer?`);
  const state = JSON.parse(readFileSync(statePath, "utf8")) as TrainerStateFile;
  if (state.format !== CHECKPOINT_FORMAT) throw new Error(`loadCheckpoint: ${statePath} has format ${JSON.stringify(state.format)}, expected ${CHECKPOINT_FORMAT}`);
  const model = readSafetensors(join(dir, "model.safetensors")).tensors;
  try {
    parts.model.loadStateDict(model);
  } finally {
    for (const t of Object.values(model)) t.dispose();
  }
  if (parts.optimizer != null) {
    if (state.optimizer === null) throw new Error(`loadCheckpoint: ${dir} holds no optimizer state`);
    const tensors = readSafetensors(join(dir, "optimizer.safetensors")).tensors;
    try {
      const st: Record<string, ParamState> = {};
      for (const [idx, sc] of Object.entries(state.optimizer.scalars)) st[idx] = { ...sc };
      for (const [key, t] of Object.entries(tensors)) {
        const m = /^state\.(\d+)\.(.+)$/.exec(key);
        if (m === null) throw new Error(`loadCheckpoint: optimizer.safetensors has an unexpected tensor "${key}"`);
        (st[m[1]] ??= {})[m[2]] = t;
      }
      parts.optimizer.loadStateDict({ state: st, paramGroups: state.optimizer.paramGroups } as OptimizerStateDict<BaseHyper>);
    } finally {
      for (const t of Object.values(tensors)) t.dispose();
    }
  }
  if (parts.scheduler != null) {
    if (state.scheduler === null) throw new Error(`loadCheckpoint: ${dir} holds no schedule state`);
    parts.scheduler.loadStateDict(state.scheduler);
  }
  if (parts.dataLoader != null) {
    if (state.dataLoader === null) throw new Error(`loadCheckpoint: ${dir} holds no data loader state`);
    parts.dataLoader.loadStateDict(state.dataLoader);
  }
  loadRngState(parts.model, state.rng);
  return { step: state.step, extra: state.extra ?? {} };
}
