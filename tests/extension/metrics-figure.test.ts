// The metrics renderer's data handling: traces per series and subplot, EMA
// smoothing against the closed-form weighted average, log axes, WebGL for large
// series, and in-place extension that ends where a full redraw would.
import type { MetricsData } from "nbforge/dist/display/plot-types.js";
import { toMetricsData } from "nbforge/dist/display/plot-metrics.js";
import {
  availableXAxes,
  decimate,
  defaultView,
  DRAW_LIMIT,
  emaSmooth,
  emaStates,
  extendPlan,
  metricsFigure,
  WEBGL_THRESHOLD,
  type MetricsView,
} from "nbforge-jupyterlab/lib/figures/metrics.js";
import { LIGHT_THEME } from "nbforge-jupyterlab/lib/types.js";
import { seededRandom } from "../support/seeded-random.js";

type Trace = { type: string; x: number[]; y: number[]; xaxis: string; yaxis: string; name: string };

function traces(data: MetricsData, view: MetricsView): Trace[] {
  return metricsFigure(data, view, LIGHT_THEME).data as unknown as Trace[];
}

/** EMA debiased at step k equals the average of y_0..y_k weighted by w^(k-i). */
function weightedAverage(values: number[], w: number): number[] {
  return values.map((_, k) => {
    let num = 0, den = 0;
    for (let i = 0; i <= k; i++) {
      num += w ** (k - i) * values[i];
      den += w ** (k - i);
    }
    return num / den;
  });
}

describe("EMA smoothing", () => {
  test("equals the normalised exponentially weighted average (TensorBoard's debiased EMA)", () => {
    const rand = seededRandom(7);
    const values = Array.from({ length: 200 }, () => rand() * 10);
    for (const w of [0, 0.3, 0.9, 0.99]) {
      const got = emaSmooth(values, w);
      const want = weightedAverage(values, w);
      got.forEach((v, i) => expect(v).toBeCloseTo(want[i], 9));
    }
  });

  test("continuing from a saved state equals smoothing the whole series", () => {
    const values = Array.from({ length: 50 }, (_, i) => Math.sin(i) + i / 10);
    const state = { accum: 0, count: 0 };
    const head = emaSmooth(values.slice(0, 20), 0.8, state);
    const tail = emaSmooth(values.slice(20), 0.8, state);
    expect([...head, ...tail]).toEqual(emaSmooth(values, 0.8));
  });
});

describe("metricsFigure", () => {
  const data = toMetricsData({
    series: [
      { name: "loss", run: "a", step: [0, 1, 2], value: [3, 2, 1], time: [0, 0.5, 1] },
      { name: "loss", run: "b", step: [0, 1, 2], value: [4, 3, 2], time: [0, 0.4, 0.9] },
      { name: "lr", run: "a", step: [0, 1, 2], value: [1e-3, 5e-4, 1e-4], time: [0, 0.5, 1] },
    ],
  });

  test("one trace per series, one subplot per metric, runs share colours across subplots", () => {
    const t = traces(data, defaultView(data));
    expect(t).toHaveLength(3);
    expect(t.map((x) => x.yaxis)).toEqual(["y", "y", "y2"]);
    expect(t.map((x) => x.y.length)).toEqual([3, 3, 3]);
    const colours = (metricsFigure(data, defaultView(data), LIGHT_THEME).data as unknown as { line: { color: string } }[]).map((x) => x.line.color);
    expect(colours[0]).toBe(colours[2]);
    expect(colours[0]).not.toBe(colours[1]);
  });

  test("smoothing adds a smoothed trace per series; log metrics get a log axis; wall time as x", () => {
    const view: MetricsView = { xAxis: "time", smoothing: 0.6, logY: new Set(["lr"]) };
    const fig = metricsFigure(data, view, LIGHT_THEME);
    const t = fig.data as unknown as Trace[];
    expect(t).toHaveLength(6);
    expect(t[1].y).toEqual(emaSmooth([3, 2, 1], 0.6));
    expect(t[0].x).toEqual([0, 0.5, 1]);
    expect((fig.layout as { yaxis2: { type: string } }).yaxis2.type).toBe("log");
    expect((fig.layout as { yaxis: { type: string } }).yaxis.type).toBe("linear");
    expect(availableXAxes(data)).toEqual(["step", "time"]);
  });

  test("series longer than the WebGL threshold use scattergl", () => {
    const big = toMetricsData({ loss: Array.from({ length: WEBGL_THRESHOLD + 1 }, (_, i) => 1 / (i + 1)) });
    expect(traces(big, defaultView(big))[0].type).toBe("scattergl");
    expect(traces(data, defaultView(data))[0].type).toBe("scatter");
  });
});

describe("extendPlan", () => {
  function grow(view: MetricsView): void {
    const full: MetricsData = {
      series: [
        { name: "loss", step: Array.from({ length: 300 }, (_, i) => i), value: Array.from({ length: 300 }, (_, i) => Math.exp(-i / 50) + ((i * 7) % 5) / 50) },
        { name: "reward", step: Array.from({ length: 300 }, (_, i) => i), value: Array.from({ length: 300 }, (_, i) => Math.log1p(i)) },
      ],
    };
    const prefix = (n: number): MetricsData => ({ series: full.series.map((s) => ({ ...s, step: s.step.slice(0, n), value: s.value.slice(0, n) })) });
    // Draw 100 points, then extend three times in uneven batches.
    let drawnData = prefix(100);
    const drawn = traces(drawnData, view).map((t) => ({ x: [...t.x], y: [...t.y] }));
    const ema = emaStates(drawnData, view);
    let counts = drawnData.series.map((s) => s.value.length);
    const lengths = drawn.map((t) => t.x.length);
    for (const n of [101, 180, 300]) {
      drawnData = prefix(n);
      const plan = extendPlan(drawnData, view, counts, lengths, ema)!;
      plan.indices.forEach((traceIndex, k) => {
        drawn[traceIndex].x.push(...plan.update.x[k]);
        drawn[traceIndex].y.push(...plan.update.y[k]);
      });
      counts = drawnData.series.map((s) => s.value.length);
    }
    const redrawn = traces(full, view);
    expect(drawn.map((t) => t.x)).toEqual(redrawn.map((t) => t.x));
    expect(lengths).toEqual(redrawn.map((t) => t.x.length));
    drawn.forEach((t, i) => t.y.forEach((v, j) => expect(v).toBeCloseTo(redrawn[i].y[j], 12)));
  }

  test("extending in place ends with the traces of a full redraw (raw)", () => grow({ xAxis: "step", smoothing: 0, logY: new Set() }));
  test("extending in place ends with the traces of a full redraw (smoothed)", () => grow({ xAxis: "step", smoothing: 0.9, logY: new Set() }));

  test("crossing the WebGL threshold asks for a redraw", () => {
    const n = WEBGL_THRESHOLD + 10;
    const data: MetricsData = { series: [{ name: "loss", step: Array.from({ length: n }, (_, i) => i), value: new Array(n).fill(1) }] };
    const view = defaultView(data);
    expect(extendPlan(data, view, [WEBGL_THRESHOLD - 5], [WEBGL_THRESHOLD - 5], new Map())).toBeUndefined();
    expect(extendPlan(data, view, [n], [n], new Map())?.indices).toEqual([]);
  });

  test("a trace that would pass DRAW_LIMIT points asks for a redraw, which decimates it", () => {
    const n = DRAW_LIMIT + 50;
    const data: MetricsData = { series: [{ name: "loss", step: Array.from({ length: n }, (_, i) => i), value: Array.from({ length: n }, (_, i) => Math.sin(i / 7)) }] };
    const view = defaultView(data);
    expect(extendPlan(data, view, [n - 100], [DRAW_LIMIT - 10], new Map())).toBeUndefined();
    expect(extendPlan(data, view, [n - 100], [DRAW_LIMIT / 2], new Map())?.update.x[0]).toHaveLength(100);
    expect(traces(data, view)[0].x.length).toBeLessThanOrEqual(DRAW_LIMIT / 2);
  });
});

describe("decimate", () => {
  test("each bucket keeps exactly its minimum and maximum, in order", () => {
    const rand = seededRandom(5);
    const n = 10_007, buckets = 100;
    const x = Array.from({ length: n }, (_, i) => i);
    const y = Array.from({ length: n }, () => rand() - 0.5);
    const d = decimate(x, y, buckets);
    expect(d.x).toEqual([...d.x].sort((a, b) => a - b));
    for (let b = 0; b < buckets; b++) {
      const start = Math.floor((b * n) / buckets), end = Math.floor(((b + 1) * n) / buckets);
      const slice = y.slice(start, end);
      const kept = d.y.filter((_, k) => d.x[k] >= start && d.x[k] < end);
      expect(kept.sort((p, q) => p - q)).toEqual([Math.min(...slice), Math.max(...slice)]);
    }
    expect(Math.max(...d.y)).toBe(Math.max(...y));
    expect(Math.min(...d.y)).toBe(Math.min(...y));
  });
});
