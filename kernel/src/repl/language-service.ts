// The TypeScript language service over a notebook: type checking, completion and
// inspection of a cell against the declarations of every earlier cell.
//
// The service sees one file in the notebook's folder (so relative imports and
// node_modules resolve as they do at run time): the history of earlier
// declarations, then the cell. Positions inside the cell are offset by the
// history's length.
import ts from "typescript";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { declaredNames, historyEntries, type HistoryEntry } from "./declarations.js";

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

const require = createRequire(import.meta.url);
/** Kernel globals (display, input, ...) as the checker sees them. */
const PRELUDE_PATH = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "prelude", "globals.d.ts");

/**
 * @types/node is served to the checker from a folder outside any node_modules:
 * for files inside node_modules TypeScript looks up the nearest package.json for
 * each file in every new program, which made up a fifth of a cell's check.
 */
const TYPES_ROOT = "/__nbforge_types__";
const REAL_TYPES_ROOT = dirname(dirname(require.resolve("@types/node/package.json")));

function realPath(path: string): string {
  return path.startsWith(`${TYPES_ROOT}/`) || path === TYPES_ROOT ? REAL_TYPES_ROOT + path.slice(TYPES_ROOT.length) : path;
}

/** The file system as the checker sees it: the real one, with @types under TYPES_ROOT. */
const checkerFileSystem: ts.ModuleResolutionHost & { getDirectories(path: string): string[] } = {
  fileExists: (path) => ts.sys.fileExists(realPath(path)),
  readFile: (path) => ts.sys.readFile(realPath(path)),
  directoryExists: (path) => path === "/" || ts.sys.directoryExists(realPath(path)),
  getDirectories: (path) => ts.sys.getDirectories(realPath(path)),
  realpath: (path) => (path.startsWith(TYPES_ROOT) ? path : (ts.sys.realpath?.(path) ?? path)),
};

function compilerOptions(): ts.CompilerOptions {
  const packageRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
  return {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ["lib.es2023.d.ts"],
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    esModuleInterop: true,
    allowImportingTsExtensions: true,
    resolveJsonModule: true,
    allowJs: false,
    types: ["node"],
    typeRoots: [TYPES_ROOT],
    // `import ... from "nbforge"` means this package, wherever the notebook is.
    paths: { nbforge: [join(packageRoot, "dist", "index.d.ts")] },
  };
}

export class NotebookLanguageService {
  private readonly service: ts.LanguageService;
  private readonly cellPath: string;
  private history: HistoryEntry[] = [];
  private fileText = "export {};\n";
  private cellOffset = this.fileText.length;
  private version = 0;
  private readonly diskSnapshots = new Map<string, ts.IScriptSnapshot | undefined>();
  /**
   * Kept across cells: without it every cell's program looks up package.json for
   * each of @types/node's files again, a third of a check's time. Cleared when a
   * cell imports, since the user may have installed a package meanwhile.
   */
  private readonly resolutionCache: ts.ModuleResolutionCache;

  constructor(cwd: string) {
    this.cellPath = join(cwd, "__nbforge_cell__.ts");
    const options = compilerOptions();
    this.resolutionCache = ts.createModuleResolutionCache(cwd, (f) => f, options);
    const resolutionHost = { ...checkerFileSystem, getCurrentDirectory: () => cwd };
    // getModuleResolutionCache is read by the service but missing from the public host type.
    const host: ts.LanguageServiceHost & { getModuleResolutionCache(): ts.ModuleResolutionCache } = {
      getModuleResolutionCache: () => this.resolutionCache,
      resolveModuleNameLiterals: (literals, containingFile, redirected, opts, containingSourceFile) =>
        literals.map((literal) =>
          ts.resolveModuleName(
            literal.text,
            containingFile,
            opts,
            resolutionHost,
            this.resolutionCache,
            redirected,
            ts.getModeForUsageLocation(containingSourceFile, literal, opts),
          ),
        ),
      getCompilationSettings: () => options,
      getScriptFileNames: () => [PRELUDE_PATH, this.cellPath],
      getScriptVersion: (path) => (path === this.cellPath ? String(this.version) : "0"),
      getScriptSnapshot: (path) => {
        if (path === this.cellPath) return ts.ScriptSnapshot.fromString(this.fileText);
        if (!this.diskSnapshots.has(path)) {
          const text = checkerFileSystem.readFile(path);
          this.diskSnapshots.set(path, text === undefined ? undefined : ts.ScriptSnapshot.fromString(text));
        }
        return this.diskSnapshots.get(path);
      },
      getCurrentDirectory: () => cwd,
      getDefaultLibFileName: (o) => ts.getDefaultLibFilePath(o),
      fileExists: (path) => path === this.cellPath || checkerFileSystem.fileExists(path),
      readFile: (path) => (path === this.cellPath ? this.fileText : checkerFileSystem.readFile(path)),
      directoryExists: checkerFileSystem.directoryExists,
      getDirectories: checkerFileSystem.getDirectories,
      realpath: checkerFileSystem.realpath,
      useCaseSensitiveFileNames: () => true,
    };
    this.service = ts.createLanguageService(host, ts.createDocumentRegistry());
  }

  /** Makes `cell` the current cell, with the history minus the names it redeclares. */
  private setCell(cell: string): void {
    const probe = ts.createSourceFile("cell.ts", cell, ts.ScriptTarget.ES2022, false);
    const redeclared = declaredNames(probe);
    if (probe.statements.some((s) => ts.isImportDeclaration(s) || ts.isImportEqualsDeclaration(s))) this.resolutionCache.clear();
    const header = this.history
      .filter((e) => !redeclared.has(e.name))
      .map((e) => e.text)
      .join("\n");
    const prefix = `${header}\n`;
    const text = `${prefix}${cell}\nexport {};\n`;
    if (text !== this.fileText) {
      this.fileText = text;
      this.cellOffset = prefix.length;
      this.version++;
    }
  }

  /** Type errors of a cell; an empty list means it may run. */
  check(cell: string): CellDiagnostic[] {
    this.setCell(cell);
    const diagnostics = [
      ...this.service.getSyntacticDiagnostics(this.cellPath),
      ...this.service.getSemanticDiagnostics(this.cellPath),
    ];
    const lines = cell.split("\n");
    return diagnostics
      .filter((d) => d.start !== undefined && d.start >= this.cellOffset && d.category === ts.DiagnosticCategory.Error)
      .map((d) => {
        const { line, column } = lineAndColumn(cell, d.start! - this.cellOffset);
        return {
          line,
          column,
          code: d.code,
          message: ts.flattenDiagnosticMessageText(d.messageText, "\n") + fixHint(d.code, cell, d.start! - this.cellOffset),
          sourceLine: lines[line - 1] ?? "",
        };
      });
  }

  /** Records the declarations of a cell that ran, so later cells see them. */
  commit(cell: string): void {
    this.setCell(cell);
    const program = this.service.getProgram();
    const file = program?.getSourceFile(this.cellPath);
    if (!program || !file) return;
    const added = historyEntries(file, this.cellOffset, program.getTypeChecker());
    const names = new Set(declaredNames(ts.createSourceFile("c.ts", cell, ts.ScriptTarget.ES2022, false)));
    this.history = [...this.history.filter((e) => !names.has(e.name)), ...added];
  }

  complete(cell: string, cursor: number): Completion {
    this.setCell(cell);
    const position = this.cellOffset + cursor;
    const result = this.service.getCompletionsAtPosition(this.cellPath, position, {
      includeCompletionsWithInsertText: true,
      includeCompletionsForImportStatements: false,
    });
    let start = cursor;
    while (start > 0 && /[\w$]/.test(cell[start - 1])) start--;
    const prefix = cell.slice(start, cursor);
    let end = cursor;
    if (result?.optionalReplacementSpan) {
      start = result.optionalReplacementSpan.start - this.cellOffset;
      end = start + result.optionalReplacementSpan.length;
    }
    const typed = cell.slice(start, cursor).replace(/^["']/, "").toLowerCase();
    const matches = (result?.entries ?? [])
      .filter((e) => e.name.toLowerCase().startsWith(prefix ? prefix.toLowerCase() : typed))
      .sort((a, b) => a.sortText.localeCompare(b.sortText) || a.name.localeCompare(b.name))
      .map((e) => ({ name: e.name, kind: e.kind }));
    return { matches, start, end };
  }

  /** The signature and JSDoc of the symbol at (or just before) the cursor. */
  quickInfo(cell: string, cursor: number): QuickInfo | undefined {
    this.setCell(cell);
    for (const at of [cursor, cursor - 1]) {
      if (at < 0) continue;
      const info = this.service.getQuickInfoAtPosition(this.cellPath, this.cellOffset + at);
      if (!info) continue;
      return {
        signature: ts.displayPartsToString(info.displayParts),
        documentation: ts.displayPartsToString(info.documentation),
        tags: (info.tags ?? []).map((t) => `@${t.name} ${ts.displayPartsToString(t.text)}`.trim()),
      };
    }
    return undefined;
  }
}

/** What to do about the diagnostics users meet most when importing. */
function fixHint(code: number, cell: string, offset: number): string {
  const specifier = /^["']([^"']+)["']/.exec(cell.slice(offset))?.[1];
  if (!specifier || specifier.startsWith(".") || specifier.startsWith("/")) return "";
  const name = specifier.startsWith("@") ? specifier.split("/").slice(0, 2).join("/") : specifier.split("/")[0];
  if (code === 2307) return ` Install it in the notebook's folder with \`npm install ${name}\`.`;
  if (code === 7016) return ` Install its types (\`npm install -D @types/${name.replace(/^@/, "").replace("/", "__")}\`) or put \`// @ts-nocheck\` at the top of the cell.`;
  return "";
}

export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split("\n");
  return { line: before.length, column: before[before.length - 1].length + 1 };
}
