// One notebook as a regression test: run it fresh, compare each code cell's
// outputs with the stored ones, and say which cells failed and why.
import { dirname, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { KERNEL_NAME } from "../../jupyter/kernelspec.js";
import type { ClientLaunchOptions, InterruptMode } from "../client.js";
import { readNotebook, writeNotebook, type CodeCell, type Notebook } from "../nbformat.js";
import { compareOutputs, DEFAULT_COMPARE_OPTIONS, type CompareOptions, type Mismatch } from "./compare.js";
import { KernelFailure, NotebookSession, type CellExecution } from "./execute.js";
import { cellDirectives, firstSourceLine, type CellDirectives, type Tolerance } from "./markers.js";
import type { SanitizeRule } from "./sanitize.js";

export interface NotebookTestOptions {
  /** Overrides the notebook's metadata.kernelspec.name. */
  kernelName?: string;
  /** Runs Python notebooks in this environment's Python (NBFORGE_PYTHON or python3) instead of their kernelspec. */
  currentEnv?: boolean;
  /** Launch this command line instead (`{connection_file}` is substituted); for tests and custom kernels. */
  argv?: string[];
  interruptMode?: InterruptMode;
  /** Compare only cells marked check-output. */
  lax?: boolean;
  sanitize?: readonly SanitizeRule[];
  cellTimeoutMs?: number;
  startupTimeoutMs?: number;
  rtol?: number;
  atol?: number;
  ignoreImages?: boolean;
  imageThreshold?: number;
  /** Rewrite the stored outputs with the fresh ones instead of failing on differences. */
  update?: boolean;
  /** Extra environment variables for the kernel. */
  env?: Record<string, string>;
}

/**
 * passed: outputs matched; failed: see reasons; skipped: not run (NBVAL_SKIP
 * or empty); unchecked: ran, outputs not compared (ignore-output, --lax, or
 * never run in the stored notebook); not-run: the kernel was gone.
 */
export type CellVerdict = "passed" | "failed" | "skipped" | "unchecked" | "not-run";

export interface CellReport {
  /** Position among all cells of the notebook (0-based). */
  index: number;
  /** Position among code cells (1-based), as people count them. */
  number: number;
  firstLine: string;
  verdict: CellVerdict;
  reasons: Mismatch[];
  durationMs: number;
  executionCount: number | null;
}

/** passed, failed (some cell), error (the notebook could not be tested), updated (--update wrote it). */
export type NotebookVerdict = "passed" | "failed" | "error" | "updated";

export interface NotebookReport {
  path: string;
  kernel?: string;
  verdict: NotebookVerdict;
  /** Why the notebook could not be tested, or why it stopped. */
  error?: string;
  cells: CellReport[];
  durationMs: number;
}

/** This checkout's own kernel, as `nbforge run` uses it. */
export function ownKernelArgv(): string[] {
  const cli = fileURLToPath(new URL("../../cli.js", import.meta.url));
  return [process.execPath, cli, "kernel", "--connection-file", "{connection_file}"];
}

function isPython(notebook: Notebook, name: string): boolean {
  const language = notebook.metadata.kernelspec?.language ?? notebook.metadata.language_info?.name ?? "";
  return language.toLowerCase() === "python" || /^python/i.test(name);
}

/** How to start the kernel for a notebook; throws when nothing names one. */
export function kernelLaunch(notebook: Notebook, path: string, options: NotebookTestOptions): { name: string; launch: ClientLaunchOptions } {
  const name = options.kernelName ?? notebook.metadata.kernelspec?.name;
  const base: ClientLaunchOptions = {
    cwd: dirname(resolve(path)),
    startupTimeoutMs: options.startupTimeoutMs,
    ...(options.env ? { env: options.env } : {}),
  };
  if (options.argv) {
    return { name: name ?? options.argv.join(" "), launch: { ...base, argv: options.argv, kernelName: name, interruptMode: options.interruptMode } };
  }
  if (!name) {
    throw new Error(`the notebook names no kernel (metadata.kernelspec.name is missing); pass --kernel-name NAME (e.g. nbforge or python3)`);
  }
  if (name.toLowerCase() === KERNEL_NAME) {
    return { name, launch: { ...base, argv: ownKernelArgv(), kernelName: name, interruptMode: options.interruptMode ?? "message" } };
  }
  if (options.currentEnv && isPython(notebook, name)) {
    const python = process.env.NBFORGE_PYTHON ?? "python3";
    return { name: `${name} (current env: ${python})`, launch: { ...base, argv: [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"], kernelName: name } };
  }
  return { name, launch: { ...base, kernelName: name, interruptMode: options.interruptMode } };
}

function compareOptions(options: NotebookTestOptions, cell: CellDirectives): CompareOptions {
  const tolerance: Tolerance = {
    rtol: cell.tolerance.rtol ?? options.rtol ?? DEFAULT_COMPARE_OPTIONS.tolerance.rtol,
    atol: cell.tolerance.atol ?? options.atol ?? DEFAULT_COMPARE_OPTIONS.tolerance.atol,
  };
  return {
    ...DEFAULT_COMPARE_OPTIONS,
    tolerance,
    sanitize: options.sanitize ?? [],
    ignoreImages: options.ignoreImages ?? false,
    imageThreshold: options.imageThreshold ?? DEFAULT_COMPARE_OPTIONS.imageThreshold,
  };
}

/** Why the run of a cell failed regardless of its stored outputs (an unexpected error, a missing one, a timeout). */
function executionFailure(run: CellExecution, directives: CellDirectives, timeoutMs: number | undefined): Mismatch | undefined {
  if (run.status === "timeout") {
    return { key: "timeout", message: `timed out: ran longer than ${(timeoutMs ?? 0) / 1000} s and was interrupted` };
  }
  if (run.status === "error" && !directives.raisesException) {
    const e = run.error ?? { ename: "Error", evalue: "" };
    return {
      key: "error",
      message: `raised ${e.ename}: ${e.evalue.split("\n")[0]} (mark the cell NBVAL_RAISES_EXCEPTION or tag it raises-exception if that is expected)`,
    };
  }
  if (run.status === "ok" && directives.raisesException) {
    return { key: "error", message: "expected an exception (raises-exception), but the cell raised none" };
  }
  return undefined;
}

export async function testNotebook(path: string, options: NotebookTestOptions = {}): Promise<NotebookReport> {
  const started = performance.now();
  const report: NotebookReport = { path, verdict: "passed", cells: [], durationMs: 0 };
  const finish = (): NotebookReport => {
    report.durationMs = performance.now() - started;
    return report;
  };
  const fail = (error: string): NotebookReport => {
    report.verdict = "error";
    report.error = error;
    return finish();
  };

  let notebook: Notebook;
  let plan: { cell: CodeCell; index: number; number: number; directives: CellDirectives }[];
  let launch: ClientLaunchOptions;
  try {
    notebook = await readNotebook(path);
    let number = 0;
    plan = [];
    for (const [index, cell] of notebook.cells.entries()) {
      if (cell.cell_type !== "code") continue;
      number++;
      plan.push({ cell, index, number, directives: cellDirectives(cell, `${path}: cell ${number}`) });
    }
    const chosen = kernelLaunch(notebook, path, options);
    report.kernel = chosen.name;
    launch = chosen.launch;
  } catch (e) {
    return fail((e as Error).message.startsWith(path) ? (e as Error).message.slice(path.length).replace(/^:\s*/, "") : (e as Error).message);
  }

  let session: NotebookSession;
  try {
    session = await NotebookSession.start(launch);
  } catch (e) {
    return fail(`cannot start kernel "${report.kernel}": ${(e as Error).message}`);
  }

  const fresh = new Map<CodeCell, CellExecution>();
  let kernelGone: string | undefined;
  const comparisons: (() => void)[] = [];
  try {
    for (const { cell, index, number, directives } of plan) {
      const cellReport: CellReport = {
        index,
        number,
        firstLine: firstSourceLine(cell),
        verdict: "passed",
        reasons: [],
        durationMs: 0,
        executionCount: null,
      };
      report.cells.push(cellReport);
      if (kernelGone !== undefined) {
        cellReport.verdict = "not-run";
        continue;
      }
      if (directives.skip || cell.source.trim() === "") {
        cellReport.verdict = "skipped";
        continue;
      }
      let run: CellExecution;
      try {
        run = await session.run(cell, { timeoutMs: options.cellTimeoutMs });
      } catch (e) {
        if (!(e instanceof KernelFailure)) throw e;
        kernelGone = e.message;
        cellReport.verdict = "failed";
        cellReport.reasons.push({ key: "kernel", message: `the kernel failed while running this cell: ${e.message}` });
        continue;
      }
      fresh.set(cell, run);
      cellReport.durationMs = run.durationMs;
      cellReport.executionCount = run.executionCount;
      const failure = executionFailure(run, directives, options.cellTimeoutMs);
      if (failure) cellReport.reasons.push(failure);
      const compared = !directives.ignoreOutput && (!options.lax || directives.checkOutput) && cell.execution_count !== null;
      cellReport.verdict = compared ? "passed" : "unchecked";
      if (compared && !options.update && run.status !== "timeout") {
        // Compared once every cell has run: a later cell may still update this cell's displays.
        comparisons.push(() => cellReport.reasons.push(...compareOutputs(run.outputs, cell.outputs, compareOptions(options, directives))));
      }
    }
  } finally {
    await session.close();
  }
  for (const compare of comparisons) compare();
  for (const cell of report.cells) if (cell.reasons.length > 0) cell.verdict = "failed";

  if (kernelGone !== undefined) return fail(`the kernel stopped: ${kernelGone.split("\n")[0]}`);
  if (report.cells.some((c) => c.verdict === "failed")) {
    report.verdict = "failed";
    return finish();
  }
  if (options.update) {
    for (const [cell, run] of fresh) {
      cell.outputs = run.outputs;
      cell.execution_count = run.executionCount;
    }
    await writeNotebook(path, notebook);
    report.verdict = "updated";
  }
  return finish();
}
