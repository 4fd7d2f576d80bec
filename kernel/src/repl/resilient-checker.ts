// Picks the cell checker and keeps one working: the native checker (tsgo) where
// it starts, restarted once if its process dies, and TypeScript 5.9 in process
// from then on. The declarations of earlier cells live in this process, so no
// switch loses them. NBFORGE_CHECKER=tsc picks TypeScript 5.9 from the start.
import { DeclarationHistory, type CellChecker, type CellDiagnostic, type Completion, type QuickInfo } from "./cell-checker.js";
import { NotebookLanguageService } from "./language-service.js";
import { TsgoChecker } from "./tsgo-checker.js";

export class ResilientChecker implements CellChecker {
  private readonly history = new DeclarationHistory();
  private checker: CellChecker;
  private restarted = false;

  constructor(private readonly cwd: string) {
    this.checker = this.first();
  }

  private first(): CellChecker {
    if (process.env.NBFORGE_CHECKER !== "tsc") {
      try {
        return new TsgoChecker(this.cwd, this.history);
      } catch (e) {
        this.warn(`the native type checker did not start (${(e as Error).message})`);
      }
    }
    return new NotebookLanguageService(this.cwd, this.history);
  }

  private warn(why: string): void {
    process.emitWarning(`nbforge: ${why}; type checking goes on with TypeScript 5.9`);
  }

  private run<T>(call: (checker: CellChecker) => T): T {
    try {
      return call(this.checker);
    } catch (e) {
      if (!(this.checker instanceof TsgoChecker)) throw e;
      if (!this.restarted) {
        this.restarted = true;
        try {
          this.checker.restart();
          return call(this.checker);
        } catch {
          // Fall through to TypeScript 5.9.
        }
      }
      this.warn(`the native type checker failed (${(e as Error).message})`);
      this.checker = new NotebookLanguageService(this.cwd, this.history);
      return call(this.checker);
    }
  }

  check(cell: string): CellDiagnostic[] {
    return this.run((c) => c.check(cell));
  }

  commit(cell: string): void {
    this.run((c) => c.commit(cell));
  }

  complete(cell: string, cursor: number): Completion {
    return this.run((c) => c.complete(cell, cursor));
  }

  quickInfo(cell: string, cursor: number): QuickInfo | undefined {
    return this.run((c) => c.quickInfo(cell, cursor));
  }

  close(): void {
    this.checker.close?.();
  }
}
