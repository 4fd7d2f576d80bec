// LoRA (Hu et al. 2021, "Low-Rank Adaptation"): a frozen projection W plus a
// trainable low-rank update, h = W x + (alpha / r) · B A x (eq. 3), with A
// [r, in] initialised like a Linear layer and B [out, r] at zero, so training
// starts from the base model. merge() folds B A into W for inference;
// unmerge() takes it out again. Parameter names follow PEFT's
// (…q_proj.weight, …q_proj.lora_A.weight, …q_proj.lora_B.weight).
import { noGrad } from "../tensor/autograd.js";
import type { Generator } from "../tensor/creation.js";
import { zeros } from "../tensor/creation.js";
import type { Tensor } from "../tensor/tensor.js";
import { Conv1D, Dropout, Linear, project, type Projection } from "./layers.js";
import { Module, copyInto } from "./module.js";

export interface LoRAOptions {
  /** Rank of the update. */
  r: number;
  /** Scale numerator: the update is multiplied by alpha / r (default r, i.e. scale 1). */
  alpha?: number;
  /** Names of the projections to adapt: last path component ("q_proj") or a full dotted path; or a RegExp over the full path. */
  targets: readonly string[] | RegExp;
  /** Dropout on the LoRA branch's input (default 0). */
  dropout?: number;
  generator?: Generator;
}

/** A Linear or GPT-2 Conv1D with a low-rank trainable update; the base weight is frozen. */
export class LoRALinear extends Module implements Projection {
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** "linear": weight [out, in]; "conv1d": weight [in, out] (GPT-2). */
  readonly layout: "linear" | "conv1d";
  readonly r: number;
  readonly scale: number;
  private _merged = false;

  constructor(base: Linear | Conv1D, options: Omit<LoRAOptions, "targets">) {
    super();
    const { r } = options;
    if (!(Number.isInteger(r) && r > 0)) throw new RangeError(`LoRALinear: r must be a positive integer, got ${r}`);
    this.inFeatures = base.inFeatures;
    this.outFeatures = base.outFeatures;
    this.layout = base instanceof Conv1D ? "conv1d" : "linear";
    this.r = r;
    this.scale = (options.alpha ?? r) / r;
    const w = base.param("weight");
    w.requiresGrad = false;
    this.registerParameter("weight", w).requiresGrad = false;
    if (base.hasParameter("bias")) {
      const b = base.param("bias");
      b.requiresGrad = false;
      this.registerParameter("bias", b).requiresGrad = false;
    }
    this.registerModule("lora_dropout", new Dropout(options.dropout ?? 0, options.generator));
    this.registerModule("lora_A", new Linear(this.inFeatures, r, { bias: false, generator: options.generator, dtype: w.dtype }));
    const B = this.registerModule("lora_B", new Linear(r, this.outFeatures, { bias: false, generator: options.generator, dtype: w.dtype }));
    copyInto(B.weight, zeros(B.weight.shape, { dtype: w.dtype }));
  }

  get merged(): boolean {
    return this._merged;
  }

  forward(x: Tensor): Tensor {
    const w = this.param("weight");
    const y = project(x, w, this.hasParameter("bias") ? this.param("bias") : null, this.layout === "linear" ? "out_in" : "in_out");
    if (this._merged) return y;
    const a = this.child<Linear>("lora_A").forward(this.child<Dropout>("lora_dropout").forward(x));
    return y.add(this.child<Linear>("lora_B").forward(a).mul(this.scale));
  }

  /** scale · B A in the base weight's layout. */
  private delta(): Tensor {
    const ba = this.child<Linear>("lora_B").weight.matmul(this.child<Linear>("lora_A").weight).mul(this.scale);
    return this.layout === "linear" ? ba : ba.mT;
  }

  /** Folds the update into the base weight (forward then costs one matmul). */
  merge(): void {
    if (this._merged) return;
    noGrad(() => {
      const w = this.param("weight");
      copyInto(w, w.add(this.delta()));
    });
    this._merged = true;
  }

  /** Takes the update out of the base weight again. */
  unmerge(): void {
    if (!this._merged) return;
    noGrad(() => {
      const w = this.param("weight");
      copyInto(w, w.sub(this.delta()));
    });
    this._merged = false;
  }
}

/** Registers m in place of the module at a dotted path of model. */
function replaceAt(model: Module, path: string, m: Module): void {
  const cut = path.lastIndexOf(".");
  model.getSubmodule(cut < 0 ? "" : path.slice(0, cut)).registerModule(path.slice(cut + 1), m);
}

function matches(path: string, targets: readonly string[] | RegExp): boolean {
  if (targets instanceof RegExp) return targets.test(path);
  const last = path.split(".").pop() as string;
  return targets.includes(last) || targets.includes(path);
}

/**
 * Replaces every targeted Linear / Conv1D in model with a LoRALinear and
 * freezes all other parameters (as PEFT does). Returns the adapted paths.
 */
export function applyLoRA(model: Module, options: LoRAOptions): string[] {
  const adapted: string[] = [];
  for (const [path, m] of model.namedModules()) {
    if (path === "" || !(m instanceof Linear || m instanceof Conv1D) || !matches(path, options.targets)) continue;
    replaceAt(model, path, new LoRALinear(m, options));
    adapted.push(path);
  }
  if (adapted.length === 0) {
    const names = [...new Set(model.namedModules().filter(([, m]) => m instanceof Linear || m instanceof Conv1D).map(([p]) => p.split(".").pop()))];
    throw new Error(`applyLoRA: no Linear or Conv1D matches targets ${String(options.targets)}; this model's projections are named ${names.join(", ")}`);
  }
  for (const [name, p] of model.namedParameters()) {
    if (!/\.lora_[AB]\.weight$/.test(name) && p.requiresGrad) p.requiresGrad = false;
  }
  return adapted;
}

/** Every LoRALinear in model. */
export function loraLayers(model: Module): LoRALinear[] {
  return model.namedModules().map(([, m]) => m).filter((m): m is LoRALinear => m instanceof LoRALinear);
}

/** Merges every LoRA update into its base weight. */
export function mergeLoRA(model: Module): void {
  for (const l of loraLayers(model)) l.merge();
}

/** Takes every merged LoRA update out of its base weight. */
export function unmergeLoRA(model: Module): void {
  for (const l of loraLayers(model)) l.unmerge();
}

/**
 * Merges every LoRA update and puts plain Linear / Conv1D layers back (PEFT's
 * merge_and_unload), so the model saves with the base architecture's keys only.
 * The merged weights stay frozen unless requiresGrad is turned back on.
 */
export function mergeAndUnload(model: Module): string[] {
  const done: string[] = [];
  for (const [path, m] of model.namedModules()) {
    if (!(m instanceof LoRALinear)) continue;
    m.merge();
    const plain = m.layout === "linear"
      ? new Linear(m.inFeatures, m.outFeatures, { bias: m.hasParameter("bias"), dtype: m.param("weight").dtype })
      : new Conv1D(m.inFeatures, m.outFeatures, { dtype: m.param("weight").dtype });
    for (const name of ["weight", "bias"]) {
      if (!plain.hasParameter(name)) continue;
      plain.param(name).dispose();
      plain.registerParameter(name, m.param(name)).requiresGrad = false;
    }
    for (const [, t] of m.child("lora_A").namedParameters()) t.dispose();
    for (const [, t] of m.child("lora_B").namedParameters()) t.dispose();
    replaceAt(model, path, plain);
    done.push(path);
  }
  return done;
}

/** Only the LoRA parameters (lora_A / lora_B), by name: what an adapter checkpoint holds. */
export function loraStateDict(model: Module): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(model.stateDict())) if (/\.lora_[AB]\.weight$/.test(name)) out[name] = t;
  return out;
}
