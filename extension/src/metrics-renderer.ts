// application/vnd.nbforge.metrics+json: training curves. Controls for the x
// axis, EMA smoothing and log scales. A live run's new points arrive from the
// nbforge.live comm and extend the traces in place, at most once per animation
// frame; an update_display_data with the full state redraws with Plotly.react.
import Plotly from "plotly.js-dist-min";
import {
  availableXAxes,
  defaultView,
  emaStates,
  extendPlan,
  metricNames,
  metricsFigure,
  structureKey,
  type EmaState,
  type MetricsView,
} from "./figures/metrics.js";
import type { LiveRegistry } from "./live.js";
import { PlotRenderer } from "./renderer.js";
import { METRICS_MIME, type Figure, type MetricsData, type Theme } from "./types.js";

export class MetricsRenderer extends PlotRenderer<MetricsData> {
  private view: MetricsView | undefined;
  private modelData: MetricsData | undefined;
  private unsubscribe: (() => void) | undefined;
  /** Points of each series already drawn (consumed), and points each trace holds. */
  private drawnCounts: number[] = [];
  private traceLengths: number[] = [];
  private drawnKey = "";
  private ema = new Map<number, EmaState>();
  private frame: number | undefined;
  private status: HTMLSpanElement | undefined;
  /** Milliseconds spent drawing each live update, in place or redrawn (read by the live benchmark). */
  readonly updateTimes: number[] = [];
  private inPlace = 0;

  constructor(private readonly registry: LiveRegistry | undefined, mimeType = METRICS_MIME) {
    super(mimeType);
    this.addClass("nbforge-metrics");
  }

  protected accept(data: MetricsData): MetricsData {
    if (!data || !Array.isArray(data.series)) throw new Error(`${METRICS_MIME}: expected { series: [...] }`);
    this.modelData = data;
    this.view ??= defaultView(data);
    this.follow(data.live?.id);
    return this.registry ? this.registry.withStreamed(data) : data;
  }

  private follow(id: string | undefined): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (!id || !this.registry) return;
    this.unsubscribe = this.registry.subscribe(id, () => this.schedule());
  }

  /** Coalesces the comm's messages into one update per animation frame. */
  private schedule(): void {
    if (this.frame !== undefined || this.isDisposed) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = undefined;
      void this.extend();
    });
  }

  /** Appends what streamed since the last draw, or redraws when the series changed. */
  private extend(): Promise<void> {
    return this.afterDrawing(async () => {
      if (!this.modelData || !this.view) return;
      const data = this.registry ? this.registry.withStreamed(this.modelData) : this.modelData;
      this.data = data;
      const t0 = performance.now();
      const sameSeries = structureKey(data) === this.drawnKey;
      const plan = sameSeries ? extendPlan(data, this.view, this.drawnCounts, this.traceLengths, this.ema) : undefined;
      if (!plan) {
        if (!sameSeries) this.buildControls();
        await this.drawNow();
      } else if (plan.indices.length > 0) {
        await Plotly.extendTraces(this.graph, plan.update, plan.indices);
        this.drawnCounts = data.series.map((s) => s.value.length);
        this.inPlace++;
      } else {
        return this.updateStatus();
      }
      this.updateTimes.push(performance.now() - t0);
      // Visible to tests and the benchmark: live updates drawn, and how many of them in place.
      this.graph.dataset.updates = String(this.updateTimes.length);
      this.graph.dataset.extends = String(this.inPlace);
      this.updateStatus();
    });
  }

  protected figure(theme: Theme): Figure {
    return metricsFigure(this.data!, this.view!, theme);
  }

  protected afterDraw(): void {
    const data = this.data!;
    this.drawnKey = structureKey(data);
    this.drawnCounts = data.series.map((s) => s.value.length);
    this.traceLengths = (this.graph as unknown as { data?: { x?: unknown[] }[] }).data?.map((t) => t.x?.length ?? 0) ?? [];
    this.ema = emaStates(data, this.view!);
    this.updateStatus();
  }

  protected buildControls(): void {
    const data = this.data!;
    const view = this.view!;
    this.controls.replaceChildren();
    const axes = availableXAxes(data);
    if (axes.length > 1) {
      this.select("x", axes.map((a) => ({ value: a, text: a === "time" ? "wall time" : a })), view.xAxis, (v) => {
        view.xAxis = v;
        void this.draw();
      });
    }
    const wrap = document.createElement("label");
    wrap.textContent = "smoothing ";
    const slider = document.createElement("input");
    slider.type = "range";
    slider.min = "0";
    slider.max = "0.99";
    slider.step = "0.01";
    slider.value = String(view.smoothing);
    slider.className = "nbforge-smoothing";
    const shown = document.createElement("span");
    shown.textContent = view.smoothing.toFixed(2);
    slider.addEventListener("input", () => {
      view.smoothing = Number(slider.value);
      shown.textContent = view.smoothing.toFixed(2);
      void this.draw();
    });
    wrap.append(slider, " ", shown);
    this.controls.append(wrap);
    for (const name of metricNames(data)) {
      this.checkbox(`log ${name}`, view.logY.has(name), (on) => {
        const logY = new Set(view.logY);
        if (on) logY.add(name);
        else logY.delete(name);
        view.logY = logY;
        void this.draw();
      });
    }
    this.status = document.createElement("span");
    this.status.className = "nbforge-status";
    this.controls.append(this.status);
  }

  private updateStatus(): void {
    const live = this.data?.live;
    if (!this.status) return;
    const points = this.data!.series.reduce((n, s) => n + s.value.length, 0);
    this.status.textContent = live ? `${live.status} · ${points} points` : `${points} points`;
    this.status.dataset.status = live?.status ?? "static";
  }

  dispose(): void {
    this.unsubscribe?.();
    if (this.frame !== undefined) cancelAnimationFrame(this.frame);
    super.dispose();
  }
}
