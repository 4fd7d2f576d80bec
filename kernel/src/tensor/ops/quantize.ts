// Block-wise symmetric absmax quantization to int8 or int4 (ZeRO++ qwZ/qgZ).
// The flattened tensor is cut into blocks of blockSize elements (the last may be
// shorter); each block has a float32 scale absmax / qmax (qmax 127 for int8, 7
// for int4) and codes round-half-even(x / scale) in [-qmax, qmax]. int4 codes are
// packed two per byte (element 2i in the low nibble). Dequantizing gives
// code * scale in float32, within scale / 2 of the float32 input.
import { isFloat } from "../dtype.js";
import { kernelsFor } from "../device.js";
import { Tensor, asContiguous, fmtShape, numelOf } from "../tensor.js";
import { allDevices, defineOp } from "./registry.js";

export type QuantBits = 8 | 4;

export interface Quantized {
  /** int8 codes in x's shape (bits 8), or uint8 bytes [ceil(numel / 2)] holding two int4 codes each (bits 4). */
  data: Tensor;
  /** float32 [ceil(numel / blockSize)]: one scale per block. */
  scales: Tensor;
  bits: QuantBits;
  blockSize: number;
  /** The shape of the quantized tensor. */
  shape: readonly number[];
}

interface QuantAttrs { bits: QuantBits; block: number; sink: { scales?: Tensor } }

const quantizeOp = defineOp<QuantAttrs>({
  name: "quantize_blockwise",
  infer: ([x], { bits }) => {
    if (!isFloat(x.dtype)) throw new TypeError(`quantize: needs a floating-point tensor, got ${x.dtype}; cast it with .to("float32")`);
    return bits === 8 ? { shape: x.shape, dtype: "int8" } : { shape: [Math.ceil(x.numel / 2)], dtype: "uint8" };
  },
  // One native pass computes both; the scales leave through attrs.sink.
  kernels: allDevices(
    ([x], { bits, block, sink }, out) => {
      const src = asContiguous(x, "float32");
      const data = Tensor.empty(out.shape, out.dtype, false, x.device);
      const scales = Tensor.empty([Math.ceil(x.numel / block)], "float32", false, x.device);
      kernelsFor(x.device).tensorQuantize(bits, src.storage.native, src.offset, x.numel, block, data.storage.native, scales.storage.native);
      if (src !== x) src.dispose();
      sink.scales = scales;
      return data;
    },
  ),
});

function checkQuant(bits: unknown, blockSize: unknown, op: string): void {
  if (bits !== 8 && bits !== 4) throw new RangeError(`${op}: bits must be 8 or 4, got ${String(bits)}`);
  if (typeof blockSize !== "number" || !Number.isInteger(blockSize) || blockSize <= 0) {
    throw new RangeError(`${op}: blockSize must be a positive integer, got ${String(blockSize)}`);
  }
  if (bits === 4 && blockSize % 2 !== 0) {
    throw new RangeError(`${op}: int4 blocks must hold an even number of elements (two codes per byte), got blockSize ${blockSize}; use ${blockSize + 1}`);
  }
}

/** Quantizes x block-wise to int8 or int4 codes with one float32 scale per block of blockSize elements. */
export function quantize(x: Tensor, options: { bits?: QuantBits; blockSize?: number } = {}): Quantized {
  const bits = options.bits ?? 8;
  const blockSize = options.blockSize ?? 256;
  checkQuant(bits, blockSize, "quantize");
  const sink: { scales?: Tensor } = {};
  const data = quantizeOp([x], { bits, block: blockSize, sink });
  return { data, scales: sink.scales as Tensor, bits, blockSize, shape: [...x.shape] };
}

interface DequantAttrs { bits: QuantBits; block: number; shape: readonly number[] }

const dequantizeOp = defineOp<DequantAttrs>({
  name: "dequantize_blockwise",
  infer: ([data, scales], { bits, block, shape }) => {
    const n = numelOf(shape);
    const wantData = bits === 8 ? n : Math.ceil(n / 2);
    const wantType = bits === 8 ? "int8" : "uint8";
    if (data.dtype !== wantType || data.numel !== wantData) {
      throw new TypeError(`dequantize: data must be ${wantType} with ${wantData} elements for int${bits} codes of ${fmtShape(shape)}, got ${data.dtype} ${fmtShape(data.shape)}`);
    }
    const nb = Math.ceil(n / block);
    if (scales.dtype !== "float32" || scales.numel !== nb) {
      throw new TypeError(`dequantize: scales must be float32 with ${nb} elements (one per block of ${block}), got ${scales.dtype} ${fmtShape(scales.shape)}`);
    }
    return { shape, dtype: "float32" };
  },
  kernels: allDevices(
    ([data, scales], { bits, block }, out) => {
      const d = asContiguous(data);
      const s = asContiguous(scales);
      const res = Tensor.empty(out.shape, "float32", false, data.device);
      kernelsFor(data.device).tensorDequantize(bits, d.storage.native, d.offset, s.storage.native, s.offset, res.numel, block, res.storage.native);
      if (d !== data) d.dispose();
      if (s !== scales) s.dispose();
      return res;
    },
  ),
});

/** float32 values code * scale in the quantized tensor's shape. */
export function dequantize(q: Quantized): Tensor {
  checkQuant(q.bits, q.blockSize, "dequantize");
  if (!(q.data instanceof Tensor) || !(q.scales instanceof Tensor)) throw new TypeError("dequantize: pass the { data, scales, bits, blockSize, shape } that quantize returned");
  return dequantizeOp([q.data, q.scales], { bits: q.bits, block: q.blockSize, shape: q.shape });
}
