// The native TypeScript checker (TypeScript 7, "tsgo") as a cell checker. It runs
// in its own process and answers over a synchronous pipe: a cell checks in well
// under a millisecond once warm and the project opens in about a tenth of a
// second, against half a second and a few milliseconds for TypeScript 5.9 in
// process, whose garbage also stalled the kernel's own thread.
//
// The checker reads the notebook's file through callbacks, so nothing is written
// into the user's folder. Inspection goes to TypeScript 5.9's language service
// (created on first use), which renders signatures and JSDoc.
import ts from "typescript";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { API, type Project, type Snapshot } from "typescript7/unstable/sync";
import { historyEntries } from "./declarations.js";
import {
  CELL_FILE,
  cellDiagnostic,
  syntaxErrors,
  wordBefore,
  type CellChecker,
  type CellDiagnostic,
  type Completion,
  type DeclarationHistory,
  type QuickInfo,
} from "./cell-checker.js";
import { NotebookLanguageService, PRELUDE_PATH, NBFORGE_TYPES } from "./language-service.js";

const require = createRequire(import.meta.url);
const LAUNCHER = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "scripts", "tsgo-ignoring-sigint.sh");

/** The tsgo executable of TypeScript 7's package for this platform. */
function tsgoExecutable(): string {
  const platformPackage = `@typescript/typescript-${process.platform}-${process.arch}/package.json`;
  const fromTypeScript7 = createRequire(require.resolve("typescript7/package.json"));
  return join(dirname(fromTypeScript7.resolve(platformPackage)), "lib", "tsc");
}

/** A virtual folder for the project file, outside the user's notebook folder. */
const CONFIG_DIR = "/__nbforge_project__";
const CONFIG_PATH = `${CONFIG_DIR}/tsconfig.json`;

/** LSP completion item kinds (what tsgo reports), named as TypeScript 5.9 names them. */
const COMPLETION_KINDS: Record<number, string> = {
  1: "text", 2: "method", 3: "function", 4: "constructor", 5: "property", 6: "var", 7: "class",
  8: "interface", 9: "module", 10: "property", 11: "unit", 12: "value", 13: "enum", 14: "keyword",
  15: "snippet", 16: "color", 17: "file", 18: "reference", 19: "directory", 20: "enum member",
  21: "const", 22: "struct", 23: "event", 24: "operator", 25: "type parameter",
};

function projectConfig(cellPath: string): string {
  return JSON.stringify({
    compilerOptions: {
      target: "ES2022",
      module: "ESNext",
      moduleResolution: "Bundler",
      lib: ["ES2023"],
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      esModuleInterop: true,
      allowImportingTsExtensions: true,
      resolveJsonModule: true,
      types: ["node"],
      typeRoots: [NBFORGE_TYPES.typeRoot],
      paths: { nbforge: [NBFORGE_TYPES.nbforge] },
    },
    files: [cellPath, PRELUDE_PATH],
  });
}

export class TsgoChecker implements CellChecker {
  private api: API;
  private readonly cellPath: string;
  private readonly config: string;
  private snapshot: Snapshot;
  private readonly stale: Snapshot[] = [];
  private fileText = "export {};\n";
  private cellOffset = this.fileText.length;
  private inspector?: NotebookLanguageService;

  /** Starts tsgo; throws if it cannot run here (the kernel then uses TypeScript 5.9). */
  constructor(private readonly cwd: string, private readonly history: DeclarationHistory) {
    this.cellPath = join(cwd, CELL_FILE);
    this.config = projectConfig(this.cellPath);
    process.env.NBFORGE_TSGO_EXE = tsgoExecutable();
    [this.api, this.snapshot] = this.open();
  }

  private open(): [API, Snapshot] {
    const api = new API({
      cwd: this.cwd,
      tsserverPath: LAUNCHER,
      fs: {
        readFile: (f) => (f === this.cellPath ? this.fileText : f === CONFIG_PATH ? this.config : undefined),
        fileExists: (f) => (f === this.cellPath || f === CONFIG_PATH ? true : undefined),
        directoryExists: (d) => (d === CONFIG_DIR ? true : undefined),
      },
    });
    return [api, api.updateSnapshot({ openProjects: [CONFIG_PATH] })];
  }

  /** Starts tsgo afresh (after it died, say); the notebook's history lives here, not there. */
  restart(): void {
    try {
      this.api.close();
    } catch {
      // It is gone already.
    }
    [this.api, this.snapshot] = this.open();
  }

  private get project(): Project {
    const project = this.snapshot.getProjects()[0];
    if (!project) throw new Error("tsgo opened no project for the notebook");
    return project;
  }

  /** Makes `cell` the file's cell; returns the cell parsed on its own. */
  private setCell(cell: string): ts.SourceFile {
    const { text, offset, parsed } = this.history.compose(cell);
    if (text === this.fileText) return parsed;
    this.fileText = text;
    this.cellOffset = offset;
    // Releasing the old snapshot costs a round trip: it waits for commit(), which
    // the kernel runs after it has answered the cell.
    this.stale.push(this.snapshot);
    this.snapshot = this.api.updateSnapshot({ fileChanges: { changed: [this.cellPath] } });
    return parsed;
  }

  check(cell: string): CellDiagnostic[] {
    const parsed = this.setCell(cell);
    // Syntax errors come from our own parse of the cell, which saves a round trip.
    const syntax = syntaxErrors(cell, parsed);
    if (syntax.length > 0) return syntax;
    return this.project.program
      .getSemanticDiagnostics(this.cellPath)
      .filter((d) => d.pos >= this.cellOffset && d.category === 1 /* Error */)
      .map((d) => cellDiagnostic(cell, d.pos - this.cellOffset, d.code, d.text));
  }

  commit(cell: string): void {
    for (const snapshot of this.stale.splice(0)) snapshot.dispose();
    this.setCell(cell);
    const { checker, program } = this.project;
    // tsgo's own syntax tree lives in its process; ours locates the declarations.
    const file = ts.createSourceFile(this.cellPath, this.fileText, ts.ScriptTarget.ES2022, true);
    // With the file as the enclosing scope, types whose names are not in scope
    // there print as import("...").Name, so a later cell gets the same type.
    const scope = program.getSourceFile(this.cellPath);
    const added = historyEntries(file, this.cellOffset, (name) => {
      const type = checker.getTypeAtPosition(this.cellPath, name.getStart(file));
      return type ? checker.typeToString(type, scope, ts.TypeFormatFlags.NoTruncation) : undefined;
    });
    this.history.record(cell, added);
  }

  complete(cell: string, cursor: number): Completion {
    this.setCell(cell);
    const result = this.project.checker.getCompletionsAtPosition(this.cellPath, this.cellOffset + cursor);
    const { start, prefix } = wordBefore(cell, cursor);
    const matches = (result?.entries ?? [])
      .filter((e) => e.name.toLowerCase().startsWith(prefix.toLowerCase()))
      .sort((a, b) => (a.sortText ?? "").localeCompare(b.sortText ?? "") || a.name.localeCompare(b.name))
      .map((e) => ({ name: e.name, kind: COMPLETION_KINDS[e.kind ?? 0] ?? "unknown" }));
    return { matches, start, end: cursor };
  }

  quickInfo(cell: string, cursor: number): QuickInfo | undefined {
    this.inspector ??= new NotebookLanguageService(this.cwd, this.history);
    return this.inspector.quickInfo(cell, cursor);
  }

  close(): void {
    this.snapshot.dispose();
    this.api.close();
  }
}
