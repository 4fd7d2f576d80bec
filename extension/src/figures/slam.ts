// A SLAM measurement graph as a plotly figure, in 2-D or 3-D: the trajectory of
// poses (with headings in 2-D), landmarks, and the odometry, loop-closure and
// landmark-observation edges, coloured by residual (binned on a log scale,
// since a line trace has one colour) or by the certificate's verdict.
// Hover shows ids, residuals and measured values. Pure data handling.
import type { Data, Layout } from "plotly.js";
import type { Figure, SlamData, SlamEdge, Theme, Vec } from "../types.js";
import { themeLayout } from "./theme.js";

export type SlamColouring = "residual" | "certificate" | "kind";
export type SlamDims = 2 | 3;

export interface SlamView {
  dims: SlamDims;
  colouring: SlamColouring;
}

export const RESIDUAL_BINS = 6;
/** The verdict colours of the kernel's static SVG, so both renderings agree. */
export { VERDICT_COLOURS } from "nbforge/dist/display/plot-slam.js";
import { VERDICT_COLOURS } from "nbforge/dist/display/plot-slam.js";
import { extent } from "nbforge/dist/display/svg.js";
const KIND_COLOURS = { odometry: "#7f7f7f", loop: "#1e88e5", landmark: "#c7c7c7" } as const;
const VIRIDIS = ["#440154", "#414487", "#2a788e", "#22a884", "#7ad151", "#fde725"];

export function defaultSlamView(data: SlamData): SlamView {
  const hasResiduals = data.edges.length > 0 && data.edges.every((e) => e.residual !== undefined);
  return { dims: data.d, colouring: hasResiduals ? "residual" : data.certificate ? "certificate" : "kind" };
}

/** Bin index per edge on log10(residual), equal-width bins over the observed range. */
export function residualBins(edges: readonly SlamEdge[], bins = RESIDUAL_BINS): { bin: number[]; edgesOfBins: number[] } {
  const logs = edges.map((e) => Math.log10(Math.max(e.residual ?? 0, 1e-12)));
  const [lo, hi] = extent(logs);
  const bin = logs.map((v) => (hi > lo ? Math.min(bins - 1, Math.floor(((v - lo) / (hi - lo)) * bins)) : 0));
  const edgesOfBins = Array.from({ length: bins + 1 }, (_, k) => 10 ** (lo + ((hi - lo) * k) / bins));
  return { bin, edgesOfBins };
}

function coord(p: Vec, k: number): number {
  return p[k] ?? 0;
}

interface Segments {
  x: (number | null)[];
  y: (number | null)[];
  z: (number | null)[];
}

function emptySegments(): Segments {
  return { x: [], y: [], z: [] };
}

function pushSegment(s: Segments, a: Vec, b: Vec): void {
  s.x.push(coord(a, 0), coord(b, 0), null);
  s.y.push(coord(a, 1), coord(b, 1), null);
  s.z.push(coord(a, 2), coord(b, 2), null);
}

/** The positions of poses or landmarks as marker coordinates. */
function positionsOf(items: readonly { position: Vec }[]): Segments {
  return { x: items.map((i) => coord(i.position, 0)), y: items.map((i) => coord(i.position, 1)), z: items.map((i) => coord(i.position, 2)) };
}

function describe(e: SlamEdge): string {
  const m = e.measurement ? `<br>measured ${e.measurement.map((v) => Number(v.toPrecision(4))).join(", ")}` : "";
  const r = e.residual !== undefined ? `<br>residual ${e.residual.toPrecision(4)}` : "";
  return `${e.kind} ${e.from} → ${e.kind === "landmark" ? "L" : ""}${e.to}${r}${m}`;
}

export function slamFigure(data: SlamData, view: SlamView, theme: Theme): Figure {
  const three = view.dims === 3 && data.d === 3;
  const pose = new Map(data.poses.map((p) => [p.id, p.position]));
  const landmark = new Map(data.landmarks.map((l) => [l.id, l.position]));
  const end = (e: SlamEdge) => (e.kind === "landmark" ? landmark : pose).get(e.to);
  const traces: Data[] = [];
  const line = (s: Segments, name: string, colour: string, width: number, dash?: string): Data =>
    (three
      ? { type: "scatter3d", mode: "lines", x: s.x, y: s.y, z: s.z, name, line: { color: colour, width }, hoverinfo: "skip" }
      : { type: "scatter", mode: "lines", x: s.x, y: s.y, name, line: { color: colour, width, dash }, hoverinfo: "skip" }) as Data;

  // Edge groups: one trace per colour, since a line trace has a single colour.
  const groups = new Map<string, { segments: Segments; colour: string; width: number; dash?: string; order: number }>();
  const group = (key: string, colour: string, width: number, dash?: string, order = 0) => {
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { segments: emptySegments(), colour, width, dash, order }));
    return g;
  };
  const verdictColour = data.certificate ? VERDICT_COLOURS[data.certificate.verdict] : KIND_COLOURS.odometry;
  const bins = view.colouring === "residual" ? residualBins(data.edges) : undefined;
  data.edges.forEach((e, i) => {
    const a = pose.get(e.from);
    const b = end(e);
    if (!a || !b) return;
    const width = e.kind === "landmark" ? 1 : 2;
    const dash = e.kind === "loop" ? "dot" : undefined;
    let g;
    if (bins) {
      const k = bins.bin[i];
      const label = `residual ${bins.edgesOfBins[k].toPrecision(2)}–${bins.edgesOfBins[k + 1].toPrecision(2)}`;
      g = group(`${label}|${e.kind === "landmark" ? "obs" : "pose"}`, VIRIDIS[k % VIRIDIS.length], width, dash, k);
    } else if (view.colouring === "certificate") {
      g = group(`${e.kind}`, e.kind === "landmark" ? KIND_COLOURS.landmark : verdictColour, width, dash);
    } else {
      g = group(e.kind, KIND_COLOURS[e.kind], width, dash);
    }
    pushSegment(g.segments, a, b);
  });
  // Residual bins in increasing order, so the legend reads as a scale.
  for (const [key, g] of [...groups].sort((a, b) => a[1].order - b[1].order)) traces.push(line(g.segments, key.split("|")[0], g.colour, g.width, g.dash));

  // Hover targets at edge midpoints: ids and measured values.
  const mid = emptySegments();
  const midText: string[] = [];
  for (const e of data.edges) {
    const a = pose.get(e.from);
    const b = end(e);
    if (!a || !b) continue;
    mid.x.push((coord(a, 0) + coord(b, 0)) / 2);
    mid.y.push((coord(a, 1) + coord(b, 1)) / 2);
    mid.z.push((coord(a, 2) + coord(b, 2)) / 2);
    midText.push(describe(e));
  }
  const marker = (s: Segments, name: string, text: string[], m: object): Data =>
    (three
      ? { type: "scatter3d", mode: "markers", x: s.x, y: s.y, z: s.z, name, text, hoverinfo: "text", marker: m }
      : { type: "scatter", mode: "markers", x: s.x, y: s.y, name, text, hoverinfo: "text", marker: m }) as Data;
  traces.push(marker(mid, "edges", midText, { size: 4, opacity: 0, color: theme.foreground }));

  const suspect = new Set(data.certificate?.suspectPoses ?? []);
  traces.push(
    marker(
      positionsOf(data.poses),
      "poses",
      data.poses.map((p) => `pose ${p.id}<br>${p.position.map((v) => Number(v.toPrecision(4))).join(", ")}${p.heading !== undefined ? `<br>heading ${p.heading.toFixed(3)} rad` : ""}${suspect.has(p.id) ? "<br>suspect (certificate)" : ""}`),
      { size: three ? 3 : 6, color: data.poses.map((p) => (suspect.has(p.id) ? VERDICT_COLOURS.failed : theme.foreground)) },
    ),
  );
  // 2-D headings: a short tick in the direction each pose faces.
  if (!three && data.poses.some((p) => p.heading !== undefined || p.rotation)) {
    const ticks = emptySegments();
    const span = Math.max(extent(data.poses.map((p) => Math.max(Math.abs(coord(p.position, 0)), Math.abs(coord(p.position, 1)))))[1], 1);
    const len = span * 0.03;
    for (const p of data.poses) {
      const th = p.heading ?? (p.rotation ? Math.atan2(p.rotation[2], p.rotation[0]) : undefined);
      if (th === undefined) continue;
      pushSegment(ticks, p.position, [coord(p.position, 0) + len * Math.cos(th), coord(p.position, 1) + len * Math.sin(th)]);
    }
    traces.push(line(ticks, "headings", theme.foreground, 1));
  }
  traces.push(
    marker(positionsOf(data.landmarks), "landmarks", data.landmarks.map((l) => `landmark ${l.id}<br>${l.position.map((v) => Number(v.toPrecision(4))).join(", ")}`), {
      size: three ? 3 : 7,
      symbol: three ? "diamond" : "square",
      color: "#e15759",
    }),
  );

  const cert = data.certificate;
  const verdict = cert ? ` — certificate: ${cert.verdict}${cert.minEigenvalue !== undefined ? ` (λmin ${cert.minEigenvalue.toExponential(2)})` : ""}` : "";
  const layout: Partial<Layout> = {
    ...themeLayout(theme),
    title: { text: `${data.title ?? "SLAM graph"}${verdict}`, font: { size: 14, color: cert ? VERDICT_COLOURS[cert.verdict] : theme.foreground } },
    height: 520,
    margin: { l: 40, r: 20, t: 40, b: 40 },
    hovermode: "closest",
    legend: { itemsizing: "constant" },
  };
  if (three) {
    layout.scene = {
      aspectmode: "data",
      xaxis: { gridcolor: theme.grid, color: theme.foreground },
      yaxis: { gridcolor: theme.grid, color: theme.foreground },
      zaxis: { gridcolor: theme.grid, color: theme.foreground },
    };
  } else {
    layout.xaxis = { gridcolor: theme.grid, zerolinecolor: theme.grid };
    layout.yaxis = { gridcolor: theme.grid, zerolinecolor: theme.grid, scaleanchor: "x" };
  }
  return { data: traces, layout };
}
