// `nbforge test [paths or globs...] [options]`: notebooks as regression tests.
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { expandNotebookPaths } from "./paths.js";
import { COLOUR, PLAIN, formatNotebookReport, formatSummary, junitXml, type Palette } from "./report.js";
import { readSanitizeFile, type SanitizeRule } from "./sanitize.js";
import { testNotebook, type NotebookReport, type NotebookTestOptions } from "./tester.js";

export const TEST_USAGE = `nbforge test [NOTEBOOK | FOLDER | GLOB ...] [options]   (default: notebooks/)
  --kernel-name NAME          run every notebook with this kernelspec instead of its own
  --current-env               run Python notebooks with this environment's python (NBFORGE_PYTHON or python3)
  --lax                       compare only cells marked NBVAL_CHECK_OUTPUT / nbval-check-output
  --sanitize-with FILE        nbval sanitize file ([section] regex: / replace: pairs); may repeat
  --rtol X, --atol X          numeric tolerance for numbers in outputs (per cell: // nbval: rtol=1e-3)
  --image-threshold X         largest perceptual distance (0..1) for matching images (default 0.05)
  --ignore-images             do not compare images
  --cell-timeout S            interrupt and fail a cell that runs longer than S seconds
  --kernel-startup-timeout S  give up on a kernel that is not ready after S seconds (default 60)
  --update                    rewrite the stored outputs with fresh ones (after reviewing a change)
  -j N, --jobs N              test N notebooks at once (one kernel each)
  --junit FILE                also write a JUnit XML report
  --color, --no-color         colour the report (default: when stdout is a terminal)`;

export class TestUsageError extends Error {}

export interface TestCommandOptions extends NotebookTestOptions {
  paths: string[];
  jobs: number;
  junit?: string;
  color?: boolean;
  sanitizeFiles: string[];
}

function positiveNumber(name: string, value: string, integer = false): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || (integer && (!Number.isInteger(n) || n < 1))) {
    throw new TestUsageError(`${name} expects ${integer ? "a whole number ≥ 1" : "a number ≥ 0"}, found "${value}"`);
  }
  return n;
}

/** Parses `nbforge test`'s arguments (after "test"). */
export function parseTestArgs(args: readonly string[]): TestCommandOptions {
  const options: TestCommandOptions = { paths: [], jobs: 1, sanitizeFiles: [] };
  const rest = [...args];
  const value = (name: string): string => {
    const v = rest.shift();
    if (v === undefined || (v.startsWith("--") && v.length > 2)) throw new TestUsageError(`${name} needs a value`);
    return v;
  };
  while (rest.length > 0) {
    const arg = rest.shift()!;
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    if (eq > 0) {
      rest.unshift(arg.slice(0, eq), arg.slice(eq + 1));
      continue;
    }
    switch (arg) {
      case "--kernel-name":
        options.kernelName = value(arg);
        break;
      case "--current-env":
        options.currentEnv = true;
        break;
      case "--lax":
        options.lax = true;
        break;
      case "--sanitize-with":
        options.sanitizeFiles.push(value(arg));
        break;
      case "--rtol":
        options.rtol = positiveNumber(arg, value(arg));
        break;
      case "--atol":
        options.atol = positiveNumber(arg, value(arg));
        break;
      case "--image-threshold":
        options.imageThreshold = positiveNumber(arg, value(arg));
        break;
      case "--ignore-images":
        options.ignoreImages = true;
        break;
      case "--cell-timeout":
        options.cellTimeoutMs = positiveNumber(arg, value(arg)) * 1000;
        break;
      case "--kernel-startup-timeout":
        options.startupTimeoutMs = positiveNumber(arg, value(arg)) * 1000;
        break;
      case "--update":
        options.update = true;
        break;
      case "-j":
      case "--jobs":
        options.jobs = positiveNumber(arg, value(arg), true);
        break;
      case "--junit":
        options.junit = value(arg);
        break;
      case "--color":
      case "--colour":
        options.color = true;
        break;
      case "--no-color":
      case "--no-colour":
        options.color = false;
        break;
      default:
        if (/^-j\d+$/.test(arg)) options.jobs = positiveNumber("-j", arg.slice(2), true);
        else if (arg.startsWith("-") && arg !== "-") throw new TestUsageError(`test: unknown option "${arg}"`);
        else options.paths.push(arg);
    }
  }
  return options;
}

/** Runs `work` over `items` with at most `jobs` at a time; results keep the items' order. */
export async function mapWithLimit<T, R>(items: readonly T[], jobs: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, items.length) }, worker));
  return results;
}

/** Tests the notebooks and returns every report; `onReport` sees each as it finishes. */
export async function testNotebooks(
  paths: readonly string[],
  options: NotebookTestOptions & { jobs?: number },
  onReport?: (report: NotebookReport) => void,
): Promise<NotebookReport[]> {
  return mapWithLimit(paths, options.jobs ?? 1, async (path) => {
    let report: NotebookReport;
    if (/[*?{[]/.test(path) && !existsSync(path)) {
      report = { path, verdict: "error", error: "no notebook matches this pattern", cells: [], durationMs: 0 };
    } else {
      try {
        report = await testNotebook(path, options);
      } catch (e) {
        report = { path, verdict: "error", error: (e as Error).message, cells: [], durationMs: 0 };
      }
    }
    onReport?.(report);
    return report;
  });
}

/** The whole command; returns the exit status (0 all passed or updated, 1 otherwise). */
export async function testCommand(args: readonly string[]): Promise<number> {
  const options = parseTestArgs(args);
  const palette: Palette = options.color ?? process.stdout.isTTY ? COLOUR : PLAIN;
  let rules: SanitizeRule[] = [];
  for (const file of options.sanitizeFiles) rules = rules.concat(readSanitizeFile(file));
  const patterns = options.paths.length > 0 ? options.paths : ["notebooks"];
  if (options.paths.length === 0 && !existsSync("notebooks")) {
    throw new TestUsageError("test: which notebooks? pass paths, folders or globs (there is no notebooks/ folder here)");
  }
  const paths = expandNotebookPaths(patterns);
  if (paths.length === 0) throw new TestUsageError(`test: no notebooks found in ${patterns.join(", ")}`);
  const reports = await testNotebooks(paths, { ...options, sanitize: rules }, (report) => {
    process.stdout.write(formatNotebookReport(report, palette) + "\n");
  });
  process.stdout.write(formatSummary(reports, palette) + "\n");
  if (options.junit) await writeFile(options.junit, junitXml(reports), "utf8");
  return reports.every((r) => r.verdict === "passed" || r.verdict === "updated") ? 0 : 1;
}
