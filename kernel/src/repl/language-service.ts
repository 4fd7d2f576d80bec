// TypeScript 5.9's in-process language service as a cell checker: type checking,
// completion and inspection of a cell against the declarations of earlier cells.
// The kernel prefers the native checker (tsgo-checker.ts) for speed; this one
// is the fallback, and gives inspection its signatures and JSDoc.
import ts from "typescript";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { historyEntries } from "./declarations.js";
import {
  CELL_FILE,
  cellDiagnostic,
  wordBefore,
  type CellChecker,
  type CellDiagnostic,
  type Completion,
  type DeclarationHistory,
  type QuickInfo,
} from "./cell-checker.js";

const require = createRequire(import.meta.url);
/** Kernel globals (display, input, ...) as the checker sees them. */
export const PRELUDE_PATH = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "prelude", "globals.d.ts");

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

const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Where the real @types live, and nbforge's own declarations (`import ... from "nbforge"`). */
export const NBFORGE_TYPES = { typeRoot: REAL_TYPES_ROOT, nbforge: join(PACKAGE_ROOT, "dist", "index.d.ts") };

function compilerOptions(): ts.CompilerOptions {
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
    paths: { nbforge: [NBFORGE_TYPES.nbforge] },
  };
}

export class NotebookLanguageService implements CellChecker {
  private readonly service: ts.LanguageService;
  private readonly cellPath: string;
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

  constructor(cwd: string, private readonly history: DeclarationHistory) {
    this.cellPath = join(cwd, CELL_FILE);
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
    const { text, offset, importsModules } = this.history.compose(cell);
    if (importsModules) this.resolutionCache.clear();
    if (text !== this.fileText) {
      this.fileText = text;
      this.cellOffset = offset;
      this.version++;
    }
  }

  check(cell: string): CellDiagnostic[] {
    this.setCell(cell);
    const diagnostics = [
      ...this.service.getSyntacticDiagnostics(this.cellPath),
      ...this.service.getSemanticDiagnostics(this.cellPath),
    ];
    return diagnostics
      .filter((d) => d.start !== undefined && d.start >= this.cellOffset && d.category === ts.DiagnosticCategory.Error)
      .map((d) => cellDiagnostic(cell, d.start! - this.cellOffset, d.code, ts.flattenDiagnosticMessageText(d.messageText, "\n")));
  }

  commit(cell: string): void {
    this.setCell(cell);
    const program = this.service.getProgram();
    const file = program?.getSourceFile(this.cellPath);
    if (!program || !file) return;
    const checker = program.getTypeChecker();
    // With the file as the enclosing scope, types whose names are not in scope
    // there print as import("...").Name, so a later cell gets the same type.
    const flags = ts.TypeFormatFlags.NoTruncation;
    const added = historyEntries(file, this.cellOffset, (name) => checker.typeToString(checker.getTypeAtLocation(name), file, flags));
    this.history.record(cell, added);
  }

  complete(cell: string, cursor: number): Completion {
    this.setCell(cell);
    const position = this.cellOffset + cursor;
    const result = this.service.getCompletionsAtPosition(this.cellPath, position, {
      includeCompletionsWithInsertText: true,
      includeCompletionsForImportStatements: false,
    });
    let { start, prefix } = wordBefore(cell, cursor);
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
