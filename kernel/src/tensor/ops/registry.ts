// One op, declared once: its shape/dtype rule, its kernel per device and its
// gradient live in one defineOp() call. High-level ops compose these.
import type { DType } from "../dtype.js";
import { isGradEnabled } from "../autograd.js";
import type { Device, Tensor } from "../tensor.js";

export interface OutputSpec {
  shape: readonly number[];
  dtype: DType;
}

export interface BackwardContext<A> {
  readonly inputs: readonly Tensor[];
  readonly output: Tensor;
  readonly attrs: A;
  /** needs[i]: whether input i wants a gradient. */
  readonly needs: readonly boolean[];
  /** What the kernel kept for the gradient with KernelContext.save (e.g. row statistics), in order. */
  readonly extra: readonly Tensor[];
}

/** Passed to a kernel: whether the op is being recorded for autograd, and a place to keep tensors for its backward. */
export interface KernelContext {
  /** True when the op records a gradient node; only then does save() keep anything. */
  readonly recording: boolean;
  /** Keeps t for backward (ctx.extra); the graph owns it from then on. */
  save(t: Tensor): void;
}

export interface OpDefinition<A> {
  name: string;
  /** Validates the inputs and returns the output's shape and dtype; errors name both operands. */
  infer(inputs: readonly Tensor[], attrs: A): OutputSpec;
  /** The kernel per device: computes the output (a new tensor, or a view for view ops). */
  kernels: { cpu: Kernel<A> } & Partial<Record<Device, Kernel<A>>>;
  /** The gradient: one entry per input (null where none). Omit for ops without one. */
  backward?: (grad: Tensor, ctx: BackwardContext<A>) => (Tensor | null)[];
  /** Whether backward reads the output (saved for tidy). Default true. */
  savesOutput?: boolean;
}

export type Kernel<A> = (inputs: readonly Tensor[], attrs: A, out: OutputSpec, ctx: KernelContext) => Tensor;

export type Op<A> = (inputs: readonly Tensor[], attrs: A) => Tensor;

const registry = new Map<string, OpDefinition<never>>();

/** Every declared op by name (for introspection, tests and docs). */
export function registeredOps(): string[] {
  return [...registry.keys()].sort();
}

export function defineOp<A>(def: OpDefinition<A>): Op<A> {
  if (registry.has(def.name)) throw new Error(`defineOp: ${def.name} is declared twice`);
  registry.set(def.name, def as unknown as OpDefinition<never>);
  return (inputs, attrs) => {
    for (const t of inputs) t.check(def.name);
    const device = inputs.length > 0 ? inputs[0].device : "cpu";
    for (const t of inputs) {
      if (t.device !== device) throw new Error(`${def.name}: inputs are on ${device} and ${t.device}; move them to one device`);
    }
    const spec = def.infer(inputs, attrs);
    const kernel = def.kernels[device];
    if (kernel === undefined) throw new Error(`${def.name}: no kernel for device ${device}`);
    const backward = def.backward;
    const recording = backward !== undefined && isGradEnabled() && inputs.some((t) => t.requiresGrad);
    const extra: Tensor[] = [];
    const ctx: KernelContext = {
      recording,
      save: (t) => {
        if (recording) extra.push(t);
        else t.dispose();
      },
    };
    const out = kernel(inputs, attrs, spec, ctx);
    if (recording && backward !== undefined) {
      const needs = inputs.map((t) => t.requiresGrad);
      const saved = def.savesOutput === false ? [...inputs, ...extra] : [...inputs, out, ...extra];
      out.setRequiresGradInternal(true);
      out.gradFn = {
        name: def.name,
        inputs,
        saved,
        backward: (grad) => backward(grad, { inputs, output: out, attrs, needs, extra }),
      };
    }
    return out;
  };
}
