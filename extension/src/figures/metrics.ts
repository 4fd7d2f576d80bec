// Training curves as a plotly figure: one subplot per metric (stacked, shared x),
// every run overlaid in its own colour, optional EMA smoothing (TensorBoard's
// debiased form) drawn over the faint raw curve, log-scale metrics, and WebGL
// traces for large series. Pure data handling: no DOM, no plotly import.
import type { Data, Layout } from "plotly.js";
import { PALETTE, type Figure, type MetricsData, type MetricsXAxis, type Theme } from "../types.js";
import { themeLayout } from "./theme.js";
import { xValues } from "nbforge/dist/display/plot-metrics.js";

export interface MetricsView {
  xAxis: MetricsXAxis;
  /** EMA weight in [0, 1); 0 draws the raw curves only. */
  smoothing: number;
  logY: ReadonlySet<string>;
}

/** Series longer than this are drawn with scattergl. */
export const WEBGL_THRESHOLD = 5000;

/**
 * Most points one trace holds. plotly redraws a whole trace on every update, so
 * a live curve's cost per update follows the points drawn, not the points
 * logged: past this, a series is drawn min/max-decimated to half of it (its
 * envelope stays exact), and live points append raw until the limit again.
 */
export const DRAW_LIMIT = 4000;

/**
 * Min/max decimation: the points split into `buckets` runs of consecutive
 * points, and each run keeps its smallest and largest value, in their order.
 */
export function decimate(x: readonly number[], y: readonly number[], buckets: number): { x: number[]; y: number[] } {
  const n = y.length;
  if (n <= 2 * buckets) return { x: [...x], y: [...y] };
  const ox: number[] = [];
  const oy: number[] = [];
  for (let b = 0; b < buckets; b++) {
    const start = Math.floor((b * n) / buckets);
    const end = Math.floor(((b + 1) * n) / buckets);
    let lo = start, hi = start;
    for (let i = start + 1; i < end; i++) {
      // NaN never wins a comparison, so it never hides a finite extreme.
      if (y[i] < y[lo] || Number.isNaN(y[lo])) lo = i;
      if (y[i] > y[hi] || Number.isNaN(y[hi])) hi = i;
    }
    for (const i of lo === hi ? [lo] : lo < hi ? [lo, hi] : [hi, lo]) {
      ox.push(x[i]);
      oy.push(y[i]);
    }
  }
  return { x: ox, y: oy };
}

/** The points a series' trace draws: all of them, or decimated past DRAW_LIMIT. */
export function drawnPoints(x: readonly number[], y: readonly number[]): { x: number[]; y: number[] } {
  return y.length > DRAW_LIMIT ? decimate(x, y, DRAW_LIMIT / 4) : { x: [...x], y: [...y] };
}

export function defaultView(data: MetricsData): MetricsView {
  return { xAxis: data.xAxis ?? "step", smoothing: data.smoothing ?? 0, logY: new Set(data.logY ?? []) };
}

/** Running state of the debiased EMA, so live points extend a smoothed curve without recomputing it. */
export interface EmaState {
  accum: number;
  count: number;
}

/** TensorBoard's smoothing: an EMA started at 0 and divided by (1 - w^k); non-finite values pass through. */
export function emaSmooth(values: readonly number[], weight: number, state: EmaState = { accum: 0, count: 0 }): number[] {
  const out = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) {
      out[i] = v;
      continue;
    }
    state.accum = state.accum * weight + (1 - weight) * v;
    state.count++;
    out[i] = weight === 0 ? v : state.accum / (1 - weight ** state.count);
  }
  return out;
}

export function metricNames(data: MetricsData): string[] {
  return [...new Set(data.series.map((s) => s.name))];
}

export function runNames(data: MetricsData): string[] {
  return [...new Set(data.series.map((s) => s.run ?? ""))];
}

/** The axes that every series can be drawn against. */
export function availableXAxes(data: MetricsData): MetricsXAxis[] {
  const axes: MetricsXAxis[] = ["step"];
  if (data.series.length > 0 && data.series.every((s) => s.time?.length === s.step.length)) axes.push("time");
  if (data.series.length > 0 && data.series.every((s) => s.tokens?.length === s.step.length)) axes.push("tokens");
  return axes;
}

/** Where each series' traces sit in the figure, for extending them in place. */
export interface TraceSlot {
  series: number;
  raw: number;
  smoothed?: number;
}

export function traceSlots(data: MetricsData, view: MetricsView): TraceSlot[] {
  let next = 0;
  return data.series.map((_, i) => {
    const slot: TraceSlot = { series: i, raw: next++ };
    if (view.smoothing > 0) slot.smoothed = next++;
    return slot;
  });
}

const X_TITLES: { [axis in MetricsXAxis]: string } = { step: "step", tokens: "tokens", time: "wall time (s)" };

export function metricsFigure(data: MetricsData, view: MetricsView, theme: Theme): Figure {
  const names = metricNames(data);
  const runs = runNames(data);
  const traces: Data[] = [];
  const slots = traceSlots(data, view);
  data.series.forEach((s, i) => {
    const row = names.indexOf(s.name) + 1;
    const colour = PALETTE[runs.indexOf(s.run ?? "") % PALETTE.length];
    const x = xValues(s, view.xAxis);
    const type = s.value.length > WEBGL_THRESHOLD ? "scattergl" : "scatter";
    const label = s.run ? `${s.name} (${s.run})` : s.name;
    const axes = { xaxis: row === 1 ? "x" : `x${row}`, yaxis: row === 1 ? "y" : `y${row}` };
    traces.push({
      type,
      mode: "lines",
      name: label,
      legendgroup: s.run ?? s.name,
      ...drawnPoints(x, s.value),
      line: { color: colour, width: view.smoothing > 0 ? 1 : 1.5 },
      opacity: view.smoothing > 0 ? 0.3 : 1,
      showlegend: view.smoothing === 0 && (runs.length > 1 || names.length > 1),
      hovertemplate: `${label}<br>${X_TITLES[view.xAxis]} %{x}<br>%{y:.4g}<extra></extra>`,
      ...axes,
    } as Data);
    if (slots[i].smoothed !== undefined) {
      traces.push({
        type,
        mode: "lines",
        name: `${label} (smoothed)`,
        legendgroup: s.run ?? s.name,
        ...drawnPoints(x, emaSmooth(s.value, view.smoothing)),
        line: { color: colour, width: 2 },
        showlegend: runs.length > 1 || names.length > 1,
        hovertemplate: `${label} (EMA ${view.smoothing})<br>${X_TITLES[view.xAxis]} %{x}<br>%{y:.4g}<extra></extra>`,
        ...axes,
      } as Data);
    }
  });

  const layout: Partial<Layout> = {
    ...themeLayout(theme),
    title: data.title ? { text: data.title, font: { size: 14 } } : undefined,
    height: Math.max(260, 70 + 190 * names.length),
    margin: { l: 60, r: 20, t: data.title ? 40 : 20, b: 40 },
    hovermode: "closest",
    grid: names.length > 1 ? { rows: names.length, columns: 1, pattern: "independent" } : undefined,
    legend: { orientation: "h", y: -0.12 },
  };
  const record = layout as { [key: string]: unknown };
  names.forEach((name, k) => {
    const suffix = k === 0 ? "" : String(k + 1);
    record[`yaxis${suffix}`] = {
      title: { text: name },
      type: view.logY.has(name) ? "log" : "linear",
      gridcolor: theme.grid,
      zerolinecolor: theme.grid,
      automargin: true,
    };
    record[`xaxis${suffix}`] = {
      title: k === names.length - 1 ? { text: X_TITLES[view.xAxis] } : undefined,
      gridcolor: theme.grid,
      zerolinecolor: theme.grid,
      ...(k > 0 ? { matches: "x" } : {}),
    };
  });
  return { data: traces, layout };
}

/** The series' identity and order; a change means the figure must be redrawn, not extended. */
export function structureKey(data: MetricsData): string {
  return data.series.map((s) => `${s.run ?? ""}\u0000${s.name}`).join("\u0001");
}

/**
 * The arguments of Plotly.extendTraces for the points of each series past
 * `consumed[i]`, or undefined when the figure must be redrawn instead: a series
 * crosses the WebGL threshold, a trace would pass DRAW_LIMIT points (the redraw
 * decimates it), or an axis lacks values. `traceLengths` are the points each
 * trace holds now and are advanced, as is each series' smoothing state in `ema`.
 * Returns indices [] when nothing is new.
 */
export function extendPlan(
  data: MetricsData,
  view: MetricsView,
  consumed: readonly number[],
  traceLengths: number[],
  ema: Map<number, EmaState>,
): { update: { x: number[][]; y: number[][] }; indices: number[] } | undefined {
  const slots = traceSlots(data, view);
  const x: number[][] = [];
  const y: number[][] = [];
  const indices: number[] = [];
  for (let i = 0; i < data.series.length; i++) {
    const s = data.series[i];
    const from = consumed[i] ?? 0;
    if (s.value.length <= from) continue;
    if (from <= WEBGL_THRESHOLD && s.value.length > WEBGL_THRESHOLD) return undefined;
    if ((traceLengths[slots[i].raw] ?? 0) + s.value.length - from > DRAW_LIMIT) return undefined;
    const xs = xValues(s, view.xAxis);
    if (xs.length !== s.value.length) return undefined;
    const ax = xs.slice(from);
    const ay = s.value.slice(from);
    x.push(ax);
    y.push(ay);
    indices.push(slots[i].raw);
    if (slots[i].smoothed !== undefined) {
      const state = ema.get(i);
      if (!state) return undefined;
      x.push(ax);
      y.push(emaSmooth(ay, view.smoothing, state));
      indices.push(slots[i].smoothed!);
    }
  }
  for (let k = 0; k < indices.length; k++) traceLengths[indices[k]] = (traceLengths[indices[k]] ?? 0) + x[k].length;
  return { update: { x, y }, indices };
}

/** The smoothing state after the whole of each series, to continue from. */
export function emaStates(data: MetricsData, view: MetricsView): Map<number, EmaState> {
  const states = new Map<number, EmaState>();
  if (view.smoothing <= 0) return states;
  data.series.forEach((s, i) => {
    const state = { accum: 0, count: 0 };
    emaSmooth(s.value, view.smoothing, state);
    states.set(i, state);
  });
  return states;
}
