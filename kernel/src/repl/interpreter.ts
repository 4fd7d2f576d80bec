// The interpreter: runs TypeScript cells in one persistent global scope. It knows
// nothing of Jupyter or ZeroMQ; the kernel calls it and turns outcomes into messages.
import vm from "node:vm";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { compileCell, RUNTIME } from "./compile-cell.js";
import { completeness, type Completeness } from "./completeness.js";
import { INTERRUPT_CHECK, INTERRUPT_FLAGS } from "./interrupt-checks.js";
import type { CellChecker, Completion, QuickInfo } from "./cell-checker.js";
import { ResilientChecker } from "./resilient-checker.js";
import { ModuleLoader } from "./module-loader.js";
import { CellSources, reportError, reportTypeErrors, type ErrorReport } from "./traceback.js";

export type Outcome = { status: "ok"; hasValue: boolean; value: unknown } | ({ status: "error" } & ErrorReport);

/** Thrown into a running cell when the user interrupts it. */
export class InterruptError extends Error {
  constructor() {
    super("the cell was interrupted");
    this.name = "Interrupt";
  }
}

/**
 * Slots of the shared interrupt array: the transport thread bumps REQUESTED; the
 * interpreter copies it to HANDLED when it has acted on it, and bumps TICK while
 * its event loop turns (so the transport can tell a blocked thread).
 */
export const INTERRUPT_SLOTS = { REQUESTED: 0, TICK: 1, HANDLED: 2 } as const;

const KERNEL_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const NO_CHECK = /^\s*\/\/\s*@ts-nocheck\b/m;

export interface InterpreterOptions {
  cwd: string;
  /** Shared with the thread that receives interrupt requests; a fresh one if absent. */
  interruptFlags?: Int32Array;
  /**
   * Called as soon as a cell's synchronous start returns, before it awaits anything:
   * Node's break-on-SIGINT watchdog has just given the SIGINT handler back.
   */
  afterSynchronousStart?: () => void;
}

export class Interpreter {
  /** Type-check cells before running them. */
  typeCheck = true;
  readonly interruptFlags: Int32Array;
  private readonly sources = new CellSources();
  private readonly loader: ModuleLoader;
  private checker?: CellChecker;
  private cancelRunning?: (error: Error) => void;
  private pendingCommit?: string;

  constructor(private readonly options: InterpreterOptions) {
    this.interruptFlags = options.interruptFlags ?? new Int32Array(new SharedArrayBuffer(12));
    this.loader = new ModuleLoader(options.cwd);
    const scope = globalThis as Record<string, unknown>;
    scope[RUNTIME.importModule] = (specifier: string) => this.loader.import(specifier);
    scope[INTERRUPT_FLAGS] = this.interruptFlags;
    scope[INTERRUPT_CHECK] = () => this.throwIfInterrupted();
  }

  private get service(): CellChecker {
    this.checker ??= new ResilientChecker(this.options.cwd);
    return this.checker;
  }

  /** Stops the checker's process, if it has one. */
  close(): void {
    this.checker?.close?.();
  }

  /** Loads the type checker ahead of the first cell (it takes about half a second). */
  warmUp(): void {
    this.service.check("");
  }

  /**
   * Compiles a few synthetic cells so that V8 optimizes TypeScript's transpiler
   * (our cell compiler) before the user's first cells: cold, it takes several
   * times as long. Cheap enough to run while the kernel waits for its first request.
   */
  warmUpCompiler(step: number): void {
    const samples = [
      `const w${step}: number = ${step}; w${step} * 2`,
      `import { join } from "node:path";\nfunction f${step}(x: number): string { return join("a", String(x)) }\nf${step}(1)`,
      `class C${step} { n = ${step}; get twice() { return this.n * 2 } }\nfor (let i = 0; i < 2; i++) new C${step}().twice`,
      `interface P { a: number }\nconst { a } = { a: ${step} } as P;\nawait Promise.resolve(a)`,
    ];
    compileCell(samples[step % samples.length], "Cell[warm-up]");
  }

  private throwIfInterrupted(): void {
    const flags = this.interruptFlags;
    const requested = Atomics.load(flags, INTERRUPT_SLOTS.REQUESTED);
    if (requested !== Atomics.load(flags, INTERRUPT_SLOTS.HANDLED)) {
      Atomics.store(flags, INTERRUPT_SLOTS.HANDLED, requested);
      throw new InterruptError();
    }
  }

  /** Stops the running cell even while it awaits something that never settles. */
  interrupt(): void {
    const requested = Atomics.load(this.interruptFlags, INTERRUPT_SLOTS.REQUESTED);
    Atomics.store(this.interruptFlags, INTERRUPT_SLOTS.HANDLED, requested);
    this.cancelRunning?.(new InterruptError());
  }

  get running(): boolean {
    return this.cancelRunning !== undefined;
  }

  /**
   * Records the last cell's declarations for the type checker. The kernel calls
   * this after it has answered the cell, off the user's wait; anything that needs
   * the checker calls it first.
   */
  commitPending(): void {
    const code = this.pendingCommit;
    this.pendingCommit = undefined;
    if (code !== undefined) this.service.commit(code);
  }

  async execute(code: string, fileName: string): Promise<Outcome> {
    this.commitPending();
    const checked = this.typeCheck && !NO_CHECK.test(code);
    if (checked) {
      const diagnostics = this.service.check(code);
      if (diagnostics.length > 0) return { status: "error", ...reportTypeErrors(fileName, diagnostics) };
    }
    const compiled = compileCell(code, fileName);
    this.sources.add(fileName, compiled.sourceMap, compiled.script, compiled.firstLineShift, code);
    const scope = globalThis as Record<string, unknown>;
    for (const name of compiled.declaredNames) if (!(name in scope)) scope[name] = undefined;

    // Interrupts requested before this cell started are not for it.
    Atomics.store(this.interruptFlags, INTERRUPT_SLOTS.HANDLED, Atomics.load(this.interruptFlags, INTERRUPT_SLOTS.REQUESTED));
    const cancelled = new Promise<never>((_, reject) => (this.cancelRunning = reject));
    try {
      let completion: Promise<unknown>;
      try {
        completion = vm.runInThisContext(compiled.script, { filename: fileName, breakOnSigint: true }) as Promise<unknown>;
      } finally {
        this.options.afterSynchronousStart?.();
      }
      const value = await Promise.race([completion, cancelled]);
      return { status: "ok", hasValue: compiled.hasResult && value !== undefined, value };
    } catch (error) {
      const reported = isSigintError(error) ? new InterruptError() : error;
      return { status: "error", ...reportError(reported, this.sources, KERNEL_ROOT) };
    } finally {
      this.cancelRunning = undefined;
      // Later cells are checked against what this one declared, even if it failed midway.
      if (checked) this.pendingCommit = code;
    }
  }

  /** Evaluates a JavaScript expression in the global scope (user_expressions). */
  evaluate(expression: string): unknown {
    return vm.runInThisContext(expression, { filename: "user_expression" });
  }

  complete(code: string, cursor: number): Completion {
    this.commitPending();
    return this.service.complete(code, cursor);
  }

  inspect(code: string, cursor: number): QuickInfo | undefined {
    this.commitPending();
    return this.service.quickInfo(code, cursor);
  }

  isComplete(code: string): Completeness {
    return completeness(code);
  }
}

function isSigintError(error: unknown): boolean {
  return error instanceof Error && /interrupted by `SIGINT`/.test(error.message);
}
