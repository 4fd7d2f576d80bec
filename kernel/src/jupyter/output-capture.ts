// Captures what a cell writes to stdout and stderr (console.* included) and sends
// it as stream messages. Writes are batched, but a batch never waits long: a cell
// that prints inside a loop that never yields still streams, because the batch is
// sent from inside write() once it is old or large enough.
const MAX_DELAY_MS = 20;
const MAX_BATCH_CHARS = 64 * 1024;

export type StreamName = "stdout" | "stderr";

export class OutputCapture {
  private readonly buffers: Record<StreamName, string> = { stdout: "", stderr: "" };
  private firstWriteAt = 0;
  private flushScheduled = false;
  private readonly originals = new Map<StreamName, typeof process.stdout.write>();

  constructor(private readonly send: (name: StreamName, text: string) => void) {}

  install(): void {
    for (const name of ["stdout", "stderr"] as const) {
      const stream = process[name];
      this.originals.set(name, stream.write.bind(stream));
      stream.write = ((chunk: unknown, encoding?: unknown, callback?: unknown) => {
        const text = typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString(typeof encoding === "string" ? (encoding as BufferEncoding) : "utf8");
        this.write(name, text);
        const done = typeof encoding === "function" ? encoding : callback;
        if (typeof done === "function") queueMicrotask(() => (done as () => void)());
        return true;
      }) as typeof stream.write;
    }
  }

  write(name: StreamName, text: string): void {
    if (text === "") return;
    const other: StreamName = name === "stdout" ? "stderr" : "stdout";
    // Keep the order of interleaved stdout and stderr writes.
    if (this.buffers[other] !== "") this.flushStream(other);
    if (this.buffers[name] === "") this.firstWriteAt = Date.now();
    this.buffers[name] += text;
    if (this.buffers[name].length >= MAX_BATCH_CHARS || Date.now() - this.firstWriteAt >= MAX_DELAY_MS) {
      this.flush();
    } else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setTimeout(() => this.flush(), MAX_DELAY_MS).unref();
    }
  }

  flush(): void {
    this.flushScheduled = false;
    this.flushStream("stdout");
    this.flushStream("stderr");
  }

  private flushStream(name: StreamName): void {
    const text = this.buffers[name];
    if (text === "") return;
    this.buffers[name] = "";
    this.send(name, text);
  }
}
