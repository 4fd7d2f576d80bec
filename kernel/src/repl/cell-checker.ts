// What the interpreter needs from a type checker, and the notebook state that
// every checker shares: the declarations of earlier cells.
//
// A checker sees one file in the notebook's folder (so relative imports and
// node_modules resolve as they do at run time): the history of earlier
// declarations, then the cell. Positions inside the cell are offset by the
// history's length.
import ts from "typescript";
import { declaredNames, type HistoryEntry } from "./declarations.js";

export interface CellDiagnostic {
  /** 1-based line and column inside the cell. */
  line: number;
  column: number;
  code: number;
  message: string;
  sourceLine: string;
}

export interface Completion {
  matches: { name: string; kind: string }[];
  /** Range of the cell text that a match replaces. */
  start: number;
  end: number;
}

export interface QuickInfo {
  signature: string;
  documentation: string;
  tags: string[];
}

export interface CellChecker {
  /** Type errors of a cell; an empty list means it may run. */
  check(cell: string): CellDiagnostic[];
  /** Records the declarations of a cell that ran, so later cells see them. */
  commit(cell: string): void;
  complete(cell: string, cursor: number): Completion;
  /** The signature and JSDoc of the symbol at (or just before) the cursor. */
  quickInfo(cell: string, cursor: number): QuickInfo | undefined;
  close?(): void;
}

/** The name of the one file a checker sees, in the notebook's folder. */
export const CELL_FILE = "__nbforge_cell__.ts";

/** The declarations of earlier cells, newest last, one entry per top-level name. */
export class DeclarationHistory {
  private entries: HistoryEntry[] = [];

  /** The checker's file for a cell: the history minus the names the cell redeclares, then the cell. */
  compose(cell: string): { text: string; offset: number; importsModules: boolean; parsed: ts.SourceFile } {
    const probe = ts.createSourceFile("cell.ts", cell, ts.ScriptTarget.ES2022, false);
    const redeclared = declaredNames(probe);
    const header = this.entries
      .filter((e) => !redeclared.has(e.name))
      .map((e) => e.text)
      .join("\n");
    const prefix = `${header}\n`;
    const importsModules = probe.statements.some((s) => ts.isImportDeclaration(s) || ts.isImportEqualsDeclaration(s));
    return { text: `${prefix}${cell}\nexport {};\n`, offset: prefix.length, importsModules, parsed: probe };
  }

  /** Replaces the entries of the names `cell` declares with `added`. */
  record(cell: string, added: HistoryEntry[]): void {
    const names = declaredNames(ts.createSourceFile("c.ts", cell, ts.ScriptTarget.ES2022, false));
    this.entries = [...this.entries.filter((e) => !names.has(e.name)), ...added];
  }
}

/** A checker's diagnostic, in the cell's own lines and columns, with a hint where one helps. */
export function cellDiagnostic(cell: string, offset: number, code: number, message: string): CellDiagnostic {
  const { line, column } = lineAndColumn(cell, offset);
  return { line, column, code, message: message + fixHint(code, cell, offset), sourceLine: cell.split("\n")[line - 1] ?? "" };
}

/** Syntax errors of a cell on its own (TypeScript's parser needs no checker for them). */
export function syntaxErrors(cell: string, parsed: ts.SourceFile): CellDiagnostic[] {
  const errors = (parsed as unknown as { parseDiagnostics: ts.DiagnosticWithLocation[] }).parseDiagnostics;
  return errors.map((d) => cellDiagnostic(cell, d.start, d.code, ts.flattenDiagnosticMessageText(d.messageText, "\n")));
}

/** The identifier being typed at the cursor, which completions replace. */
export function wordBefore(cell: string, cursor: number): { start: number; prefix: string } {
  let start = cursor;
  while (start > 0 && /[\w$]/.test(cell[start - 1])) start--;
  return { start, prefix: cell.slice(start, cursor) };
}

/** What to do about the diagnostics users meet most when importing. */
function fixHint(code: number, cell: string, offset: number): string {
  const specifier = /^["']([^"']+)["']/.exec(cell.slice(offset))?.[1];
  if (!specifier || specifier.startsWith(".") || specifier.startsWith("/")) return "";
  const name = specifier.startsWith("@") ? specifier.split("/").slice(0, 2).join("/") : specifier.split("/")[0];
  if (code === 2307) return ` Install it in the notebook's folder with \`npm install ${name}\`.`;
  if (code === 7016) {
    const typesName = name.replace(/^@/, "").replace("/", "__");
    return ` Install its types (\`npm install -D @types/${typesName}\`) or put \`// @ts-nocheck\` at the top of the cell.`;
  }
  return "";
}

export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split("\n");
  return { line: before.length, column: before[before.length - 1].length + 1 };
}
