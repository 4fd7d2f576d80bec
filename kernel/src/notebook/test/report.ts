// Reports: a readable, optionally coloured, text report with a line diff per
// failing output, and JUnit XML (one testsuite per notebook, one testcase per cell).
import type { Mismatch } from "./compare.js";
import type { CellReport, NotebookReport } from "./tester.js";

export interface Palette {
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

const ansi = (code: number) => (s: string) => `\x1b[${code}m${s}\x1b[0m`;
export const COLOUR: Palette = { red: ansi(31), green: ansi(32), yellow: ansi(33), dim: ansi(2), bold: ansi(1) };
export const PLAIN: Palette = { red: (s) => s, green: (s) => s, yellow: (s) => s, dim: (s) => s, bold: (s) => s };

/** Lines of `expected` and `got` as a minimal line diff (LCS): " " kept, "-" expected only, "+" got only. */
export function lineDiff(expected: string, got: string): { sign: " " | "-" | "+"; line: string }[] {
  const a = expected.split("\n");
  const b = got.split("\n");
  if (a.length * b.length > 4_000_000) {
    return [...a.map((line) => ({ sign: "-" as const, line })), ...b.map((line) => ({ sign: "+" as const, line }))];
  }
  const lcs: Uint32Array[] = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const out: { sign: " " | "-" | "+"; line: string }[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      out.push({ sign: " ", line: a[i++] });
      j++;
    } else if (i < a.length && (j >= b.length || lcs[i + 1][j] >= lcs[i][j + 1])) {
      out.push({ sign: "-", line: a[i++] });
    } else {
      out.push({ sign: "+", line: b[j++] });
    }
  }
  return out;
}

/** Shows control characters that would otherwise be invisible in a terminal. */
function visible(line: string): string {
  return line.replace(/\x1b/g, "\\x1b").replace(/\r/g, "\\r").replace(/\t/g, "\\t");
}

const MAX_DIFF_LINES = 40;

function formatMismatch(m: Mismatch, p: Palette, indent: string): string[] {
  const lines = [`${indent}${p.red("✗")} ${m.message}`];
  if (m.details && m.details.length > 1) for (const d of m.details.slice(1)) lines.push(`${indent}    ${p.dim(d)}`);
  if (m.expected !== undefined && m.got !== undefined) {
    lines.push(`${indent}    ${p.red("- expected")}  ${p.green("+ got")}`);
    const diff = lineDiff(m.expected, m.got);
    // Show changed lines with two lines of context around them.
    const keep = diff.map((d, i) => d.sign !== " " || diff.slice(Math.max(0, i - 2), i + 3).some((x) => x.sign !== " "));
    let shown = 0;
    let skipped = false;
    for (const [i, d] of diff.entries()) {
      if (!keep[i]) {
        if (!skipped) lines.push(`${indent}    ${p.dim("  ...")}`);
        skipped = true;
        continue;
      }
      skipped = false;
      if (shown++ >= MAX_DIFF_LINES) {
        lines.push(`${indent}    ${p.dim(`  ... (${diff.length - i} more lines)`)}`);
        break;
      }
      const text = `${d.sign} ${visible(d.line)}`;
      lines.push(`${indent}    ${d.sign === "-" ? p.red(text) : d.sign === "+" ? p.green(text) : p.dim(text)}`);
    }
  }
  return lines;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export function cellTitle(cell: CellReport): string {
  const line = cell.firstLine.length > 60 ? `${cell.firstLine.slice(0, 57)}...` : cell.firstLine;
  return `cell ${cell.number}${line ? `: ${line}` : ""}`;
}

/** One notebook's report: a PASS/FAIL/ERROR line, then each failing cell with its diffs. */
export function formatNotebookReport(report: NotebookReport, p: Palette = PLAIN): string {
  const counts = (v: CellReport["verdict"]) => report.cells.filter((c) => c.verdict === v).length;
  const failed = counts("failed");
  const label =
    report.verdict === "passed"
      ? p.green("PASS")
      : report.verdict === "updated"
        ? p.yellow("UPDATED")
        : report.verdict === "failed"
          ? p.red("FAIL")
          : p.red("ERROR");
  const detail = [
    `${report.cells.length} code cells`,
    failed > 0 ? `${failed} failed` : "",
    counts("skipped") > 0 ? `${counts("skipped")} skipped` : "",
    seconds(report.durationMs),
  ]
    .filter((s) => s !== "")
    .join(", ");
  const lines = [`${p.bold(label)} ${report.path} ${p.dim(`(${detail})`)}`];
  if (report.error) lines.push(`  ${p.red(report.error)}`);
  for (const cell of report.cells) {
    if (cell.verdict !== "failed") continue;
    lines.push(`  ${p.bold(cellTitle(cell))}`);
    for (const m of cell.reasons) lines.push(...formatMismatch(m, p, "    "));
  }
  return lines.join("\n");
}

export interface Totals {
  notebooks: number;
  passed: number;
  failed: number;
  errors: number;
  updated: number;
  cells: number;
  cellsFailed: number;
}

export function totals(reports: readonly NotebookReport[]): Totals {
  return {
    notebooks: reports.length,
    passed: reports.filter((r) => r.verdict === "passed").length,
    failed: reports.filter((r) => r.verdict === "failed").length,
    errors: reports.filter((r) => r.verdict === "error").length,
    updated: reports.filter((r) => r.verdict === "updated").length,
    cells: reports.reduce((n, r) => n + r.cells.length, 0),
    cellsFailed: reports.reduce((n, r) => n + r.cells.filter((c) => c.verdict === "failed").length, 0),
  };
}

export function formatSummary(reports: readonly NotebookReport[], p: Palette = PLAIN): string {
  const t = totals(reports);
  const parts = [
    `${t.passed} passed`,
    t.failed > 0 ? p.red(`${t.failed} failed`) : "",
    t.errors > 0 ? p.red(`${t.errors} errors`) : "",
    t.updated > 0 ? p.yellow(`${t.updated} updated`) : "",
  ].filter((s) => s !== "");
  return `${t.notebooks} notebook${t.notebooks === 1 ? "" : "s"}: ${parts.join(", ")}; ${t.cells} code cells, ${t.cellsFailed} failed`;
}

function xml(text: string): string {
  return (
    text
      // XML 1.0 forbids most control characters, even escaped; ANSI escapes become readable text.
      .replace(/\x1b/g, "\\x1b")
      .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`)
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;")
  );
}

/** JUnit XML: a testsuite per notebook, a testcase per code cell; a notebook that could not run is one errored testcase. */
export function junitXml(reports: readonly NotebookReport[]): string {
  const t = totals(reports);
  const time = (ms: number) => (ms / 1000).toFixed(3);
  const total = reports.reduce((n, r) => n + Math.max(1, r.cells.length), 0);
  const lines = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="nbforge test" tests="${total}" failures="${t.cellsFailed}" errors="${t.errors}" time="${time(reports.reduce((s, r) => s + r.durationMs, 0))}">`,
  ];
  for (const r of reports) {
    const failures = r.cells.filter((c) => c.verdict === "failed").length;
    const skipped = r.cells.filter((c) => c.verdict === "skipped" || c.verdict === "not-run").length;
    const errors = r.verdict === "error" ? 1 : 0;
    lines.push(
      `  <testsuite name="${xml(r.path)}" tests="${Math.max(1, r.cells.length)}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${time(r.durationMs)}">`,
    );
    if (r.verdict === "error" && r.cells.length === 0) {
      lines.push(`    <testcase classname="${xml(r.path)}" name="notebook" time="${time(r.durationMs)}">`);
      lines.push(`      <error message="${xml(r.error ?? "error")}">${xml(r.error ?? "")}</error>`);
      lines.push(`    </testcase>`);
    }
    for (const c of r.cells) {
      const open = `    <testcase classname="${xml(r.path)}" name="${xml(cellTitle(c))}" time="${time(c.durationMs)}"`;
      if (c.verdict === "failed") {
        const body = c.reasons.flatMap((m) => formatMismatch(m, PLAIN, "")).join("\n");
        lines.push(`${open}>`, `      <failure message="${xml(c.reasons[0]?.message ?? "failed")}">${xml(body)}</failure>`, `    </testcase>`);
      } else if (c.verdict === "skipped" || c.verdict === "not-run") {
        lines.push(`${open}>`, `      <skipped message="${c.verdict === "skipped" ? "skipped" : xml(r.error ?? "not run")}"/>`, `    </testcase>`);
      } else {
        lines.push(`${open}/>`);
      }
    }
    lines.push(`  </testsuite>`);
  }
  lines.push(`</testsuites>`);
  return lines.join("\n") + "\n";
}
