// The kernel-side display helpers in a plain process: progress bars (text and
// HTML forms, rate and time left, iteration), liveMetrics streaming over a fake
// nbforge.live channel, and the full state that update_display_data carries.
import { Writable } from "node:stream";
import { setDisplaySink, type MimeBundle } from "nbforge/dist/display/display.js";
import { setLiveChannelOpener, type LiveMessage } from "nbforge/dist/display/live-channel.js";
import { progress } from "nbforge/dist/display/progress.js";
import { formatDuration, formatRate, secondsLeft, textBar } from "nbforge/dist/display/progress-format.js";
import { liveMetrics } from "nbforge/dist/display/live-metrics.js";
import type { MetricsData } from "nbforge/dist/display/plot-types.js";

function captureStream(): { stream: Writable & { isTTY?: boolean }; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { stream, text: () => chunks.join("") };
}

interface Shown {
  bundle: MimeBundle;
  displayId: string | undefined;
  update: boolean;
}

function captureSink(): Shown[] {
  const shown: Shown[] = [];
  setDisplaySink({ display: (bundle, _m, displayId, update) => shown.push({ bundle, displayId, update }), clearOutput: () => {} });
  return shown;
}

afterEach(() => {
  setDisplaySink(undefined);
  setLiveChannelOpener(undefined);
});

describe("progress formatting", () => {
  test("durations, rates and time left", () => {
    expect(formatDuration(75)).toBe("01:15");
    expect(formatDuration(4000)).toBe("1:06:40");
    expect(formatRate(37.5)).toBe("37.5 it/s");
    expect(formatRate(0.25)).toBe("4.00 s/it");
    expect(formatRate(undefined)).toBe("? it/s");
    expect(secondsLeft({ n: 250, total: 1000, elapsed: 10, rate: 25, done: false })).toBe(30);
  });

  test("the text bar shows percent, count, elapsed<left and the postfix", () => {
    const line = textBar({ label: "train", n: 450, total: 1000, elapsed: 12, rate: 37.5, postfix: "loss=0.12", done: false });
    expect(line).toMatch(/^train:  45%\|/);
    expect(line).toContain("450/1000 [00:12<00:15, 37.5 it/s, loss=0.12]");
  });
});

describe("progress() outside a notebook", () => {
  test("iterates every item of an array and ends with a full bar on the stream", () => {
    const { stream, text } = captureStream();
    const seen: string[] = [];
    for (const x of progress(["a", "b", "c"], { label: "letters", stream, minIntervalMs: 0 })) seen.push(x);
    expect(seen).toEqual(["a", "b", "c"]);
    const lines = text().trim().split("\n");
    expect(lines[lines.length - 1]).toMatch(/^letters: 100%\|.*\| 3\/3 \[/);
  });

  test("a total counts 0..total-1; update(n, postfix) and close() by hand", () => {
    const { stream, text } = captureStream();
    expect([...progress(4, { stream })]).toEqual([0, 1, 2, 3]);
    const bar = progress(10, { stream, minIntervalMs: 0 });
    bar.update(4, { loss: 0.5 });
    bar.update(6);
    bar.close();
    expect(bar.n).toBe(10);
    expect(text()).toContain("10/10");
    expect(text()).toContain("loss=0.5000");
  });

  test("async iterables work with for await", async () => {
    async function* gen() {
      for (let i = 0; i < 3; i++) yield i * 2;
    }
    const { stream } = captureStream();
    const got: number[] = [];
    for await (const v of progress(gen(), { stream })) got.push(v);
    expect(got).toEqual([0, 2, 4]);
  });

  test("bad input names itself", () => {
    expect(() => progress(-1)).toThrow(/total must be a finite number >= 0/);
    expect(() => progress({} as unknown as number[])).toThrow(/expected an iterable or a total count/);
  });
});

describe("progress() in a notebook", () => {
  test("one display with an id, updated in place with HTML and text, final state 100%", () => {
    const shown = captureSink();
    const bar = progress(100, { label: "steps", minIntervalMs: 0 });
    for (let i = 0; i < 100; i++) bar.update();
    bar.close();
    expect(shown[0].update).toBe(false);
    const id = shown[0].displayId;
    expect(id).toBeTruthy();
    expect(shown.slice(1).every((s) => s.update && s.displayId === id)).toBe(true);
    const last = shown[shown.length - 1].bundle;
    expect(String(last["text/html"])).toContain("100% 100/100");
    expect(String(last["text/plain"])).toContain("100/100");
  });
});

describe("liveMetrics()", () => {
  test("streams every logged point once over nbforge.live and ends with the full state", () => {
    const shown = captureSink();
    const sent: LiveMessage[] = [];
    let opened: { target: string; data: LiveMessage } | undefined;
    let closed = false;
    setLiveChannelOpener((target, data) => {
      opened = { target, data };
      return { send: (m) => sent.push(m), onMessage: () => {}, close: () => (closed = true) };
    });
    const live = liveMetrics({ title: "run", streamIntervalMs: 0, fullUpdateIntervalMs: 1e9 });
    for (let step = 0; step < 500; step++) live.log(step, { loss: 1 / (step + 1), lr: 1e-3 * (step % 7) });
    live.close();

    expect(opened?.target).toBe("nbforge.live");
    expect(closed).toBe(true);
    const appended = new Map<string, number[]>();
    for (const m of sent.filter((m) => m.type === "append")) {
      for (const s of m.series as { name: string; step: number[] }[]) appended.set(s.name, [...(appended.get(s.name) ?? []), ...s.step]);
    }
    const steps = Array.from({ length: 500 }, (_, i) => i);
    expect(appended.get("loss")).toEqual(steps);
    expect(appended.get("lr")).toEqual(steps);
    expect(sent[sent.length - 1]).toMatchObject({ type: "status", status: "finished" });

    const final = shown[shown.length - 1];
    expect(final.update).toBe(true);
    expect(final.displayId).toBe(shown[0].displayId);
    const data = final.bundle["application/vnd.nbforge.metrics+json"] as MetricsData;
    expect(data.live?.status).toBe("finished");
    const loss = data.series.find((s) => s.name === "loss")!;
    expect(loss.value.length).toBe(500);
    expect(loss.value[499]).toBeCloseTo(1 / 500, 12);
    expect(String(final.bundle["image/svg+xml"])).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(String(final.bundle["text/plain"])).toContain("loss: 1 → 0.002 over 500 points");
  });

  test("non-numeric metrics are refused with the fix", () => {
    setLiveChannelOpener(() => undefined);
    captureSink();
    const live = liveMetrics();
    expect(() => live.log(0, { loss: "x" as unknown as number })).toThrow(/metric "loss" must be a number.*loss.item\(\)/);
    live.close();
    expect(() => live.log(1, { loss: 1 })).toThrow(/is closed/);
  });
});

describe("liveMetrics options", () => {
  test("a smoothing weight outside [0, 1) is refused with the range and the value", () => {
    expect(() => liveMetrics({ smoothing: 1 })).toThrow(/smoothing must be in \[0, 1\).*got 1/);
    expect(() => liveMetrics({ smoothing: -0.1 })).toThrow(/got -0\.1/);
  });
});
