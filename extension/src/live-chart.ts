// A run's full live chart as a widget for the main area: a metrics renderer
// fed from the live-run store instead of a notebook output.
import type { IRenderMime } from "@jupyterlab/rendermime-interfaces";
import { MetricsRenderer } from "./metrics-renderer.js";
import type { LiveRegistry } from "./live.js";
import { METRICS_MIME, type MetricsData } from "./types.js";

/** The mime model that renderModel reads, made from data at hand. */
export function modelOf(data: MetricsData): IRenderMime.IMimeModel {
  return {
    trusted: true,
    data: { [METRICS_MIME]: data as unknown as IRenderMime.IMimeModel["data"][string] },
    metadata: {},
    setData: () => {},
  };
}

export function liveChart(registry: LiveRegistry, data: MetricsData): MetricsRenderer {
  const chart = new MetricsRenderer(registry);
  chart.addClass("nbforge-live-chart");
  void chart.renderModel(modelOf(data));
  return chart;
}
