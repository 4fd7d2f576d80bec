// application/vnd.nbforge.sparsity+json: N:M sparsity patterns, one layer at a
// time (a selector with each layer's density), mask or weights, with zoom.
import { sparsityFigure, type SparsityMode } from "./figures/sparsity.js";
import { PlotRenderer } from "./renderer.js";
import { SPARSITY_MIME, type Figure, type SparsityData, type Theme } from "./types.js";

export class SparsityRenderer extends PlotRenderer<SparsityData> {
  private layer = 0;
  private mode: SparsityMode = "mask";

  constructor(mimeType = SPARSITY_MIME) {
    super(mimeType);
    this.addClass("nbforge-sparsity");
  }

  protected accept(data: SparsityData): SparsityData {
    if (!data || !Array.isArray(data.layers) || data.layers.length === 0) throw new Error(`${SPARSITY_MIME}: expected { layers: [...] } with at least one layer`);
    if (this.layer >= data.layers.length) this.layer = 0;
    return data;
  }

  protected figure(theme: Theme): Figure {
    const layer = this.data!.layers[this.layer];
    return sparsityFigure(layer, layer.weights ? this.mode : "mask", theme);
  }

  protected buildControls(): void {
    const data = this.data!;
    this.controls.replaceChildren();
    this.select(
      "layer",
      data.layers.map((l, i) => ({ value: String(i), text: `${l.name} (${l.n}:${l.m}, ${(l.density * 100).toFixed(1)}%)` })),
      String(this.layer),
      (v) => {
        this.layer = Number(v);
        this.buildControls();
        void this.draw();
      },
    );
    if (data.layers[this.layer].weights) {
      this.select("show", [{ value: "mask", text: "mask" }, { value: "weights", text: "|weights|" }], this.mode, (v) => {
        this.mode = v;
        void this.draw();
      });
    }
  }
}
