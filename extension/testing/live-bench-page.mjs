// The page of bench/live.mjs: our metrics renderer following a live run, fed
// from JavaScript exactly as the nbforge.live comm feeds it (append messages
// into the live-run store), against plotly's own way: the whole figure
// re-sent in every update_display_data, parsed, and redrawn with Plotly.react
// (every point, as the stock plotly mime renderer draws it). Frames are counted
// with requestAnimationFrame and the main thread's stalls with a 10 ms timer.
import { Widget } from "@lumino/widgets";
import Plotly from "plotly.js-dist-min";
import { LiveRegistry } from "nbforge-jupyterlab/lib/live.js";
import { MetricsRenderer } from "nbforge-jupyterlab/lib/metrics-renderer.js";
import { modelOf } from "nbforge-jupyterlab/lib/live-chart.js";

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

function summary(times) {
  const s = [...times].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 0.5), p95: percentile(s, 0.95), max: s[s.length - 1] ?? NaN, mean: s.reduce((a, b) => a + b, 0) / Math.max(1, s.length) };
}

/** Watches the main thread with a 10 ms timer: the longest stall (how long a click would wait). */
function monitor() {
  let maxLag = 0;
  let expected = performance.now() + 10;
  const timer = setInterval(() => {
    const now = performance.now();
    maxLag = Math.max(maxLag, now - expected);
    expected = now + 10;
  }, 10);
  return () => {
    clearInterval(timer);
    return { maxLagMs: maxLag };
  };
}

/** Frames at 60 Hz that updates taking `times` ms keep from being drawn: each covers ceil(t / 16.7) frames, one of them its own. */
function droppedFrames(times) {
  return times.reduce((n, t) => n + Math.max(0, Math.ceil(t / (1000 / 60)) - 1), 0);
}

function mount(renderer) {
  renderer.node.style.cssText = "width:900px;height:420px;display:block";
  Widget.attach(renderer, document.body);
}

function point(step) {
  return Math.exp(-step / 30000) + 0.05 * Math.sin(step / 50);
}

/** Streams `updates` batches of `batch` points at `rate` per second; returns timings. */
async function run(mode, { updates, batch, rate }) {
  document.body.replaceChildren();
  const registry = new LiveRegistry();
  const id = `bench-${mode}`;
  const renderer = new MetricsRenderer(registry);
  const plain = document.createElement("div");
  plain.style.cssText = "width:900px;height:420px";
  if (mode === "stream") {
    mount(renderer);
    registry.handle({ type: "start", run: { id, title: "bench", startedAt: Date.now() } });
    await renderer.renderModel(modelOf({ title: "bench", series: [{ name: "loss", step: [], value: [] }], live: { id, status: "running", startedAt: Date.now() } }));
  } else {
    document.body.append(plain);
  }
  const all = { step: [], value: [] };
  const times = [];
  const stop = monitor();
  const started = performance.now();
  for (let u = 0; u < updates; u++) {
    const step = Array.from({ length: batch }, (_, k) => u * batch + k);
    const value = step.map(point);
    const target = started + ((u + 1) * 1000) / rate;
    all.step.push(...step);
    all.value.push(...value);
    if (mode === "stream") {
      // The comm message, as the kernel sends it; the renderer draws it on the next frame.
      const before = renderer.updateTimes.length;
      registry.handle(JSON.parse(JSON.stringify({ type: "append", id, step: step[batch - 1], series: [{ name: "loss", step, value }] })));
      while (renderer.updateTimes.length === before) await new Promise((r) => requestAnimationFrame(r));
      times.push(renderer.updateTimes[renderer.updateTimes.length - 1]);
    } else {
      // update_display_data with the whole plotly figure, parsed and redrawn.
      const figure = {
        data: [{ type: all.value.length > 5000 ? "scattergl" : "scatter", mode: "lines", x: all.step, y: all.value }],
        layout: { title: { text: "bench" }, autosize: true },
      };
      const message = JSON.stringify({ data: { "application/vnd.plotly.v1+json": figure } });
      const t0 = performance.now();
      const parsed = JSON.parse(message).data["application/vnd.plotly.v1+json"];
      await Plotly.react(plain, parsed.data, parsed.layout);
      times.push(performance.now() - t0);
    }
    if (u % 10 === 9 && window.benchProgress) void window.benchProgress(10);
    const wait = target - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  const elapsed = (performance.now() - started) / 1000;
  const frames = stop();
  const gd = mode === "stream" ? renderer.node.querySelector(".nbforge-graph") : plain;
  const result = { mode, ...summary(times), ...frames, dropped: droppedFrames(times), frames: Math.round(elapsed * 60), elapsed, drawn: gd.data[0].x.length, traceType: gd.data[0].type };
  renderer.dispose();
  Plotly.purge(plain);
  return result;
}

window.bench = { run };
document.title = "nbforge live bench ready";
