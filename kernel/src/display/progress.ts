// progress(iterable | total): a progress bar for long loops. In JupyterLab it is
// an HTML bar updated in place through a display handle (with a text/plain form
// for other front ends); in a plain Node script it is a text bar on stderr.
// Both report the rate and the time left, and redraw at a throttled rate so that
// a fast loop spends its time looping, not drawing.
import { performance } from "node:perf_hooks";
import { display, hasDisplaySink, DISPLAY_PROTOCOL, type DisplayHandle, type MimeBundle } from "./display.js";
import { htmlBar, textBar, type ProgressState } from "./progress-format.js";
import { Throttle } from "./throttle.js";

export interface ProgressOptions {
  label?: string;
  /** Total count when the iterable does not tell (no length or size). */
  total?: number;
  /** Least time between redraws; default 100 ms in a notebook, 200 ms on a terminal. */
  minIntervalMs?: number;
  /** Where the text bar goes outside a notebook (default process.stderr). */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
}

export type Postfix = string | { [name: string]: number | string };

/** Weight of the newest rate measurement in the smoothed rate (tqdm's default). */
const RATE_SMOOTHING = 0.3;

function formatPostfix(postfix: Postfix | undefined): string | undefined {
  if (postfix === undefined) return undefined;
  if (typeof postfix === "string") return postfix;
  return Object.entries(postfix)
    .map(([k, v]) => `${k}=${typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toPrecision(4)) : v}`)
    .join(", ");
}

function knownLength(source: unknown): number | undefined {
  if (source === null || typeof source !== "object") return undefined;
  const s = source as { length?: unknown; size?: unknown };
  if (typeof s.length === "number") return s.length;
  if (typeof s.size === "number") return s.size;
  return undefined;
}

export class Progress<T = number> implements Iterable<T>, AsyncIterable<T> {
  n = 0;
  readonly total: number | undefined;
  readonly label: string | undefined;
  private readonly start = performance.now();
  private rate: number | undefined;
  private rateMark = { t: this.start, n: 0 };
  private postfix: string | undefined;
  private closed = false;
  private readonly throttle: Throttle;
  private readonly handle: DisplayHandle | undefined;
  private readonly stream: ProgressOptions["stream"];
  private trailing: NodeJS.Timeout | undefined;
  private readonly interval: number;
  private lastTextLength = 0;

  constructor(private readonly source: Iterable<T> | AsyncIterable<T> | undefined, total: number | undefined, options: ProgressOptions = {}) {
    if (total !== undefined && !(Number.isFinite(total) && total >= 0)) {
      throw new RangeError(`progress(): total must be a finite number >= 0, got ${total}`);
    }
    this.total = total;
    this.label = options.label;
    const rich = hasDisplaySink();
    this.stream = options.stream ?? process.stderr;
    // A pipe or a log file gets a new line per redraw, so redraw it far less often.
    this.interval = options.minIntervalMs ?? (rich ? 100 : this.stream.isTTY ? 200 : 5000);
    this.throttle = new Throttle(this.interval);
    if (rich) this.handle = display(this, { id: true });
    else this.throttle.touch(); // the terminal bar appears after the first interval, not for instant loops
  }

  /** The bar's state now. */
  state(): ProgressState {
    return {
      label: this.label,
      n: this.n,
      total: this.total,
      elapsed: (performance.now() - this.start) / 1000,
      rate: this.rate,
      postfix: this.postfix,
      done: this.closed,
    };
  }

  [DISPLAY_PROTOCOL](): MimeBundle {
    const state = this.state();
    return { "text/html": htmlBar(state), "text/plain": textBar(state) };
  }

  /** Counts `n` more items (default 1) and optionally sets the postfix (e.g. `{ loss }`). */
  update(n = 1, postfix?: Postfix): void {
    if (!Number.isFinite(n)) throw new RangeError(`progress.update(n): n must be a finite number, got ${n}`);
    this.n += n;
    if (postfix !== undefined) this.postfix = formatPostfix(postfix);
    if (this.closed) return;
    if (this.throttle.ready()) this.redraw();
    else this.scheduleTrailing();
  }

  /** Sets the postfix shown after the rate, without counting. */
  setPostfix(postfix: Postfix): void {
    this.update(0, postfix);
  }

  /** Draws the final state; later updates only count. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.trailing) clearTimeout(this.trailing);
    this.measureRate(true);
    if (this.handle) this.handle.update(this);
    else this.writeText(true);
  }

  *[Symbol.iterator](): Iterator<T> {
    const source = this.source ?? (range(this.total ?? 0) as unknown as Iterable<T>);
    if (!(Symbol.iterator in source)) throw new TypeError("progress(): this source is async; iterate it with `for await`");
    try {
      for (const item of source as Iterable<T>) {
        yield item;
        this.update();
      }
    } finally {
      this.close();
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    const source = this.source ?? (range(this.total ?? 0) as unknown as Iterable<T>);
    try {
      for await (const item of source) {
        yield item;
        this.update();
      }
    } finally {
      this.close();
    }
  }

  private measureRate(final = false): void {
    const t = performance.now();
    const dt = (t - this.rateMark.t) / 1000;
    if (dt <= 0) return;
    const instant = (this.n - this.rateMark.n) / dt;
    if (final && this.rate !== undefined && dt < 0.05) return; // too short a stretch to say anything new
    this.rate = this.rate === undefined ? instant : RATE_SMOOTHING * instant + (1 - RATE_SMOOTHING) * this.rate;
    this.rateMark = { t, n: this.n };
  }

  private redraw(): void {
    if (this.trailing) {
      clearTimeout(this.trailing);
      this.trailing = undefined;
    }
    this.measureRate();
    if (this.handle) this.handle.update(this);
    else this.writeText(false);
  }

  /** When the loop yields, the last count shows without waiting for another update. */
  private scheduleTrailing(): void {
    if (this.trailing) return;
    this.trailing = setTimeout(() => {
      this.trailing = undefined;
      if (!this.closed) {
        this.throttle.touch();
        this.redraw();
      }
    }, Math.max(this.interval, 50));
    this.trailing.unref();
  }

  private writeText(final: boolean): void {
    const line = textBar(this.state());
    if (this.stream?.isTTY) {
      // Redraw in place; pad over a longer previous line.
      this.stream.write(`\r${line.padEnd(this.lastTextLength)}${final ? "\n" : ""}`);
    } else {
      this.stream?.write(`${line}\n`);
    }
    this.lastTextLength = line.length;
  }
}

function* range(n: number): Iterable<number> {
  for (let i = 0; i < n; i++) yield i;
}

/**
 * A progress bar over an iterable (counting each item) or over 0..total-1:
 *
 *     for (const batch of progress(loader, { label: "epoch 1" })) { ... }
 *     const bar = progress(1000); bar.update(10, { loss }); bar.close();
 */
export function progress(total: number, options?: ProgressOptions): Progress<number>;
export function progress<T>(iterable: Iterable<T> | AsyncIterable<T>, options?: ProgressOptions): Progress<T>;
export function progress<T>(source: number | Iterable<T> | AsyncIterable<T>, options: ProgressOptions = {}): Progress<T> | Progress<number> {
  if (typeof source === "number") return new Progress<number>(undefined, source, options);
  if (source === null || typeof source !== "object" || !(Symbol.iterator in source || Symbol.asyncIterator in source)) {
    throw new TypeError(`progress(): expected an iterable or a total count, got ${source === null ? "null" : typeof source}`);
  }
  return new Progress<T>(source, options.total ?? knownLength(source), options);
}
