// plot.metrics: training curves. Builds the application/vnd.nbforge.metrics+json
// bundle with a static SVG (one small panel per metric, runs overlaid) and a
// text summary (first, last and best value of each curve).
import type { MimeBundle } from "./display.js";
import { METRICS_MIME, type MetricsData, type MetricsSeries, type MetricsXAxis } from "./plot-types.js";
import { escapeXml, linearScale, niceTicks, PALETTE, r, strideIndices, svgDocument, tickLabel } from "./svg.js";

export interface MetricsOptions {
  title?: string;
  xAxis?: MetricsXAxis;
  logY?: string[];
  smoothing?: number;
  /** Run name given to series that have none (overlaying several runs). */
  run?: string;
}

/** A row of logged metrics: `{ step: 10, loss: 2.3, lr: 1e-3 }`. */
export type MetricsRow = { step: number } & { [metric: string]: number };

export type MetricsInput = MetricsData | MetricsSeries[] | MetricsRow[] | { [metric: string]: number[] | Float32Array | Float64Array };

function isSeries(v: unknown): v is MetricsSeries {
  return typeof v === "object" && v !== null && "name" in v && "step" in v && "value" in v;
}

/** Accepts full data, a list of series, a list of rows, or one array of values per metric (step = index). */
export function toMetricsData(input: MetricsInput, options: MetricsOptions = {}): MetricsData {
  let series: MetricsSeries[];
  let base: Partial<MetricsData> = {};
  if (Array.isArray(input)) {
    if (input.every(isSeries)) series = (input as MetricsSeries[]).map((s) => ({ ...s }));
    else series = seriesFromRows(input as MetricsRow[]);
  } else if ("series" in input && Array.isArray(input.series)) {
    base = input as MetricsData;
    series = (input as MetricsData).series.map((s) => ({ ...s }));
  } else {
    series = Object.entries(input as { [metric: string]: ArrayLike<number> }).map(([name, values]) => {
      if (typeof values !== "object" || values === null || typeof values.length !== "number") {
        throw new TypeError(`plot.metrics(): metric "${name}" must be an array of numbers, got ${typeof values}`);
      }
      return { name, step: Array.from({ length: values.length }, (_, i) => i), value: Array.from(values) };
    });
  }
  for (const s of series) {
    if (s.step.length !== s.value.length) {
      throw new RangeError(`plot.metrics(): series "${s.name}" has ${s.step.length} steps but ${s.value.length} values; give one value per step`);
    }
    if (s.run === undefined && options.run !== undefined) s.run = options.run;
  }
  const smoothing = options.smoothing ?? base.smoothing;
  if (smoothing !== undefined && !(smoothing >= 0 && smoothing < 1)) {
    throw new RangeError(`plot.metrics(): smoothing must be in [0, 1), got ${smoothing}`);
  }
  const data: MetricsData = { ...base, series };
  if (options.title ?? base.title) data.title = options.title ?? base.title;
  if (options.xAxis ?? base.xAxis) data.xAxis = options.xAxis ?? base.xAxis;
  if (options.logY ?? base.logY) data.logY = options.logY ?? base.logY;
  if (smoothing !== undefined) data.smoothing = smoothing;
  return data;
}

function seriesFromRows(rows: MetricsRow[]): MetricsSeries[] {
  const byName = new Map<string, MetricsSeries>();
  rows.forEach((row, i) => {
    if (typeof row !== "object" || row === null || typeof row.step !== "number") {
      throw new TypeError(`plot.metrics(): row ${i} must be an object with a numeric "step", like { step: 10, loss: 2.3 }`);
    }
    for (const [name, value] of Object.entries(row)) {
      if (name === "step" || typeof value !== "number") continue;
      let s = byName.get(name);
      if (!s) byName.set(name, (s = { name, step: [], value: [] }));
      s.step.push(row.step);
      s.value.push(value);
    }
  });
  return [...byName.values()];
}

/** The x values of a series on the chosen axis (falls back to step when missing). */
export function xValues(s: MetricsSeries, axis: MetricsXAxis = "step"): number[] {
  if (axis === "time" && s.time?.length === s.step.length) return s.time;
  if (axis === "tokens" && s.tokens?.length === s.step.length) return s.tokens;
  return s.step;
}

function fmt(v: number): string {
  return Number.isFinite(v) ? String(Number(v.toPrecision(4))) : String(v);
}

/** "loss (run a): 2.31 → 0.42 over 2000 points, min 0.40 at step 1890" per series. */
export function metricsSummary(data: MetricsData): string {
  const lines = [`${data.title ?? "Training curves"}: ${data.series.length} series${data.live ? ` (${data.live.status})` : ""}`];
  for (const s of data.series) {
    const name = s.run ? `${s.name} (${s.run})` : s.name;
    if (s.value.length === 0) {
      lines.push(`  ${name}: no points`);
      continue;
    }
    let best = 0;
    for (let i = 1; i < s.value.length; i++) if (s.value[i] < s.value[best]) best = i;
    lines.push(
      `  ${name}: ${fmt(s.value[0])} → ${fmt(s.value[s.value.length - 1])} over ${s.value.length} points, ` +
        `min ${fmt(s.value[best])} at step ${s.step[best]}`,
    );
  }
  return lines.join("\n");
}

const PANEL_W = 320;
const PANEL_H = 180;
const MARGIN = { left: 46, right: 10, top: 22, bottom: 24 };
const MAX_SVG_POINTS = 400;

/** Small multiples: one panel per metric name, every run's curve overlaid in it. */
export function metricsSvg(data: MetricsData): string {
  const names = [...new Set(data.series.map((s) => s.name))];
  const runs = [...new Set(data.series.map((s) => s.run ?? ""))];
  const columns = Math.min(3, Math.max(1, names.length));
  const rows = Math.max(1, Math.ceil(names.length / columns));
  const titleH = data.title ? 20 : 0;
  const width = columns * PANEL_W;
  const height = titleH + rows * PANEL_H;
  let body = data.title ? `<text x="${width / 2}" y="14" text-anchor="middle" font-size="13">${escapeXml(data.title)}</text>` : "";
  const axis = data.xAxis ?? "step";
  names.forEach((name, k) => {
    const ox = (k % columns) * PANEL_W;
    const oy = titleH + Math.floor(k / columns) * PANEL_H;
    const series = data.series.filter((s) => s.name === name);
    const log = data.logY?.includes(name) ?? false;
    const ty = (v: number) => (log ? Math.log10(v) : v);
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (const s of series) {
      const xs = xValues(s, axis);
      for (let i = 0; i < xs.length; i++) {
        const y = ty(s.value[i]);
        if (!Number.isFinite(y) || !Number.isFinite(xs[i])) continue;
        x0 = Math.min(x0, xs[i]); x1 = Math.max(x1, xs[i]);
        y0 = Math.min(y0, y); y1 = Math.max(y1, y);
      }
    }
    const left = ox + MARGIN.left, right = ox + PANEL_W - MARGIN.right;
    const top = oy + MARGIN.top, bottom = oy + PANEL_H - MARGIN.bottom;
    body += `<text x="${r((left + right) / 2)}" y="${oy + 14}" text-anchor="middle">${escapeXml(name)}${log ? " (log)" : ""}</text>`;
    body += `<rect x="${left}" y="${top}" width="${right - left}" height="${bottom - top}" fill="none" stroke="#ccc"/>`;
    if (!(x1 >= x0)) return;
    const pad = y1 > y0 ? (y1 - y0) * 0.05 : Math.abs(y0) * 0.05 || 1;
    const sx = linearScale(x0, x1, left, right);
    const sy = linearScale(y0 - pad, y1 + pad, bottom, top);
    for (const t of niceTicks(y0 - pad, y1 + pad, 4)) {
      const y = sy(t);
      body += `<line x1="${left}" x2="${right}" y1="${r(y)}" y2="${r(y)}" stroke="#eee"/>`;
      body += `<text x="${left - 4}" y="${r(y + 3)}" text-anchor="end" fill="#555">${escapeXml(log ? tickLabel(10 ** t) : tickLabel(t))}</text>`;
    }
    for (const t of niceTicks(x0, x1, 4)) {
      body += `<text x="${r(sx(t))}" y="${bottom + 14}" text-anchor="middle" fill="#555">${escapeXml(tickLabel(t))}</text>`;
    }
    for (const s of series) {
      const xs = xValues(s, axis);
      const colour = PALETTE[runs.indexOf(s.run ?? "") % PALETTE.length];
      let d = "";
      for (const i of strideIndices(xs.length, MAX_SVG_POINTS)) {
        const y = ty(s.value[i]);
        if (!Number.isFinite(y)) continue;
        d += `${d ? "L" : "M"}${r(sx(xs[i]))} ${r(sy(y))}`;
      }
      if (d) body += `<path d="${d}" fill="none" stroke="${colour}" stroke-width="1.5"><title>${escapeXml(s.run ? `${name} (${s.run})` : name)}</title></path>`;
    }
  });
  return svgDocument(width, height, body);
}

export function metricsBundle(data: MetricsData): MimeBundle {
  return { [METRICS_MIME]: data, "image/svg+xml": metricsSvg(data), "text/plain": metricsSummary(data) };
}
