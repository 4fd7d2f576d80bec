// Module: the container every layer and model derives from. It owns named
// parameters, buffers and child modules, and gives them the dotted names that
// Hugging Face checkpoints use ("transformer.h.0.attn.c_attn.weight"), so a
// state dict moves between nbforge and PyTorch unchanged.
import { noGrad } from "../tensor/autograd.js";
import { checkDevice, kernelsFor } from "../tensor/device.js";
import { checkDType, type DType } from "../tensor/dtype.js";
import { Tensor, fmtShape, type Device } from "../tensor/tensor.js";

export interface LoadStateDictOptions {
  /** Every key must match: none missing, none unexpected (default true). Shapes must always match. */
  strict?: boolean;
}

export interface LoadStateDictResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

interface BufferSlot {
  tensor: Tensor;
  /** Persistent buffers belong to the state dict; others (e.g. rotary tables) are recomputed. */
  persistent: boolean;
}

/** Copies src's values into dst's storage (dtype converted), keeping dst's identity for optimizers that hold it. */
export function copyInto(dst: Tensor, src: Tensor): void {
  dst.check("copyInto");
  src.check("copyInto");
  if (dst.shape.join(",") !== src.shape.join(",")) {
    throw new RangeError(`copyInto: source ${fmtShape(src.shape)} does not match destination ${fmtShape(dst.shape)}`);
  }
  const from = src.device === dst.device ? src : noGrad(() => src.to(dst.device));
  kernelsFor(dst.device).tensorCopy(from.storage.native, from.offset, from.strides, dst.storage.native, dst.offset, dst.strides, src.shape);
  if (from !== src) from.dispose();
}

export class Module {
  /** Training mode: dropout is active. Set with train() / eval(). */
  training = true;
  private readonly _parameters = new Map<string, Tensor>();
  private readonly _buffers = new Map<string, BufferSlot>();
  private readonly _modules = new Map<string, Module>();

  // ---- registration (used by subclasses' constructors) ----

  /** Registers t as a trainable parameter under name (requiresGrad is turned on). */
  registerParameter(name: string, t: Tensor): Tensor {
    checkName(name, "registerParameter");
    if (!t.isLeaf) throw new Error(`registerParameter("${name}"): a parameter must be a leaf tensor; pass t.detach()`);
    if (!t.requiresGrad) t.requiresGrad = true;
    this._parameters.set(name, t);
    return t;
  }

  /** Registers a non-trainable tensor; persistent buffers appear in stateDict(). */
  registerBuffer(name: string, t: Tensor, options: { persistent?: boolean } = {}): Tensor {
    checkName(name, "registerBuffer");
    this._buffers.set(name, { tensor: t, persistent: options.persistent ?? true });
    return t;
  }

  /** Registers (or replaces) a child module under name. */
  registerModule<M extends Module>(name: string, m: M): M {
    checkName(name, "registerModule");
    if (!(m instanceof Module)) throw new TypeError(`registerModule("${name}"): expected a Module`);
    this._modules.set(name, m);
    return m;
  }

  /** The parameter registered under name on this module (not children). */
  param(name: string): Tensor {
    const t = this._parameters.get(name);
    if (t === undefined) throw new Error(`${this.constructor.name}: no parameter "${name}"; it has ${[...this._parameters.keys()].join(", ") || "none"}`);
    return t;
  }

  hasParameter(name: string): boolean {
    return this._parameters.has(name);
  }

  hasModule(name: string): boolean {
    return this._modules.has(name);
  }

  /** The buffer registered under name on this module (not children). */
  buffer(name: string): Tensor {
    const b = this._buffers.get(name);
    if (b === undefined) throw new Error(`${this.constructor.name}: no buffer "${name}"`);
    return b.tensor;
  }

  /** The child module registered under name. */
  child<M extends Module = Module>(name: string): M {
    const m = this._modules.get(name);
    if (m === undefined) throw new Error(`${this.constructor.name}: no submodule "${name}"; it has ${[...this._modules.keys()].join(", ") || "none"}`);
    return m as M;
  }

  /** The module at a dotted path ("transformer.h.0.attn"); "" is this module. */
  getSubmodule(path: string): Module {
    let m: Module = this;
    if (path === "") return m;
    for (const part of path.split(".")) m = m.child(part);
    return m;
  }

  // ---- traversal ----

  namedChildren(): Array<[string, Module]> {
    return [...this._modules.entries()];
  }

  /** This module and every descendant with its dotted path (this one is ""). */
  namedModules(prefix = ""): Array<[string, Module]> {
    const out: Array<[string, Module]> = [[prefix, this]];
    for (const [name, m] of this._modules) out.push(...m.namedModules(join(prefix, name)));
    return out;
  }

  /** Every parameter with its dotted name; a tensor shared by two modules (tied weights) appears once, under its first name. */
  namedParameters(): Array<[string, Tensor]> {
    const seen = new Set<Tensor>();
    const out: Array<[string, Tensor]> = [];
    for (const [path, m] of this.namedModules()) {
      for (const [name, t] of m._parameters) {
        if (seen.has(t)) continue;
        seen.add(t);
        out.push([join(path, name), t]);
      }
    }
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** Every buffer with its dotted name (persistent or not). */
  namedBuffers(): Array<[string, Tensor]> {
    const out: Array<[string, Tensor]> = [];
    for (const [path, m] of this.namedModules()) for (const [name, b] of m._buffers) out.push([join(path, name), b.tensor]);
    return out;
  }

  /** Number of distinct parameter elements (trainable only with { trainable: true }). */
  numParameters(options: { trainable?: boolean } = {}): number {
    let n = 0;
    for (const t of this.parameters()) if (!options.trainable || t.requiresGrad) n += t.numel;
    return n;
  }

  // ---- modes ----

  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Drops every parameter's accumulated gradient. */
  zeroGrad(): void {
    for (const t of this.parameters()) t.zeroGrad();
  }

  // ---- state ----

  /**
   * Parameters and persistent buffers by dotted name, as PyTorch's state_dict():
   * tied weights appear under every name. The tensors are the module's own
   * (not copies): clone them to keep a snapshot.
   */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [path, m] of this.namedModules()) {
      for (const [name, t] of m._parameters) out[join(path, name)] = t;
      for (const [name, b] of m._buffers) if (b.persistent) out[join(path, name)] = b.tensor;
    }
    return out;
  }

  /**
   * Copies values from sd into this module's parameters and persistent buffers
   * (in place, so optimizers keep their references; dtypes are converted).
   * Shapes must match. With strict (the default), missing and unexpected keys are
   * an error too; a tied weight counts as loaded when any of its names is given.
   */
  loadStateDict(sd: Record<string, Tensor>, options: LoadStateDictOptions = {}): LoadStateDictResult {
    const strict = options.strict ?? true;
    const own = this.stateDict();
    const ownKeys = Object.keys(own);
    const unexpectedKeys = Object.keys(sd).filter((k) => !(k in own));
    const mismatched: string[] = [];
    for (const k of ownKeys) {
      const src = sd[k];
      if (src === undefined) continue;
      if (!(src instanceof Tensor)) {
        mismatched.push(`${k}: expected a Tensor, got ${typeof src}`);
      } else if (src.shape.join(",") !== own[k].shape.join(",")) {
        mismatched.push(`${k}: checkpoint has ${fmtShape(src.shape)}, model has ${fmtShape(own[k].shape)}`);
      }
    }
    const loaded = new Set<Tensor>();
    for (const k of ownKeys) if (sd[k] !== undefined) loaded.add(own[k]);
    const missingKeys = ownKeys.filter((k) => sd[k] === undefined && !loaded.has(own[k]));
    const problems: string[] = [];
    if (mismatched.length > 0) problems.push(`size mismatch for ${mismatched.length} key(s):\n  ${mismatched.join("\n  ")}`);
    if (strict && missingKeys.length > 0) problems.push(`missing ${missingKeys.length} key(s): ${missingKeys.join(", ")}`);
    if (strict && unexpectedKeys.length > 0) problems.push(`unexpected ${unexpectedKeys.length} key(s): ${unexpectedKeys.join(", ")}`);
    if (problems.length > 0) {
      const hint = strict && mismatched.length === 0 ? "\n(pass { strict: false } to load the keys that match and ignore the rest)" : "";
      throw new Error(`loadStateDict(${this.constructor.name}): ${problems.join("\n")}${hint}`);
    }
    for (const k of ownKeys) {
      const src = sd[k];
      if (src !== undefined && src !== own[k]) copyInto(own[k], src);
    }
    return { missingKeys, unexpectedKeys };
  }

  /**
   * Converts every parameter and buffer to a dtype, or moves them to a device
   * ("cpu", "cuda"). Parameters stay trainable leaves (fresh tensors: build the
   * optimizer after moving); tied weights stay tied.
   */
  to(target: Device | DType | "cuda:0"): this {
    const isDevice = target === "cpu" || String(target).startsWith("cuda");
    const where = `${this.constructor.name}.to`;
    const device = isDevice ? checkDevice(target, where) : null;
    const dtype = isDevice ? null : checkDType(target, where);
    const replaced = new Map<Tensor, Tensor>();
    const convert = (t: Tensor): Tensor => {
      if (device !== null ? t.device === device : t.dtype === dtype) return t;
      let c = replaced.get(t);
      if (c === undefined) {
        c = noGrad(() => t.to((device ?? dtype) as DType | Device));
        if (t.requiresGrad) c.requiresGrad = true;
        replaced.set(t, c);
      }
      return c;
    };
    for (const [, m] of this.namedModules()) {
      for (const [name, t] of m._parameters) m._parameters.set(name, convert(t));
      for (const [, b] of m._buffers) b.tensor = convert(b.tensor);
    }
    for (const old of replaced.keys()) old.dispose();
    return this;
  }

  /** Frees every parameter and buffer now (the module is unusable afterwards). */
  dispose(): void {
    for (const t of this.parameters()) t.dispose();
    for (const [, t] of this.namedBuffers()) t.dispose();
  }

  /** A one-line-per-module summary: class, parameter count. */
  toString(): string {
    const lines: string[] = [];
    for (const [path, m] of this.namedModules()) {
      const depth = path === "" ? 0 : path.split(".").length;
      let own = 0;
      for (const t of m._parameters.values()) own += t.numel;
      lines.push(`${"  ".repeat(depth)}${path === "" ? "" : path.split(".").pop() + ": "}${m.constructor.name}${own > 0 ? ` (${own.toLocaleString("en-US")} params)` : ""}`);
    }
    lines[0] += ` — ${this.numParameters().toLocaleString("en-US")} parameters`;
    return lines.join("\n");
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }

  /** Shown by display(model) in a notebook: the module tree with parameter counts. */
  [Symbol.for("Jupyter.display")](): Record<string, string> {
    return { "text/plain": this.toString() };
  }
}

/** m.stateDict() with each tensor once, under its first name: a tied weight is written once (loadStateDict and transformers re-tie it). */
export function stateDictOnce(m: Module): Record<string, Tensor> {
  const seen = new Set<Tensor>();
  const out: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(m.stateDict())) {
    if (seen.has(t)) continue;
    seen.add(t);
    out[k] = t;
  }
  return out;
}

/** A list of modules named "0", "1", ... (PyTorch's nn.ModuleList), so block i's keys read "h.i.…". */
export class ModuleList<M extends Module = Module> extends Module {
  // The items are the children "0", "1", …: read from there, so a child
  // replaced through registerModule (as LoRA does) is what iteration sees.
  #length = 0;
  constructor(modules: readonly M[] = []) {
    super();
    for (const m of modules) this.push(m);
  }
  push(m: M): void {
    this.registerModule(String(this.#length), m);
    this.#length++;
  }
  get length(): number {
    return this.#length;
  }
  /** Item i; a negative i counts from the end, as Array.at. */
  at(i: number): M {
    return this.child<M>(String(this.#index(i)));
  }
  /** Replaces item i (used by applyLoRA-like rewrites). */
  set(i: number, m: M): void {
    this.registerModule(String(this.#index(i)), m);
  }
  *[Symbol.iterator](): Iterator<M> {
    for (let i = 0; i < this.#length; i++) yield this.child<M>(String(i));
  }
  #index(i: number): number {
    const k = Math.trunc(i) < 0 ? Math.trunc(i) + this.#length : Math.trunc(i);
    if (!(k >= 0 && k < this.#length)) throw new RangeError(`ModuleList: index ${i} is out of range for ${this.#length} modules`);
    return k;
  }
}

function join(prefix: string, name: string): string {
  return prefix === "" ? name : `${prefix}.${name}`;
}

function checkName(name: string, where: string): void {
  if (typeof name !== "string" || name === "" || name.includes(".")) {
    throw new TypeError(`${where}: name ${JSON.stringify(name)} must be a non-empty string without dots (dots join nested names)`);
  }
}
