// An N:M sparsity layer as a plotly figure: a heat map of the mask (or of the
// weights, masked) with the N:M group boundaries drawn as a grid, zoomable, next
// to a histogram of which keep patterns occur in the groups. Pure data handling.
import type { Data, Layout } from "plotly.js";
import type { Figure, SparsityLayerData, Theme } from "../types.js";
import { themeLayout } from "./theme.js";

/** Heat maps larger than this many cells are block-averaged (plotly stays interactive). */
export const MAX_HEATMAP_CELLS = 512 * 512;

export type SparsityMode = "mask" | "weights";

export function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** The mask as one 0/1 byte per weight, row-major. */
export function decodeMask(layer: SparsityLayerData): Uint8Array {
  const packed = decodeBase64(layer.maskBits);
  const size = layer.rows * layer.cols;
  if (packed.length * 8 < size) {
    throw new Error(`sparsity layer "${layer.name}": maskBits holds ${packed.length * 8} bits for ${layer.rows}×${layer.cols} weights`);
  }
  return unpackBits(packed, size);
}

/** Pattern bits as the group reads left to right (the kernel's summary uses the same labels). */
export { patternString as patternLabel } from "nbforge/dist/display/plot-sparsity.js";
import { patternString as patternLabel, unpackBits } from "nbforge/dist/display/plot-sparsity.js";

/** The histogram's bars, most frequent first. */
export function patternHistogram(layer: SparsityLayerData): { labels: string[]; counts: number[] } {
  const entries = Object.entries(layer.patterns).sort((a, b) => b[1] - a[1]);
  return { labels: entries.map(([bits]) => patternLabel(Number(bits), layer.m)), counts: entries.map(([, c]) => c) };
}

/** Rows of z for the heat map, block-averaged by an integer factor when large; also the factor. */
export function heatmapZ(layer: SparsityLayerData, mode: SparsityMode): { z: number[][]; factor: number } {
  const useWeights = mode === "weights" && layer.weights && layer.weightsShape;
  const [rows, cols] = useWeights ? layer.weightsShape! : [layer.rows, layer.cols];
  const values: ArrayLike<number> = useWeights ? layer.weights! : decodeMask(layer);
  const factor = Math.max(1, Math.ceil(Math.sqrt((rows * cols) / MAX_HEATMAP_CELLS)));
  const zr = Math.ceil(rows / factor);
  const zc = Math.ceil(cols / factor);
  const z: number[][] = [];
  for (let i = 0; i < zr; i++) {
    const row = new Array<number>(zc).fill(0);
    const n = new Array<number>(zc).fill(0);
    for (let a = i * factor; a < Math.min(rows, (i + 1) * factor); a++) {
      for (let j = 0; j < cols; j++) {
        row[Math.floor(j / factor)] += useWeights ? Math.abs(values[a * cols + j]) : values[a * cols + j];
        n[Math.floor(j / factor)]++;
      }
    }
    z.push(row.map((v, k) => v / n[k]));
  }
  return { z, factor };
}

/** Vertical lines between N:M groups (one trace, segments split by nulls), or none when too dense to see. */
export function groupGrid(layer: SparsityLayerData, factor: number): { x: (number | null)[]; y: (number | null)[] } {
  const x: (number | null)[] = [];
  const y: (number | null)[] = [];
  const groups = layer.cols / layer.m;
  if (factor > 1 || groups > 256) return { x, y };
  for (let g = 1; g < groups; g++) {
    const at = g * layer.m - 0.5;
    x.push(at, at, null);
    y.push(-0.5, layer.rows - 0.5, null);
  }
  return { x, y };
}

export function sparsityFigure(layer: SparsityLayerData, mode: SparsityMode, theme: Theme): Figure {
  const { z, factor } = heatmapZ(layer, mode);
  const grid = groupGrid(layer, mode === "weights" && layer.weightsShape && layer.weightsShape[1] !== layer.cols ? 2 : factor);
  const hist = patternHistogram(layer);
  const scale = factor > 1 ? ` (each cell ${factor}×${factor} weights)` : "";
  const traces: Data[] = [
    {
      type: "heatmap",
      z,
      x0: 0,
      dx: factor,
      y0: 0,
      dy: factor,
      colorscale: mode === "mask" ? [[0, theme.dark ? "#222" : "#f2f2f2"], [1, "#4e79a7"]] : "Viridis",
      zmin: mode === "mask" ? 0 : undefined,
      zmax: mode === "mask" ? 1 : undefined,
      showscale: mode === "weights" || factor > 1,
      hovertemplate: `row %{y}, col %{x}<br>${mode === "mask" ? "kept" : "|w|"} %{z:.3g}<extra></extra>`,
      name: layer.name,
      xaxis: "x",
      yaxis: "y",
    } as Data,
    {
      type: "bar",
      x: hist.labels,
      y: hist.counts,
      marker: { color: hist.labels.map((l) => ([...l].filter((c) => c === "1").length > layer.n ? "#e15759" : "#59a14f")) },
      hovertemplate: "pattern %{x}<br>%{y} groups<extra></extra>",
      name: "patterns",
      xaxis: "x2",
      yaxis: "y2",
    } as Data,
  ];
  if (grid.x.length > 0) {
    traces.push({
      type: "scatter",
      mode: "lines",
      x: grid.x,
      y: grid.y,
      line: { color: theme.dark ? "rgba(255,255,255,0.25)" : "rgba(0,0,0,0.2)", width: 1 },
      hoverinfo: "skip",
      showlegend: false,
      name: `${layer.n}:${layer.m} groups`,
      xaxis: "x",
      yaxis: "y",
    } as Data);
  }
  const layout: Partial<Layout> = {
    ...themeLayout(theme),
    title: { text: `${layer.name} — ${layer.n}:${layer.m}, density ${(layer.density * 100).toFixed(1)}%${scale}`, font: { size: 13 } },
    height: 460,
    margin: { l: 50, r: 20, t: 40, b: 60 },
    showlegend: false,
    xaxis: { domain: [0, 0.68], title: { text: "column" }, constrain: "domain", gridcolor: theme.grid },
    yaxis: { autorange: "reversed", title: { text: "row" }, scaleanchor: "x", gridcolor: theme.grid },
    xaxis2: { domain: [0.76, 1], title: { text: "keep pattern" }, type: "category", gridcolor: theme.grid },
    yaxis2: { anchor: "x2", title: { text: "groups" }, gridcolor: theme.grid },
  };
  return { data: traces, layout };
}
