// The optimizer base: parameter groups with their own hyper-parameters, a flat
// state buffer per group (one native call updates a whole group), zeroGrad, and
// state dicts in PyTorch's shape (state by parameter index, param_groups).
import { Tensor, asContiguous, fmtShape } from "../tensor/tensor.js";
import { zeros } from "../tensor/creation.js";
import type { Device } from "../tensor/device.js";
import { keep, tidy } from "../tensor/scope.js";
import { writeInto } from "./device-step.js";
import type { DType } from "../tensor/dtype.js";

/** Hyper-parameters every optimizer has. */
export interface BaseHyper {
  lr: number;
}

/** A group of parameters with hyper-parameters that override the optimizer's defaults. */
export type ParamGroupInput<H> = { params: readonly Tensor[] } & Partial<H>;

/** What an optimizer takes: a list of parameters, or groups of them. */
export type ParamsInput<H> = Iterable<Tensor> | readonly ParamGroupInput<H>[];

export interface ParamGroup<H> {
  readonly params: readonly Tensor[];
  hyper: H;
}

/** One parameter's entry in a state dict: tensors (views of the flat buffers) and numbers. */
export type ParamState = Record<string, Tensor | number>;

export interface OptimizerStateDict<H> {
  /** Keyed by the parameter's index over all groups, in order; only parameters that have state. */
  state: Record<string, ParamState>;
  paramGroups: (H & { params: number[] })[];
}

/** @internal a group's flat state: one buffer per state name, each parameter a segment. */
export interface FlatState {
  dtype: DType;
  /** Where the group's parameters (and so its state) live. */
  device: Device;
  offsets: number[];
  buffers: Tensor[];
}

export abstract class Optimizer<H extends BaseHyper> {
  readonly paramGroups: ParamGroup<H>[];
  /** @internal per group: the flat state buffers. */
  protected readonly flat: FlatState[];
  /** The names of the flat per-element state buffers (e.g. exp_avg, exp_avg_sq). */
  protected abstract readonly bufferNames: readonly string[];

  private readonly defaults: H;
  private readonly where: string;

  constructor(params: ParamsInput<H>, defaults: H, where: string) {
    checkHyper(defaults, where);
    this.defaults = defaults;
    this.where = where;
    const list = [...params];
    const groups: ParamGroupInput<H>[] = list.every((p) => p instanceof Tensor)
      ? [{ params: list as Tensor[] } as unknown as ParamGroupInput<H>]
      : (list as ParamGroupInput<H>[]);
    if (groups.length === 0) throw new RangeError(`${where}: no parameters; pass model.parameters() or a list of groups`);
    this.paramGroups = [];
    for (const g of groups) this.paramGroups.push(this.makeGroup(g));
    this.flat = [];
  }

  /** Validates a group against the parameters already held and fills in the defaults. */
  private makeGroup(g: ParamGroupInput<H>): ParamGroup<H> {
    const where = this.where;
    const gi = this.paramGroups.length;
    if (!Array.isArray(g.params) || g.params.length === 0) {
      throw new RangeError(`${where}: parameter group ${gi} has no params; each group is { params: Tensor[], ...overrides }`);
    }
    const seen = new Set<Tensor>(this.paramGroups.flatMap((x) => x.params));
    for (const p of g.params) {
      if (!(p instanceof Tensor)) throw new TypeError(`${where}: group ${gi} holds something that is not a Tensor`);
      if (seen.has(p)) throw new RangeError(`${where}: a parameter ${fmtShape(p.shape)} appears twice; each may be in one group only`);
      if (!p.isContiguous) throw new RangeError(`${where}: parameter ${fmtShape(p.shape)} is not contiguous; optimize the leaf tensor, not a view`);
      if (p.dtype !== "float32" && p.dtype !== "float64") throw new TypeError(`${where}: parameters must be float32 or float64, got ${p.dtype}`);
      if (p.dtype !== g.params[0].dtype) throw new TypeError(`${where}: group ${gi} mixes ${g.params[0].dtype} and ${p.dtype}; put each dtype in its own group`);
      if (p.device !== g.params[0].device) throw new TypeError(`${where}: group ${gi} mixes ${g.params[0].device} and ${p.device} parameters; move the model to one device first`);
      seen.add(p);
    }
    const { params: ps, ...over } = g;
    const hyper = { ...this.defaults, ...(over as unknown as Partial<H>) } as H;
    checkHyper(hyper, `${where} group ${gi}`);
    return { params: [...ps], hyper };
  }

  /** Adds a group of parameters (e.g. adapters unfrozen later), with its own hyper-parameter overrides. */
  addParamGroup(group: ParamGroupInput<H>): void {
    this.paramGroups.push(this.makeGroup(group));
    this.allocateState();
  }

  /** Per-group set-up of a subclass (validation, scalar state); called once for each new group. */
  protected abstract groupAdded(gi: number): void;

  /** Allocates the flat buffers of groups that have none yet; subclasses call this at the end of their constructor. */
  protected allocateState(): void {
    for (let gi = this.flat.length; gi < this.paramGroups.length; gi++) {
      const g = this.paramGroups[gi];
      this.groupAdded(gi);
      const offsets: number[] = [];
      let n = 0;
      for (const p of g.params) {
        offsets.push(n);
        n += p.numel;
      }
      const { dtype, device } = g.params[0];
      const buffers = this.bufferNames.map(() => keep(zeros([n], { dtype, device })));
      this.flat.push({ dtype, device, offsets, buffers });
    }
  }

  /** Applies one update to every parameter that has a gradient. */
  abstract step(): void;

  /** Drops every parameter's gradient (PyTorch's set_to_none behaviour). */
  zeroGrad(): void {
    for (const g of this.paramGroups) for (const p of g.params) p.zeroGrad();
  }

  /** The learning rate of each group. */
  get lrs(): number[] {
    return this.paramGroups.map((g) => g.hyper.lr);
  }

  /** @internal per-parameter scalar state (e.g. step counts), by group then parameter. */
  protected abstract scalarState(gi: number, pi: number): Record<string, number> | null;
  /** @internal restores the scalar state of one parameter (null: no state yet). */
  protected abstract setScalarState(gi: number, pi: number, s: Record<string, number> | null): void;

  /** The optimizer's state: per-parameter tensors (views of the flat buffers; copy them to keep) and hyper-parameters. */
  stateDict(): OptimizerStateDict<H> {
    const state: Record<string, ParamState> = {};
    const paramGroups: (H & { params: number[] })[] = [];
    let index = 0;
    this.paramGroups.forEach((g, gi) => {
      const ids: number[] = [];
      g.params.forEach((p, pi) => {
        const scalars = this.scalarState(gi, pi);
        if (scalars !== null) {
          const entry: ParamState = { ...scalars };
          this.bufferNames.forEach((name, bi) => {
            entry[name] = stateView(this.flat[gi], bi, pi, p);
          });
          state[String(index)] = entry;
        }
        ids.push(index++);
      });
      paramGroups.push({ ...g.hyper, params: ids });
    });
    return { state, paramGroups };
  }

  /** Restores a state dict from stateDict() (or a checkpoint); shapes and group sizes must match. */
  loadStateDict(sd: OptimizerStateDict<H>): void {
    const where = "loadStateDict";
    if (sd === null || typeof sd !== "object" || !Array.isArray(sd.paramGroups)) {
      throw new TypeError(`${where}: expected { state, paramGroups } from an optimizer's stateDict()`);
    }
    if (sd.paramGroups.length !== this.paramGroups.length) {
      throw new RangeError(`${where}: the state dict has ${sd.paramGroups.length} parameter groups, this optimizer ${this.paramGroups.length}`);
    }
    this.paramGroups.forEach((g, gi) => {
      const sg = sd.paramGroups[gi];
      if (sg.params.length !== g.params.length) {
        throw new RangeError(`${where}: group ${gi} has ${sg.params.length} parameters in the state dict, ${g.params.length} here`);
      }
      const { params: ids, ...hyper } = sg;
      checkHyper(hyper as unknown as H, `${where} group ${gi}`);
      g.hyper = { ...g.hyper, ...(hyper as unknown as H) };
      g.params.forEach((p, pi) => {
        const entry = sd.state[String(ids[pi])];
        const fl = this.flat[gi];
        if (entry === undefined) {
          this.setScalarState(gi, pi, null);
          fl.buffers.forEach((_, bi) => {
            const view = stateView(fl, bi, pi, p);
            tidy(() => writeInto(view, zeros(p.shape, { dtype: fl.dtype })));
            view.dispose();
          });
          return;
        }
        const scalars: Record<string, number> = {};
        for (const [k, v] of Object.entries(entry)) if (typeof v === "number") scalars[k] = v;
        this.bufferNames.forEach((name, bi) => {
          const t = entry[name];
          if (!(t instanceof Tensor)) throw new TypeError(`${where}: parameter ${ids[pi]} has no tensor "${name}"`);
          if (t.numel !== p.numel) {
            throw new RangeError(`${where}: "${name}" of parameter ${ids[pi]} has shape ${fmtShape(t.shape)}, the parameter ${fmtShape(p.shape)}`);
          }
          const view = stateView(fl, bi, pi, p);
          writeInto(view, t);
          view.dispose();
        });
        this.setScalarState(gi, pi, scalars);
      });
    });
  }
}

/** @internal parameter pi's segment of state buffer bi, shaped like the parameter. */
export function stateView(fl: FlatState, bi: number, pi: number, p: Tensor): Tensor {
  const off = fl.offsets[pi];
  return fl.buffers[bi].slice(0, off, off + p.numel).reshape(p.shape);
}

/** @internal the parameters of a group that have gradients, as native arguments. */
export function gradSegments(g: ParamGroup<BaseHyper>, fl: FlatState, where: string) {
  const params = [], pOffs: number[] = [], grads = [], gOffs: number[] = [], sizes: number[] = [], stateOffs: number[] = [], index: number[] = [];
  const gradTensors: Tensor[] = [];
  const temps: Tensor[] = [];
  for (let pi = 0; pi < g.params.length; pi++) {
    const p = g.params[pi];
    p.check(where);
    if (p.grad === null) continue;
    if (p.grad.numel !== p.numel) throw new RangeError(`${where}: gradient ${fmtShape(p.grad.shape)} does not match parameter ${fmtShape(p.shape)}`);
    const gr = asContiguous(p.grad, p.dtype);
    if (gr !== p.grad) temps.push(gr);
    params.push(p.storage.native);
    pOffs.push(p.offset);
    grads.push(gr.storage.native);
    gOffs.push(gr.offset);
    sizes.push(p.numel);
    stateOffs.push(fl.offsets[pi]);
    index.push(pi);
    gradTensors.push(gr);
  }
  return { params, pOffs, grads, gOffs, sizes, stateOffs, index, gradTensors, dispose: () => temps.forEach((t) => t.dispose()) };
}

function checkHyper(h: object, where: string): void {
  for (const [k, v] of Object.entries(h)) {
    if (typeof v === "number" && !Number.isFinite(v)) throw new RangeError(`${where}: ${k} must be a finite number, got ${v}`);
  }
  const lr = (h as { lr?: unknown }).lr;
  if (typeof lr !== "number" || lr < 0) throw new RangeError(`${where}: lr must be a non-negative number, got ${String(lr)}`);
}
