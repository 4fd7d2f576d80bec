// Runs a python jupyter_kernel_test suite once and exposes each of its checks
// as its own jest test, so a failure names the protocol check that broke.
import { execFile, spawn, spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/** The repository root, found from this file's compiled place in tests/dist/protocol. */
export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const protocolDir = join(repoRoot, "tests", "protocol");
const runSuiteScript = join(protocolDir, "run_suite.py");

const suiteTimeoutMs = 240_000;

/** One check (a test method) as run_suite.py reports it. */
interface CheckRecord {
  name: string;
  /** "running" means it had started when the suite was stopped for taking too long. */
  outcome: "running" | "ok" | "skip" | "fail" | "error";
  details: string[];
  subtests: { description: string; outcome: "ok" | "skip" | "fail" | "error"; details: string }[];
}

interface SuiteReport {
  records: Map<string, CheckRecord>;
  /** What python printed: unittest's verbose text and the kernel's stderr. */
  log: string;
  /** Why the suite stopped early, if it did. */
  stoppedEarly?: string;
}

const missingPythonHelp =
  "no python3 with jupyter_kernel_test was found; install Debian's python3-jupyter-client, " +
  "python3-jupyter-kernel-test and python3-ipykernel (apt-get install ...), or set NBFORGE_PYTHON " +
  "to an interpreter that has them";

/**
 * The interpreter that has jupyter_kernel_test. Debian installs it for
 * /usr/bin/python3, which a pyenv or venv python3 earlier on PATH would hide.
 */
export function findPython(): string | undefined {
  const candidates = [process.env.NBFORGE_PYTHON, "/usr/bin/python3", "python3"].filter(
    (candidate): candidate is string => Boolean(candidate),
  );
  return candidates.find(
    (python) => spawnSync(python, ["-c", "import jupyter_kernel_test, jupyter_client"]).status === 0,
  );
}

function listChecks(python: string, suiteFile: string): string[] {
  const listing = spawnSync(python, [runSuiteScript, "--list", suiteFile], { encoding: "utf8" });
  if (listing.status !== 0) {
    throw new Error(`listing the checks of ${suiteFile} failed:\n${listing.stderr}`);
  }
  return JSON.parse(listing.stdout) as string[];
}

async function runSuite(python: string, suiteFile: string, env: NodeJS.ProcessEnv, reportFile: string): Promise<SuiteReport> {
  const child = spawn(python, [runSuiteScript, "--report", reportFile, suiteFile], {
    cwd: repoRoot,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout.on("data", (chunk: Buffer) => (log += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (log += chunk.toString()));
  let stoppedEarly: string | undefined;
  const timer = setTimeout(() => {
    stoppedEarly = `the suite was stopped after ${suiteTimeoutMs / 1000} s`;
    child.kill("SIGKILL");
  }, suiteTimeoutMs);
  const exitCode = await new Promise<number | null>((resolve) => child.on("close", resolve));
  clearTimeout(timer);

  let records: CheckRecord[];
  try {
    records = JSON.parse(await readFile(reportFile, "utf8")) as CheckRecord[];
  } catch {
    throw new Error(`${suiteFile} wrote no report (exit code ${exitCode}); its output:\n${tail(log)}`);
  }
  return { records: new Map(records.map((record) => [record.name, record])), log, stoppedEarly };
}

function tail(text: string, characters = 6000): string {
  return text.length <= characters ? text : `...${text.slice(-characters)}`;
}

function describeFailure(record: CheckRecord, report: SuiteReport): string {
  const outcome = record.outcome === "running" ? `hung (${report.stoppedEarly ?? "the suite stopped"})` : record.outcome;
  return [
    `${record.name}: ${outcome}`,
    ...record.details,
    "---- python and kernel output (tail) ----",
    tail(report.log),
  ].join("\n");
}

/** Errors recorded outside any check, e.g. a kernel that never started in setUpClass. */
function errorsOutsideChecks(report: SuiteReport, checks: string[]): string[] {
  return [...report.records.values()]
    .filter((record) => !checks.includes(record.name))
    .flatMap((record) => [`${record.name}: ${record.outcome}`, ...record.details]);
}

export interface KernelSuiteOptions {
  /** Name for the jest describe block. */
  title: string;
  /** Python suite file, relative to tests/protocol. */
  suiteFile: string;
  /**
   * Prepares the environment the suite runs in (e.g. installs a kernelspec
   * under `scratchDir` and sets JUPYTER_PATH); gets a copy of process.env.
   */
  prepare?: (scratchDir: string, env: NodeJS.ProcessEnv) => Promise<void>;
  /**
   * Checks (or "check (subtest)") that are expected to be skipped, with why.
   * Any other skip fails, so a missing sample cannot pass silently.
   */
  expectedSkips?: Record<string, string>;
}

/** Declares one jest test per check of a jupyter_kernel_test suite. */
export function describeKernelSuite(options: KernelSuiteOptions): void {
  const suiteFile = join(protocolDir, options.suiteFile);
  const expectedSkips = options.expectedSkips ?? {};

  describe(options.title, () => {
    const python = findPython();
    if (!python) {
      test("python with jupyter_kernel_test is available", () => {
        throw new Error(missingPythonHelp);
      });
      return;
    }

    let scratchDir = "";
    let report: SuiteReport | undefined;

    beforeAll(async () => {
      scratchDir = await mkdtemp(join(tmpdir(), "nbforge-protocol-"));
      // A private runtime and IPython dir keep runs apart from each other and from the user's.
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        JUPYTER_RUNTIME_DIR: join(scratchDir, "runtime"),
        IPYTHONDIR: join(scratchDir, "ipython"),
        PYDEVD_DISABLE_FILE_VALIDATION: "1",
      };
      await options.prepare?.(scratchDir, env);
      report = await runSuite(python, suiteFile, env, join(scratchDir, "report.json"));
    }, suiteTimeoutMs + 60_000);

    afterAll(async () => {
      if (scratchDir) await rm(scratchDir, { recursive: true, force: true });
    });

    const checks = listChecks(python, suiteFile);
    for (const check of checks) {
      test(check, () => {
        if (!report) throw new Error("the suite did not run; see the beforeAll error above");
        const record = report.records.get(check);
        if (!record) {
          const reasons = [report.stoppedEarly ?? "", ...errorsOutsideChecks(report, checks)].filter(Boolean);
          throw new Error(`${check} did not run. ${reasons.join("\n")}\npython output:\n${tail(report.log)}`);
        }

        if (record.outcome === "skip") {
          if (check in expectedSkips) return;
          throw new Error(`${check} was skipped (${record.details.join("; ")}); give it a sample in ${options.suiteFile}`);
        }
        if (record.outcome !== "ok") throw new Error(describeFailure(record, report));

        for (const subtest of record.subtests) {
          const key = `${check} ${subtest.description}`;
          if (subtest.outcome === "skip" && !(key in expectedSkips)) {
            throw new Error(`${key} was skipped (${subtest.details}); give it a sample in ${options.suiteFile}`);
          }
        }
      });
    }
  });
}

/** Installs nbforge's kernelspec into `prefix` with the kernel's own CLI; returns its JUPYTER_PATH entry. */
export async function installNbforgeKernelspec(prefix: string): Promise<string> {
  const cli = join(repoRoot, "kernel", "dist", "cli.js");
  await execFileAsync(process.execPath, [cli, "install", "--prefix", prefix], { cwd: repoRoot });
  return join(prefix, "share", "jupyter");
}
