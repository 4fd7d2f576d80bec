// `nbforge run NOTEBOOK [-o OUT] [--kernel-name NAME]`: runs the notebook, prints
// progress on stderr, and returns the process exit code.
import { runNotebook } from "./run.js";

export interface RunCommandOptions {
  output?: string;
  kernelName?: string;
  cellTimeoutMs?: number;
}

/** 0 when every cell ran (or raised as tagged), 1 when a cell failed; the notebook is written either way. */
export async function runNotebookCommand(notebookPath: string, options: RunCommandOptions = {}): Promise<number> {
  const summary = await runNotebook(notebookPath, {
    outputPath: options.output,
    kernelName: options.kernelName,
    cellTimeoutMs: options.cellTimeoutMs,
    onProgress: (line) => process.stderr.write(`${line}\n`),
  });
  if (!summary.ok) {
    process.stderr.write(`nbforge run: ${summary.failure}\n`);
    return 1;
  }
  return 0;
}
