// `nbforge run NOTEBOOK [-o OUT]`: executes a notebook headlessly and saves it.
import { fileURLToPath } from "node:url";
import { readFileSync } from "node:fs";
import { KERNEL_NAME } from "../jupyter/kernelspec.js";
import { runNotebook } from "./run.js";

/** This checkout's own kernel, so that `nbforge run` needs no installed kernelspec. */
function ownKernelArgv(): string[] {
  const cli = fileURLToPath(new URL("../cli.js", import.meta.url));
  return [process.execPath, cli, "kernel", "--connection-file", "{connection_file}"];
}

function notebookKernelName(path: string): string | undefined {
  try {
    const nb = JSON.parse(readFileSync(path, "utf8")) as { metadata?: { kernelspec?: { name?: string } } };
    return nb.metadata?.kernelspec?.name;
  } catch {
    return undefined; // runNotebook reports unreadable notebooks with a precise message
  }
}

export async function runNotebookCommand(path: string, options: { output?: string; kernelName?: string }): Promise<number> {
  const kernelName = options.kernelName ?? notebookKernelName(path);
  const summary = await runNotebook(path, {
    outputPath: options.output,
    kernelName: options.kernelName,
    argv: kernelName === KERNEL_NAME ? ownKernelArgv() : undefined,
    onProgress: (line) => process.stderr.write(`${line}\n`),
  });
  const seconds = (summary.durationMs / 1000).toFixed(1);
  if (summary.ok) {
    console.log(`${path}: ${summary.cells.length} cells ran in ${seconds} s; wrote ${summary.outputPath}`);
    return 0;
  }
  console.error(`${path}: ${summary.failure ?? "failed"}; wrote ${summary.outputPath}`);
  return 1;
}
