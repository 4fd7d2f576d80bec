// Every notebook in notebooks/ is a regression test: `nbforge test` runs it
// afresh and compares its outputs with the saved ones, one jest test each.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { formatNotebookReport, testNotebook } from "nbforge/dist/notebook/test/index.js";

const NOTEBOOKS = fileURLToPath(new URL("../../notebooks/", import.meta.url));
const names = readdirSync(NOTEBOOKS)
  .filter((f) => f.endsWith(".ipynb") && !f.endsWith(".out.ipynb"))
  .sort();

describe("notebooks/", () => {
  test("holds notebooks", () => expect(names.length).toBeGreaterThan(0));

  test.each(names)("%s passes nbforge test", async (name) => {
    const report = await testNotebook(join(NOTEBOOKS, name), { cellTimeoutMs: 120_000 });
    if (report.verdict !== "passed") throw new Error(formatNotebookReport(report));
  }, 300_000);
});
