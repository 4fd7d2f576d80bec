// Element types. float32 is the compute type; bfloat16 and float16 are storage
// types whose arithmetic runs in float32; codes match native/src/tensor/storage.h.

export type DType = "float32" | "float64" | "bfloat16" | "float16" | "int32" | "int64" | "int8" | "uint8" | "bool";

export const DTYPES: readonly DType[] = ["float32", "float64", "bfloat16", "float16", "int32", "int64", "int8", "uint8", "bool"];

export const DTYPE_CODE: Readonly<Record<DType, number>> = {
  float32: 0, float64: 1, bfloat16: 2, float16: 3, int32: 4, int64: 5, int8: 6, uint8: 7, bool: 8,
};

export const DTYPE_SIZE: Readonly<Record<DType, number>> = {
  float32: 4, float64: 8, bfloat16: 2, float16: 2, int32: 4, int64: 8, int8: 1, uint8: 1, bool: 1,
};

/** The typed array that data() returns for each dtype (bfloat16/float16 read back as float32). */
export interface DataArrays {
  float32: Float32Array;
  float64: Float64Array;
  bfloat16: Float32Array;
  float16: Float32Array;
  int32: Int32Array;
  int64: BigInt64Array;
  int8: Int8Array;
  uint8: Uint8Array;
  bool: Uint8Array;
}
export type DataArray = DataArrays[DType];

export function isFloat(d: DType): boolean {
  return d === "float32" || d === "float64" || d === "bfloat16" || d === "float16";
}

export function checkDType(d: unknown, where: string): DType {
  if (typeof d === "string" && (DTYPES as readonly string[]).includes(d)) return d as DType;
  throw new TypeError(`${where}: unknown dtype ${JSON.stringify(d)}; expected one of ${DTYPES.join(", ")}`);
}

const RANK: Readonly<Record<DType, number>> = {
  bool: 0, uint8: 1, int8: 1, int32: 2, int64: 3, bfloat16: 4, float16: 4, float32: 5, float64: 6,
};

/** The result dtype of a binary op, following PyTorch's promotion for tensors. */
export function promoteTypes(a: DType, b: DType): DType {
  if (a === b) return a;
  if ((a === "bfloat16" && b === "float16") || (a === "float16" && b === "bfloat16")) return "float32";
  if ((a === "int8" && b === "uint8") || (a === "uint8" && b === "int8")) return "int32";
  return RANK[a] >= RANK[b] ? a : b;
}

/** The dtype the native math kernels run in for values of dtype d. */
export function computeType(d: DType): "float32" | "float64" {
  return d === "float32" || d === "bfloat16" || d === "float16" ? "float32" : "float64";
}
