// Bad input through the `nbforge test` command line: invalid JSON, an nbformat
// older than 4, a kernel that is not installed and a kernel that dies mid-run.
// Each gets a clear error, the other notebooks still run, and the exit status is 1.
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PY_KERNELSPEC, ranCell as ran, result, saveNotebook, stdout, tempDir } from "./helpers.js";

const CLI = fileURLToPath(new URL("../../../kernel/dist/cli.js", import.meta.url));

describe("nbforge test with bad input", () => {
  let dir: string;
  beforeAll(() => (dir = tempDir("nbforge-bad-")));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("each bad notebook is a clear error; the good one still passes; exit status 1; JUnit lists all", async () => {
    writeFileSync(join(dir, "a-invalid.ipynb"), '{"cells": [');
    writeFileSync(join(dir, "b-old.ipynb"), JSON.stringify({ nbformat: 3, nbformat_minor: 0, metadata: {}, worksheets: [] }));
    await saveNotebook(dir, "c-missing-kernel.ipynb", [ran("1", [])], { ...PY_KERNELSPEC, name: "no-such-kernel" });
    await saveNotebook(dir, "d-dies.ipynb", [
      ran("print('alive')", [stdout("alive\n")]),
      ran("import os\nos._exit(3)", [], {}, 2),
      ran("print('never')", [stdout("never\n")], {}, 3),
    ], PY_KERNELSPEC);
    await saveNotebook(dir, "e-good.ipynb", [ran("6 * 7", [result({ "text/plain": "42" })])], PY_KERNELSPEC);

    const junit = join(dir, "report.xml");
    const run = spawnSync(process.execPath, [CLI, "test", dir, "-j", "2", "--no-color", "--junit", junit], { encoding: "utf8", timeout: 60_000 });
    const out = run.stdout;
    expect(run.status).toBe(1);
    expect(out).toMatch(/ERROR \S*a-invalid.ipynb .*\n  not valid JSON: /);
    expect(out).toMatch(/ERROR \S*b-old.ipynb .*\n  nbformat: expected 4 \(convert older notebooks with `jupyter nbconvert --to notebook --nbformat 4`\), found 3/);
    expect(out).toMatch(/ERROR \S*c-missing-kernel.ipynb .*\n  cannot start kernel "no-such-kernel": no kernelspec named "no-such-kernel" in .*; installed: .*python3/);
    expect(out).toMatch(/ERROR \S*d-dies.ipynb .*\n  the kernel stopped: kernel "python3" exited with code 3/);
    expect(out).toMatch(/cell 2: import os\n.*the kernel failed while running this cell/);
    expect(out).toMatch(/PASS \S*e-good.ipynb/);
    expect(out).toMatch(/5 notebooks: 1 passed, 4 errors;/);
    const xml = readFileSync(junit, "utf8");
    expect((xml.match(/<testsuite /g) ?? []).length).toBe(5);
    expect(xml).toMatch(/<testsuite name="[^"]*d-dies.ipynb" tests="3" failures="1" errors="1" skipped="1"/);
  }, 90_000);

  test("usage errors exit with 2 and say what is wrong", () => {
    const run = spawnSync(process.execPath, [CLI, "test", "--rtol", "much"], { encoding: "utf8" });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/--rtol expects a number ≥ 0, found "much"/);
    const help = spawnSync(process.execPath, [CLI, "test", "--help"], { encoding: "utf8" });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/--sanitize-with FILE/);
  });
});
