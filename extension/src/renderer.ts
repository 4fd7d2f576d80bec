// The base of nbforge's renderers: a widget with a row of controls above a
// plotly graph. renderModel is idempotent: every call (a first display, an
// update_display_data, a control change) draws with Plotly.react, which diffs
// against what is drawn, so an update always shows. The graph resizes with its
// panel and follows the JupyterLab theme (light or dark) as it changes.
import type { IRenderMime } from "@jupyterlab/rendermime-interfaces";
import { Widget } from "@lumino/widgets";
import Plotly from "plotly.js-dist-min";
import { LIGHT_THEME, type Figure, type Theme } from "./types.js";

const CONFIG = { displaylogo: false, responsive: false, scrollZoom: true } as const;

/** The theme colours JupyterLab sets as CSS variables on the page. */
export function currentTheme(): Theme {
  if (typeof document === "undefined") return LIGHT_THEME;
  const style = getComputedStyle(document.body);
  const read = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  const dark = document.body.dataset.jpThemeLight === "false";
  return {
    dark,
    background: read("--jp-layout-color0", dark ? "#111111" : LIGHT_THEME.background),
    foreground: read("--jp-ui-font-color1", dark ? "#e0e0e0" : LIGHT_THEME.foreground),
    grid: read("--jp-border-color2", dark ? "#333333" : LIGHT_THEME.grid),
    font: read("--jp-ui-font-family", LIGHT_THEME.font),
  };
}

export abstract class PlotRenderer<D> extends Widget implements IRenderMime.IRenderer {
  protected readonly controls = document.createElement("div");
  protected readonly graph = document.createElement("div");
  protected data: D | undefined;
  private drawing: Promise<void> = Promise.resolve();
  private readonly resizeObserver: ResizeObserver;
  private readonly themeObserver: MutationObserver;

  constructor(protected readonly mimeType: string) {
    super();
    this.addClass("nbforge-plot");
    this.controls.className = "nbforge-controls";
    this.graph.className = "nbforge-graph";
    this.node.append(this.controls, this.graph);
    this.resizeObserver = new ResizeObserver(() => this.resizeGraph());
    this.resizeObserver.observe(this.node);
    this.themeObserver = new MutationObserver(() => void this.draw());
    this.themeObserver.observe(document.body, { attributes: true, attributeFilter: ["data-jp-theme-light", "data-jp-theme-name"] });
  }

  /** Called for the first display and again for every update: always redraws. */
  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    this.data = this.accept(model.data[this.mimeType] as unknown as D);
    this.buildControls();
    await this.draw();
  }

  /** Takes the mime data (and may merge in live state). */
  protected accept(data: D): D {
    return data;
  }

  /** The figure for the current data, view and theme. */
  protected abstract figure(theme: Theme): Figure;

  /** Rebuilds the control row for the current data. */
  protected abstract buildControls(): void;

  /** Draws the whole figure; draws are serialised so that a later one always wins. */
  protected draw(): Promise<void> {
    this.drawing = this.drawing.then(() => this.drawNow());
    return this.drawing;
  }

  /** The whole draw itself, for a step that already runs in the serialised queue. */
  protected async drawNow(): Promise<void> {
    if (this.data === undefined || this.isDisposed) return;
    const { data, layout } = this.figure(currentTheme());
    await Plotly.react(this.graph, data, layout, CONFIG);
    this.afterDraw();
  }

  /** Hook after each full draw. */
  protected afterDraw(): void {}

  /** Runs after any draw in flight, for in-place updates (extendTraces). */
  protected afterDrawing(step: () => Promise<unknown> | void): Promise<void> {
    this.drawing = this.drawing.then(async () => {
      if (!this.isDisposed) await step();
    });
    return this.drawing;
  }

  protected onResize(): void {
    this.resizeGraph();
  }

  private resizeGraph(): void {
    if (this.isDisposed || !this.graph.isConnected || this.graph.clientWidth === 0) return;
    // The graph may not have been drawn yet; resizing an empty div is refused by plotly.
    if ((this.graph as unknown as { _fullLayout?: unknown })._fullLayout) void Plotly.Plots.resize(this.graph);
  }

  dispose(): void {
    if (this.isDisposed) return;
    this.resizeObserver.disconnect();
    this.themeObserver.disconnect();
    Plotly.purge(this.graph);
    super.dispose();
  }

  // Small control builders shared by the renderers.
  protected select<T extends string>(label: string, options: readonly { value: T; text: string }[], value: T, onChange: (v: T) => void): HTMLSelectElement {
    const wrap = document.createElement("label");
    wrap.textContent = `${label} `;
    const el = document.createElement("select");
    for (const o of options) {
      const opt = document.createElement("option");
      opt.value = o.value;
      opt.textContent = o.text;
      el.append(opt);
    }
    el.value = value;
    el.addEventListener("change", () => onChange(el.value as T));
    wrap.append(el);
    this.controls.append(wrap);
    return el;
  }

  protected checkbox(label: string, checked: boolean, onChange: (v: boolean) => void): HTMLInputElement {
    const wrap = document.createElement("label");
    const el = document.createElement("input");
    el.type = "checkbox";
    el.checked = checked;
    el.addEventListener("change", () => onChange(el.checked));
    wrap.append(el, ` ${label}`);
    this.controls.append(wrap);
    return el;
  }
}
