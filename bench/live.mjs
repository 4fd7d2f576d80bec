#!/usr/bin/env node
// npm run bench:live — in headless chromium, a live training curve grows to
// 100,000 points at 10 updates per second of 100 points each:
//   stream:  the nbforge.live comm's append messages, extended in place
//            (Plotly.extendTraces, at most once per frame);
//   resend:  the whole figure in every update (update_display_data), parsed and
//            redrawn with Plotly.react, as plotly's own renderer would need.
// Prints each renderer's p50 / p95 time per update, the dropped frames (60 Hz
// frames that updates kept the main thread from drawing) and the longest
// main-thread stall, and the ratio resend / stream. Goal: p95 <= 16 ms.
//   node bench/live.mjs [--points 100000] [--batch 100] [--rate 10]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL, fileURLToPath } from "node:url";
import { progress } from "nbforge";
import { bundlePage, chromiumMissing, launchChromium } from "nbforge-jupyterlab/testing/browser.mjs";

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const points = opt("points", 100_000);
const batch = opt("batch", 100);
const rate = opt("rate", 10);
const updates = Math.ceil(points / batch);

const missing = chromiumMissing();
if (missing) {
  console.error(`bench:live needs a browser: ${missing}`);
  process.exit(1);
}

const repo = fileURLToPath(new URL("..", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "nbforge-bench-live-"));
try {
  const html = await bundlePage(join(repo, "extension", "testing", "live-bench-page.mjs"), work, "bench");
  // WebGL (large series use scattergl) through SwiftShader when there is no GPU.
  const browser = await launchChromium(["--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist"]);
  const page = await browser.newPage({ viewport: { width: 1000, height: 600 } });
  page.on("pageerror", (e) => console.error(`page error: ${e.message}`));
  await page.goto(pathToFileURL(html).href);
  await page.waitForFunction(() => document.title === "nbforge live bench ready");
  console.log(`live curve: ${updates} updates of ${batch} points at ${rate}/s (${(updates * batch).toLocaleString("en-US")} points), chromium ${browser.version()}`);
  const results = [];
  let bar;
  await page.exposeFunction("benchProgress", (n) => bar?.update(n));
  for (const mode of ["stream", "resend"]) {
    bar = progress(updates, { label: mode });
    const r = await page.evaluate(([m, o]) => window.bench.run(m, o), [mode, { updates, batch, rate }]);
    bar.close();
    results.push(r);
    console.log(
      `${mode.padEnd(7)} p50 ${r.p50.toFixed(2).padStart(7)} ms  p95 ${r.p95.toFixed(2).padStart(7)} ms  max ${r.max.toFixed(1).padStart(7)} ms  ` +
        `dropped frames ${String(r.dropped).padStart(5)} of ${r.frames}  longest stall ${r.maxLagMs.toFixed(0)} ms  ` +
        `(${r.drawn.toLocaleString("en-US")} points drawn as ${r.traceType}, ${r.elapsed.toFixed(1)} s)`,
    );
  }
  const [stream, resend] = results;
  console.log(`ratio resend/stream: p50 ${(resend.p50 / stream.p50).toFixed(1)}x, p95 ${(resend.p95 / stream.p95).toFixed(1)}x; dropped frames ${resend.dropped} vs ${stream.dropped}`);
  console.log(`goal p95 <= 16 ms per update: ${stream.p95 <= 16 ? "met" : "not met"} (stream p95 ${stream.p95.toFixed(2)} ms)`);
  await browser.close();
} finally {
  rmSync(work, { recursive: true, force: true });
}
