// Notebooks and images made at test time for the regression-runner tests.
import { deflateSync } from "node:zlib";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  codeCell,
  newNotebook,
  writeNotebook,
  type CellMetadata,
  type CodeCell,
  type Notebook,
  type Output,
} from "nbforge/dist/notebook/nbformat.js";

export const TS_KERNELSPEC = { name: "nbforge", display_name: "TypeScript (nbforge)", language: "typescript" };
export const PY_KERNELSPEC = { name: "python3", display_name: "Python 3", language: "python" };

/** A code cell as if it had run once: a stored execution count and stored outputs. */
export function ranCell(source: string, outputs: Output[], metadata: CellMetadata = {}, count = 1): CodeCell {
  return { ...codeCell(source, metadata), execution_count: count, outputs };
}

export function stdout(text: string): Output {
  return { output_type: "stream", name: "stdout", text };
}

export function result(data: Record<string, unknown>, count = 1): Output {
  return { output_type: "execute_result", execution_count: count, data, metadata: {} };
}

export function shown(data: Record<string, unknown>): Output {
  return { output_type: "display_data", data, metadata: {} };
}

export function error(ename: string, evalue: string, traceback: string[] = ["stored traceback, never compared"]): Output {
  return { output_type: "error", ename, evalue, traceback };
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function saveNotebook(dir: string, name: string, cells: CodeCell[], kernelspec = TS_KERNELSPEC): Promise<string> {
  const path = join(dir, name);
  const nb: Notebook = newNotebook({ kernelspec }, cells);
  await writeNotebook(path, nb);
  return path;
}

// ---------------------------------------------------------------------------
// A minimal PNG encoder (8-bit grayscale), independent of the decoder under test.

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, "latin1");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])), 0);
  return Buffer.concat([head, body, crc]);
}

/** A grayscale PNG whose pixel (x, y) is shade(x, y) in 0..255, rows filtered with "Up" to exercise unfiltering. */
export function grayPng(width: number, height: number, shade: (x: number, y: number) => number): string {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // grayscale
  const raw = Buffer.alloc((width + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width + 1)] = 2; // filter: Up
    for (let x = 0; x < width; x++) {
      const value = Math.max(0, Math.min(255, Math.round(shade(x, y))));
      const above = y > 0 ? Math.max(0, Math.min(255, Math.round(shade(x, y - 1)))) : 0;
      raw[y * (width + 1) + 1 + x] = (value - above) & 0xff;
    }
  }
  const png = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
  return png.toString("base64");
}
