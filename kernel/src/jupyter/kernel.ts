// The kernel's executing thread: starts the transport thread, runs requests one
// at a time through the interpreter, and turns what happens into Jupyter
// messages. ZeroMQ lives in the transport thread; TypeScript in the interpreter.
import { Worker } from "node:worker_threads";
import { readFileSync, writeSync } from "node:fs";
import { randomUUID } from "node:crypto";
import type { BridgedRequest, ToExecutor, ToTransport, TransportConfig } from "./bridge.js";
import { codePoints, cursorOffset } from "./cursor.js";
import { kernelInfo } from "./kernel-info.js";
import { CommManager, type CommData } from "./comm.js";
import { HistoryStore, type HistoryQuery } from "./history.js";
import { OutputCapture, type StreamName } from "./output-capture.js";
import type { ConnectionInfo, JsonObject, MessageHeader } from "./wire.js";
import { clearOutput, display, DisplayHandle, mimeBundleOf, setDisplaySink, textOf, type MimeBundle } from "../display/display.js";
import { INTERRUPT_SLOTS, type Interpreter } from "../repl/interpreter.js";

function log(text: string): void {
  writeSync(2, `[nbforge] ${text}\n`);
}

/** Synthetic cells compiled at start, while the kernel waits for its first request. */
const COMPILER_WARM_UP_STEPS = 400;

/** process.exit kept for the kernel itself; cells get a version that refuses. */
const exitProcess = process.exit.bind(process);

export class Kernel {
  private readonly worker: Worker;
  private readonly interruptFlags = new Int32Array(new SharedArrayBuffer(12));
  private readonly queue: { request: BridgedRequest; aborted: boolean }[] = [];
  private processing = false;
  private executionCount = 0;
  private interpreter?: Interpreter;
  private readonly history = new HistoryStore();
  private readonly output = new OutputCapture((name, text) => this.stream(name, text));
  /** Comm messages answer the request being handled (a comm_msg), else the last execute. */
  readonly comms = new CommManager((type, content, metadata) =>
    this.postNow({ kind: "publish", parent: this.handling?.header ?? this.outputParent, msgType: type, content, metadata }),
  );
  private handling?: BridgedRequest;
  /** Outputs go to the request that runs now, or after it ends, to the last execute (timers, promises). */
  private outputParent: Partial<MessageHeader> = {};
  private silent = false;
  private allowStdin = false;
  private stopOnErrorPending = false;
  private flushToken = 0;
  private readonly inputWaiters = new Map<string, { resolve: (v: string) => void; reject: (e: Error) => void }>();

  constructor(connection: ConnectionInfo, private readonly cwd: string) {
    const config: TransportConfig = {
      connection,
      kernelInfo: kernelInfo(),
      interruptFlags: this.interruptFlags,
      session: randomUUID(),
    };
    this.worker = new Worker(new URL("./transport.js", import.meta.url), { workerData: config });
    this.worker.on("message", (m: ToExecutor) => this.fromTransport(m));
    this.worker.on("error", (e) => {
      log(`transport thread failed: ${e.stack ?? String(e)}`);
      exitProcess(1);
    });
    this.worker.on("exit", (code) => exitProcess(code));
  }

  /** Loads the interpreter (and TypeScript) after the sockets are up, so kernel_info answers at once. */
  async start(): Promise<void> {
    const { Interpreter } = await import("../repl/interpreter.js");
    this.interpreter = new Interpreter({
      cwd: this.cwd,
      interruptFlags: this.interruptFlags,
      afterSynchronousStart: () => this.sigint?.rearmSigint(),
    });
    this.installGlobals();
    this.output.install();
    // Let the transport tell a blocked event loop from a busy one.
    setInterval(() => Atomics.add(this.interruptFlags, INTERRUPT_SLOTS.TICK, 1), 20).unref();
    process.on("SIGINT", () => this.interpreter?.interrupt());
    await this.countSigintsInFlags();
    process.on("uncaughtException", (e) => this.reportBackgroundError(e));
    process.on("unhandledRejection", (e) => this.reportBackgroundError(e));
    setImmediate(() => {
      this.interpreter?.warmUp();
      void this.drain();
      this.warmUpUntilFirstRequest();
    });
  }

  /** Warms the cell compiler in short steps until the first request arrives. */
  private warmUpUntilFirstRequest(step = 0): void {
    if (step >= COMPILER_WARM_UP_STEPS || this.executionCount > 0 || this.processing || this.queue.length > 0) return;
    for (let i = 0; i < 10; i++) this.interpreter?.warmUpCompiler(step + i);
    setImmediate(() => this.warmUpUntilFirstRequest(step + 10));
  }

  /**
   * A JavaScript SIGINT handler cannot run while a cell blocks the thread, so a
   * native one also counts signals into the flags that every loop in a cell checks.
   * Without the addon, SIGINT still stops a cell's first synchronous stretch.
   */
  private sigint?: { rearmSigint(): boolean };

  private async countSigintsInFlags(): Promise<void> {
    try {
      const { addon } = await import("@nbforge/native");
      const native = addon as unknown as {
        countSigintsInto(flags: Int32Array, slot: number): void;
        rearmSigint(): boolean;
      };
      native.countSigintsInto(this.interruptFlags, INTERRUPT_SLOTS.REQUESTED);
      this.sigint = native;
    } catch (e) {
      log(`SIGINT will not stop loops that run after an await: ${(e as Error).message}`);
    }
  }

  private installGlobals(): void {
    setDisplaySink({
      display: (bundle, metadata, displayId, update) => this.display(bundle, metadata, displayId, update),
      clearOutput: (wait) => {
        if (this.silent) return;
        this.output.flush(); // what was printed before the clear must arrive before it
        this.postNow({ kind: "publish", parent: this.outputParent, msgType: "clear_output", content: { wait } });
      },
    });
    const interpreter = this.interpreter!;
    const settings = {
      get typeCheck() {
        return interpreter.typeCheck;
      },
      set typeCheck(on: boolean) {
        interpreter.typeCheck = on;
      },
      comm: this.comms,
    };
    if (process.env.NBFORGE_TYPECHECK === "0") interpreter.typeCheck = false;
    Object.assign(globalThis, { display, clearOutput, input: this.input, kernel: settings });
    process.exit = ((code?: number) => {
      throw new Error(
        `process.exit(${code ?? ""}) would end the kernel and lose every variable; restart the kernel from the front end instead`,
      );
    }) as typeof process.exit;
  }

  /** `await input("name")`: asks the front end for a line over stdin. */
  private readonly input = (prompt = "", options: { password?: boolean } = {}): Promise<string> => {
    const parent = this.outputParent;
    if (!this.allowStdin || !parent.msg_id) {
      return Promise.reject(new Error("input(): this front end does not accept input (allow_stdin is false)"));
    }
    this.output.flush();
    const requestId = randomUUID();
    this.postNow({ kind: "input_request", requestId, parent: parent as MessageHeader, prompt, password: options.password === true });
    return new Promise((resolve, reject) => this.inputWaiters.set(requestId, { resolve, reject }));
  };

  private fromTransport(message: ToExecutor): void {
    switch (message.kind) {
      case "ready":
        return;
      case "request":
        this.queue.push({ request: message.request, aborted: this.stopOnErrorPending });
        void this.drain();
        return;
      case "interrupt":
        this.interpreter?.interrupt();
        for (const waiter of this.inputWaiters.values()) waiter.reject(new Error("input(): interrupted"));
        this.inputWaiters.clear();
        return;
      case "input_reply": {
        this.inputWaiters.get(message.requestId)?.resolve(message.value);
        this.inputWaiters.delete(message.requestId);
        return;
      }
      case "flushed":
        // Every execute that arrived before the error's reply has now been queued (and aborted).
        if (message.token === this.flushToken) this.stopOnErrorPending = false;
        return;
      case "shutdown":
        this.output.flush();
        this.interpreter?.close();
        setTimeout(() => exitProcess(0), 20);
        return;
    }
  }

  /**
   * Messages for the transport are sent in batches: a cell's status, input echo,
   * result and reply go over in two thread hops instead of five. Output that a
   * cell makes while it runs goes at once (postNow), after whatever is queued.
   */
  private outbox: ToTransport[] = [];

  private post(message: ToTransport): void {
    if (this.outbox.length === 0) queueMicrotask(() => this.flushOutbox());
    this.outbox.push(message);
  }

  private postNow(message: ToTransport): void {
    this.flushOutbox();
    this.worker.postMessage(message);
  }

  private flushOutbox(): void {
    if (this.outbox.length === 0) return;
    const messages = this.outbox;
    this.outbox = [];
    this.worker.postMessage(messages.length === 1 ? messages[0] : ({ kind: "batch", messages } satisfies ToTransport));
  }

  private publish(parent: Partial<MessageHeader>, msgType: string, content: JsonObject, metadata: JsonObject = {}): void {
    this.post({ kind: "publish", parent, msgType, content, metadata });
  }

  private reply(request: BridgedRequest, msgType: string, content: JsonObject): void {
    this.post({ kind: "reply", channel: request.channel, parent: request.header, msgType, content });
  }

  private stream(name: StreamName, text: string): void {
    if (this.silent) return;
    this.postNow({ kind: "publish", parent: this.outputParent, msgType: "stream", content: { name, text } });
  }

  private display(bundle: MimeBundle, metadata: JsonObject, displayId: string | undefined, update: boolean): void {
    if (this.silent) return;
    this.output.flush();
    const content: JsonObject = { data: bundle, metadata, transient: displayId ? { display_id: displayId } : {} };
    this.postNow({ kind: "publish", parent: this.outputParent, msgType: update ? "update_display_data" : "display_data", content });
  }

  private reportBackgroundError(error: unknown): void {
    // An error from a timer or a forgotten promise after its cell ended: report it, keep the kernel.
    const text = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : textOf(error);
    this.output.write("stderr", `Uncaught error after the cell finished:\n${text}\n`);
  }

  private async drain(): Promise<void> {
    if (this.processing || !this.interpreter) return;
    this.processing = true;
    try {
      for (let next = this.queue.shift(); next; next = this.queue.shift()) {
        await this.handle(next.request, next.aborted);
        // The reply is out; now let the checker record what the cell declared.
        this.flushOutbox();
        try {
          this.interpreter.commitPending();
        } catch (e) {
          log(`type checker could not record the last cell: ${(e as Error).stack ?? String(e)}`);
        }
      }
    } finally {
      this.processing = false;
    }
  }

  private async handle(request: BridgedRequest, aborted: boolean): Promise<void> {
    const type = request.header.msg_type;
    this.handling = request;
    this.publish(request.header, "status", { execution_state: "busy" });
    try {
      if (type === "execute_request") {
        if (aborted || this.stopOnErrorPending) this.reply(request, "execute_reply", { status: "aborted", execution_count: this.executionCount });
        else await this.execute(request);
      } else {
        const content = this.answer(request);
        if (content) this.reply(request, type.replace(/_request$/, "_reply"), content);
      }
    } catch (e) {
      log(`${type} failed: ${(e as Error).stack ?? String(e)}`);
      const reply = { status: "error", ename: (e as Error).name ?? "Error", evalue: (e as Error).message ?? String(e), traceback: [] };
      this.reply(request, type.replace(/_request$/, "_reply"), reply);
    } finally {
      this.handling = undefined;
      this.output.flush();
      this.publish(request.header, "status", { execution_state: "idle" });
    }
  }

  private async execute(request: BridgedRequest): Promise<void> {
    const c = request.content;
    const code = typeof c.code === "string" ? c.code : "";
    const silent = c.silent === true;
    const storeHistory = silent ? false : c.store_history !== false;
    const stopOnError = c.stop_on_error !== false;
    if (storeHistory) this.executionCount++;
    const count = this.executionCount;
    if (!silent) this.publish(request.header, "execute_input", { code, execution_count: count });

    this.outputParent = request.header;
    this.silent = silent;
    this.allowStdin = c.allow_stdin === true;
    this.flushOutbox(); // busy and execute_input go out before the cell can block the thread
    const fileName = storeHistory ? `Cell[${count}]` : `Cell[-]`;
    const outcome = await this.interpreter!.execute(code, fileName);
    this.output.flush();
    this.silent = false;

    if (outcome.status === "ok") {
      let resultText: string | undefined;
      // A cell ending in display(...) has shown its output already; its handle is no result.
      if (outcome.hasValue && !silent && !(outcome.value instanceof DisplayHandle)) {
        const data = mimeBundleOf(outcome.value);
        resultText = String(data["text/plain"]);
        this.publish(request.header, "execute_result", { execution_count: count, data, metadata: {} });
      }
      if (storeHistory) this.history.add(count, code, resultText);
      const userExpressions = this.evaluateUserExpressions(c.user_expressions);
      this.reply(request, "execute_reply", { status: "ok", execution_count: count, user_expressions: userExpressions, payload: [] });
      return;
    }
    if (storeHistory) this.history.add(count, code);
    const error = { ename: outcome.ename, evalue: outcome.evalue, traceback: outcome.traceback };
    if (!silent) this.publish(request.header, "error", error);
    this.reply(request, "execute_reply", { status: "error", execution_count: count, ...error, user_expressions: {}, payload: [] });
    if (stopOnError) this.abortQueuedExecutes();
  }

  /** After an error, executes already sent by the front end are answered "aborted". */
  private abortQueuedExecutes(): void {
    for (const item of this.queue) item.aborted = true;
    this.stopOnErrorPending = true;
    this.post({ kind: "flush", token: ++this.flushToken });
  }

  private evaluateUserExpressions(expressions: unknown): JsonObject {
    const out: JsonObject = {};
    if (expressions === null || typeof expressions !== "object") return out;
    for (const [name, expression] of Object.entries(expressions as Record<string, unknown>)) {
      try {
        out[name] = { status: "ok", data: mimeBundleOf(this.interpreter!.evaluate(String(expression))), metadata: {} };
      } catch (e) {
        const err = e instanceof Error ? e : new Error(String(e));
        out[name] = { status: "error", ename: err.name, evalue: err.message, traceback: [] };
      }
    }
    return out;
  }

  /** Requests other than execute: answered from the interpreter, comms and history. */
  private answer(request: BridgedRequest): JsonObject | undefined {
    const c = request.content;
    const interpreter = this.interpreter!;
    switch (request.header.msg_type) {
      case "complete_request": {
        const code = String(c.code ?? "");
        const cursor = cursorOffset(code, c.cursor_pos);
        const result = interpreter.complete(code, cursor);
        const [start, end] = [codePoints(code, result.start), codePoints(code, result.end)];
        return {
          status: "ok",
          matches: result.matches.map((m) => m.name),
          cursor_start: start,
          cursor_end: end,
          metadata: {
            _jupyter_types_experimental: result.matches.map((m) => ({ start, end, text: m.name, type: m.kind })),
          },
        };
      }
      case "inspect_request": {
        const code = String(c.code ?? "");
        const cursor = cursorOffset(code, c.cursor_pos);
        const info = interpreter.inspect(code, cursor);
        if (!info) return { status: "ok", found: false, data: {}, metadata: {} };
        const doc = [info.documentation, ...info.tags].filter((s) => s !== "").join("\n\n");
        return {
          status: "ok",
          found: true,
          data: {
            "text/plain": doc ? `${info.signature}\n\n${doc}` : info.signature,
            "text/markdown": `\`\`\`typescript\n${info.signature}\n\`\`\`\n\n${doc}`,
          },
          metadata: {},
        };
      }
      case "is_complete_request":
        return { ...interpreter.isComplete(String(c.code ?? "")) };
      case "history_request":
        return { status: "ok", history: this.history.query(c as HistoryQuery) };
      case "comm_info_request":
        return { status: "ok", comms: this.comms.list(typeof c.target_name === "string" ? c.target_name : undefined) };
      case "comm_open":
        this.comms.opened(String(c.comm_id), String(c.target_name), (c.data ?? {}) as CommData);
        return undefined;
      case "comm_msg":
        this.comms.message(String(c.comm_id), (c.data ?? {}) as CommData);
        return undefined;
      case "comm_close":
        this.comms.closed(String(c.comm_id), (c.data ?? {}) as CommData);
        return undefined;
      default:
        log(`unsupported request ${request.header.msg_type} on ${request.channel}`);
        return { status: "error", ename: "NotImplemented", evalue: `${request.header.msg_type} is not supported`, traceback: [] };
    }
  }
}

export async function runKernel(connectionFile: string): Promise<void> {
  let connection: ConnectionInfo;
  try {
    connection = JSON.parse(readFileSync(connectionFile, "utf8")) as ConnectionInfo;
  } catch (e) {
    throw new Error(`connection file ${connectionFile}: ${(e as Error).message}; pass the file Jupyter wrote with --connection-file`);
  }
  const kernel = new Kernel(connection, process.cwd());
  await kernel.start();
}
