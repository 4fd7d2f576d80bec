// application/vnd.nbforge.slam+json: SLAM measurement graphs in 2-D or 3-D,
// coloured by residual, by the certificate's verdict, or by edge kind.
import { defaultSlamView, slamFigure, type SlamColouring, type SlamView } from "./figures/slam.js";
import { PlotRenderer } from "./renderer.js";
import { SLAM_MIME, type Figure, type SlamData, type Theme } from "./types.js";

export class SlamRenderer extends PlotRenderer<SlamData> {
  private view: SlamView | undefined;

  constructor(mimeType = SLAM_MIME) {
    super(mimeType);
    this.addClass("nbforge-slam");
  }

  protected accept(data: SlamData): SlamData {
    if (!data || (data.d !== 2 && data.d !== 3) || !Array.isArray(data.poses)) throw new Error(`${SLAM_MIME}: expected { d: 2 | 3, poses, landmarks, edges }`);
    this.view ??= defaultSlamView(data);
    if (data.d === 2) this.view.dims = 2;
    return data;
  }

  protected figure(theme: Theme): Figure {
    return slamFigure(this.data!, this.view!, theme);
  }

  protected buildControls(): void {
    const data = this.data!;
    const view = this.view!;
    this.controls.replaceChildren();
    if (data.d === 3) {
      this.select("view", [{ value: "3", text: "3-D" }, { value: "2", text: "2-D (x, y)" }], String(view.dims) as "2" | "3", (v) => {
        view.dims = v === "3" ? 3 : 2;
        void this.draw();
      });
    }
    const options: { value: SlamColouring; text: string }[] = [{ value: "kind", text: "edge kind" }];
    if (data.edges.some((e) => e.residual !== undefined)) options.unshift({ value: "residual", text: "residual" });
    if (data.certificate) options.push({ value: "certificate", text: "certificate" });
    this.select("colour by", options, view.colouring, (v) => {
      view.colouring = v;
      void this.draw();
    });
  }
}
