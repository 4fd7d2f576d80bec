// Jupyter notebooks (nbformat 4): typed cells and outputs, reading with checks
// that name the bad field, and writing JSON the way Jupyter itself does.
import { randomBytes } from "node:crypto";
import { readFile, rename, writeFile } from "node:fs/promises";
import type { JsonObject } from "../jupyter/wire.js";
import type { LanguageInfo, MimeBundle } from "./messages.js";

export const NBFORMAT = 4;
/** The minor version written for new notebooks; 4.5 gives every cell an id. */
export const NBFORMAT_MINOR = 5;

export interface KernelspecMetadata {
  name: string;
  display_name: string;
  language?: string;
}

export interface NotebookMetadata {
  kernelspec?: KernelspecMetadata;
  language_info?: LanguageInfo;
  [key: string]: unknown;
}

export interface CellMetadata {
  tags?: string[];
  [key: string]: unknown;
}

// In memory, multiline strings are single strings; files may hold them as arrays of lines.
interface CellBase {
  /** Required from nbformat 4.5 on; absent in older notebooks. */
  id?: string;
  source: string;
  metadata: CellMetadata;
}

export interface CodeCell extends CellBase {
  cell_type: "code";
  execution_count: number | null;
  outputs: Output[];
}

export interface MarkdownCell extends CellBase {
  cell_type: "markdown";
  attachments?: Record<string, MimeBundle>;
}

export interface RawCell extends CellBase {
  cell_type: "raw";
  attachments?: Record<string, MimeBundle>;
}

export type Cell = CodeCell | MarkdownCell | RawCell;

export interface StreamOutput {
  output_type: "stream";
  name: "stdout" | "stderr";
  text: string;
}

export interface DisplayDataOutput {
  output_type: "display_data";
  data: MimeBundle;
  metadata: JsonObject;
}

export interface ExecuteResultOutput {
  output_type: "execute_result";
  execution_count: number | null;
  data: MimeBundle;
  metadata: JsonObject;
}

export interface ErrorOutput {
  output_type: "error";
  ename: string;
  evalue: string;
  traceback: string[];
}

export type Output = StreamOutput | DisplayDataOutput | ExecuteResultOutput | ErrorOutput;

export interface Notebook {
  nbformat: 4;
  nbformat_minor: number;
  metadata: NotebookMetadata;
  cells: Cell[];
}

export class NotebookFormatError extends Error {}

// ---------------------------------------------------------------------------
// Building notebooks

/** A cell id as nbformat makes them: 8 hex digits. */
export function newCellId(): string {
  return randomBytes(4).toString("hex");
}

export function newNotebook(metadata: NotebookMetadata = {}, cells: Cell[] = []): Notebook {
  return { nbformat: NBFORMAT, nbformat_minor: NBFORMAT_MINOR, metadata, cells };
}

export function codeCell(source: string, metadata: CellMetadata = {}): CodeCell {
  return { cell_type: "code", id: newCellId(), source, metadata, execution_count: null, outputs: [] };
}

export function markdownCell(source: string, metadata: CellMetadata = {}): MarkdownCell {
  return { cell_type: "markdown", id: newCellId(), source, metadata };
}

export function cellTags(cell: Cell): string[] {
  return Array.isArray(cell.metadata.tags) ? cell.metadata.tags.filter((t) => typeof t === "string") : [];
}

// ---------------------------------------------------------------------------
// Reading

type Json = JsonObject;

/** Field checks that report where in the notebook a value is wrong. */
class Reader {
  constructor(private readonly source: string) {}

  fail(path: string, expected: string, found: unknown): never {
    const shown = found === undefined ? "nothing" : JSON.stringify(found)?.slice(0, 60);
    throw new NotebookFormatError(`${this.source}: ${path}: expected ${expected}, found ${shown}`);
  }

  object(value: unknown, path: string): Json {
    if (typeof value !== "object" || value === null || Array.isArray(value)) this.fail(path, "a JSON object", value);
    return value as Json;
  }

  optionalObject(value: unknown, path: string): Json {
    return value === undefined ? {} : this.object(value, path);
  }

  string(value: unknown, path: string): string {
    if (typeof value !== "string") this.fail(path, "a string", value);
    return value;
  }

  /** A string, or an array of strings (lines) that is joined. */
  multiline(value: unknown, path: string): string {
    if (typeof value === "string") return value;
    if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value.join("");
    return this.fail(path, "a string or an array of strings", value);
  }

  stringArray(value: unknown, path: string): string[] {
    if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
      this.fail(path, "an array of strings", value);
    }
    return value;
  }

  count(value: unknown, path: string): number | null {
    if (value === null || value === undefined) return null;
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0) this.fail(path, "an integer ≥ 0 or null", value);
    return value;
  }

  mimeBundle(value: unknown, path: string): MimeBundle {
    const bundle = this.object(value, path);
    const result: MimeBundle = {};
    for (const [mime, data] of Object.entries(bundle)) {
      result[mime] = isJsonMime(mime) ? data : this.multiline(data, `${path}["${mime}"]`);
    }
    return result;
  }

  output(value: unknown, path: string): Output {
    const raw = this.object(value, path);
    switch (raw.output_type) {
      case "stream": {
        const name = raw.name;
        if (name !== "stdout" && name !== "stderr") this.fail(`${path}.name`, `"stdout" or "stderr"`, name);
        return { output_type: "stream", name, text: this.multiline(raw.text, `${path}.text`) };
      }
      case "display_data":
        return {
          output_type: "display_data",
          data: this.mimeBundle(raw.data, `${path}.data`),
          metadata: this.optionalObject(raw.metadata, `${path}.metadata`),
        };
      case "execute_result":
        return {
          output_type: "execute_result",
          execution_count: this.count(raw.execution_count, `${path}.execution_count`),
          data: this.mimeBundle(raw.data, `${path}.data`),
          metadata: this.optionalObject(raw.metadata, `${path}.metadata`),
        };
      case "error":
        return {
          output_type: "error",
          ename: this.string(raw.ename, `${path}.ename`),
          evalue: this.string(raw.evalue, `${path}.evalue`),
          traceback: this.stringArray(raw.traceback, `${path}.traceback`),
        };
      default:
        return this.fail(`${path}.output_type`, `"stream", "display_data", "execute_result" or "error"`, raw.output_type);
    }
  }

  attachments(value: unknown, path: string): Record<string, MimeBundle> | undefined {
    if (value === undefined) return undefined;
    const raw = this.object(value, path);
    return Object.fromEntries(Object.entries(raw).map(([name, b]) => [name, this.mimeBundle(b, `${path}["${name}"]`)]));
  }

  cell(value: unknown, path: string): Cell {
    const raw = this.object(value, path);
    const id = raw.id === undefined ? undefined : this.string(raw.id, `${path}.id`);
    if (id !== undefined && !/^[a-zA-Z0-9_-]{1,64}$/.test(id)) this.fail(`${path}.id`, "1–64 letters, digits, - or _", id);
    const base = {
      ...(id !== undefined ? { id } : {}),
      source: this.multiline(raw.source, `${path}.source`),
      metadata: this.optionalObject(raw.metadata, `${path}.metadata`) as CellMetadata,
    };
    switch (raw.cell_type) {
      case "code": {
        const outputs = raw.outputs === undefined ? [] : raw.outputs;
        if (!Array.isArray(outputs)) this.fail(`${path}.outputs`, "an array", outputs);
        return {
          cell_type: "code",
          ...base,
          execution_count: this.count(raw.execution_count, `${path}.execution_count`),
          outputs: outputs.map((o, i) => this.output(o, `${path}.outputs[${i}]`)),
        };
      }
      case "markdown":
      case "raw": {
        const attachments = this.attachments(raw.attachments, `${path}.attachments`);
        return { cell_type: raw.cell_type, ...base, ...(attachments ? { attachments } : {}) };
      }
      default:
        return this.fail(`${path}.cell_type`, `"code", "markdown" or "raw"`, raw.cell_type);
    }
  }
}

/** JSON mime types (application/json, application/*+json) hold JSON values, not text. */
export function isJsonMime(mime: string): boolean {
  return mime === "application/json" || (mime.startsWith("application/") && mime.endsWith("+json"));
}

/** Parses and checks an nbformat 4 notebook; `source` (e.g. the path) prefixes error messages. */
export function parseNotebook(text: string, source = "notebook"): Notebook {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new NotebookFormatError(`${source}: not valid JSON: ${(e as Error).message}`);
  }
  const read: Reader = new Reader(source);
  const raw = read.object(value, "notebook");
  if (raw.nbformat !== NBFORMAT) {
    read.fail("nbformat", "4 (convert older notebooks with `jupyter nbconvert --to notebook --nbformat 4`)", raw.nbformat);
  }
  const minor = read.count(raw.nbformat_minor, "nbformat_minor");
  if (minor === null) read.fail("nbformat_minor", "an integer ≥ 0", raw.nbformat_minor);
  if (!Array.isArray(raw.cells)) read.fail("cells", "an array", raw.cells);
  const notebook: Notebook = {
    nbformat: NBFORMAT,
    nbformat_minor: minor,
    metadata: read.optionalObject(raw.metadata, "metadata") as NotebookMetadata,
    cells: raw.cells.map((c, i) => read.cell(c, `cells[${i}]`)),
  };
  return normalizeCellIds(notebook);
}

/** From nbformat 4.5 on, gives each cell a unique id (as nbformat does on read); before it, drops ids. */
export function normalizeCellIds(notebook: Notebook): Notebook {
  const seen = new Set<string>();
  for (const cell of notebook.cells) {
    if (notebook.nbformat_minor < 5) {
      delete cell.id;
      continue;
    }
    while (cell.id === undefined || seen.has(cell.id)) cell.id = newCellId();
    seen.add(cell.id);
  }
  return notebook;
}

export async function readNotebook(path: string): Promise<Notebook> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new NotebookFormatError(`${path}: cannot read the notebook: ${(e as Error).message}`);
  }
  return parseNotebook(text, path);
}

// ---------------------------------------------------------------------------
// Writing

/** Splits text into lines that keep their "\n", as nbformat stores multiline strings. */
export function splitLines(text: string): string[] {
  return text === "" ? [] : text.split(/(?<=\n)/);
}

function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (typeof value !== "object" || value === null) return value;
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries.map(([k, v]) => [k, sortedKeys(v)]));
}

function bundleToJson(bundle: MimeBundle): MimeBundle {
  return Object.fromEntries(
    Object.entries(bundle).map(([mime, data]) => [mime, !isJsonMime(mime) && typeof data === "string" ? splitLines(data) : data]),
  );
}

function outputToJson(output: Output): unknown {
  switch (output.output_type) {
    case "stream":
      return { ...output, text: splitLines(output.text) };
    case "display_data":
    case "execute_result":
      return { ...output, data: bundleToJson(output.data) };
    case "error":
      return output;
  }
}

function cellToJson(cell: Cell, withId: boolean): unknown {
  const { id, ...rest } = cell;
  const json: Record<string, unknown> = { ...rest, source: splitLines(cell.source) };
  if (withId) json.id = id ?? newCellId();
  if (cell.cell_type === "code") json.outputs = cell.outputs.map(outputToJson);
  else if (cell.attachments) {
    json.attachments = Object.fromEntries(Object.entries(cell.attachments).map(([k, b]) => [k, bundleToJson(b)]));
  }
  return json;
}

/** The notebook as Jupyter writes it: sorted keys, one-space indent, lines as arrays, final newline. */
export function serializeNotebook(notebook: Notebook): string {
  const withIds = notebook.nbformat_minor >= 5;
  const json = {
    nbformat: notebook.nbformat,
    nbformat_minor: notebook.nbformat_minor,
    metadata: notebook.metadata,
    cells: notebook.cells.map((c) => cellToJson(c, withIds)),
  };
  return JSON.stringify(sortedKeys(json), null, 1) + "\n";
}

/** Writes through a temporary file and a rename, so a crash never leaves half a notebook. */
export async function writeNotebook(path: string, notebook: Notebook): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, serializeNotebook(notebook), "utf8");
  await rename(temporary, path);
}

// ---------------------------------------------------------------------------
// From iopub messages to outputs

/** The shape of an iopub message that outputs need: its type and content. */
export interface IopubMessage {
  header: { msg_type: string };
  content: JsonObject;
}

function contentBundle(content: JsonObject): MimeBundle {
  const data = content.data;
  return typeof data === "object" && data !== null && !Array.isArray(data) ? (data as MimeBundle) : {};
}

function contentMetadata(content: JsonObject): JsonObject {
  const metadata = content.metadata;
  return typeof metadata === "object" && metadata !== null && !Array.isArray(metadata) ? (metadata as JsonObject) : {};
}

/** The display_id in a message's transient field, if any. */
export function displayIdOf(msg: IopubMessage): string | undefined {
  const transient = msg.content.transient;
  if (typeof transient !== "object" || transient === null) return undefined;
  const id = (transient as JsonObject).display_id;
  return typeof id === "string" ? id : undefined;
}

/** The output a stream, display_data, execute_result or error message stands for. */
export function outputFromMessage(msg: IopubMessage): Output | undefined {
  const c = msg.content;
  switch (msg.header.msg_type) {
    case "stream":
      return { output_type: "stream", name: c.name === "stderr" ? "stderr" : "stdout", text: String(c.text ?? "") };
    case "display_data":
      return { output_type: "display_data", data: contentBundle(c), metadata: contentMetadata(c) };
    case "execute_result":
      return {
        output_type: "execute_result",
        execution_count: typeof c.execution_count === "number" ? c.execution_count : null,
        data: contentBundle(c),
        metadata: contentMetadata(c),
      };
    case "error":
      return {
        output_type: "error",
        ename: String(c.ename ?? ""),
        evalue: String(c.evalue ?? ""),
        traceback: Array.isArray(c.traceback) ? c.traceback.map(String) : [],
      };
    default:
      return undefined;
  }
}

type DisplayOutput = DisplayDataOutput | ExecuteResultOutput;

/**
 * Outputs shown with a display_id, across all cells of a notebook, so that
 * update_display_data can change them wherever they are.
 */
export class DisplayIds {
  private readonly outputsById = new Map<string, DisplayOutput[]>();

  register(id: string, output: DisplayOutput): void {
    const list = this.outputsById.get(id) ?? [];
    list.push(output);
    this.outputsById.set(id, list);
  }

  /** Replaces the data and metadata of every output shown with `id`; returns how many. */
  update(id: string, data: MimeBundle, metadata: JsonObject): number {
    const outputs = this.outputsById.get(id) ?? [];
    for (const output of outputs) {
      output.data = data;
      output.metadata = metadata;
    }
    return outputs.length;
  }

  /** Stops tracking outputs that were cleared away. */
  forget(removed: Output[]): void {
    for (const [id, outputs] of this.outputsById) {
      const kept = outputs.filter((o) => !removed.includes(o));
      if (kept.length === 0) this.outputsById.delete(id);
      else this.outputsById.set(id, kept);
    }
  }
}

/** One cell's outputs, built from iopub messages the way a front end's output area does. */
export class OutputArea {
  private clearBeforeNext = false;

  constructor(
    readonly outputs: Output[] = [],
    private readonly displays: DisplayIds = new DisplayIds(),
  ) {}

  /** Applies one iopub message; returns whether any output (here or elsewhere) changed. */
  handle(msg: IopubMessage): boolean {
    const type = msg.header.msg_type;
    if (type === "clear_output") {
      if (msg.content.wait === true) this.clearBeforeNext = true;
      else this.clear();
      return true;
    }
    if (type === "update_display_data") {
      const id = displayIdOf(msg);
      return id !== undefined && this.displays.update(id, contentBundle(msg.content), contentMetadata(msg.content)) > 0;
    }
    const output = outputFromMessage(msg);
    if (!output) return false; // status, execute_input, comm messages and the like
    if (this.clearBeforeNext) this.clear();
    this.add(output, displayIdOf(msg));
    return true;
  }

  private add(output: Output, displayId: string | undefined): void {
    const last = this.outputs[this.outputs.length - 1];
    if (output.output_type === "stream" && last?.output_type === "stream" && last.name === output.name) {
      last.text += output.text; // Consecutive writes to one stream read as one output.
      return;
    }
    this.outputs.push(output);
    if (displayId !== undefined && (output.output_type === "display_data" || output.output_type === "execute_result")) {
      this.displays.register(displayId, output);
    }
  }

  private clear(): void {
    this.clearBeforeNext = false;
    this.displays.forget(this.outputs.splice(0));
  }
}
