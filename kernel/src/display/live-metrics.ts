// liveMetrics({ title }): training curves that grow while a cell trains.
//
// In the kernel the chart is one display with an id. New points stream over the
// "nbforge.live" comm (throttled to about the display rate), and at a slower
// throttled interval, and when the run ends, the display is replaced with the
// full state through update_display_data, so a saved notebook, a reloaded page or
// a front end without the extension shows the latest curves. In a plain Node
// script a line of the latest values goes to stderr now and then and the summary
// goes to stdout at the end.
import { performance } from "node:perf_hooks";
import { randomUUID } from "node:crypto";
import { display, hasDisplaySink, DISPLAY_PROTOCOL, type DisplayHandle, type MimeBundle } from "./display.js";
import { openLiveChannel, type LiveChannel, type LiveMessage } from "./live-channel.js";
import { metricsBundle } from "./plot-metrics.js";
import { LIVE_COMM_TARGET, type MetricsData, type MetricsSeries, type MetricsXAxis, type RunStatus } from "./plot-types.js";
import { Throttle } from "./throttle.js";

export interface LiveMetricsOptions {
  title?: string;
  xAxis?: MetricsXAxis;
  logY?: string[];
  smoothing?: number;
  /** Least time between comm messages of appended points (default 100 ms). */
  streamIntervalMs?: number;
  /** Least time between full-state display updates (default 2000 ms). */
  fullUpdateIntervalMs?: number;
}

/** Appended points of one series, as they travel over the comm. */
export interface LivePoints {
  name: string;
  /** Index of the first point in the whole series, so a front end that got a full state in between skips what it has. */
  start?: number;
  step: number[];
  value: number[];
  time: number[];
  tokens?: number[];
}

export class LiveMetrics {
  readonly id = randomUUID();
  readonly title: string;
  private readonly startedAt = Date.now();
  private readonly t0 = performance.now();
  private status: RunStatus = "running";
  private endedAt: number | undefined;
  private readonly series = new Map<string, MetricsSeries>();
  /** Points logged since the last comm message, per series. */
  private pending = new Map<string, LivePoints>();
  private lastStep: number | undefined;
  private lastMetrics: { [name: string]: number } = {};
  private readonly handle: DisplayHandle | undefined;
  private readonly channel: LiveChannel | undefined;
  private readonly stream: Throttle;
  private readonly full: Throttle;
  private readonly consoleLine = new Throttle(2000);
  private trailing: NodeJS.Timeout | undefined;

  constructor(private readonly options: LiveMetricsOptions = {}) {
    const { smoothing } = options;
    if (smoothing !== undefined && !(smoothing >= 0 && smoothing < 1)) {
      throw new RangeError(`liveMetrics(): smoothing must be in [0, 1) (the EMA weight of the previous value), got ${smoothing}`);
    }
    this.title = options.title ?? "Training";
    this.stream = new Throttle(options.streamIntervalMs ?? 100);
    this.full = new Throttle(options.fullUpdateIntervalMs ?? 2000);
    this.full.touch();
    if (hasDisplaySink()) {
      this.handle = display(this, { id: true });
      this.channel = openLiveChannel(LIVE_COMM_TARGET, { type: "start", run: this.runInfo(), displayId: this.handle.displayId });
      // A front end that (re)connects asks for everything so far.
      this.channel?.onMessage((msg) => {
        if (msg.type === "sync") this.send({ type: "state", id: this.id, data: this.data() as unknown as LiveMessage });
      });
    }
  }

  /** Records the metrics of one step: `live.log(step, { loss, lr })`; `{ tokens }` adds the tokens-seen axis. */
  log(step: number, metrics: { [name: string]: number }, at: { tokens?: number } = {}): void {
    if (!Number.isFinite(step)) throw new RangeError(`liveMetrics.log(step, metrics): step must be a finite number, got ${step}`);
    const tokens = at.tokens;
    if (tokens !== undefined && !Number.isFinite(tokens)) throw new RangeError(`liveMetrics.log(): tokens must be a finite number, got ${tokens}`);
    if (this.status !== "running") throw new Error(`liveMetrics "${this.title}" is closed; create a new liveMetrics() for another run`);
    const time = (performance.now() - this.t0) / 1000;
    for (const [name, value] of Object.entries(metrics)) {
      if (typeof value !== "number") {
        throw new TypeError(`liveMetrics.log(): metric "${name}" must be a number, got ${typeof value}; pass scalars (e.g. loss.item())`);
      }
      let s = this.series.get(name);
      if (!s) this.series.set(name, (s = { name, step: [], value: [], time: [] }));
      s.step.push(step);
      s.value.push(value);
      s.time!.push(time);
      // Tokens stay a complete axis only when every point of the series has them.
      if (tokens !== undefined && s.tokens?.length === s.step.length - 1) s.tokens.push(tokens);
      else if (tokens !== undefined && s.step.length === 1) s.tokens = [tokens];
      else delete s.tokens;
      let p = this.pending.get(name);
      if (!p) this.pending.set(name, (p = { name, step: [], value: [], time: [] }));
      p.step.push(step);
      p.value.push(value);
      p.time.push(time);
      if (s.tokens) (p.tokens ??= []).push(tokens!);
      else delete p.tokens;
      this.lastMetrics[name] = value;
    }
    this.lastStep = step;
    this.emit();
  }

  /** Ends the run: the display gets its final full state and the comm closes. */
  close(status: RunStatus = "finished"): void {
    if (this.status !== "running") return;
    if (this.trailing) clearTimeout(this.trailing);
    this.flushPoints();
    this.status = status;
    this.endedAt = Date.now();
    if (this.handle) {
      this.handle.update(this);
      this.send({ type: "status", id: this.id, status, endedAt: this.endedAt });
      if (!this.channel?.closed) this.channel?.close();
    } else {
      display(this); // the text summary on stdout
    }
  }

  /** The full state, as the metrics mime type carries it. */
  data(): MetricsData {
    const data: MetricsData = {
      title: this.title,
      series: [...this.series.values()].map((s) => ({
        ...s,
        step: [...s.step],
        value: [...s.value],
        time: [...s.time!],
        ...(s.tokens ? { tokens: [...s.tokens] } : {}),
      })),
      live: { id: this.id, status: this.status, startedAt: this.startedAt, ...(this.endedAt ? { endedAt: this.endedAt } : {}) },
    };
    if (this.options.xAxis) data.xAxis = this.options.xAxis;
    if (this.options.logY) data.logY = this.options.logY;
    if (this.options.smoothing !== undefined) data.smoothing = this.options.smoothing;
    return data;
  }

  [DISPLAY_PROTOCOL](): MimeBundle {
    return metricsBundle(this.data());
  }

  private send(message: LiveMessage): void {
    if (this.channel && !this.channel.closed) this.channel.send(message);
  }

  private runInfo(): LiveMessage {
    return { id: this.id, title: this.title, startedAt: this.startedAt, status: this.status };
  }

  private emit(): void {
    if (!this.handle) {
      if (this.consoleLine.ready()) this.writeConsoleLine();
      return;
    }
    if (this.stream.ready()) this.flushPoints();
    else this.scheduleTrailing();
    if (this.full.ready()) this.handle.update(this);
  }

  private flushPoints(): void {
    if (this.pending.size === 0) return;
    const series = [...this.pending.values()];
    for (const p of series) p.start = this.series.get(p.name)!.step.length - p.step.length;
    this.pending = new Map();
    this.send({ type: "append", id: this.id, step: this.lastStep, last: { ...this.lastMetrics }, series: series as unknown as LiveMessage[] });
  }

  /** Points logged just before a loop pauses still go out once it yields. */
  private scheduleTrailing(): void {
    if (this.trailing) return;
    this.trailing = setTimeout(() => {
      this.trailing = undefined;
      if (this.status === "running") {
        this.stream.touch();
        this.flushPoints();
      }
    }, 150);
    this.trailing.unref();
  }

  private writeConsoleLine(): void {
    const values = Object.entries(this.lastMetrics)
      .map(([k, v]) => `${k}=${Number(v.toPrecision(4))}`)
      .join(" ");
    process.stderr.write(`${this.title} step ${this.lastStep}: ${values}\n`);
  }
}

/** Training curves that grow while the cell runs: `const live = liveMetrics({ title }); live.log(step, { loss })`. */
export function liveMetrics(options: LiveMetricsOptions = {}): LiveMetrics {
  return new LiveMetrics(options);
}
