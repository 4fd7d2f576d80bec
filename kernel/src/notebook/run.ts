// Executing a notebook through a kernel as a Jupyter client, cell by cell,
// and saving it with its outputs (what `nbforge run` does).
import { basename, dirname, extname, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { KernelClient, KernelTimeoutError, within, type InterruptMode, type MessageHeader } from "./client.js";
import {
  DisplayIds,
  OutputArea,
  cellTags,
  readNotebook,
  writeNotebook,
  type CodeCell,
  type ErrorOutput,
  type Notebook,
} from "./nbformat.js";

export interface RunOptions {
  /** Where to write the executed notebook (default `<name>.out.ipynb` beside the input). */
  outputPath?: string;
  /** Overrides the notebook's metadata.kernelspec.name. */
  kernelName?: string;
  /** Launches this command line instead of a kernelspec (`{connection_file}` is substituted). */
  argv?: string[];
  /** How to interrupt a timed-out cell; defaults to the kernelspec's mode ("signal" with argv). */
  interruptMode?: InterruptMode;
  /** How long one cell may run before it is interrupted and the run fails (default: no limit). */
  cellTimeoutMs?: number;
  startupTimeoutMs?: number;
  /** The kernel's working directory (default: the notebook's folder). */
  cwd?: string;
  /** Receives one human-readable line per step. */
  onProgress?: (line: string) => void;
}

export type CellStatus = "ok" | "error" | "expected-error" | "timeout" | "skipped";

export interface CellResult {
  /** Position among all cells of the notebook. */
  index: number;
  status: CellStatus;
  executionCount: number | null;
  durationMs: number;
  error?: { ename: string; evalue: string };
}

export interface RunSummary {
  inputPath: string;
  outputPath: string;
  kernelName: string;
  /** One entry per code cell that was executed (or failed). */
  cells: CellResult[];
  codeCells: number;
  ok: boolean;
  /** Why the run stopped early, naming the cell. */
  failure?: string;
  durationMs: number;
}

/** Seconds a timed-out cell gets to answer its interrupt before the run gives up on it. */
const INTERRUPT_GRACE_MS = 5_000;

export function defaultOutputPath(inputPath: string): string {
  const ext = extname(inputPath);
  return join(dirname(inputPath), `${basename(inputPath, ext)}.out${ext || ".ipynb"}`);
}

function kernelNameOf(notebook: Notebook, options: RunOptions, inputPath: string): string {
  const name = options.kernelName ?? notebook.metadata.kernelspec?.name;
  if (name) return name;
  if (options.argv) return options.argv.join(" ");
  throw new Error(`${inputPath}: metadata.kernelspec.name is missing; pass a kernel name (e.g. --kernel nbforge)`);
}

function resetOutputs(notebook: Notebook): void {
  for (const cell of notebook.cells) {
    if (cell.cell_type !== "code") continue;
    cell.outputs = [];
    cell.execution_count = null;
  }
}

function firstError(cell: CodeCell): ErrorOutput | undefined {
  return cell.outputs.find((o): o is ErrorOutput => o.output_type === "error");
}

export async function runNotebook(inputPath: string, options: RunOptions = {}): Promise<RunSummary> {
  const started = performance.now();
  const progress = options.onProgress ?? (() => undefined);
  const notebook = await readNotebook(inputPath);
  const outputPath = options.outputPath ?? defaultOutputPath(inputPath);
  const kernelName = kernelNameOf(notebook, options, inputPath);
  const codeCells = notebook.cells.filter((c): c is CodeCell => c.cell_type === "code");
  resetOutputs(notebook);

  progress(`starting kernel ${kernelName}`);
  const client = await KernelClient.launch({
    kernelName: options.argv ? options.kernelName : kernelName,
    argv: options.argv,
    interruptMode: options.interruptMode,
    cwd: options.cwd ?? dirname(resolve(inputPath)),
    startupTimeoutMs: options.startupTimeoutMs,
  });
  const summary: RunSummary = { inputPath, outputPath, kernelName, cells: [], codeCells: codeCells.length, ok: true, durationMs: 0 };
  try {
    const info = await client.kernelInfo();
    notebook.metadata.language_info = info.content.language_info;
    const displays = new DisplayIds(); // Shared, so a display can be updated from a later cell.
    let position = 0;
    for (const [index, cell] of notebook.cells.entries()) {
      if (cell.cell_type !== "code") continue;
      position++;
      const label = `cell ${position}/${codeCells.length}`;
      if (cell.source.trim() === "") {
        summary.cells.push({ index, status: "skipped", executionCount: null, durationMs: 0 });
        progress(`${label} skipped (empty)`);
        continue;
      }
      let result: CellResult;
      try {
        result = await runCell(client, cell, index, new OutputArea(cell.outputs, displays), options.cellTimeoutMs);
      } catch (e) {
        // The kernel died or stopped answering: keep what the notebook has so far.
        const error = { ename: (e as Error).name, evalue: (e as Error).message };
        result = { index, status: "error", executionCount: cell.execution_count, durationMs: 0, error };
      }
      summary.cells.push(result);
      const error = result.error ? `: ${result.error.ename}: ${result.error.evalue}` : "";
      progress(`${label} ${result.status} (${Math.round(result.durationMs)} ms)${error}`);
      if (result.status === "error" || result.status === "timeout") {
        summary.ok = false;
        summary.failure =
          result.status === "timeout"
            ? `${inputPath}: cell ${position} (of ${codeCells.length} code cells) ran longer than ${options.cellTimeoutMs} ms and was interrupted`
            : `${inputPath}: cell ${position} (of ${codeCells.length} code cells) raised ${result.error?.ename ?? "an error"}` +
              `${error}; tag the cell "raises-exception" if that is expected`;
        break;
      }
    }
  } finally {
    await client.shutdown().catch(() => undefined);
    await client.close();
  }
  await writeNotebook(outputPath, notebook);
  summary.durationMs = performance.now() - started;
  progress(`${summary.ok ? "wrote" : "wrote (partial)"} ${outputPath} in ${Math.round(summary.durationMs)} ms`);
  return summary;
}

async function runCell(
  client: KernelClient,
  cell: CodeCell,
  index: number,
  area: OutputArea,
  timeoutMs: number | undefined,
): Promise<CellResult> {
  const expectsError = cellTags(cell).includes("raises-exception");
  const started = performance.now();
  let sent: MessageHeader | undefined;
  const execution = client.execute(cell.source, {
    stopOnError: !expectsError,
    allowStdin: false,
    onSent: (header) => (sent = header),
    onIopub: (msg) => {
      area.handle(msg);
      if (msg.header.msg_type === "execute_input" && typeof msg.content.execution_count === "number") {
        cell.execution_count = msg.content.execution_count;
      }
    },
  });
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const deadline =
    timeoutMs === undefined
      ? new Promise<never>(() => undefined)
      : new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new KernelTimeoutError(`cell ${index} timed out`)), timeoutMs);
        });
  let replyError: { ename: string; evalue: string } | undefined;
  try {
    const { reply } = await Promise.race([execution, deadline]);
    cell.execution_count = reply.content.execution_count ?? cell.execution_count;
    if (reply.content.status !== "ok") {
      replyError = { ename: reply.content.ename ?? reply.content.status, evalue: reply.content.evalue ?? "" };
    }
  } catch (e) {
    if (!(e instanceof KernelTimeoutError) || sent === undefined) throw e;
    // Interrupt, then give the kernel a moment to report the interruption into the outputs.
    timedOut = true;
    await client.interrupt(INTERRUPT_GRACE_MS).catch(() => undefined);
    await within(execution.catch(() => undefined), INTERRUPT_GRACE_MS, undefined);
  } finally {
    clearTimeout(timer);
  }
  const shown = firstError(cell);
  const error = shown ? { ename: shown.ename, evalue: shown.evalue } : replyError;
  const status: CellStatus = timedOut ? "timeout" : error ? (expectsError ? "expected-error" : "error") : "ok";
  return {
    index,
    status,
    executionCount: cell.execution_count,
    durationMs: performance.now() - started,
    ...(error ? { error } : {}),
  };
}
