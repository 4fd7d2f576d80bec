// embedding: rows of a [num_embeddings, dim] weight picked by int32/int64
// indices of any shape (output: [...indices.shape, dim]). The gradient is a
// scatter-add of the output gradient's rows into the weight's rows; rows at
// paddingIdx get none (as torch.nn.functional.embedding).
import { computeType, isFloat } from "../dtype.js";
import { kernelsFor } from "../device.js";
import { Tensor, asContiguous, fmtShape } from "../tensor.js";
import { allDevices, defineOp } from "./registry.js";

interface EmbeddingAttrs {
  /** -1: none (already normalised to [0, num_embeddings)). */
  paddingIdx: number;
}

const embeddingOp = defineOp<EmbeddingAttrs>({
  name: "embedding",
  infer: ([idx, w]) => {
    if (idx.dtype !== "int32" && idx.dtype !== "int64") {
      throw new TypeError(`embedding: indices ${fmtShape(idx.shape)} are ${idx.dtype}, weight ${fmtShape(w.shape)}: indices must be int32 or int64 (cast them with .to("int64"))`);
    }
    if (w.ndim !== 2) throw new RangeError(`embedding: weight ${fmtShape(w.shape)} for indices ${fmtShape(idx.shape)}: weight must be 2-D [num_embeddings, dim]`);
    if (!isFloat(w.dtype)) throw new TypeError(`embedding: weight ${fmtShape(w.shape)} is ${w.dtype}, indices ${fmtShape(idx.shape)}: weight must be floating-point`);
    return { shape: [...idx.shape, w.shape[1]], dtype: w.dtype };
  },
  kernels: allDevices(
    ([idx0, w0], _a, spec) => {
      const idx = asContiguous(idx0);
      const w = asContiguous(w0);
      const out = Tensor.empty(spec.shape, spec.dtype, false, w.device);
      try {
        kernelsFor(w.device).tensorEmbedding(idx.storage.native, idx.offset, idx.numel, w.storage.native, w.offset, w.shape[0], w.shape[1], out.storage.native, 0);
      } catch (e) {
        out.dispose();
        throw e;
      } finally {
        if (idx !== idx0) idx.dispose();
        if (w !== w0) w.dispose();
      }
      return out;
    },
  ),
  backward: (g, { inputs: [idx0, w], attrs }) => {
    const ct = computeType(w.dtype);
    const idx = asContiguous(idx0);
    const gy = asContiguous(g, ct);
    const gw = Tensor.empty(w.shape, ct, false, w.device);
    kernelsFor(w.device).tensorEmbeddingBackward(idx.storage.native, idx.offset, idx.numel, gy.storage.native, gy.offset, w.shape[0], w.shape[1],
      gw.storage.native, 0, attrs.paddingIdx);
    return [null, gw];
  },
  savesOutput: false,
});

/** Looks up rows of weight ([num_embeddings, dim]) by integer indices; paddingIdx (negative counts from the end) gets no gradient. */
export function embedding(indices: Tensor, weight: Tensor, paddingIdx?: number | null): Tensor {
  let pad = -1;
  if (paddingIdx !== undefined && paddingIdx !== null) {
    const num = weight.shape[0] ?? 0;
    if (!Number.isInteger(paddingIdx) || paddingIdx >= num || paddingIdx < -num) {
      throw new RangeError(`embedding: paddingIdx ${paddingIdx} is outside the weight's ${num} rows ${fmtShape(weight.shape)}`);
    }
    pad = paddingIdx < 0 ? paddingIdx + num : paddingIdx;
  }
  return embeddingOp([indices, weight], { paddingIdx: pad });
}
