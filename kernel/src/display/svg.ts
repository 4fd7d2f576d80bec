// Small SVG building blocks for the static renderings that every nbforge plot
// bundle carries (image/svg+xml), so that Classic Notebook, VS Code and GitHub
// show a real picture without the JupyterLab extension.

export function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Rounds for SVG coordinates: short, and stable across platforms. */
export function r(v: number): string {
  return (Math.round(v * 10) / 10).toString();
}

/** A linear map from [d0, d1] to [p0, p1]; a zero-width domain maps to the middle. */
export function linearScale(d0: number, d1: number, p0: number, p1: number): (v: number) => number {
  if (!(d1 > d0)) return () => (p0 + p1) / 2;
  const k = (p1 - p0) / (d1 - d0);
  return (v) => p0 + (v - d0) * k;
}

/** About `count` round tick values covering [lo, hi] (1, 2, 5 × 10^k steps). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi <= lo) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((f) => f * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/** A compact tick label: 12000 -> "12k", 0.00012 -> "1.2e-4". */
export function tickLabel(v: number): string {
  const a = Math.abs(v);
  if (a === 0) return "0";
  if (a >= 1e6) return `${Number((v / 1e6).toPrecision(3))}M`;
  if (a >= 1e4) return `${Number((v / 1e3).toPrecision(3))}k`;
  if (a < 1e-3) return v.toExponential(1).replace("e-", "e-");
  return String(Number(v.toPrecision(3)));
}

/** Categorical colours (Tableau 10), shared with the extension's traces. */
export const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];

/** A colour for a value in [0, 1] on the viridis map (a few stops, linearly blended). */
export function viridis(t: number): string {
  const stops = [
    [68, 1, 84],
    [59, 82, 139],
    [33, 145, 140],
    [94, 201, 98],
    [253, 231, 37],
  ];
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const c = stops[i].map((v, k) => Math.round(v + (stops[i + 1][k] - v) * f));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

export function svgDocument(width: number, height: number, body: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
    `font-family="sans-serif" font-size="11">` +
    `<rect width="${width}" height="${height}" fill="#ffffff"/>${body}</svg>`
  );
}

/** Keeps at most `max` points of a polyline: every k-th point, the first and the last. */
export function strideIndices(length: number, max: number): number[] {
  if (length <= max) return Array.from({ length }, (_, i) => i);
  const step = (length - 1) / (max - 1);
  const out: number[] = [];
  for (let i = 0; i < max; i++) out.push(Math.round(i * step));
  return out;
}

/** [min, max] of the values ([Infinity, -Infinity] when empty), without spreading them into Math.min/max, which throws past ~100k arguments. */
export function extent(values: readonly number[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}
