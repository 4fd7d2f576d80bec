#!/usr/bin/env node
// Kernel benchmark: nbforge against ipykernel and tslab, measured in one run
// by the same neutral client (Python's jupyter_client, in kernel_rtt.py).
//
//   node bench/kernel.mjs [--cells 50] [--warmup 5] [--cold-starts 3] [--only nbforge,tslab]
//
// For each kernel: median and p90 round trip of a trivial typed cell
// (execute_request to idle), the cold start (spawn to first kernel_info_reply)
// and the first cell (spawn to its execute_reply), each with its ratio to nbforge.
// Each cell's text carries its number ({n}), so no kernel can answer from a
// cache of compiled cells, and each must show that number back.
import { execFile, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { formatRatio, formatSeconds, median, quantile, renderTable } from "./stats.mjs";

const execFileAsync = promisify(execFile);
const benchDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = dirname(benchDir);
const measureScript = join(benchDir, "kernel_rtt.py");

const { values: options } = parseArgs({
  options: {
    cells: { type: "string", default: "50" },
    warmup: { type: "string", default: "5" },
    "cold-starts": { type: "string", default: "3" },
    only: { type: "string" },
  },
});

/** Debian installs jupyter_client for /usr/bin/python3; a pyenv python3 on PATH may lack it. */
function findPython() {
  const candidates = [process.env.NBFORGE_PYTHON, "/usr/bin/python3", "python3"].filter(Boolean);
  return candidates.find(
    (python) => spawnSync(python, ["-c", "import jupyter_client, ipykernel"]).status === 0,
  );
}

/** Installs tslab into a temporary folder; returns its kernel command, or why it could not. */
async function installTslab(folder) {
  await mkdir(folder, { recursive: true });
  try {
    await execFileAsync(
      "npm",
      ["install", "--prefix", folder, "--no-save", "--no-audit", "--no-fund", "--loglevel=error", "tslab"],
      { cwd: folder, timeout: 300_000 },
    );
  } catch (error) {
    return { skipped: `npm install tslab failed: ${String(error.stderr || error.message).trim().split("\n")[0]}` };
  }
  const tslab = join(folder, "node_modules", "tslab", "bin", "tslab");
  if (!existsSync(tslab)) return { skipped: `tslab installed without ${tslab}` };
  return { argv: [process.execPath, tslab, "kernel", "--config-path", "{connection_file}"] };
}

/** The kernels to compare; nbforge first, as the reference for the ratios. */
async function kernelSubjects(python, scratch) {
  const nbforgeCli = join(repoRoot, "kernel", "dist", "cli.js");
  const typedCell = "const x: number = {n}; x";
  return [
    {
      name: "nbforge",
      code: typedCell,
      prepare: async () =>
        existsSync(nbforgeCli)
          ? { argv: [process.execPath, nbforgeCli, "kernel", "--connection-file", "{connection_file}"] }
          : { skipped: `${nbforgeCli} is missing; run npm install first` },
    },
    {
      name: "ipykernel",
      code: "x: int = {n}; x",
      prepare: async () => ({ argv: [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"] }),
    },
    {
      name: "tslab",
      code: typedCell,
      prepare: () => installTslab(join(scratch, "tslab")),
    },
  ];
}

async function measure(python, argv, code) {
  const args = [
    measureScript,
    "--argv", JSON.stringify(argv),
    "--code", code,
    "--expect", "{n}",
    "--cells", options.cells,
    "--warmup", options.warmup,
    "--cold-starts", options["cold-starts"],
  ];
  // A debugger check in Debian's ipykernel warns on every start; it is noise here.
  const env = { ...process.env, PYDEVD_DISABLE_FILE_VALIDATION: "1" };
  let stdout;
  try {
    ({ stdout } = await execFileAsync(python, args, { env, timeout: 900_000, maxBuffer: 16 << 20 }));
  } catch (error) {
    stdout = error.stdout ?? "";
    if (!stdout.trim()) return { error: String(error.stderr || error.message).trim() };
  }
  return JSON.parse(stdout.trim().split("\n").pop());
}

function summarize(result) {
  return {
    rttMedian: median(result.round_trip_s),
    rttP90: quantile(result.round_trip_s, 0.9),
    coldStart: median(result.cold_start_s),
    firstCell: median(result.first_cell_s),
  };
}

async function main() {
  const python = findPython();
  if (!python) {
    console.error("bench: no python3 with jupyter_client and ipykernel; apt-get install python3-jupyter-client python3-ipykernel");
    process.exit(1);
  }
  const only = options.only ? new Set(options.only.split(",")) : undefined;
  const scratch = await mkdtemp(join(tmpdir(), "nbforge-bench-"));
  const measured = [];
  const notes = [];
  try {
    for (const subject of await kernelSubjects(python, scratch)) {
      if (only && !only.has(subject.name)) continue;
      process.stderr.write(`bench: ${subject.name} ...\n`);
      const prepared = await subject.prepare();
      if (prepared.skipped) {
        notes.push(`${subject.name}: skipped, ${prepared.skipped}`);
        continue;
      }
      const result = await measure(python, prepared.argv, subject.code);
      if (result.error) {
        notes.push(`${subject.name}: failed, ${result.error}${result.kernel_output ? `\n  kernel output: ${result.kernel_output.trim()}` : ""}`);
        continue;
      }
      measured.push({ name: subject.name, code: subject.code, ...summarize(result) });
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }

  const reference = measured.find((row) => row.name === "nbforge");
  const cell = (row, key) =>
    `${formatSeconds(row[key])}${reference && row !== reference ? ` (${formatRatio(row[key], reference[key])})` : ""}`;
  console.log(
    `\nKernel latency: ${options.cells} timed cells after ${options.warmup} warm-ups; ` +
      `starts are the median of ${options["cold-starts"]}; {n} is the cell's number; client: jupyter_client (${python})\n`,
  );
  console.log(
    renderTable(
      ["kernel", "cell", "round trip median", "round trip p90", "cold start", "first cell"],
      measured.map((row) => [row.name, row.code, cell(row, "rttMedian"), cell(row, "rttP90"), cell(row, "coldStart"), cell(row, "firstCell")]),
    ),
  );
  console.log(
    reference
      ? "\n(Nx) is that kernel's time divided by nbforge's: above 1 means slower than nbforge."
      : "\nnbforge was not measured, so no ratios.",
  );
  for (const note of notes) console.log(note);
}

await main();
