// Error reports for cells: stack frames mapped back to the TypeScript cell
// through source maps, and type errors shown with the offending line.
import { TraceMap, originalPositionFor } from "@jridgewell/trace-mapping";
import type { CellDiagnostic } from "./cell-checker.js";

const RED = "\x1b[31m";
const CYAN = "\x1b[36m";
const RESET = "\x1b[0m";

export interface ErrorReport {
  ename: string;
  evalue: string;
  traceback: string[];
}

interface CellSource {
  map: TraceMap;
  /** Characters the wrapper adds before the cell's JavaScript on line 1. */
  firstLineShift: number;
  /** The wrapper's own call `})()` is on this line; frames there are not the user's. */
  wrapperLine: number;
  lines: string[];
}

/** The source maps of every cell run so far, for frames in earlier cells too. */
export class CellSources {
  private readonly cells = new Map<string, CellSource>();

  add(fileName: string, sourceMap: string, script: string, firstLineShift: number, source: string): void {
    this.cells.set(fileName, {
      map: new TraceMap(sourceMap),
      firstLineShift,
      wrapperLine: script.split("\n").length,
      lines: source.split("\n"),
    });
  }

  isWrapperCall(fileName: string, line: number): boolean {
    return this.cells.get(fileName)?.wrapperLine === line;
  }

  /** Maps a generated position to the cell's own line and column (1-based). */
  locate(fileName: string, line: number, column: number): { line: number; column: number } | undefined {
    const cell = this.cells.get(fileName);
    if (!cell) return undefined;
    const col0 = Math.max(0, column - 1 - (line === 1 ? cell.firstLineShift : 0));
    const pos = originalPositionFor(cell.map, { line, column: col0 });
    if (pos.line === null) return undefined;
    return { line: pos.line, column: (pos.column ?? 0) + 1 };
  }

  sourceLine(fileName: string, line: number): string | undefined {
    return this.cells.get(fileName)?.lines[line - 1];
  }

  has(fileName: string): boolean {
    return this.cells.has(fileName);
  }
}

const FRAME = /^\s*at (?:(.*?) \()?(.+?):(\d+):(\d+)\)?$/;

/** Whether a frame belongs to the kernel itself (hidden from users). */
function isKernelFrame(location: string, kernelRoot: string): boolean {
  return location.startsWith("node:") || location.includes(kernelRoot) || location.startsWith("evalmachine");
}

export function reportError(error: unknown, sources: CellSources, kernelRoot: string): ErrorReport {
  if (!(error instanceof Error)) {
    return { ename: "Uncaught", evalue: String(error), traceback: [`${RED}Uncaught${RESET} ${String(error)}`] };
  }
  const ename = error.name || error.constructor?.name || "Error";
  const evalue = error.message;
  const traceback = [`${RED}${ename}${RESET}: ${evalue}`];
  let shownSource = false;
  for (const raw of (error.stack ?? "").split("\n").slice(1)) {
    const m = FRAME.exec(raw);
    if (!m) continue;
    const [, fn, file, lineText, colText] = m;
    if (isKernelFrame(file, kernelRoot) || sources.isWrapperCall(file, Number(lineText))) continue;
    const where = sources.has(file) ? sources.locate(file, Number(lineText), Number(colText)) : undefined;
    const position = where ? `${where.line}:${where.column}` : `${lineText}:${colText}`;
    const name = (fn ?? "").replace(/^async /, "").replace(/^<anonymous>$/, "");
    const location = `${CYAN}${file}${RESET}:${position}`;
    traceback.push(name ? `    at ${name} (${location})` : `    at ${location}`);
    if (where && !shownSource) {
      const text = sources.sourceLine(file, where.line);
      if (text !== undefined) {
        traceback.push(`  ${where.line} | ${text}`, `  ${" ".repeat(String(where.line).length)} | ${" ".repeat(where.column - 1)}${RED}^${RESET}`);
        shownSource = true;
      }
    }
  }
  return { ename, evalue, traceback };
}

export function reportTypeErrors(fileName: string, diagnostics: CellDiagnostic[]): ErrorReport {
  const first = diagnostics[0];
  const evalue = `${fileName} line ${first.line}, column ${first.column}: ${first.message} (TS${first.code})`;
  const traceback = [`${RED}TSError${RESET}: ${diagnostics.length} type error${diagnostics.length > 1 ? "s" : ""} in ${fileName}`];
  for (const d of diagnostics) {
    traceback.push(
      `${CYAN}${fileName}:${d.line}:${d.column}${RESET} - ${RED}error${RESET} TS${d.code}: ${d.message}`,
      `  ${d.line} | ${d.sourceLine}`,
      `  ${" ".repeat(String(d.line).length)} | ${" ".repeat(Math.max(0, d.column - 1))}${RED}^${RESET}`,
    );
  }
  traceback.push("Fix the types, or put `// @ts-nocheck` at the top of the cell to run it unchecked.");
  return { ename: "TSError", evalue, traceback };
}
