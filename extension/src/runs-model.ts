// What the Training runs panel shows: one row per run (notebook, status, step,
// last metrics, elapsed time), a selection, and the overlay of selected runs in
// one chart. Pure: the widget in runs-panel.ts only draws these rows.
import type { LiveRegistry, RunState } from "./live.js";
import type { MetricsData, RunStatus } from "./types.js";

export interface RunRow {
  id: string;
  title: string;
  notebook: string;
  status: RunStatus;
  step: string;
  metrics: string;
  elapsed: string;
  selected: boolean;
}

export function formatElapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const two = (v: number) => String(v).padStart(2, "0");
  return h > 0 ? `${h}:${two(m)}:${two(s % 60)}` : `${m}:${two(s % 60)}`;
}

function formatMetrics(last: { [metric: string]: number }): string {
  return Object.entries(last)
    .map(([k, v]) => `${k} ${Number.isFinite(v) ? Number(v.toPrecision(4)) : v}`)
    .join(" · ");
}

export class RunsModel {
  private readonly selection = new Set<string>();

  constructor(readonly registry: LiveRegistry, private readonly now: () => number = () => Date.now()) {}

  /** Running runs first, then the most recently started. */
  rows(): RunRow[] {
    const order = (r: RunState) => (r.status === "running" ? 0 : 1);
    return this.registry
      .list()
      .sort((a, b) => order(a) - order(b) || b.startedAt - a.startedAt)
      .map((r) => ({
        id: r.id,
        title: r.title,
        notebook: r.notebook,
        status: r.status,
        step: r.step === undefined ? "–" : String(r.step),
        metrics: formatMetrics(r.last),
        elapsed: formatElapsed((r.endedAt ?? this.now()) - r.startedAt),
        selected: this.selection.has(r.id),
      }));
  }

  toggle(id: string): void {
    if (this.selection.has(id)) this.selection.delete(id);
    else if (this.registry.get(id)) this.selection.add(id);
  }

  selected(): string[] {
    return [...this.selection].filter((id) => this.registry.get(id));
  }

  /** The selected runs overlaid: every series tagged with its run's title (and notebook when titles repeat). */
  compare(ids: readonly string[] = this.selected()): MetricsData {
    const runs = ids.map((id) => this.registry.get(id)).filter((r): r is RunState => r !== undefined);
    if (runs.length === 0) throw new Error("Select at least one run in the Training runs panel to compare");
    const titles = runs.map((r) => r.title);
    const label = (r: RunState) => (titles.filter((t) => t === r.title).length > 1 ? `${r.title} · ${r.notebook || r.id.slice(0, 8)}` : r.title);
    return {
      title: `Compare: ${runs.map(label).join(", ")}`,
      series: runs.flatMap((r) => r.data.series.map((s) => ({ ...s, run: label(r) }))),
    };
  }
}
