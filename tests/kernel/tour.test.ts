// The tour notebook, run through the nbforge kernel by runNotebook: every cell
// runs, and its outputs match values computed here independently. The tour is
// saved with its outputs, and those pass `nbforge test`.
import { readNotebook, type CodeCell, type Output } from "nbforge/dist/notebook/nbformat.js";
import { runNotebook } from "nbforge/dist/notebook/run.js";
import { testNotebook } from "nbforge/dist/notebook/test/tester.js";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NBFORGE_ARGV, REPO_ROOT } from "./nbforge-kernel.js";

const TOUR = join(REPO_ROOT, "notebooks", "00-tour.ipynb");

function resultText(cell: CodeCell): string {
  const result = cell.outputs.find((o) => o.output_type === "execute_result");
  return result?.output_type === "execute_result" ? String(result.data["text/plain"]) : "";
}

function ofType<T extends Output["output_type"]>(cell: CodeCell, type: T): Extract<Output, { output_type: T }>[] {
  return cell.outputs.filter((o): o is Extract<Output, { output_type: T }> => o.output_type === type);
}

describe("notebooks/00-tour.ipynb", () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "nbforge-tour-"));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test("the committed tour is saved with its outputs, asks for the nbforge kernel and passes nbforge test", async () => {
    const nb = await readNotebook(TOUR);
    expect(nb.metadata.kernelspec).toEqual({ name: "nbforge", display_name: "TypeScript (nbforge)", language: "typescript" });
    expect(nb.metadata.language_info?.name).toBe("typescript");
    const code = nb.cells.filter((c): c is CodeCell => c.cell_type === "code");
    expect(code.length).toBeGreaterThanOrEqual(8);
    expect(code.length).toBeLessThanOrEqual(12);
    expect(code.map((c) => c.execution_count)).toEqual(code.map((_, i) => i + 1));
    expect(code.every((c) => c.outputs.length > 0)).toBe(true);
    const report = await testNotebook(TOUR, { argv: NBFORGE_ARGV, interruptMode: "message", cellTimeoutMs: 30_000 });
    expect(report.cells.filter((c) => c.verdict === "failed")).toEqual([]);
    expect(report.verdict).toBe("passed");
  });

  test("runs cell by cell with the expected outputs", async () => {
    const outputPath = join(dir, "tour.out.ipynb");
    const summary = await runNotebook(TOUR, { outputPath, argv: NBFORGE_ARGV, interruptMode: "message", cellTimeoutMs: 30_000 });
    expect(summary.failure).toBeUndefined();
    expect(summary.ok).toBe(true);

    const cells = (await readNotebook(outputPath)).cells.filter((c): c is CodeCell => c.cell_type === "code");
    expect(cells.map((c) => c.execution_count)).toEqual(cells.map((_, i) => i + 1));
    const [sums, distance, awaited, streams, displays, handle, hash, fibonacci, tensors, training, typeError, last] = cells;

    expect(resultText(sums)).toBe(String(2 + 3 + 5 + 7 + 11));
    expect(resultText(distance)).toBe("5");
    expect(resultText(awaited)).toBe("42");

    const stdout = ofType(streams, "stream").filter((s) => s.name === "stdout");
    expect(stdout.map((s) => s.text).join("")).toBe([2, 3, 5, 7, 11].map((p) => `${p} squared is ${p * p}\n`).join(""));
    expect(ofType(streams, "stream").some((s) => s.name === "stderr" && /stderr/.test(s.text))).toBe(true);

    const shown = ofType(displays, "display_data");
    expect(shown.map((d) => Object.keys(d.data).filter((k) => k !== "text/plain"))).toEqual([["text/html"], ["text/markdown"]]);

    // The handle's updates replaced the first display in place.
    const updated = ofType(handle, "display_data");
    expect(updated).toHaveLength(1);
    expect(String(updated[0].data["text/plain"])).toMatch(/step 3/);

    const digest = createHash("sha256").update("Hello from nbforge").digest("hex").slice(0, 16);
    expect(resultText(hash)).toContain(digest);

    const fib = [0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89];
    expect(resultText(fibonacci).replace(/\s+/g, "")).toBe(`[${fib.join(",")}]`);

    // A seeded 2x3 normal sample: its shape and dtype, and six values of a standard normal's range.
    const tensorText = resultText(tensors);
    expect(tensorText).toContain("shape=[2, 3], dtype=float32");
    const values = (tensorText.match(/-?\d+\.\d{4}/g) ?? []).map(Number);
    expect(values).toHaveLength(6);
    expect(values.every((v) => Math.abs(v) < 5)).toBe(true);

    // Gradient descent on y = 3x - 1 recovers the line; the progress bar was updated in place to its end.
    const bars = ofType(training, "display_data");
    expect(bars).toHaveLength(1);
    expect(String(bars[0].data["text/plain"])).toMatch(/\[#{20}\] 60\/60/);
    const learned = ofType(training, "stream").map((s) => s.text).join("");
    const [, w, b] = /w = (-?[\d.]+), b = (-?[\d.]+)/.exec(learned) ?? [];
    expect(Number(w)).toBeCloseTo(3, 3);
    expect(Number(b)).toBeCloseTo(-1, 3);

    const [error] = ofType(typeError, "error");
    expect(error.evalue).toMatch(/not assignable to type 'number'/);

    expect(resultText(last)).toBe(String(5 + 42));
  });
});
