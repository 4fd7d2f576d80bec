// Unit tests of the regression runner's rules, without a kernel: markers and
// tags, sanitize files, stream merging, every comparison rule, reports, paths
// and options.
import { mkdirSync, writeFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { codeCell, type Output } from "nbforge/dist/notebook/nbformat.js";
import {
  applyControlCharacters,
  cellDirectives,
  compareOutputs,
  compareText,
  DEFAULT_COMPARE_OPTIONS,
  decodePng,
  DirectiveError,
  expandNotebookPaths,
  firstSourceLine,
  formatNotebookReport,
  junitXml,
  lineDiff,
  mapWithLimit,
  mergeStreams,
  parseSanitizeRules,
  parseTestArgs,
  perceptualDistance,
  COLOUR,
  SanitizeFileError,
  sanitize,
  TestUsageError,
  type CompareOptions,
  type NotebookReport,
} from "nbforge/dist/notebook/test/index.js";
import { error, grayPng, result, shown, stdout, tempDir } from "./helpers.js";

const options = (extra: Partial<CompareOptions> = {}): CompareOptions => ({ ...DEFAULT_COMPARE_OPTIONS, ...extra });
const tol = (rtol: number, atol = 0) => options({ tolerance: { rtol, atol } });

describe("markers and tags", () => {
  test.each([
    ["# NBVAL_SKIP", "skip"],
    ["// NBVAL_SKIP", "skip"],
    ["# NBVAL_IGNORE_OUTPUT", "ignoreOutput"],
    ["// NBVAL_IGNORE_OUTPUT", "ignoreOutput"],
    ["# PYTEST_VALIDATE_IGNORE_OUTPUT", "ignoreOutput"],
    ["# NBVAL_CHECK_OUTPUT", "checkOutput"],
    ["//NBVAL_CHECK_OUTPUT", "checkOutput"],
    ["# NBVAL_RAISES_EXCEPTION", "raisesException"],
    ["// NBVAL_RAISES_EXCEPTION", "raisesException"],
  ] as const)("comment %s sets %s", (comment, field) => {
    const d = cellDirectives(codeCell(`${comment}\nx = 1`));
    expect(d[field]).toBe(true);
    const others = (["skip", "ignoreOutput", "checkOutput", "raisesException"] as const).filter((f) => f !== field);
    expect(others.map((f) => d[f])).toEqual(others.map(() => false));
  });

  test.each([
    ["nbval-skip", "skip"],
    ["nbval-ignore-output", "ignoreOutput"],
    ["nbval-check-output", "checkOutput"],
    ["nbval-raises-exception", "raisesException"],
    ["raises-exception", "raisesException"],
  ] as const)("tag %s sets %s", (tag, field) => {
    expect(cellDirectives(codeCell("x = 1", { tags: [tag] }))[field]).toBe(true);
  });

  test("a marker inside code or a string is not a marker", () => {
    const d = cellDirectives(codeCell(`print("# NBVAL_SKIP")\nx = 1 # NBVAL_IGNORE_OUTPUT`));
    expect(d.skip || d.ignoreOutput).toBe(false);
  });

  test("a comment wins over a tag, both ways; among comments the last wins", () => {
    const checkOverTag = cellDirectives(codeCell("# NBVAL_CHECK_OUTPUT\nprint(5)", { tags: ["nbval-ignore-output"] }));
    expect([checkOverTag.checkOutput, checkOverTag.ignoreOutput]).toEqual([true, false]);
    const ignoreOverTag = cellDirectives(codeCell("// NBVAL_IGNORE_OUTPUT\nx", { tags: ["nbval-check-output"] }));
    expect([ignoreOverTag.checkOutput, ignoreOverTag.ignoreOutput]).toEqual([false, true]);
    const lastComment = cellDirectives(codeCell("# NBVAL_CHECK_OUTPUT\n# NBVAL_IGNORE_OUTPUT\nx", { tags: ["nbval-check-output"] }));
    expect(lastComment.ignoreOutput).toBe(true);
  });

  test("per-cell tolerance from // nbval: and # nbval: comments; bad values are named", () => {
    expect(cellDirectives(codeCell("// nbval: rtol=1e-3\nx")).tolerance).toEqual({ rtol: 1e-3 });
    expect(cellDirectives(codeCell("# nbval: rtol=0.01, atol=1e-8\nx")).tolerance).toEqual({ rtol: 0.01, atol: 1e-8 });
    expect(() => cellDirectives(codeCell("// nbval: rtol=lots\nx"), "nb.ipynb: cell 3")).toThrow(DirectiveError);
    expect(() => cellDirectives(codeCell("// nbval: rtol=lots\nx"), "nb.ipynb: cell 3")).toThrow(/nb.ipynb: cell 3: expected "rtol=<number>".*found "rtol=lots"/);
  });

  test("the first source line skips markers", () => {
    expect(firstSourceLine(codeCell("// nbval: rtol=1e-3\n# NBVAL_CHECK_OUTPUT\n\nconst x = 1;"))).toBe("const x = 1;");
  });
});

describe("sanitize files (nbval's INI format)", () => {
  const defaults = `[Dates and times]
regex: \\d\\d\\d\\d-\\d\\d-\\d\\d
replace: DATESTAMP

regex: \\d\\d:\\d\\d:\\d\\d
replace: TIMESTAMP

[Memory addresses]
regex: (<[a-zA-Z_][0-9a-zA-Z_.]* at )(0x[0-9a-fA-F]+)(>)
replace: \\1MEMORY_ADDRESS\\3
`;

  test("sections of regex/replace pairs, Python group references translated", () => {
    const rules = parseSanitizeRules(defaults, "defaults.cfg");
    expect(rules.map((r) => r.section)).toEqual(["Dates and times", "Dates and times", "Memory addresses"]);
    expect(sanitize("run 2018-06-01 12:33:15 <Legend at 0x7fae26a349b0>", rules)).toBe("run DATESTAMP TIMESTAMP <Legend at MEMORY_ADDRESS>");
  });

  test("named groups, \\g<name> and a literal $ in a replacement", () => {
    const [rule] = parseSanitizeRules("regex: (?P<n>\\d+) items\nreplace: \\g<n>$ each", "f");
    expect(sanitize("3 items", [rule])).toBe("3$ each");
  });

  test("mistakes name the file and line", () => {
    expect(() => parseSanitizeRules("[a]\nregex: x\n[b]\n", "s.cfg")).toThrow(/s.cfg:2: "regex:" has no "replace:"/);
    expect(() => parseSanitizeRules("replace: y\n", "s.cfg")).toThrow(/s.cfg:1: "replace:" needs a "regex:"/);
    expect(() => parseSanitizeRules("regex: (\nreplace: y\n", "s.cfg")).toThrow(SanitizeFileError);
    expect(() => parseSanitizeRules("pattern = x\n", "s.cfg")).toThrow(/s.cfg:1: expected "\[section\]"/);
  });
});

describe("stream normalisation", () => {
  test("streams merge per name, in the position of the first", () => {
    const merged = mergeStreams([
      stdout("a\n"),
      { output_type: "stream", name: "stderr", text: "e1\n" },
      stdout("b\n"),
      { output_type: "stream", name: "stderr", text: "e2\n" },
    ]);
    expect(merged).toEqual([stdout("a\nb\n"), { output_type: "stream", name: "stderr", text: "e1\ne2\n" }]);
  });

  test("carriage returns rewind the line and backspaces erase, as a terminal shows them", () => {
    expect(applyControlCharacters("10%\r50%\r100%\ndone\n")).toBe("100%\ndone\n");
    expect(applyControlCharacters("abc\b\bd\n")).toBe("ad\n");
    expect(applyControlCharacters("line\r\nnext")).toBe("line\r\nnext");
    expect(applyControlCharacters("a\n\bb")).toBe("a\nb");
  });

  test("a progress bar written with \\r compares equal to its final state", () => {
    const got = [stdout("[#   ]\r"), stdout("[##  ]\r"), stdout("[####]\n")];
    expect(compareOutputs(got, [stdout("[####]\n")])).toEqual([]);
  });
});

describe("text comparison", () => {
  test("exact by default", () => {
    expect(compareOutputs([stdout("hello\n")], [stdout("hello\n")])).toEqual([]);
    const [m] = compareOutputs([stdout("hello\n")], [stdout("hullo\n")]);
    expect(m).toMatchObject({ key: "stdout", message: "stdout differs", expected: "hullo\n", got: "hello\n" });
    expect(compareOutputs([stdout("1.0\n")], [stdout("1\n")])).toHaveLength(1);
  });

  test("numbers within rtol/atol, the text around them exactly", () => {
    expect(compareText("loss 0.30001 acc 0.9", "loss 0.3 acc 0.9", { rtol: 1e-3, atol: 0 })).toBeUndefined();
    expect(compareText("loss 0.31 acc 0.9", "loss 0.3 acc 0.9", { rtol: 1e-3, atol: 0 })).toMatch(/number 1 is 0.31, expected 0.3/);
    expect(compareText("loss 1e-12", "loss 3e-11", { rtol: 0, atol: 1e-9 })).toBeUndefined();
    expect(compareText("Loss 0.3", "loss 0.3", { rtol: 1, atol: 1 })).toMatch(/beyond its numbers/);
    expect(compareText("0.3 0.4", "0.3", { rtol: 1, atol: 1 })).toMatch(/beyond its numbers/);
    expect(compareOutputs([result({ "text/plain": "tensor([1.00001])" })], [result({ "text/plain": "tensor([1.0])" })], tol(1e-4))).toEqual([]);
  });

  test("sanitize rules apply to both sides", () => {
    const rules = parseSanitizeRules("regex: 0x[0-9a-f]+\nreplace: ADDR\n", "s");
    const got = [result({ "text/plain": "<obj at 0xabc>" })];
    const stored = [result({ "text/plain": "<obj at 0x123>" })];
    expect(compareOutputs(got, stored)).toHaveLength(1);
    expect(compareOutputs(got, stored, options({ sanitize: rules }))).toEqual([]);
  });

  test("missing and unexpected outputs, and a different count of one kind", () => {
    expect(compareOutputs([], [stdout("x\n")])[0].message).toMatch(/missing output: stdout/);
    expect(compareOutputs([stdout("x\n")], [])[0].message).toMatch(/unexpected output: stdout/);
    const twice = [shown({ "text/plain": "a" }), shown({ "text/plain": "b" })];
    expect(compareOutputs(twice, [shown({ "text/plain": "a" })])[0].message).toMatch(/2 text\/plain outputs, expected 1/);
  });

  test("execute_result and display_data compare by mime type, in any order of kinds, as nbval does", () => {
    const got = [shown({ "text/plain": "p" }), stdout("s\n")];
    const stored = [stdout("s\n"), result({ "text/plain": "p" })];
    expect(compareOutputs(got, stored)).toEqual([]);
  });

  test("widget model ids are never compared", () => {
    const widget = (id: string) => shown({ "application/vnd.jupyter.widget-view+json": { model_id: id }, "text/plain": "W" });
    expect(compareOutputs([widget("a")], [widget("b")])).toEqual([]);
  });
});

describe("errors", () => {
  test("ename and evalue are compared, the traceback is not", () => {
    expect(compareOutputs([error("RangeError", "bad", ["one traceback"])], [error("RangeError", "bad", ["another"])])).toEqual([]);
    expect(compareOutputs([error("RangeError", "bad")], [error("TypeError", "bad")])[0].message).toBe("raised RangeError, expected TypeError");
    expect(compareOutputs([error("RangeError", "bad")], [error("RangeError", "worse")])[0].message).toBe("RangeError's message differs");
  });
});

describe("plot bundles", () => {
  const PLOTLY = "application/vnd.plotly.v1+json";
  const plot = (traces: unknown[], layout: Record<string, unknown> = {}) => shown({ [PLOTLY]: { data: traces, layout }, "text/plain": "<Plot>" });
  const line = (y: number[], type = "scatter") => ({ type, x: y.map((_, i) => i), y });

  test("compared structurally: key order, template and numbers within tolerance do not matter", () => {
    const stored = shown({ [PLOTLY]: { layout: { title: { text: "loss" }, template: { a: 1 } }, data: [{ y: [1, 2, 3], x: [0, 1, 2], type: "scatter" }] }, "text/plain": "<Plot>" });
    const got = plot([line([1, 2.0000001, 3])], { title: { text: "loss" }, template: { b: 2 } });
    expect(compareOutputs([got], [stored], tol(1e-5))).toEqual([]);
  });

  test("trace count, trace type, array length and numbers are each reported", () => {
    expect(compareOutputs([plot([line([1])])], [plot([line([1]), line([2])])])[0].message).toMatch(/1 traces, expected 2/);
    expect(compareOutputs([plot([line([1], "bar")])], [plot([line([1])])])[0].message).toMatch(/trace 0 is a "bar" trace, expected "scatter"/);
    expect(compareOutputs([plot([line([1, 2])])], [plot([line([1, 2, 3])])])[0].message).toMatch(/data\[0\]\.x: length 2, expected 3/);
    expect(compareOutputs([plot([line([1, 2.5])])], [plot([line([1, 2])])], tol(1e-3))[0].message).toMatch(/data\[0\]\.y\[1\]: 2.5, expected 2/);
  });

  test("plotly typed arrays (dtype + bdata) are decoded before comparing", () => {
    const typed = (values: number[]) => ({ dtype: "f8", bdata: Buffer.from(new Float64Array(values).buffer).toString("base64") });
    const stored = plot([{ type: "scatter", y: [1, 2, 3] }]);
    expect(compareOutputs([plot([{ type: "scatter", y: typed([1, 2, 3]) }])], [stored])).toEqual([]);
    expect(compareOutputs([plot([{ type: "scatter", y: typed([1, 2]) }])], [stored])).toHaveLength(1);
  });

  test("nbforge's own plot mime types are compared the same way", () => {
    const MIME = "application/vnd.nbforge.losscurve+json";
    const curve = (loss: number[]) => shown({ [MIME]: { series: [{ name: "train", loss }] } });
    expect(compareOutputs([curve([0.5, 0.25])], [curve([0.5, 0.2500001])], tol(1e-5))).toEqual([]);
    expect(compareOutputs([curve([0.5])], [curve([0.5, 0.25])])[0].message).toMatch(/series\[0\]\.loss: length 1, expected 2/);
  });
});

describe("images", () => {
  const gradient = (w: number, h: number, offset = 0) => grayPng(w, h, (x, y) => (x * 255) / w + offset + y * 0);
  const png = (data: string) => shown({ "image/png": data, "text/plain": "<Figure>" });

  test("the test's PNG encoder and the decoder agree", () => {
    const image = decodePng(Buffer.from(grayPng(3, 2, (x, y) => 10 * x + 100 * y), "base64"));
    expect([image.width, image.height]).toEqual([3, 2]);
    expect([...image.pixels].map((p) => Math.round(p))).toEqual([0, 10, 20, 100, 110, 120]);
  });

  test("small differences pass under the threshold, large ones fail with the distance", () => {
    expect(compareOutputs([png(gradient(64, 48, 2))], [png(gradient(64, 48))])).toEqual([]);
    const inverted = grayPng(64, 48, (x) => 255 - (x * 255) / 64);
    const [m] = compareOutputs([png(inverted)], [png(gradient(64, 48))]);
    expect(m.message).toMatch(/perceptual distance 0\.\d+ > threshold 0.05/);
    const d = perceptualDistance(decodePng(Buffer.from(inverted, "base64")), decodePng(Buffer.from(gradient(64, 48), "base64")));
    expect(compareOutputs([png(inverted)], [png(gradient(64, 48))], options({ imageThreshold: d + 0.01 }))).toEqual([]);
  });

  test("a different size fails; images can be ignored", () => {
    expect(compareOutputs([png(gradient(64, 40))], [png(gradient(64, 48))])[0].message).toBe("image/png: image is 64x40 px, expected 64x48 px");
    expect(compareOutputs([png(gradient(64, 40))], [png(gradient(64, 48))], options({ ignoreImages: true }))).toEqual([]);
    expect(compareOutputs([shown({ "text/plain": "<Figure>" })], [png(gradient(8, 8))], options({ ignoreImages: true }))).toEqual([]);
  });

  test("SVG by its width and height", () => {
    const svg = (w: string, body: string) => shown({ "image/svg+xml": `<svg width="${w}" height="10pt">${body}</svg>` });
    expect(compareOutputs([svg("20pt", "<path id='a1'/>")], [svg("20pt", "<path id='b7'/>")])).toEqual([]);
    expect(compareOutputs([svg("30pt", "")], [svg("20pt", "")])[0].message).toMatch(/SVG size 30pt x 10pt, expected 20pt x 10pt/);
  });
});

describe("reports", () => {
  const report: NotebookReport = {
    path: "nb & co.ipynb",
    kernel: "nbforge",
    verdict: "failed",
    durationMs: 1200,
    cells: [
      { index: 0, number: 1, firstLine: "const x = 1;", verdict: "passed", reasons: [], durationMs: 5, executionCount: 1 },
      {
        index: 2,
        number: 2,
        firstLine: "console.log(x)",
        verdict: "failed",
        reasons: [{ key: "stdout", message: "stdout differs", expected: "a\nb\nc\n", got: "a\nB\nc\n" }],
        durationMs: 7,
        executionCount: 2,
      },
    ],
  };

  test("a line diff", () => {
    expect(lineDiff("a\nb\nc", "a\nB\nc")).toEqual([
      { sign: " ", line: "a" },
      { sign: "-", line: "b" },
      { sign: "+", line: "B" },
      { sign: " ", line: "c" },
    ]);
  });

  test("the text report names the cell number and first source line, and shows expected against got", () => {
    const text = formatNotebookReport(report);
    expect(text).toMatch(/^FAIL nb & co.ipynb \(2 code cells, 1 failed, 1.2 s\)/);
    expect(text).toContain("cell 2: console.log(x)");
    expect(text).toMatch(/- b\n.*\+ B/);
    expect(text).not.toContain("\x1b[");
    expect(formatNotebookReport(report, COLOUR)).toContain("\x1b[31m");
  });

  test("JUnit XML: a testsuite per notebook, a testcase per cell, escaped", () => {
    const xml = junitXml([report, { path: "bad.ipynb", verdict: "error", error: "not valid JSON <here>", cells: [], durationMs: 1 }]);
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="nbforge test" tests="3" failures="1" errors="1"/);
    expect(xml).toContain(`<testsuite name="nb &amp; co.ipynb" tests="2" failures="1" errors="0"`);
    expect(xml).toContain(`<testcase classname="nb &amp; co.ipynb" name="cell 2: console.log(x)"`);
    expect(xml).toContain(`<failure message="stdout differs">`);
    expect(xml).toContain(`<error message="not valid JSON &lt;here&gt;">`);
    expect((xml.match(/<testsuite /g) ?? []).length).toBe((xml.match(/<\/testsuite>/g) ?? []).length);
  });
});

describe("command line", () => {
  test("options", () => {
    const o = parseTestArgs(["a.ipynb", "--rtol", "1e-3", "--atol=1e-9", "-j", "3", "--lax", "--current-env", "--cell-timeout", "2.5",
      "--kernel-startup-timeout", "30", "--kernel-name", "python3", "--sanitize-with", "s.cfg", "--update", "--junit", "r.xml",
      "--ignore-images", "--image-threshold", "0.1", "b/"]);
    expect(o).toMatchObject({ paths: ["a.ipynb", "b/"], rtol: 1e-3, atol: 1e-9, jobs: 3, lax: true, currentEnv: true, cellTimeoutMs: 2500,
      startupTimeoutMs: 30_000, kernelName: "python3", sanitizeFiles: ["s.cfg"], update: true, junit: "r.xml", ignoreImages: true, imageThreshold: 0.1 });
    expect(parseTestArgs(["-j4"]).jobs).toBe(4);
    expect(() => parseTestArgs(["--rtol", "x"])).toThrow(TestUsageError);
    expect(() => parseTestArgs(["-j", "0"])).toThrow(/-j expects a whole number/);
    expect(() => parseTestArgs(["--frobnicate"])).toThrow(/unknown option "--frobnicate"/);
    expect(() => parseTestArgs(["--junit"])).toThrow(/--junit needs a value/);
  });

  test("folders, globs and duplicates", () => {
    const dir = tempDir("nbforge-paths-");
    try {
      mkdirSync(join(dir, "nb", "deep", ".ipynb_checkpoints"), { recursive: true });
      for (const f of ["nb/a.ipynb", "nb/a.out.ipynb", "nb/deep/b.ipynb", "nb/deep/.ipynb_checkpoints/b-checkpoint.ipynb", "nb/c.txt"]) {
        writeFileSync(join(dir, f), "{}");
      }
      expect(expandNotebookPaths(["nb"], dir)).toEqual(["nb/a.ipynb", "nb/deep/b.ipynb"]);
      expect(expandNotebookPaths(["nb/*.ipynb"], dir)).toEqual(["nb/a.ipynb", "nb/a.out.ipynb"]);
      expect(expandNotebookPaths(["nb/**/b.ipynb", "nb/deep/b.ipynb"], dir)).toEqual(["nb/deep/b.ipynb"]);
      expect(expandNotebookPaths(["nb/{a,x}.ipynb"], dir)).toEqual(["nb/a.ipynb"]);
      expect(expandNotebookPaths(["none/*.ipynb"], dir)).toEqual(["none/*.ipynb"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("-j runs at most N at once and keeps the order of results", async () => {
    let running = 0;
    let peak = 0;
    const out = await mapWithLimit([30, 10, 20, 5, 15], 2, async (ms) => {
      peak = Math.max(peak, ++running);
      await new Promise((r) => setTimeout(r, ms));
      running--;
      return ms;
    });
    expect(out).toEqual([30, 10, 20, 5, 15]);
    expect(peak).toBe(2);
  });
});

// Keep the Output type import used for readers of the helpers.
export type { Output };
