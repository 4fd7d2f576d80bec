// Text and HTML forms of a progress bar: pure functions of its state, so the
// bar looks the same in a terminal, in a saved notebook and in JupyterLab.
import { escapeXml } from "./svg.js";

export interface ProgressState {
  label?: string;
  n: number;
  total?: number;
  /** Seconds since the bar started. */
  elapsed: number;
  /** Smoothed items per second, undefined before the first measurement. */
  rate?: number;
  postfix?: string;
  done: boolean;
}

/** 75 -> "01:15", 4000 -> "1:06:40". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const two = (v: number) => String(v).padStart(2, "0");
  return h > 0 ? `${h}:${two(m)}:${two(s % 60)}` : `${two(m)}:${two(s % 60)}`;
}

/** Items per second, or seconds per item when slower than one per second (as tqdm does). */
export function formatRate(rate: number | undefined): string {
  if (rate === undefined || !Number.isFinite(rate) || rate <= 0) return "? it/s";
  if (rate < 1) return `${(1 / rate).toPrecision(3)} s/it`;
  if (rate >= 1e6) return `${(rate / 1e6).toPrecision(3)}M it/s`;
  if (rate >= 1e4) return `${(rate / 1e3).toPrecision(3)}k it/s`;
  return `${rate >= 100 ? rate.toFixed(0) : rate.toPrecision(3)} it/s`;
}

/** Seconds left at the current rate, undefined when unknown. */
export function secondsLeft(state: ProgressState): number | undefined {
  if (state.total === undefined || state.rate === undefined || state.rate <= 0) return undefined;
  return Math.max(0, state.total - state.n) / state.rate;
}

function fraction(state: ProgressState): number | undefined {
  if (state.total === undefined) return undefined;
  return state.total > 0 ? Math.min(1, state.n / state.total) : 1;
}

/** "[00:12<00:15, 37.5 it/s, loss=0.12]" */
function timing(state: ProgressState): string {
  const left = secondsLeft(state);
  const parts = [
    state.total !== undefined && !state.done ? `${formatDuration(state.elapsed)}<${left === undefined ? "?" : formatDuration(left)}` : formatDuration(state.elapsed),
    formatRate(state.rate),
  ];
  if (state.postfix) parts.push(state.postfix);
  return `[${parts.join(", ")}]`;
}

/** "train:  45%|█████▍      | 450/1000 [00:12<00:15, 37.5 it/s]" */
export function textBar(state: ProgressState, width = 24): string {
  const prefix = state.label ? `${state.label}: ` : "";
  const f = fraction(state);
  if (f === undefined) return `${prefix}${state.n} it ${timing(state)}`;
  const eighths = Math.round(f * width * 8);
  const full = Math.floor(eighths / 8);
  const partial = eighths % 8;
  const bar = "█".repeat(full) + (partial > 0 ? " ▏▎▍▌▋▊▉"[partial] : "");
  const pct = `${Math.floor(f * 100)}%`.padStart(4);
  return `${prefix}${pct}|${bar.padEnd(width)}| ${state.n}/${state.total} ${timing(state)}`;
}

/** An HTML bar styled with JupyterLab's theme variables (with fallbacks for other front ends). */
export function htmlBar(state: ProgressState): string {
  const f = fraction(state);
  const pct = f === undefined ? undefined : Math.floor(f * 100);
  const colour = state.done ? "var(--jp-success-color1, #4caf50)" : "var(--jp-brand-color1, #1976d2)";
  const bar =
    f === undefined
      ? ""
      : `<div style="flex:0 0 220px;height:10px;border-radius:5px;background:var(--jp-layout-color3, #ddd);overflow:hidden">` +
        `<div style="width:${(f * 100).toFixed(1)}%;height:100%;background:${colour}"></div></div>`;
  const label = state.label ? `<span style="font-weight:600">${escapeXml(state.label)}</span>` : "";
  const count = f === undefined ? `${state.n} it` : `${pct}% ${state.n}/${state.total}`;
  return (
    `<div class="nbforge-progress" style="display:flex;gap:8px;align-items:center;font-family:var(--jp-code-font-family, monospace);font-size:12px">` +
    `${label}${bar}<span>${escapeXml(count)} ${escapeXml(timing(state))}</span></div>`
  );
}
