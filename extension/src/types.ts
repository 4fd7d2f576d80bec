// The JSON that nbforge's kernel puts in its mime bundles and live comm
// messages. The kernel's display layer defines it; the extension only reads it.
export type {
  MetricsData,
  MetricsSeries,
  MetricsXAxis,
  RunStatus,
  SparsityData,
  SparsityLayerData,
  SlamData,
  SlamPose,
  SlamLandmark,
  SlamEdge,
  SlamCertificate,
  Vec,
} from "nbforge/dist/display/plot-types.js";

export { METRICS_MIME, SPARSITY_MIME, SLAM_MIME, LIVE_COMM_TARGET } from "nbforge/dist/display/plot-types.js";
/** Categorical colours (Tableau 10), the same as the kernel's SVG renderings. */
export { PALETTE } from "nbforge/dist/display/svg.js";

/** Colours a figure takes from the JupyterLab theme. */
export interface Theme {
  dark: boolean;
  background: string;
  foreground: string;
  grid: string;
  font: string;
}

export const LIGHT_THEME: Theme = { dark: false, background: "#ffffff", foreground: "#1f1f1f", grid: "#e5e5e5", font: "sans-serif" };

/** A plotly figure: traces and layout, as Plotly.react takes them. */
export interface Figure {
  data: import("plotly.js").Data[];
  layout: Partial<import("plotly.js").Layout>;
}
