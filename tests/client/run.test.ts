// runNotebook against ipykernel: a notebook written to a temporary folder is
// executed cell by cell and saved with its outputs.
import { parseNotebook, readNotebook, type CodeCell, type Notebook } from "nbforge/dist/notebook/nbformat.js";
import { runNotebook } from "nbforge/dist/notebook/run.js";
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pythonKernelOptions } from "./python-kernel.js";

function code(source: string, tags: string[] = []) {
  return { cell_type: "code", metadata: tags.length ? { tags } : {}, source, outputs: [], execution_count: null };
}

function writeNotebookFile(dir: string, name: string, cells: object[]): string {
  const path = join(dir, name);
  const nb = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: "python3", display_name: "Python 3", language: "python" } },
    cells: cells.map((c, i) => ({ id: `cell-${i}`, ...c })),
  };
  writeFileSync(path, JSON.stringify(nb, null, 1));
  return path;
}

function codeCells(nb: Notebook): CodeCell[] {
  return nb.cells.filter((c): c is CodeCell => c.cell_type === "code");
}

// ipykernel launched by argv when the python3 kernelspec is not installed.
const kernel = pythonKernelOptions();

describe("runNotebook with ipykernel", () => {
  let dir: string;

  beforeAll(() => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), "nbforge-run-test-")));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test("executes every code cell in order and saves outputs and counts", async () => {
    const input = writeNotebookFile(dir, "ok.ipynb", [
      { cell_type: "markdown", metadata: {}, source: "# A small notebook" },
      code("x = 21"),
      code("print('x is', x)\nprint('done')"),
      code("import os\nos.getcwd()"),
      code("from IPython.display import display\nh = display('step 0', display_id=True)"),
      code("h.update('step 1')\nx * 2"),
      code("   "),
      code("1 / 0", ["raises-exception"]),
      code("'after the expected error'"),
    ]);
    const lines: string[] = [];
    const summary = await runNotebook(input, { outputPath: join(dir, "ok.out.ipynb"), ...kernel, onProgress: (l) => lines.push(l) });

    expect(summary.ok).toBe(true);
    expect(summary.failure).toBeUndefined();
    expect(summary.codeCells).toBe(8);
    expect(summary.cells.map((c) => c.status)).toEqual(["ok", "ok", "ok", "ok", "ok", "skipped", "expected-error", "ok"]);
    expect(lines.filter((l) => /^cell \d+\/8 /.test(l))).toHaveLength(8);

    const saved = await readNotebook(join(dir, "ok.out.ipynb"));
    const cells = codeCells(saved);
    expect(cells.map((c) => c.execution_count)).toEqual([1, 2, 3, 4, 5, null, 6, 7]);
    expect(cells[0].outputs).toEqual([]);
    expect(cells[1].outputs).toEqual([{ output_type: "stream", name: "stdout", text: "x is 21\ndone\n" }]);
    expect(cells[2].outputs).toEqual([
      { output_type: "execute_result", execution_count: 3, data: { "text/plain": `'${dir}'` }, metadata: {} },
    ]);
    // The display shown in cell 4 was updated from cell 5.
    expect(cells[3].outputs).toEqual([{ output_type: "display_data", data: { "text/plain": "'step 1'" }, metadata: {} }]);
    expect(cells[4].outputs).toEqual([
      { output_type: "execute_result", execution_count: 5, data: { "text/plain": "42" }, metadata: {} },
    ]);
    expect(cells[6].outputs[0]).toMatchObject({ output_type: "error", ename: "ZeroDivisionError" });
    expect(cells[7].outputs[0]).toMatchObject({ data: { "text/plain": "'after the expected error'" } });
    expect(saved.metadata.language_info?.name).toBe("python");
    expect(saved.cells.map((c) => c.id)).toEqual(parseNotebook(readFileSync(input, "utf8")).cells.map((c) => c.id));
    // The input notebook is left as it was.
    expect(codeCells(await readNotebook(input)).every((c) => c.outputs.length === 0)).toBe(true);
  });

  test("stops at the first unexpected error and still writes what ran", async () => {
    const input = writeNotebookFile(dir, "fails.ipynb", [code("print('one')"), code("raise KeyError('missing')"), code("print('never')")]);
    const summary = await runNotebook(input, { ...kernel });
    expect(summary.ok).toBe(false);
    expect(summary.outputPath).toBe(join(dir, "fails.out.ipynb"));
    expect(summary.failure).toMatch(/cell 2 \(of 3 code cells\) raised KeyError/);
    expect(summary.cells.map((c) => c.status)).toEqual(["ok", "error"]);
    const cells = codeCells(await readNotebook(summary.outputPath));
    expect(cells[1].outputs[0]).toMatchObject({ output_type: "error", ename: "KeyError" });
    expect(cells[2].outputs).toEqual([]);
    expect(cells[2].execution_count).toBeNull();
  });

  test("a cell past its timeout is interrupted and fails the run", async () => {
    const input = writeNotebookFile(dir, "slow.ipynb", [code("import time\ntime.sleep(30)"), code("print('never')")]);
    const started = Date.now();
    const summary = await runNotebook(input, { ...kernel, cellTimeoutMs: 1000 });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(summary.ok).toBe(false);
    expect(summary.cells[0].status).toBe("timeout");
    expect(summary.failure).toMatch(/ran longer than 1000 ms/);
    const cells = codeCells(await readNotebook(summary.outputPath));
    expect(cells[0].outputs[0]).toMatchObject({ output_type: "error", ename: "KeyboardInterrupt" });
  });

  test("a notebook without a kernelspec needs a kernel name", async () => {
    const path = join(dir, "nameless.ipynb");
    writeFileSync(path, JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [] }));
    await expect(runNotebook(path)).rejects.toThrow(/metadata\.kernelspec\.name is missing/);
  });
});
