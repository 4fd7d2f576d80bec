// The mime-renderer half of the extension: nbforge's three mime types, ranked
// ahead of image/svg+xml so that JupyterLab picks the interactive plot and
// other front ends fall back to the SVG in the same bundle.
import type { IRenderMime } from "@jupyterlab/rendermime-interfaces";
import { MetricsRenderer } from "./metrics-renderer.js";
import { liveRegistry } from "./registry.js";
import { SlamRenderer } from "./slam-renderer.js";
import { SparsityRenderer } from "./sparsity-renderer.js";
import { METRICS_MIME, SLAM_MIME, SPARSITY_MIME } from "./types.js";

/** A rank below the default renderers (100+), so ours win over SVG and text. */
const RANK = 40;

export const rendererFactories: IRenderMime.IRendererFactory[] = [
  { safe: true, mimeTypes: [METRICS_MIME], defaultRank: RANK, createRenderer: (o) => new MetricsRenderer(liveRegistry, o.mimeType) },
  { safe: true, mimeTypes: [SPARSITY_MIME], defaultRank: RANK, createRenderer: (o) => new SparsityRenderer(o.mimeType) },
  { safe: true, mimeTypes: [SLAM_MIME], defaultRank: RANK, createRenderer: (o) => new SlamRenderer(o.mimeType) },
];

const extensions: IRenderMime.IExtension[] = rendererFactories.map((rendererFactory, i) => ({
  id: `nbforge-jupyterlab:${["metrics", "sparsity", "slam"][i]}`,
  rendererFactory,
  rank: RANK,
  dataType: "json",
}));

export default extensions;
