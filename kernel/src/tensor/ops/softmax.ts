// softmax and log_softmax along one dim; the native kernel works on contiguous
// rows, so a non-last dim is moved last by a strided copy and moved back as a view.
import { computeType, isFloat } from "../dtype.js";
import { kernelsFor } from "../device.js";
import { Tensor, asContiguous, castRaw } from "../tensor.js";
import { allDevices, defineOp } from "./registry.js";
import { normDim } from "./views.js";

function lastDimView(t: Tensor, dim: number): Tensor {
  if (dim === t.ndim - 1 || t.ndim === 0) return t;
  const perm = t.shape.map((_, i) => i);
  perm[dim] = t.ndim - 1;
  perm[t.ndim - 1] = dim;
  return t.view_(perm.map((d) => t.shape[d]), perm.map((d) => t.strides[d]), t.offset);
}

/** Runs a row kernel on t with dim moved last; returns the result in t's layout (dims order). */
function rowwise(ts: readonly Tensor[], dim: number, dtypeOut: Tensor["dtype"], fn: (srcs: Tensor[], out: Tensor, rows: number, n: number) => void): Tensor {
  const ct = computeType(dtypeOut);
  const moved = ts.map((t) => lastDimView(t, dim));
  const srcs = moved.map((m) => asContiguous(m, ct));
  const shape = moved[0].shape;
  const n = shape.length === 0 ? 1 : shape[shape.length - 1];
  const rows = n === 0 ? 0 : moved[0].numel / n;
  const out = Tensor.empty(shape, ct, false, ts[0].device);
  fn(srcs, out, rows, n);
  srcs.forEach((s, i) => { if (s !== ts[i]) s.dispose(); });
  moved.forEach((m, i) => { if (m !== ts[i] && !m.isDisposed) m.dispose(); });
  let res = out;
  if (ct !== dtypeOut) {
    res = castRaw(out, dtypeOut);
    out.dispose();
  }
  if (dim === ts[0].ndim - 1 || ts[0].ndim === 0) return res;
  const back = lastDimView(res, dim);
  res.dispose();
  return back;
}

function defineSoftmax(log: boolean) {
  const name = log ? "log_softmax" : "softmax";
  const op = defineOp<{ dim: number }>({
    name,
    infer: ([x]) => {
      if (!isFloat(x.dtype)) throw new TypeError(`${name}: needs a floating-point tensor, got ${x.dtype}; cast it with .to("float32")`);
      return { shape: x.shape, dtype: x.dtype };
    },
    kernels: allDevices(
      ([x], { dim }) =>
      rowwise([x], dim, x.dtype, ([s], out, rows, n) => kernelsFor(s.device).tensorSoftmax(log, s.storage.native, s.offset, out.storage.native, 0, rows, n)),
    ),
    backward: (g, { output, attrs: { dim } }) => [
      rowwise([output, g], dim, output.dtype, ([y, gy], gx, rows, n) =>
        kernelsFor(y.device).tensorSoftmaxBackward(log, y.storage.native, y.offset, gy.storage.native, gy.offset, gx.storage.native, 0, rows, n)),
    ],
  });
  return (x: Tensor, dim = -1): Tensor => op([x], { dim: normDim(dim, x.ndim, name) });
}

export const softmax = defineSoftmax(false);
export const logSoftmax = defineSoftmax(true);
