// plot.metrics / plot.sparsity / plot.slam: figures as displayable values. Each
// returns a Figure whose Symbol.for("Jupyter.display") method gives the full
// bundle (the nbforge mime type for the JupyterLab extension, a static SVG and a
// text summary), so a cell's last expression or display(figure) draws it. The
// training, sparsity and SLAM code hands data to these; it never builds bundles.
import { DISPLAY_PROTOCOL, type Displayable, type MimeBundle } from "./display.js";
import { metricsBundle, toMetricsData, type MetricsInput, type MetricsOptions } from "./plot-metrics.js";
import { slamBundle, toSlamData } from "./plot-slam.js";
import { sparsityBundle, toSparsityData } from "./plot-sparsity.js";
import type { MetricsData, SlamData, SparsityData, SparsityLayerInput } from "./plot-types.js";

export class Figure<D> implements Displayable {
  constructor(readonly data: D, private readonly toBundle: (data: D) => MimeBundle) {}

  /** The mime bundle: the nbforge mime type, image/svg+xml and text/plain. */
  bundle(): MimeBundle {
    return this.toBundle(this.data);
  }

  /** The static SVG rendering. */
  svg(): string {
    return String(this.bundle()["image/svg+xml"]);
  }

  toString(): string {
    return String(this.bundle()["text/plain"]);
  }

  [DISPLAY_PROTOCOL](): MimeBundle {
    return this.bundle();
  }
}

export const plot = {
  /** Training curves: full data, series, rows `{ step, loss, ... }`, or `{ loss: number[] }` (step = index). */
  metrics(input: MetricsInput, options?: MetricsOptions): Figure<MetricsData> {
    return new Figure(toMetricsData(input, options), metricsBundle);
  },
  /** N:M sparsity patterns of one layer or several. */
  sparsity(layers: SparsityLayerInput | SparsityLayerInput[], options?: { title?: string }): Figure<SparsityData> {
    return new Figure(toSparsityData(layers, options), sparsityBundle);
  },
  /** A SLAM measurement graph with residuals and the certificate's verdict. */
  slam(data: SlamData): Figure<SlamData> {
    return new Figure(toSlamData(data), slamBundle);
  },
};
