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
  /** Names of the inputs in error messages (default a, b, c, ...). */
  inputNames?: readonly string[];
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
    for (let i = 1; i < inputs.length; i++) {
      if (inputs[i].device !== device) {
        const name = (j: number) => def.inputNames?.[j] ?? (j < 26 ? String.fromCharCode(97 + j) : `input ${j}`);
        throw new Error(`${def.name}: ${name(0)} is on ${device}, ${name(i)} on ${inputs[i].device}; move one with .to()`);
      }
    }
    const spec = def.infer(inputs, attrs);
    const kernel = def.kernels[device];
    if (kernel === undefined) {
      throw new Error(`${def.name}: no ${device} kernel for this op yet; move the inputs with .to("cpu") and back with .to("${device}")`);
    }
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

/**
 * The same kernel for every device: for kernels that make views or run only
 * kernelsFor(x.device) natives on tensors allocated on x.device, so the device
 * of the inputs picks the native code (cpu: the addon, cuda: its CUDA library).
 */
export function allDevices<A>(kernel: Kernel<A>): { cpu: Kernel<A>; cuda: Kernel<A> } {
  return { cpu: kernel, cuda: kernel };
}
