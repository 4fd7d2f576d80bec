// The "Training runs" side panel: one row per live or finished run with its
// notebook, status, step, last metrics and elapsed time. Clicking a row opens
// the run's live chart; the checkboxes select runs to compare.
import { Widget } from "@lumino/widgets";
import type { RunsModel } from "./runs-model.js";

export class RunsPanel extends Widget {
  private readonly list = document.createElement("div");
  private readonly unsubscribe: () => void;
  private readonly ticker: ReturnType<typeof setInterval>;

  constructor(
    readonly model: RunsModel,
    private readonly open: (id: string) => void,
    private readonly compare: (ids: string[]) => void,
  ) {
    super();
    this.id = "nbforge-runs";
    this.addClass("nbforge-runs");
    this.title.caption = "Training runs";
    const header = document.createElement("div");
    header.className = "nbforge-runs-header";
    const heading = document.createElement("h3");
    heading.textContent = "Training runs";
    const compareButton = document.createElement("button");
    compareButton.textContent = "Compare selected";
    compareButton.className = "nbforge-compare";
    compareButton.addEventListener("click", () => this.compare(this.model.selected()));
    header.append(heading, compareButton);
    this.list.className = "nbforge-runs-list";
    this.node.append(header, this.list);
    this.unsubscribe = model.registry.onChange(() => this.scheduleRender());
    // Elapsed times of running runs tick even without new points.
    this.ticker = setInterval(() => this.scheduleRender(), 1000);
    this.render();
  }

  private pending = false;

  private scheduleRender(): void {
    if (this.pending || this.isDisposed) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.render();
    });
  }

  render(): void {
    const rows = this.model.rows();
    this.list.replaceChildren();
    if (rows.length === 0) {
      const empty = document.createElement("p");
      empty.className = "nbforge-runs-empty";
      empty.textContent = "No runs yet. A cell that calls liveMetrics() shows up here while it trains.";
      this.list.append(empty);
      return;
    }
    for (const row of rows) {
      const item = document.createElement("div");
      item.className = "nbforge-run";
      item.dataset.runId = row.id;
      item.dataset.status = row.status;
      const check = document.createElement("input");
      check.type = "checkbox";
      check.checked = row.selected;
      check.title = "select to compare";
      check.addEventListener("click", (e) => {
        e.stopPropagation();
        this.model.toggle(row.id);
      });
      const body = document.createElement("div");
      body.className = "nbforge-run-body";
      const title = document.createElement("div");
      title.className = "nbforge-run-title";
      title.textContent = row.title;
      const meta = document.createElement("div");
      meta.className = "nbforge-run-meta";
      meta.textContent = `${row.notebook || "kernel"} · ${row.status} · step ${row.step} · ${row.elapsed}`;
      const metrics = document.createElement("div");
      metrics.className = "nbforge-run-metrics";
      metrics.textContent = row.metrics;
      body.append(title, meta, metrics);
      item.append(check, body);
      item.addEventListener("click", () => this.open(row.id));
      this.list.append(item);
    }
  }

  dispose(): void {
    this.unsubscribe();
    clearInterval(this.ticker);
    super.dispose();
  }
}
