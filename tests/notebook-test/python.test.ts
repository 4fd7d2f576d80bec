// Python notebooks through ipykernel (Debian's python3-ipykernel): notebooks made
// here, --current-env, and nbval's own sample notebooks, whose verdicts must
// agree with the ones nbval gave (the table in their README).
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { mapWithLimit, readSanitizeFile, testNotebook, testNotebooks } from "nbforge/dist/notebook/test/index.js";
import { PY_KERNELSPEC, error, ranCell as ran, result, saveNotebook, stdout, tempDir } from "./helpers.js";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const NBVAL = join(REPO_ROOT, "..", "shared", "datasets", "nbval");
const PYTHON = process.env.NBFORGE_PYTHON ?? "/usr/bin/python3";

describe("ipykernel notebooks", () => {
  let dir: string;
  beforeAll(() => (dir = tempDir("nbforge-python-")));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cells = (squares: string) => [
    ran("import sys\nprint('out'); print('err', file=sys.stderr); print('more')", [stdout("out\nmore\n"), { output_type: "stream", name: "stderr", text: "err\n" }]),
    ran("# NBVAL_RAISES_EXCEPTION\n1 / 0", [error("ZeroDivisionError", "division by zero")], {}, 2),
    ran("[i * i for i in range(4)]", [result({ "text/plain": squares }, 3)], {}, 3),
  ];

  test("a Python notebook passes through its python3 kernelspec, and a wrong output fails", async () => {
    const good = await saveNotebook(dir, "good.ipynb", cells("[0, 1, 4, 9]"), PY_KERNELSPEC);
    const bad = await saveNotebook(dir, "bad.ipynb", cells("[0, 1, 4, 10]"), PY_KERNELSPEC);
    const [g, b] = await testNotebooks([good, bad], { jobs: 2 });
    expect(g.kernel).toBe("python3");
    expect(g.cells.map((c) => c.verdict)).toEqual(["passed", "passed", "passed"]);
    expect(g.verdict).toBe("passed");
    expect(b.verdict).toBe("failed");
    expect(b.cells[2]).toMatchObject({ number: 3, firstLine: "[i * i for i in range(4)]", verdict: "failed" });
    expect(b.cells[2].reasons[0]).toMatchObject({ message: "text/plain differs", expected: "[0, 1, 4, 10]", got: "[0, 1, 4, 9]" });
  }, 60_000);

  test("--current-env runs it with this environment's python, whatever the kernelspec says", async () => {
    const path = await saveNotebook(dir, "env.ipynb", cells("[0, 1, 4, 9]"), { ...PY_KERNELSPEC, name: "python-not-installed" });
    const saved = process.env.NBFORGE_PYTHON;
    process.env.NBFORGE_PYTHON = PYTHON;
    try {
      expect((await testNotebook(path)).error).toMatch(/cannot start kernel "python-not-installed": no kernelspec named "python-not-installed"/);
      const report = await testNotebook(path, { currentEnv: true });
      expect(report.kernel).toBe(`python-not-installed (current env: ${PYTHON})`);
      expect(report.verdict).toBe("passed");
    } finally {
      if (saved === undefined) delete process.env.NBFORGE_PYTHON;
      else process.env.NBFORGE_PYTHON = saved;
    }
  }, 60_000);
});

/** nbval's verdicts, read from the README's table: notebook name -> passes. */
function nbvalVerdicts(): Map<string, boolean> {
  const verdicts = new Map<string, boolean>();
  for (const line of readFileSync(join(NBVAL, "README.md"), "utf8").split("\n")) {
    const row = /^\|\s*([\w-]+)[^|]*\|\s*(passes|fails)\s*\|/.exec(line);
    if (row) verdicts.set(row[1], row[2] === "passes");
  }
  return verdicts;
}

const describeNbval = existsSync(join(NBVAL, "README.md")) ? describe : describe.skip;

describeNbval("nbval's sample notebooks", () => {
  test("every verdict agrees with nbval's (nbval's defaults: images not compared; its sanitize file for sample_notebook)", async () => {
    const expected = nbvalVerdicts();
    expect(expected.size).toBeGreaterThanOrEqual(11);
    const names = [...expected.keys()];
    const sanitize = readSanitizeFile(join(NBVAL, "sanitize_defaults.cfg"));
    // As nbval was run: its sanitize file only where the README says so.
    const reports = await mapWithLimit(names, 2, (n) =>
      testNotebook(join(NBVAL, `${n}.ipynb`), { ignoreImages: true, cellTimeoutMs: 60_000, ...(n === "sample_notebook" ? { sanitize } : {}) }),
    );
    const got = new Map(names.map((n, i) => [n, reports[i].verdict === "passed"]));
    const errors = reports.filter((r) => r.verdict === "error").map((r) => `${r.path}: ${r.error}`);
    expect(errors).toEqual([]);
    expect(Object.fromEntries(got)).toEqual(Object.fromEntries(expected));
    // The failing samples fail for the reason nbval gives.
    const reasons = (name: string) => reports[names.indexOf(name)].cells.flatMap((c) => c.reasons.map((r) => `cell ${c.number}: ${r.message}`));
    expect(reasons("test-exceptions-fail-storedmismatch")).toEqual(["cell 1: raised RuntimeError, expected NameError"]);
    expect(reasons("test-stream-fail-missingoutput")).toEqual(["cell 2: unexpected output: stdout was not stored"]);
    expect(reasons("test-latex-fail-randomoutput")).toContain("cell 3: text/plain differs");
  }, 120_000);
});
