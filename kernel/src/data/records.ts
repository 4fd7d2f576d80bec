// Record readers: JSON Lines (one JSON object per line) and Parquet (through
// hyparquet, a maintained pure-JavaScript reader).
import { createReadStream, existsSync, readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { asyncBufferFromFile, parquetReadObjects } from "hyparquet";

export type JsonRecord = Record<string, unknown>;

function parseLine(line: string, lineNo: number, path: string): JsonRecord | null {
  if (line.trim() === "") return null;
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    throw new SyntaxError(`${path} line ${lineNo}: not valid JSON (${(e as Error).message})`);
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw new TypeError(`${path} line ${lineNo}: expected a JSON object per line, found ${Array.isArray(v) ? "an array" : typeof v}`);
  return v as JsonRecord;
}

/** Every record of a JSON Lines file (blank lines skipped). */
export function readJsonl(path: string): JsonRecord[] {
  if (!existsSync(path)) throw new Error(`readJsonl: ${path} does not exist`);
  const out: JsonRecord[] = [];
  readFileSync(path, "utf8").split("\n").forEach((line, i) => {
    const r = parseLine(line, i + 1, path);
    if (r !== null) out.push(r);
  });
  return out;
}

/** The records of a JSON Lines file one at a time, for files too big to hold. */
export async function* streamJsonl(path: string): AsyncGenerator<JsonRecord> {
  if (!existsSync(path)) throw new Error(`streamJsonl: ${path} does not exist`);
  const lines = createInterface({ input: createReadStream(path, "utf8"), crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    const r = parseLine(line, ++n, path);
    if (r !== null) yield r;
  }
}

export interface ParquetReadOptions {
  /** Only these columns (default all). */
  columns?: string[];
  /** Rows [rowStart, rowEnd) (default all). */
  rowStart?: number;
  rowEnd?: number;
}

/** The rows of a Parquet file as records (column name -> value; int64 columns come back as bigint). */
export async function readParquet(path: string, options: ParquetReadOptions = {}): Promise<JsonRecord[]> {
  if (!existsSync(path)) throw new Error(`readParquet: ${path} does not exist`);
  const file = await asyncBufferFromFile(path);
  try {
    return (await parquetReadObjects({ file, columns: options.columns, rowStart: options.rowStart, rowEnd: options.rowEnd })) as JsonRecord[];
  } catch (e) {
    throw new Error(`readParquet: ${path}: ${(e as Error).message}`);
  }
}
