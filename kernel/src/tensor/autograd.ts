// Reverse-mode autograd. Every op that records itself leaves a GradNode on its
// output (the tape is the graph of nodes); backward() walks it in reverse
// topological order, calls each node's gradient rule (declared with the op in
// ops/) and accumulates into the leaves' .grad.
import { BINARY } from "./native.js";
import { kernelsFor } from "./device.js";
import { keep, tidy } from "./scope.js";
import { Tensor, castRaw, fmtShape, materialize } from "./tensor.js";

export interface GradNode {
  /** The op's name (for error messages and debugging). */
  readonly name: string;
  /** Inputs, in the order backward returns their gradients. */
  readonly inputs: readonly Tensor[];
  /** Tensors the gradient rule reads (kept alive by tidy while the graph is). */
  readonly saved: readonly Tensor[];
  /** Gradients for each input (null where an input needs none). */
  backward(grad: Tensor): (Tensor | null)[];
}

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs fn without recording operations for autograd. */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Runs fn with recording on (inside noGrad, for example). */
export function enableGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = true;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  // iterative post-order DFS
  const stack: { t: Tensor; i: number }[] = [{ t: root, i: 0 }];
  visited.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const inputs = top.t.gradFn?.inputs ?? [];
    if (top.i < inputs.length) {
      const next = inputs[top.i++];
      if (next.requiresGrad && !visited.has(next)) {
        visited.add(next);
        stack.push({ t: next, i: 0 });
      }
    } else {
      order.push(top.t);
      stack.pop();
    }
  }
  return order.reverse();
}

// borrowed: the caller's gradient tensor when backward reads it in place (never adopted as a .grad).
function accumulateInto(leaf: Tensor, g: Tensor, borrowed: Tensor | null): void {
  if (g.dtype !== leaf.dtype) g = castRaw(g, leaf.dtype);
  if (leaf.grad === null || leaf.grad.isDisposed) {
    const adopt = g.isContiguous && g.offset === 0 && g.storage.refs === 1 && g.storage.numel === g.numel &&
      (borrowed === null || g.storage !== borrowed.storage);
    const own = adopt ? g : materialize(g);
    leaf.grad = keep(own);
    return;
  }
  const acc = leaf.grad;
  if (acc.dtype === "float32" || acc.dtype === "float64") {
    kernelsFor(acc.device).tensorBinary(BINARY.add, acc.storage.native, acc.offset, acc.strides, g.storage.native, g.offset, g.strides,
      acc.storage.native, acc.offset, acc.shape);
  } else {
    const sum = castRaw(acc.to("float32").add(g.to("float32")), acc.dtype);
    acc.dispose();
    leaf.grad = keep(sum);
  }
}

/** @internal Tensor.backward */
export function runBackward(root: Tensor, gradient?: Tensor): void {
  root.check("backward");
  if (!root.requiresGrad) {
    throw new Error("backward: this tensor does not require gradients; create its inputs with { requiresGrad: true } and not inside noGrad()");
  }
  if (gradient === undefined && root.numel !== 1) {
    throw new Error(`backward: the gradient is implicit only for scalars; this tensor has shape ${fmtShape(root.shape)}, so call backward(gradient) with a gradient of that shape`);
  }
  if (gradient !== undefined && gradient.shape.join(",") !== root.shape.join(",")) {
    throw new Error(`backward: gradient ${fmtShape(gradient.shape)} does not match the tensor's shape ${fmtShape(root.shape)}`);
  }
  if (gradient !== undefined && gradient.device !== root.device) {
    throw new Error(`backward: the tensor is on ${root.device}, the gradient on ${gradient.device}; move one with .to()`);
  }
  noGrad(() =>
    tidy(() => {
      const grads = new Map<Tensor, Tensor>();
      let g0: Tensor;
      let borrowed: Tensor | null = null;
      if (gradient === undefined) {
        g0 = Tensor.empty(root.shape, root.dtype, false, root.device);
        kernelsFor(root.device).tensorFill(g0.storage.native, 0, 1, 1);
      } else if (gradient.dtype === root.dtype && root.hooks.length === 0) {
        gradient.check("backward");
        // Read in place, not copied: gradient rules treat their incoming gradient as
        // read-only (it may be shared by several inputs), it was made outside this
        // tidy so it is not disposed here, and accumulateInto never adopts it.
        g0 = gradient;
        borrowed = gradient;
      } else {
        g0 = castRaw(gradient, root.dtype);
      }
      grads.set(root, g0);
      for (const t of topoOrder(root)) {
        let g = grads.get(t);
        if (g === undefined) continue;
        grads.delete(t);
        for (const hook of t.hooks) {
          const r = hook(g);
          if (r instanceof Tensor) g = r;
        }
        const node = t.gradFn;
        if (node === null) {
          if (t.requiresGrad) accumulateInto(t, g, borrowed);
          continue;
        }
        const ins = node.backward(g);
        node.inputs.forEach((input, i) => {
          let gi = ins[i];
          if (gi === null || gi === undefined || !input.requiresGrad) return;
          if (gi.shape.join(",") !== input.shape.join(",")) {
            throw new Error(`backward of ${node.name}: gradient ${fmtShape(gi.shape)} for an input of shape ${fmtShape(input.shape)} (an op's gradient rule is wrong)`);
          }
          if (gi.dtype !== input.dtype) gi = castRaw(gi, input.dtype);
          const prev = grads.get(input);
          grads.set(input, prev === undefined ? gi : prev.add(gi));
        });
      }
    }),
  );
}
