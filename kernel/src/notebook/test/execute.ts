// Running a notebook's code cells through a kernel for the regression test:
// every cell runs (an unexpected error fails that cell, not the rest), a cell
// that exceeds its time is interrupted and failed, and a kernel that dies ends
// the notebook with a clear error.
import { performance } from "node:perf_hooks";
import { KernelClient, KernelGoneError, KernelTimeoutError, within, type ClientLaunchOptions } from "../client.js";
import { DisplayIds, OutputArea, type CodeCell, type ErrorOutput, type Output } from "../nbformat.js";

export type ExecutionStatus = "ok" | "error" | "timeout";

export interface CellExecution {
  status: ExecutionStatus;
  outputs: Output[];
  executionCount: number | null;
  durationMs: number;
  /** The first error shown (or the error reply), when the cell raised. */
  error?: { ename: string; evalue: string };
}

/** The kernel ended or stopped answering; the notebook cannot go on. */
export class KernelFailure extends Error {}

/** Seconds a timed-out cell gets to answer its interrupt. */
const INTERRUPT_GRACE_MS = 5_000;

/** A kernel session for one notebook: display ids are shared across its cells, as in a front end. */
export class NotebookSession {
  private readonly displays = new DisplayIds();

  private constructor(readonly client: KernelClient) {}

  static async start(options: ClientLaunchOptions): Promise<NotebookSession> {
    return new NotebookSession(await KernelClient.launch(options));
  }

  /** Runs one cell; throws KernelFailure when the kernel died or ignored an interrupt. */
  async run(cell: CodeCell, options: { timeoutMs?: number } = {}): Promise<CellExecution> {
    const outputs: Output[] = [];
    const area = new OutputArea(outputs, this.displays);
    let executionCount: number | null = null;
    const started = performance.now();
    let sent = false;
    const execution = this.client.execute(cell.source, {
      stopOnError: false,
      allowStdin: false,
      onSent: () => (sent = true),
      onIopub: (msg) => {
        area.handle(msg);
        if (msg.header.msg_type === "execute_input" && typeof msg.content.execution_count === "number") {
          executionCount = msg.content.execution_count;
        }
      },
    });
    execution.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const deadline =
      options.timeoutMs === undefined
        ? new Promise<never>(() => undefined)
        : new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), options.timeoutMs)));
    let replyError: { ename: string; evalue: string } | undefined;
    try {
      const done = await Promise.race([execution, deadline]);
      if (done === "timeout") {
        if (!sent) throw new KernelFailure(`the kernel did not accept the cell within ${options.timeoutMs} ms`);
        await this.client.interrupt(INTERRUPT_GRACE_MS).catch(() => undefined);
        const settled = await within(
          execution.then(
            () => true,
            () => false,
          ),
          INTERRUPT_GRACE_MS,
          false,
        );
        if (!settled) {
          throw new KernelFailure(`the cell ran longer than ${options.timeoutMs} ms and the kernel did not answer the interrupt`);
        }
        return { status: "timeout", outputs, executionCount, durationMs: performance.now() - started };
      }
      const { reply } = done;
      executionCount = reply.content.execution_count ?? executionCount;
      if (reply.content.status !== "ok") {
        replyError = { ename: reply.content.ename ?? reply.content.status, evalue: reply.content.evalue ?? "" };
      }
    } catch (e) {
      if (e instanceof KernelFailure) throw e;
      if (e instanceof KernelGoneError || e instanceof KernelTimeoutError) throw new KernelFailure(e.message);
      throw e;
    } finally {
      clearTimeout(timer);
    }
    const shown = outputs.find((o): o is ErrorOutput => o.output_type === "error");
    const error = shown ? { ename: shown.ename, evalue: shown.evalue } : replyError;
    return {
      status: error ? "error" : "ok",
      outputs,
      executionCount,
      durationMs: performance.now() - started,
      ...(error ? { error } : {}),
    };
  }

  async close(): Promise<void> {
    await this.client.shutdown({ timeoutMs: 2_000 }).catch(() => undefined);
    await this.client.close();
  }
}
