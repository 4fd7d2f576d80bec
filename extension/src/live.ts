// The live runs that kernels stream over the "nbforge.live" comm, as one store
// for the whole page: renderers subscribe to their run to extend their traces in
// place, and the Training runs panel lists every run. Pure data handling; the
// comm wiring is in live-comm.ts.
import type { MetricsData, MetricsSeries, RunStatus } from "./types.js";

/** Points appended to one series by one comm message. */
export interface Appended {
  name: string;
  step: number[];
  value: number[];
  time?: number[];
  tokens?: number[];
}

export interface RunState {
  id: string;
  title: string;
  /** The notebook whose kernel streams the run. */
  notebook: string;
  status: RunStatus;
  startedAt: number;
  endedAt?: number;
  step?: number;
  last: { [metric: string]: number };
  /** Everything streamed so far. */
  data: MetricsData;
}

export type RunEvent = { kind: "append"; series: Appended[] } | { kind: "reset" } | { kind: "status"; status: RunStatus };

type Message = { [key: string]: unknown };

function isRecord(v: unknown): v is Message {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function numbers(v: unknown): number[] {
  return Array.isArray(v) ? v.map(Number) : [];
}

export class LiveRegistry {
  private readonly runs = new Map<string, RunState>();
  private readonly runListeners = new Map<string, Set<(e: RunEvent) => void>>();
  private readonly changeListeners = new Set<() => void>();

  list(): RunState[] {
    return [...this.runs.values()];
  }

  get(id: string): RunState | undefined {
    return this.runs.get(id);
  }

  /** Applies one message from a kernel; unknown messages are ignored (newer kernels may send more). */
  handle(message: unknown, notebook = ""): void {
    if (!isRecord(message) || typeof message.type !== "string") return;
    switch (message.type) {
      case "start": {
        const run = isRecord(message.run) ? message.run : {};
        const id = String(run.id ?? "");
        if (!id) return;
        if (this.runs.has(id)) return;
        const title = String(run.title ?? "run");
        const startedAt = Number(run.startedAt ?? Date.now());
        this.runs.set(id, {
          id,
          title,
          notebook,
          status: "running",
          startedAt,
          last: {},
          data: { title, series: [], live: { id, status: "running", startedAt } },
        });
        this.changed();
        return;
      }
      case "append":
        return this.append(message, notebook);
      case "status": {
        const run = this.runs.get(String(message.id));
        if (!run) return;
        run.status = (message.status as RunStatus) ?? "finished";
        run.endedAt = Number(message.endedAt ?? Date.now());
        run.data.live = { ...run.data.live!, status: run.status, endedAt: run.endedAt };
        this.emit(run.id, { kind: "status", status: run.status });
        this.changed();
        return;
      }
      case "state": {
        if (!isRecord(message.data)) return;
        const data = message.data as unknown as MetricsData;
        const id = String(message.id ?? data.live?.id ?? "");
        if (!id) return;
        const run = this.ensure(id, data.title ?? "run", notebook, data.live?.startedAt);
        // A page that attached mid-run may have made the run from appends alone: take the real title and start.
        if (data.title) run.title = data.title;
        if (data.live?.startedAt) run.startedAt = data.live.startedAt;
        run.data = mergeMetrics(run.data, data);
        run.data.title = run.title;
        if (data.live) {
          run.status = data.live.status;
          run.endedAt = data.live.endedAt;
        }
        for (const s of run.data.series) if (s.value.length > 0) run.last[s.name] = s.value[s.value.length - 1];
        run.step = Math.max(run.step ?? -Infinity, ...run.data.series.map((s) => s.step[s.step.length - 1] ?? -Infinity));
        this.emit(id, { kind: "reset" });
        this.changed();
        return;
      }
    }
  }

  /** A renderer follows its run; returns the unsubscribe function. */
  subscribe(id: string, listener: (e: RunEvent) => void): () => void {
    let set = this.runListeners.get(id);
    if (!set) this.runListeners.set(id, (set = new Set()));
    set.add(listener);
    return () => set!.delete(listener);
  }

  /** The panel follows the list of runs. */
  onChange(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /** A display's data with whatever streamed after it was sent. */
  withStreamed(data: MetricsData): MetricsData {
    const run = data.live ? this.runs.get(data.live.id) : undefined;
    return run ? mergeMetrics(data, run.data) : data;
  }

  /** Removes finished runs (the panel's "clear"). */
  clearFinished(): void {
    for (const [id, run] of this.runs) if (run.status !== "running") this.runs.delete(id);
    this.changed();
  }

  private ensure(id: string, title: string, notebook: string, startedAt?: number): RunState {
    let run = this.runs.get(id);
    if (!run) {
      this.handle({ type: "start", run: { id, title, startedAt } }, notebook);
      run = this.runs.get(id)!;
    }
    return run;
  }

  private append(message: Message, notebook: string): void {
    const id = String(message.id ?? "");
    const run = this.ensure(id, "run", notebook);
    const appended: Appended[] = [];
    for (const raw of Array.isArray(message.series) ? message.series : []) {
      if (!isRecord(raw)) continue;
      const a: Appended = { name: String(raw.name), step: numbers(raw.step), value: numbers(raw.value) };
      if (Array.isArray(raw.time)) a.time = numbers(raw.time);
      if (Array.isArray(raw.tokens) && raw.tokens.length === a.step.length) a.tokens = numbers(raw.tokens);
      if (a.step.length !== a.value.length) continue;
      let s = run.data.series.find((x) => x.name === a.name && x.run === undefined);
      if (!s) {
        s = { name: a.name, step: [], value: [], ...(a.time ? { time: [] } : {}), ...(a.tokens ? { tokens: [] } : {}) };
        run.data.series.push(s);
      }
      // Points a full state (update_display_data or a sync) already brought are skipped.
      const overlap = typeof raw.start === "number" ? s.value.length - raw.start : 0;
      if (overlap >= a.value.length) continue;
      if (overlap > 0) {
        a.step = a.step.slice(overlap);
        a.value = a.value.slice(overlap);
        if (a.time) a.time = a.time.slice(overlap);
        if (a.tokens) a.tokens = a.tokens.slice(overlap);
      }
      pushAll(s.step, a.step);
      pushAll(s.value, a.value);
      if (a.time && s.time) pushAll(s.time, a.time);
      if (a.tokens && s.tokens) pushAll(s.tokens, a.tokens);
      if (a.value.length > 0) run.last[a.name] = a.value[a.value.length - 1];
      appended.push(a);
    }
    if (typeof message.step === "number") run.step = message.step;
    this.emit(id, { kind: "append", series: appended });
    this.changed();
  }

  private emit(id: string, event: RunEvent): void {
    for (const l of this.runListeners.get(id) ?? []) l(event);
  }

  private changed(): void {
    for (const l of this.changeListeners) l();
  }
}

/** push(...) without the argument-count limit of spreading large arrays. */
function pushAll(target: number[], items: readonly number[]): void {
  for (let i = 0; i < items.length; i++) target.push(items[i]);
}

/**
 * Two views of the same run (a display's full state and what streamed) agree on
 * a common prefix of each series; the merge keeps the longer one of each.
 */
export function mergeMetrics(a: MetricsData, b: MetricsData): MetricsData {
  const key = (s: MetricsSeries) => `${s.run ?? ""}\u0000${s.name}`;
  const byKey = new Map<string, MetricsSeries>();
  for (const s of a.series) byKey.set(key(s), s);
  for (const s of b.series) {
    const k = key(s);
    const have = byKey.get(k);
    if (!have || s.value.length > have.value.length) byKey.set(k, s);
  }
  const live = a.live && b.live ? (a.live.status !== "running" ? a.live : b.live) : (a.live ?? b.live);
  return { ...a, series: [...byKey.values()], ...(live ? { live } : {}) };
}
