// End to end in a real browser against a real server: Debian's jupyter_server
// runs our kernel (installed into a temporary prefix); a page built from
// @jupyterlab/services, @jupyterlab/rendermime, the output area and our
// renderers executes cells, with the Training runs panel fed by the same
// nbforge.live comm; headless chromium (playwright-core) drives it. The test
// asserts what is drawn: traces and points in the plot DOM, the final state
// after update_display_data, and the SVG fallback without the extension.
// Screenshots go to tests/browser/test-artefacts/ (git-ignored).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { pickFreePorts } from "nbforge/client";
import { bundlePage, chromiumMissing, launchChromium } from "nbforge-jupyterlab/testing/browser.mjs";

const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const PYTHON = process.env.NBFORGE_PYTHON ?? "/usr/bin/python3";
const ARTEFACTS = join(REPO, "tests", "browser", "test-artefacts");

function jupyterServerMissing(): string | undefined {
  const run = spawnSync(PYTHON, ["-c", "import jupyter_server"], { encoding: "utf8" });
  return run.status === 0 ? undefined : `${PYTHON} cannot import jupyter_server (apt-get install python3-jupyter-server)`;
}

const missing = chromiumMissing() ?? jupyterServerMissing();
if (missing) console.warn(`tests/browser skipped: ${missing}`);
const describeBrowser = missing ? describe.skip : describe;

async function waitForServer(url: string, server: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`jupyter_server exited (${server.exitCode}):\n${log()}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`jupyter_server did not answer ${url} within 30 s:\n${log()}`);
}

interface Graph {
  traces: { type: string; name: string; points: number }[];
  svgTraces: number;
  heatmaps: number;
  bars: number;
  extends: number;
  status: string;
}

type Output = { output_type: string; data?: { [mime: string]: unknown }; text?: string };

describeBrowser("JupyterLab renderers in chromium against jupyter_server", () => {
  let work: string;
  let server: ChildProcess;
  let serverLog = "";
  let browser: Browser;
  let page: Page;

  const execute = (label: string, code: string) =>
    page.evaluate(([l, c]) => (window as unknown as E2E).e2e.execute(l, c), [label, code] as const) as Promise<{ status: string; outputs: Output[] }>;
  const graph = (label: string) => page.evaluate((l) => (window as unknown as E2E).e2e.graph(l), label) as Promise<Graph | undefined>;
  const shot = (name: string, label?: string) =>
    label ? page.locator(`[data-cell="${label}"]`).screenshot({ path: join(ARTEFACTS, `${name}.png`) }) : page.screenshot({ path: join(ARTEFACTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "nbforge-browser-"));
    mkdirSync(ARTEFACTS, { recursive: true });
    const prefix = join(work, "prefix");
    const install = spawnSync(process.execPath, [join(REPO, "kernel", "dist", "cli.js"), "install", "--prefix", prefix], { encoding: "utf8" });
    if (install.status !== 0) throw new Error(`nbforge install --prefix failed: ${install.stderr}`);
    const statics = join(work, "static");
    await bundlePage(join(REPO, "tests", "browser", "page", "main.mjs"), statics, "nbforge-e2e");
    const [port] = await pickFreePorts(1);
    const token = "nbforge-e2e";
    const root = join(work, "root");
    mkdirSync(root);
    server = spawn(
      PYTHON,
      [
        "-m", "jupyter_server", "--allow-root", "--no-browser",
        "--ServerApp.ip=127.0.0.1", `--ServerApp.port=${port}`, `--ServerApp.token=${token}`,
        `--ServerApp.extra_static_paths=${statics}`, `--ServerApp.root_dir=${root}`,
      ],
      {
        cwd: root,
        env: {
          ...process.env,
          JUPYTER_PATH: join(prefix, "share", "jupyter"),
          JUPYTER_RUNTIME_DIR: join(work, "runtime"),
          JUPYTER_CONFIG_DIR: join(work, "config"),
          JUPYTER_DATA_DIR: join(work, "data"),
          PYDEVD_DISABLE_FILE_VALIDATION: "1",
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    server.stdout!.on("data", (d) => (serverLog += d));
    server.stderr!.on("data", (d) => (serverLog += d));
    const base = `http://127.0.0.1:${port}`;
    await waitForServer(`${base}/api/status?token=${token}`, server, () => serverLog);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${base}/static/nbforge-e2e.html?token=${token}`);
    await page.waitForFunction(() => document.title === "nbforge e2e ready", undefined, { timeout: 20_000 });
    const implementation = await page.evaluate(() => (window as unknown as E2E).e2e.start("nbforge"));
    expect(implementation).toBe("nbforge");
    expect(errors).toEqual([]);
  }, 120_000);

  afterAll(async () => {
    await page?.evaluate(() => (window as unknown as E2E).e2e.shutdown()).catch(() => {});
    await browser?.close();
    server?.kill("SIGTERM");
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test("plot.metrics draws one trace per series with every point", async () => {
    const reply = await execute(
      "metrics",
      `import { plot } from "nbforge";\nplot.metrics({ loss: [3, 2, 1.5, 1, 0.8], reward: [0, 0.2, 0.5, 0.6, 0.9] }, { title: "static curves" })`,
    );
    expect(reply.status).toBe("ok");
    const g = (await graph("metrics"))!;
    expect(g.traces.map((t) => [t.name, t.points])).toEqual([["loss", 5], ["reward", 5]]);
    expect(g.svgTraces).toBe(2);
    await shot("metrics", "metrics");
  }, 60_000);

  test("plot.sparsity draws the mask heat map, the group grid and one bar per pattern", async () => {
    const reply = await execute(
      "sparsity",
      [
        `import { plot } from "nbforge";`,
        `const rows = 16, cols = 32;`,
        `const mask = new Uint8Array(rows * cols).map((_, i) => [0b0011, 0b0101, 0b1001, 0b0110][(i >> 2) % 4 ^ (Math.floor(i / cols) % 2)] >> (i % 4) & 1);`,
        `plot.sparsity([{ name: "fc1", rows, cols, n: 2, m: 4, mask }, { name: "fc2", rows, cols, n: 2, m: 4, mask: mask.slice().reverse() }], { title: "2:4 masks" })`,
      ].join("\n"),
    );
    expect(reply.status).toBe("ok");
    const data = reply.outputs[0].data!["application/vnd.nbforge.sparsity+json"] as { layers: { patterns: object; density: number }[] };
    expect(data.layers[0].density).toBe(0.5);
    const g = (await graph("sparsity"))!;
    expect(g.traces.map((t) => t.type)).toEqual(["heatmap", "bar", "scatter"]);
    expect(g.traces[1].points).toBe(Object.keys(data.layers[0].patterns).length);
    expect(g.bars).toBe(Object.keys(data.layers[0].patterns).length);
    expect(g.heatmaps).toBeGreaterThan(0);
    expect(g.traces[2].points).toBe(3 * (32 / 4 - 1)); // one segment (two ends and a gap) between each pair of groups
    await shot("sparsity", "sparsity");
  }, 60_000);

  test("plot.slam draws poses, landmarks and every edge", async () => {
    const reply = await execute(
      "slam",
      [
        `import { plot } from "nbforge";`,
        `const poses = Array.from({ length: 10 }, (_, i) => ({ id: i, position: [Math.cos(i / 10 * 2 * Math.PI) * 4, Math.sin(i / 10 * 2 * Math.PI) * 4] as [number, number], heading: i / 10 * 2 * Math.PI + Math.PI / 2 }));`,
        `const landmarks = [{ id: 100, position: [0, 0] as [number, number] }, { id: 101, position: [1, 1] as [number, number] }, { id: 102, position: [-1, 2] as [number, number] }];`,
        `const edges = [...poses.slice(1).map((p) => ({ kind: "odometry" as const, from: p.id - 1, to: p.id, residual: 0.01 * p.id })), { kind: "loop" as const, from: 9, to: 0, residual: 2 },`,
        `  ...poses.filter((p) => p.id % 2 === 0).map((p) => ({ kind: "landmark" as const, from: p.id, to: 100 + (p.id % 3), residual: 0.001 }))];`,
        `plot.slam({ title: "ring", d: 2, poses, landmarks, edges, certificate: { verdict: "optimal", minEigenvalue: 1e-10 } })`,
      ].join("\n"),
    );
    expect(reply.status).toBe("ok");
    const g = (await graph("slam"))!;
    const byName = Object.fromEntries(g.traces.map((t) => [t.name, t.points]));
    expect(byName.poses).toBe(10);
    expect(byName.landmarks).toBe(3);
    expect(byName.edges).toBe(9 + 1 + 5);
    const edgeSegments = g.traces.filter((t) => t.name.startsWith("residual")).reduce((n, t) => n + t.points / 3, 0);
    expect(edgeSegments).toBe(15);
    await shot("slam", "slam");
  }, 60_000);

  test("a live loop of 2,000 points streams into the chart and the runs panel, then update_display_data leaves the full state", async () => {
    const code = [
      `import { liveMetrics } from "nbforge";`,
      `const live = liveMetrics({ title: "e2e run" });`,
      `for (let s = 0; s < 2000; s++) {`,
      `  live.log(s, { loss: Math.exp(-s / 500), lr: 1e-3 * Math.min(1, s / 200) });`,
      `  if (s % 20 === 19) await new Promise((r) => setTimeout(r, 15));`,
      `}`,
      `live.close();`,
    ].join("\n");
    await page.evaluate((c) => {
      const w = window as unknown as E2E;
      w.pending = w.e2e.execute("live", c);
    }, code);
    // While the cell runs: the panel lists the run as running and the chart has part of the points.
    await page.waitForFunction(() => {
      const w = window as unknown as E2E;
      const g = w.e2e.graph("live");
      return w.e2e.runs().some((r) => r.status === "running") && g !== undefined && g.traces.length === 2 && g.traces[0].points > 0 && g.traces[0].points < 2000;
    }, undefined, { timeout: 30_000, polling: 20 });
    await shot("live-running");
    const reply = (await page.evaluate(() => (window as unknown as E2E).pending)) as { status: string; outputs: Output[] };
    expect(reply.status).toBe("ok");
    await page.waitForFunction(() => (window as unknown as E2E).e2e.graph("live")?.status.startsWith("finished"), undefined, { timeout: 10_000 });

    const g = (await graph("live"))!;
    expect(g.traces.map((t) => [t.name, t.points])).toEqual([["loss", 2000], ["lr", 2000]]);
    expect(g.extends).toBeGreaterThan(0); // points arrived over the comm and extended the traces in place
    expect(g.status).toBe("finished · 4000 points");

    // What update_display_data left in the output: the full, finished state (what a saved notebook holds).
    expect(reply.outputs).toHaveLength(1);
    const saved = reply.outputs[0];
    const data = saved.data!["application/vnd.nbforge.metrics+json"] as { series: { name: string; value: number[] }[]; live: { status: string } };
    expect(data.live.status).toBe("finished");
    expect(data.series.map((s) => [s.name, s.value.length])).toEqual([["loss", 2000], ["lr", 2000]]);
    expect(data.series[0].value[1999]).toBeCloseTo(Math.exp(-1999 / 500), 12);

    const runs = await page.evaluate(() => (window as unknown as E2E).e2e.runs());
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ status: "finished", title: "e2e run" });
    expect(runs[0].meta).toMatch(/^e2e\.ipynb · finished · step 1999 · /);
    expect(runs[0].metrics).toContain(`loss ${Number(Math.exp(-1999 / 500).toPrecision(4))}`);
    await shot("live-finished");

    // A saved notebook re-renders the final plot without a kernel, with the extension...
    await page.evaluate((o) => (window as unknown as E2E).e2e.renderSaved("saved", o, true), saved);
    await page.waitForFunction(() => ((window as unknown as E2E).e2e.graph("saved")?.traces[0]?.points ?? 0) === 2000, undefined, { timeout: 10_000 });
    // ...and without it, as the static SVG in the same bundle.
    await page.evaluate((o) => (window as unknown as E2E).e2e.renderSaved("svg fallback", o, false), saved);
    const img = page.locator(`[data-cell="svg fallback"] img`);
    await img.waitFor({ timeout: 10_000 });
    expect(await img.getAttribute("src")).toMatch(/^data:image\/svg\+xml/);
    await page.waitForFunction(() => (document.querySelector(`[data-cell="svg fallback"] img`) as HTMLImageElement | null)?.complete === true);
    const width = await img.evaluate((el) => (el as HTMLImageElement).naturalWidth);
    expect(width).toBeGreaterThan(0); // the browser parsed the SVG
    expect(await page.locator(`[data-cell="svg fallback"] .nbforge-graph`).count()).toBe(0);
    await shot("svg-fallback", "svg fallback");
  }, 90_000);

  test("a page that connects while a run streams (a reload) attaches to its comm and ends with the full state", async () => {
    const code = [
      `import { liveMetrics } from "nbforge";`,
      `const again = liveMetrics({ title: "e2e reconnect" });`,
      `for (let s = 0; s < 1500; s++) {`,
      `  again.log(s, { loss: 1 / (s + 1) });`,
      `  if (s % 10 === 9) await new Promise((r) => setTimeout(r, 40));`,
      `}`,
      `again.close();`,
    ].join("\n");
    await page.evaluate((c) => (window as unknown as E2E).e2e.executeLater("reconnect", c), code);
    await page.waitForFunction(() => (window as unknown as E2E).e2e.runs().some((r) => r.title === "e2e reconnect" && r.status === "running"), undefined, { timeout: 20_000 });
    const kernelId = await page.evaluate(() => (window as unknown as E2E).e2e.kernelId());
    const second = await browser.newPage({ viewport: { width: 1400, height: 800 } });
    try {
      await second.goto(page.url());
      await second.waitForFunction(() => document.title === "nbforge e2e ready", undefined, { timeout: 20_000 });
      await second.evaluate((id) => (window as unknown as E2E).e2e.attach(id), kernelId);
      expect(((await page.evaluate(() => (window as unknown as E2E).pending)) as { status: string }).status).toBe("ok");
      // The second page never saw the run start, yet ends with every point, its title and its status.
      await second
        .waitForFunction(
          () => (window as unknown as E2E).e2e.storedRuns().some((r) => r.title === "e2e reconnect" && r.status === "finished" && r.points[0] === 1500),
          undefined,
          { timeout: 20_000 },
        )
        .catch(async (e: Error) => {
          throw new Error(`${e.message}\nthe second page's runs: ${JSON.stringify(await second.evaluate(() => (window as unknown as E2E).e2e.storedRuns()))}`);
        });
      const rows = await second.evaluate(() => (window as unknown as E2E).e2e.runs());
      expect(rows.find((r) => r.title === "e2e reconnect")?.meta).toMatch(/· finished · step 1499 · /);
      await second.screenshot({ path: join(ARTEFACTS, "reconnect.png") });
    } finally {
      await second.close();
    }
  }, 90_000);

  test("progress() draws an HTML bar that ends at 100%", async () => {
    const reply = await execute(
      "progress",
      `import { progress } from "nbforge";\nfor (const i of progress(40, { label: "epochs" })) await new Promise((r) => setTimeout(r, 3));`,
    );
    expect(reply.status).toBe("ok");
    const text = await page.locator(`[data-cell="progress"] .nbforge-progress`).innerText();
    expect(text).toContain("epochs");
    expect(text).toContain("100% 40/40");
    await shot("progress", "progress");
  }, 60_000);
});

/** The page's test hooks (tests/browser/page/main.mjs). */
interface E2E {
  pending: Promise<unknown>;
  e2e: {
    start(name: string): Promise<string>;
    attach(id: string): Promise<void>;
    kernelId(): string;
    storedRuns(): { title: string; status: string; points: number[] }[];
    executeLater(label: string, code: string): void;
    execute(label: string, code: string): Promise<{ status: string; outputs: Output[] }>;
    renderSaved(label: string, output: Output, extension: boolean): number;
    graph(label: string): Graph | undefined;
    runs(): { status: string; title: string; meta: string; metrics: string }[];
    shutdown(): Promise<void>;
  };
}
