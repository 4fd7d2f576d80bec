// The safetensors format (https://huggingface.co/docs/safetensors): an 8-byte
// little-endian header length N, N bytes of JSON mapping each tensor name to
// { dtype, shape, data_offsets: [begin, end] } (offsets relative to the byte
// buffer after the header) plus an optional "__metadata__" of string pairs,
// then the raw little-endian tensor bytes, packed without gaps.
import { closeSync, openSync, readSync, writeSync, fstatSync, renameSync } from "node:fs";
import { noGrad } from "../tensor/autograd.js";
import type { DType } from "../tensor/dtype.js";
import { DTYPE_SIZE } from "../tensor/dtype.js";
import { Tensor, asContiguous, fmtShape, numelOf, typedArrayOf } from "../tensor/tensor.js";

const TO_OURS: Readonly<Record<string, DType>> = {
  F32: "float32", F64: "float64", BF16: "bfloat16", F16: "float16", I32: "int32", I64: "int64", I8: "int8", U8: "uint8", BOOL: "bool",
};
const TO_THEIRS: Readonly<Record<DType, string>> = {
  float32: "F32", float64: "F64", bfloat16: "BF16", float16: "F16", int32: "I32", int64: "I64", int8: "I8", uint8: "U8", bool: "BOOL",
};

/** One tensor's entry in a safetensors header. */
export interface SafetensorsEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

export interface SafetensorsHeader {
  /** Tensor entries by name, in file order. */
  tensors: Record<string, SafetensorsEntry>;
  metadata: Record<string, string>;
  /** Byte position where the data buffer starts (8 + header length). */
  dataStart: number;
}

// A header larger than this is not a safetensors file (the reference implementation caps it at 100 MB).
const MAX_HEADER = 100_000_000;

function readExactly(fd: number, buf: Uint8Array, position: number, path: string): void {
  let done = 0;
  while (done < buf.length) {
    const n = readSync(fd, buf, done, buf.length - done, position + done);
    if (n === 0) throw new Error(`${path}: file ends early (wanted ${buf.length} bytes at byte ${position}); the file is truncated`);
    done += n;
  }
}

function parseHeader(fd: number, path: string): SafetensorsHeader {
  const size = fstatSync(fd).size;
  if (size < 8) throw new Error(`${path}: ${size} bytes is too short for a safetensors file (it starts with an 8-byte header length)`);
  const lenBuf = new Uint8Array(8);
  readExactly(fd, lenBuf, 0, path);
  const n = Number(new DataView(lenBuf.buffer).getBigUint64(0, true));
  if (n > MAX_HEADER || 8 + n > size) throw new Error(`${path}: header length ${n} does not fit the ${size}-byte file; is this a safetensors file?`);
  const json = new Uint8Array(n);
  readExactly(fd, json, 8, path);
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(json));
  } catch (e) {
    throw new Error(`${path}: header is not valid JSON (${(e as Error).message})`);
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw new Error(`${path}: header must be a JSON object of tensor entries`);
  const tensors: Record<string, SafetensorsEntry> = {};
  let metadata: Record<string, string> = {};
  const dataLen = size - 8 - n;
  for (const [name, e] of Object.entries(raw as Record<string, unknown>)) {
    if (name === "__metadata__") {
      metadata = e as Record<string, string>;
      continue;
    }
    const entry = e as SafetensorsEntry;
    if (entry === null || typeof entry !== "object" || typeof entry.dtype !== "string" || !Array.isArray(entry.shape) || !Array.isArray(entry.data_offsets)) {
      throw new Error(`${path}: entry "${name}" needs dtype, shape and data_offsets`);
    }
    const dtype = TO_OURS[entry.dtype];
    if (dtype === undefined) throw new Error(`${path}: tensor "${name}" has dtype ${entry.dtype}, which nbforge does not read (supported: ${Object.keys(TO_OURS).join(", ")})`);
    const [b, end] = entry.data_offsets;
    const want = numelOf(entry.shape) * DTYPE_SIZE[dtype];
    if (!(Number.isInteger(b) && Number.isInteger(end) && b >= 0 && end >= b && end <= dataLen)) {
      throw new Error(`${path}: tensor "${name}" data_offsets [${b}, ${end}] fall outside the ${dataLen}-byte data buffer`);
    }
    if (end - b !== want) throw new Error(`${path}: tensor "${name}" ${entry.dtype} ${fmtShape(entry.shape)} needs ${want} bytes but data_offsets span ${end - b}`);
    tensors[name] = entry;
  }
  return { tensors, metadata, dataStart: 8 + n };
}

/** The header of a safetensors file (names, dtypes, shapes, metadata) without reading any tensor data. */
export function readSafetensorsHeader(path: string): SafetensorsHeader {
  const fd = openSync(path, "r");
  try {
    return parseHeader(fd, path);
  } finally {
    closeSync(fd);
  }
}

export interface ReadSafetensorsOptions {
  /** Read only these tensors (default: all). */
  names?: readonly string[];
}

/** Reads tensors from a safetensors file into native memory, one read per tensor. */
export function readSafetensors(path: string, options: ReadSafetensorsOptions = {}): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
  const fd = openSync(path, "r");
  const out: Record<string, Tensor> = {};
  try {
    const h = parseHeader(fd, path);
    const names = options.names ?? Object.keys(h.tensors);
    for (const name of names) {
      const e = h.tensors[name];
      if (e === undefined) throw new Error(`${path}: no tensor named "${name}"`);
      const dtype = TO_OURS[e.dtype];
      const bytes = new ArrayBuffer(e.data_offsets[1] - e.data_offsets[0]);
      readExactly(fd, new Uint8Array(bytes), h.dataStart + e.data_offsets[0], path);
      const t = Tensor.empty(e.shape, dtype);
      if (bytes.byteLength > 0) t.storage.native.write(typedArrayOf(dtype, bytes), 0);
      out[name] = t;
    }
    return { tensors: out, metadata: h.metadata };
  } catch (e) {
    for (const t of Object.values(out)) t.dispose();
    throw e;
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes tensors to a safetensors file that Python's safetensors (and
 * transformers) read: header padded with spaces to a multiple of 8 bytes, data
 * packed in header order. Written to a temporary name, then renamed, so a
 * crash never leaves a half-written checkpoint.
 */
export function writeSafetensors(path: string, tensors: Record<string, Tensor>, metadata: Record<string, string> = {}): void {
  const names = Object.keys(tensors);
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== "string") throw new TypeError(`writeSafetensors: metadata "${k}" must be a string (safetensors metadata maps strings to strings)`);
    }
    header.__metadata__ = metadata;
  }
  let at = 0;
  for (const name of names) {
    const t = tensors[name];
    if (!(t instanceof Tensor)) throw new TypeError(`writeSafetensors: "${name}" is not a Tensor`);
    t.check("writeSafetensors");
    const bytes = t.numel * DTYPE_SIZE[t.dtype];
    header[name] = { dtype: TO_THEIRS[t.dtype], shape: [...t.shape], data_offsets: [at, at + bytes] };
    at += bytes;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const jsonBytes = Buffer.from(json, "utf8");
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(jsonBytes.length));
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, "w");
  try {
    writeSync(fd, len);
    writeSync(fd, jsonBytes);
    for (const name of names) {
      const t = tensors[name];
      if (t.numel === 0) continue;
      // tensors on another device come to the cpu first
      const c = t.device === "cpu" ? asContiguous(t) : noGrad(() => t.to("cpu"));
      const buf = new Uint8Array(c.storage.native.read(c.offset, c.numel));
      if (c !== t) c.dispose();
      let done = 0;
      while (done < buf.length) done += writeSync(fd, buf, done, buf.length - done);
    }
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
