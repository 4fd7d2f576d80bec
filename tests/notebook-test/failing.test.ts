// Notebooks made at test time, each made to fail one rule: the runner must
// report the notebook as failing, with the right cell and reason, and pass the
// cells around it. They run through the nbforge kernel, one kernel each, two at a time.
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readNotebook, type CodeCell } from "nbforge/dist/notebook/nbformat.js";
import { mapWithLimit, parseSanitizeRules, testNotebook, type NotebookReport, type NotebookTestOptions } from "nbforge/dist/notebook/test/index.js";
import { error, grayPng, ranCell as ran, result, saveNotebook, shown, stdout, tempDir } from "./helpers.js";

const PLOTLY = "application/vnd.plotly.v1+json";
const plotly = (ys: number[][]) => ({ data: ys.map((y) => ({ type: "scatter", y })), layout: { title: { text: "loss" } } });

interface Case {
  name: string;
  cells: CodeCell[];
  options?: NotebookTestOptions;
  /** Expected verdict of each code cell, in order. */
  verdicts: string[];
  /** The reason reported for the failing cell(s). */
  reason?: RegExp;
}

const CASES: Case[] = [
  {
    name: "text",
    cells: [ran("const n = 2;\nn", [result({ "text/plain": "2" })]), ran("console.log(`n is ${n}`)", [stdout("n is 3\n")])],
    verdicts: ["passed", "failed"],
    reason: /^stdout differs$/,
  },
  {
    name: "tolerance-option",
    cells: [ran("console.log((1 / 3).toFixed(6))", [stdout("0.333334\n")]), ran("console.log((2 / 3).toFixed(6))", [stdout("0.6668\n")])],
    options: { rtol: 1e-5 },
    verdicts: ["passed", "failed"],
    reason: /number 1 is 0.666667, expected 0.6668 \(rtol=0.00001, atol=0\)/,
  },
  {
    name: "tolerance-cell",
    cells: [
      ran("// nbval: rtol=1e-2\nconsole.log(`mean ${(1 / 3).toFixed(6)} after 10 steps`)", [stdout("mean 0.334 after 10 steps\n")]),
      ran("// nbval: rtol=1e-4\nconsole.log(`mean ${(1 / 3).toFixed(6)} after 10 steps`)", [stdout("mean 0.334 after 10 steps\n")]),
    ],
    verdicts: ["passed", "failed"],
    reason: /number 1 is 0.333333, expected 0.334 \(rtol=0.0001/,
  },
  {
    name: "streams",
    cells: [
      ran(`process.stdout.write("step 1\\r"); process.stdout.write("step 2\\r"); console.log("done"); console.error("warn")`, [
        { output_type: "stream", name: "stderr", text: "warn\n" },
        stdout("done\n"),
      ]),
      ran(`process.stdout.write("step 1\\r"); console.log("step 2")`, [stdout("step 1\n")]),
    ],
    verdicts: ["passed", "failed"],
    reason: /^stdout differs$/,
  },
  {
    name: "errors",
    cells: [
      ran(`throw new RangeError("too big")`, [error("RangeError", "too big", ["whatever traceback was stored"])], { tags: ["raises-exception"] }),
      ran(`// NBVAL_RAISES_EXCEPTION\nthrow new RangeError("too small")`, [error("RangeError", "too big")]),
    ],
    verdicts: ["passed", "failed"],
    reason: /^RangeError's message differs$/,
  },
  {
    name: "unexpected-error",
    cells: [ran(`throw new Error("boom")`, []), ran("1 + 1", [result({ "text/plain": "2" })])],
    verdicts: ["failed", "passed"],
    reason: /^raised Error: boom \(mark the cell NBVAL_RAISES_EXCEPTION/,
  },
  {
    name: "no-exception",
    cells: [ran("// NBVAL_RAISES_EXCEPTION\n1 + 1", [result({ "text/plain": "2" })])],
    verdicts: ["failed"],
    reason: /^expected an exception \(raises-exception\), but the cell raised none$/,
  },
  {
    name: "plot",
    cells: [
      ran(`display.bundle({ "${PLOTLY}": ${JSON.stringify(plotly([[1, 0.5, 0.25]]))}, "text/plain": "<Plot>" })`, [
        shown({ [PLOTLY]: plotly([[1, 0.5000001, 0.25]]), "text/plain": "<Plot>" }),
      ]),
      ran(`display.bundle({ "${PLOTLY}": ${JSON.stringify(plotly([[1, 0.5]]))}, "text/plain": "<Plot>" })`, [
        shown({ [PLOTLY]: plotly([[1, 0.5], [2, 1]]), "text/plain": "<Plot>" }),
      ]),
    ],
    options: { rtol: 1e-5 },
    verdicts: ["passed", "failed"],
    reason: /application\/vnd.plotly.v1\+json differs: 1 traces, expected 2/,
  },
  {
    name: "image",
    cells: [
      ran(`display.png("${grayPng(16, 16, (x) => x * 16)}")`, [shown({ "image/png": grayPng(16, 16, (x) => x * 16 + 1), "text/plain": "<PNG>" })]),
      ran(`display.png("${grayPng(16, 16, (x) => x * 16)}")`, [shown({ "image/png": grayPng(16, 12, (x) => x * 16), "text/plain": "<PNG>" })]),
    ],
    verdicts: ["passed", "failed"],
    reason: /image\/png: image is 16x16 px, expected 16x12 px/,
  },
  {
    name: "display-updates",
    cells: [
      ran(`const late = display("draft", { id: true });`, [shown({ "text/plain": "'final'" })]),
      ran(`display("gone"); clearOutput(); display("kept")`, [shown({ "text/plain": "'kept'" })]),
      ran(`late.update("final"); const h = display("draft", { id: true }); h.update("final")`, [shown({ "text/plain": "'draft'" })]),
    ],
    verdicts: ["passed", "passed", "failed"],
    reason: /^text\/plain differs$/,
  },
  {
    name: "timeout",
    cells: [ran("for (;;) {}", []), ran("1 + 1", [result({ "text/plain": "2" })])],
    options: { cellTimeoutMs: 1000 },
    verdicts: ["failed", "passed"],
    reason: /^timed out: ran longer than 1 s and was interrupted$/,
  },
  {
    name: "lax",
    cells: [ran(`console.log("a")`, [stdout("b\n")]), ran(`// NBVAL_CHECK_OUTPUT\nconsole.log("a")`, [stdout("b\n")]), ran(`console.log("a")`, [stdout("b\n")], { tags: ["nbval-check-output"] })],
    options: { lax: true },
    verdicts: ["unchecked", "failed", "failed"],
    reason: /^stdout differs$/,
  },
  {
    name: "sanitize",
    cells: [ran("console.log(`run at ${Date.now()}`)", [stdout("run at 1500000000000\n")])],
    verdicts: ["failed"],
    reason: /^stdout differs$/,
  },
  {
    name: "sanitized",
    cells: [ran("console.log(`run at ${Date.now()}`)", [stdout("run at 1500000000000\n")])],
    options: { sanitize: parseSanitizeRules("[Times]\nregex: at \\d+\nreplace: at TIME\n", "inline") },
    verdicts: ["passed"],
  },
  {
    name: "skip-ignore-never-run",
    cells: [
      ran(`// NBVAL_SKIP\nthrow new Error("must not run")`, []),
      ran(`console.log("x")`, [], { tags: ["nbval-skip"] }),
      ran(`console.log(Math.random())`, [stdout("0.5\n")], { tags: ["nbval-ignore-output"] }),
      ran(`// NBVAL_IGNORE_OUTPUT\nconsole.log(Math.random())`, [stdout("0.5\n")]),
      { ...ran(`console.log("never run when saved")`, []), execution_count: null },
      ran("", []),
    ],
    verdicts: ["skipped", "skipped", "unchecked", "unchecked", "unchecked", "skipped"],
  },
];

describe("made-to-fail notebooks through the nbforge kernel", () => {
  let dir: string;
  const reports = new Map<string, NotebookReport>();

  beforeAll(async () => {
    dir = tempDir("nbforge-failing-");
    const paths = await Promise.all(CASES.map((c) => saveNotebook(dir, `${c.name}.ipynb`, c.cells)));
    const done = await mapWithLimit(CASES.map((c, i) => [c, paths[i]] as const), 2, ([c, path]) => testNotebook(path, c.options ?? {}));
    CASES.forEach((c, i) => reports.set(c.name, done[i]));
  }, 120_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test.each(CASES.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const report = reports.get(c.name)!;
    expect(report.error).toBeUndefined();
    expect(report.cells.map((cell) => cell.verdict)).toEqual(c.verdicts);
    expect(report.verdict).toBe(c.verdicts.includes("failed") ? "failed" : "passed");
    for (const cell of report.cells.filter((x) => x.verdict === "failed")) {
      expect(cell.reasons.map((r) => r.message)).toEqual(expect.arrayContaining([expect.stringMatching(c.reason!)]));
    }
  });

  test("--update rewrites the stored outputs, after which the notebook passes", async () => {
    const path = await saveNotebook(dir, "update.ipynb", [ran(`console.log("new")`, [stdout("old\n")]), ran(`// NBVAL_SKIP\n1`, [result({ "text/plain": "kept" })])]);
    writeFileSync(join(dir, "unrelated.txt"), "");
    expect((await testNotebook(path, { update: true })).verdict).toBe("updated");
    const cells = (await readNotebook(path)).cells as CodeCell[];
    expect(cells[0].outputs).toEqual([stdout("new\n")]);
    expect(cells[0].execution_count).toBe(1);
    expect(cells[1].outputs).toEqual([result({ "text/plain": "kept" })]);
    expect((await testNotebook(path)).verdict).toBe("passed");
  }, 60_000);
});
