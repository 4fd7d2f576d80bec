// The end-to-end test page: JupyterLab's own services, rendermime and output
// area with nbforge's renderers, the Training runs panel fed by the same
// nbforge.live comm, all talking to a real jupyter_server. Bundled by esbuild;
// driven by playwright through window.e2e. (Plain JavaScript: it runs in the
// browser, and the tests' TypeScript project has no DOM library.)
import { KernelManager, ServerConnection } from "@jupyterlab/services";
import { OutputArea, OutputAreaModel } from "@jupyterlab/outputarea";
import { RenderMimeRegistry, standardRendererFactories } from "@jupyterlab/rendermime";
import { Widget } from "@lumino/widgets";
import { rendererFactories } from "nbforge-jupyterlab/lib/mime.js";
import { liveRegistry } from "nbforge-jupyterlab/lib/registry.js";
import { connectLiveComms } from "nbforge-jupyterlab/lib/live-comm.js";
import { RunsModel } from "nbforge-jupyterlab/lib/runs-model.js";
import { RunsPanel } from "nbforge-jupyterlab/lib/runs-panel.js";

const params = new URLSearchParams(location.search);
const settings = ServerConnection.makeSettings({
  baseUrl: `${location.origin}/`,
  wsUrl: `${location.origin.replace(/^http/, "ws")}/`,
  token: params.get("token") ?? "",
  appendToken: true,
});

const withNbforge = new RenderMimeRegistry({ initialFactories: [...rendererFactories, ...standardRendererFactories] });
const standardOnly = new RenderMimeRegistry({ initialFactories: standardRendererFactories });

const panel = new RunsPanel(new RunsModel(liveRegistry), (id) => (window.e2e.opened = id), () => {});
panel.node.style.cssText = "position:fixed;right:0;top:0;width:320px;height:100%;overflow:auto;border-left:1px solid #ccc";
Widget.attach(panel, document.body);

const outputs = document.createElement("div");
outputs.id = "outputs";
outputs.style.cssText = "margin-right:330px;padding:8px";
document.body.append(outputs);

let kernel;

function addArea(registry, label) {
  const heading = document.createElement("h4");
  heading.textContent = label;
  outputs.append(heading);
  const area = new OutputArea({ model: new OutputAreaModel({ trusted: true }), rendermime: registry });
  area.node.dataset.cell = label;
  area.node.style.minHeight = "20px";
  Widget.attach(area, outputs);
  return area;
}

window.e2e = {
  opened: undefined,
  async start(name) {
    const manager = new KernelManager({ serverSettings: settings });
    kernel = await manager.startNew({ name });
    connectLiveComms(kernel, "e2e.ipynb", liveRegistry);
    const info = await kernel.info;
    return info.implementation;
  },
  /** Connects to a kernel another page started, as a reloaded page does. */
  async attach(id) {
    const manager = new KernelManager({ serverSettings: settings });
    kernel = manager.connectTo({ model: { id, name: "nbforge" } });
    connectLiveComms(kernel, "e2e.ipynb", liveRegistry);
    await kernel.info;
  },
  kernelId() {
    return kernel.id;
  },
  /** Points per series of each run in the live-run store. */
  storedRuns() {
    return liveRegistry.list().map((r) => ({ title: r.title, status: r.status, points: r.data.series.map((s) => s.value.length) }));
  },
  /** Starts executing without waiting; `window.pending` resolves with the reply. */
  executeLater(label, code) {
    window.pending = window.e2e.execute(label, code);
  },
  /** Executes code in a fresh output area; resolves with the reply status once the kernel is idle. */
  async execute(label, code) {
    const area = addArea(withNbforge, label);
    area.future = kernel.requestExecute({ code, stop_on_error: true });
    const reply = await area.future.done;
    return { status: reply.content.status, outputs: area.model.toJSON() };
  },
  /** Renders a saved output (as a notebook file holds it) with or without the extension. */
  renderSaved(label, output, extension) {
    const area = addArea(extension ? withNbforge : standardOnly, label);
    area.model.add(output);
    return area.model.length;
  },
  /** What a plotly graph in a cell draws: trace types and point counts from its data, and DOM counts. */
  graph(label, index = 0) {
    const gd = document.querySelectorAll(`[data-cell="${label}"] .nbforge-graph`)[index];
    if (!gd || !gd.data) return undefined;
    return {
      traces: gd.data.map((t) => ({ type: t.type, name: t.name, points: (t.x ?? t.z ?? []).length })),
      svgTraces: gd.querySelectorAll(".scatterlayer .trace").length,
      heatmaps: gd.querySelectorAll(".heatmaplayer image, .hm image").length,
      bars: gd.querySelectorAll(".barlayer .point").length,
      extends: Number(gd.dataset.extends ?? 0),
      status: document.querySelector(`[data-cell="${label}"] .nbforge-status`)?.textContent ?? "",
    };
  },
  runs() {
    return [...document.querySelectorAll(".nbforge-run")].map((el) => ({
      status: el.dataset.status,
      title: el.querySelector(".nbforge-run-title").textContent,
      meta: el.querySelector(".nbforge-run-meta").textContent,
      metrics: el.querySelector(".nbforge-run-metrics").textContent,
    }));
  },
  async shutdown() {
    await kernel?.shutdown();
  },
};
document.title = "nbforge e2e ready";
