// The live-run store and the Training runs panel model: comm messages from a
// real liveMetrics() (through a fake channel) rebuild the same data the kernel
// holds; rows show notebook, status, step, last metrics and elapsed time; a
// display's data merges with what streamed after it; compare overlays runs.
import { setDisplaySink } from "nbforge/dist/display/display.js";
import { setLiveChannelOpener, type LiveMessage } from "nbforge/dist/display/live-channel.js";
import { liveMetrics } from "nbforge/dist/display/live-metrics.js";
import { availableXAxes } from "nbforge-jupyterlab/lib/figures/metrics.js";
import { LiveRegistry, mergeMetrics } from "nbforge-jupyterlab/lib/live.js";
import { formatElapsed, RunsModel } from "nbforge-jupyterlab/lib/runs-model.js";

/** Runs liveMetrics with its comm connected straight to a registry. */
function stream(registry: LiveRegistry, notebook: string, title: string, steps: number, close = true) {
  setDisplaySink({ display: () => {}, clearOutput: () => {} });
  setLiveChannelOpener((_target, data) => {
    registry.handle(data, notebook);
    return { send: (m: LiveMessage) => registry.handle(m, notebook), onMessage: () => {}, close: () => {} };
  });
  const live = liveMetrics({ title, streamIntervalMs: 0 });
  for (let s = 0; s < steps; s++) live.log(s, { loss: 2 / (s + 1), acc: s / steps });
  if (close) live.close();
  return live;
}

afterEach(() => {
  setDisplaySink(undefined);
  setLiveChannelOpener(undefined);
});

describe("LiveRegistry", () => {
  test("rebuilds from the comm exactly the data the kernel holds", () => {
    const registry = new LiveRegistry();
    const live = stream(registry, "train.ipynb", "gpt", 700);
    const run = registry.get(live.id)!;
    const kernelData = live.data();
    expect(run.data.series.map((s) => [s.name, s.step, s.value])).toEqual(kernelData.series.map((s) => [s.name, s.step, s.value]));
    expect(run.status).toBe("finished");
    expect(run.step).toBe(699);
    expect(run.last.loss).toBeCloseTo(2 / 700, 15);
    expect(run.notebook).toBe("train.ipynb");
  });

  test("tokens logged with each step travel as an x axis", () => {
    const registry = new LiveRegistry();
    setDisplaySink({ display: () => {}, clearOutput: () => {} });
    setLiveChannelOpener((_t, data) => {
      registry.handle(data);
      return { send: (m) => registry.handle(m), onMessage: () => {}, close: () => {} };
    });
    const live = liveMetrics({ streamIntervalMs: 0 });
    for (let s = 0; s < 10; s++) live.log(s, { loss: 1 / (s + 1) }, { tokens: 2048 * (s + 1) });
    live.close();
    const run = registry.get(live.id)!;
    expect(run.data.series[0].tokens).toEqual(Array.from({ length: 10 }, (_, s) => 2048 * (s + 1)));
    expect(availableXAxes(run.data)).toEqual(["step", "time", "tokens"]);
  });

  test("subscribers hear each append; a display's data merges with newer streamed points", () => {
    const registry = new LiveRegistry();
    let appends = 0;
    setDisplaySink({ display: () => {}, clearOutput: () => {} });
    let id = "";
    setLiveChannelOpener((_t, data) => {
      registry.handle(data);
      id = (data.run as { id: string }).id;
      registry.subscribe(id, (e) => (appends += e.kind === "append" ? 1 : 0));
      return { send: (m) => registry.handle(m), onMessage: () => {}, close: () => {} };
    });
    const live = liveMetrics({ streamIntervalMs: 0 });
    live.log(0, { loss: 1 });
    const early = live.data(); // what an update_display_data carried at step 0
    live.log(1, { loss: 0.5 });
    live.log(2, { loss: 0.25 });
    expect(appends).toBe(3);
    const merged = registry.withStreamed(early);
    expect(merged.series[0].value).toEqual([1, 0.5, 0.25]);
    live.close();
  });

  test("appends that overlap a full state already received are not counted twice", () => {
    const registry = new LiveRegistry();
    registry.handle({ type: "state", id: "r", data: { title: "t", series: [{ name: "loss", step: [0, 1, 2], value: [5, 4, 3] }], live: { id: "r", status: "running", startedAt: 0 } } });
    // The kernel's next append starts at index 1: points 1 and 2 were in the state already.
    registry.handle({ type: "append", id: "r", series: [{ name: "loss", start: 1, step: [1, 2, 3, 4], value: [4, 3, 2, 1] }] });
    registry.handle({ type: "append", id: "r", series: [{ name: "loss", start: 2, step: [2], value: [3] }] });
    expect(registry.get("r")!.data.series[0].step).toEqual([0, 1, 2, 3, 4]);
    expect(registry.get("r")!.data.series[0].value).toEqual([5, 4, 3, 2, 1]);
  });

  test("mergeMetrics keeps the longer of each series and the finished status", () => {
    const a = { series: [{ name: "loss", step: [0, 1, 2], value: [3, 2, 1] }], live: { id: "r", status: "finished" as const, startedAt: 0 } };
    const b = { series: [{ name: "loss", step: [0], value: [3] }, { name: "lr", step: [0], value: [1] }], live: { id: "r", status: "running" as const, startedAt: 0 } };
    const m = mergeMetrics(a, b);
    expect(m.series.map((s) => [s.name, s.value.length])).toEqual([["loss", 3], ["lr", 1]]);
    expect(m.live?.status).toBe("finished");
  });

  test("a full state message (the reply to sync after a reload) replaces nothing newer", () => {
    const registry = new LiveRegistry();
    registry.handle({ type: "state", id: "r1", data: { title: "t", series: [{ name: "loss", step: [0, 1], value: [2, 1] }], live: { id: "r1", status: "running", startedAt: 5 } } }, "nb.ipynb");
    expect(registry.get("r1")?.data.series[0].value).toEqual([2, 1]);
    expect(registry.get("r1")?.step).toBe(1);
    registry.handle({ type: "nonsense" });
    registry.handle(null);
    expect(registry.list()).toHaveLength(1);
  });
});

describe("RunsModel", () => {
  test("rows: running first, then newest; notebook, status, step, metrics, elapsed", () => {
    const registry = new LiveRegistry();
    stream(registry, "a.ipynb", "first", 10);
    const running = stream(registry, "b.ipynb", "second", 5, false);
    const model = new RunsModel(registry, () => registry.get(running.id)!.startedAt + 65_000);
    const rows = model.rows();
    expect(rows.map((r) => [r.title, r.notebook, r.status, r.step])).toEqual([
      ["second", "b.ipynb", "running", "4"],
      ["first", "a.ipynb", "finished", "9"],
    ]);
    expect(rows[0].elapsed).toBe("1:05");
    expect(rows[0].metrics).toBe("loss 0.4 · acc 0.8");
    running.close();
  });

  test("compare overlays the selected runs, labelling repeated titles with their notebook", () => {
    const registry = new LiveRegistry();
    const a = stream(registry, "a.ipynb", "gpt", 20);
    const b = stream(registry, "b.ipynb", "gpt", 30);
    const model = new RunsModel(registry);
    model.toggle(a.id);
    model.toggle(b.id);
    const data = model.compare();
    expect(data.series.map((s) => [s.name, s.run, s.value.length])).toEqual([
      ["loss", "gpt · a.ipynb", 20],
      ["acc", "gpt · a.ipynb", 20],
      ["loss", "gpt · b.ipynb", 30],
      ["acc", "gpt · b.ipynb", 30],
    ]);
    model.toggle(a.id);
    expect(model.selected()).toEqual([b.id]);
    expect(() => new RunsModel(registry).compare()).toThrow(/Select at least one run/);
  });

  test("elapsed times format as m:ss and h:mm:ss", () => {
    expect(formatElapsed(59_900)).toBe("0:59");
    expect(formatElapsed(3_725_000)).toBe("1:02:05");
  });
});
