// The application half of the extension: the "Training runs" side panel fed by
// every notebook kernel's nbforge.live comms, live charts that open in the main
// area beside the notebook, palette commands, and layout restoration.
import { ILayoutRestorer, type JupyterFrontEnd, type JupyterFrontEndPlugin } from "@jupyterlab/application";
import { ICommandPalette, MainAreaWidget, WidgetTracker } from "@jupyterlab/apputils";
import { INotebookTracker, type NotebookPanel } from "@jupyterlab/notebook";
import type { Kernel } from "@jupyterlab/services";
import { LabIcon } from "@jupyterlab/ui-components";
import { liveChart } from "./live-chart.js";
import { connectLiveComms } from "./live-comm.js";
import type { MetricsRenderer } from "./metrics-renderer.js";
import { liveRegistry } from "./registry.js";
import { RunsModel } from "./runs-model.js";
import { RunsPanel } from "./runs-panel.js";

const COMMANDS = {
  openRuns: "nbforge:open-runs",
  openRun: "nbforge:open-run",
  compare: "nbforge:compare-runs",
} as const;

const runsIcon = new LabIcon({
  name: "nbforge:runs",
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path class="jp-icon3" fill="#616161" d="M3 19h18v2H3zM4 15l4-5 4 3 5-7 3 2-6 9-4-3-3 4z"/></svg>',
});

function watchNotebook(panel: NotebookPanel): void {
  let connected: Kernel.IKernelConnection | undefined;
  const connect = () => {
    const kernel = panel.sessionContext.session?.kernel;
    // kernelChanged and ready both report the first kernel: wire each kernel once,
    // or every iopub message of it would reach the store twice.
    if (!kernel || kernel === connected) return;
    connected = kernel;
    connectLiveComms(kernel, panel.context.path, liveRegistry);
  };
  panel.sessionContext.kernelChanged.connect(connect);
  void panel.sessionContext.ready.then(connect);
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: "nbforge-jupyterlab:runs",
  description: "Training runs panel and live charts for nbforge kernels",
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ICommandPalette, ILayoutRestorer],
  activate: (app: JupyterFrontEnd, notebooks: INotebookTracker, palette: ICommandPalette | null, restorer: ILayoutRestorer | null) => {
    const model = new RunsModel(liveRegistry);
    const charts = new WidgetTracker<MainAreaWidget<MetricsRenderer>>({ namespace: "nbforge-run" });
    const runOf = new WeakMap<MainAreaWidget<MetricsRenderer>, string>();

    /** A chart in the main area, beside the notebook. */
    const showChart = (content: MetricsRenderer, id: string, label: string) => {
      const widget = new MainAreaWidget({ content });
      widget.id = id;
      widget.title.label = label;
      widget.title.closable = true;
      widget.title.icon = runsIcon;
      app.shell.add(widget, "main", { mode: "split-right" });
      return widget;
    };

    const openRun = (id: string) => {
      const existing = charts.find((w) => runOf.get(w) === id);
      if (existing) {
        app.shell.activateById(existing.id);
        return existing;
      }
      const run = liveRegistry.get(id);
      const data = run?.data ?? { series: [], live: { id, status: "running" as const, startedAt: Date.now() } };
      const widget = showChart(liveChart(liveRegistry, data), `nbforge-run-${id}`, run ? `${run.title} (${run.notebook || "kernel"})` : "Training run");
      runOf.set(widget, id);
      void charts.add(widget);
      return widget;
    };

    const compare = (ids: string[]) => {
      showChart(liveChart(liveRegistry, model.compare(ids)), `nbforge-compare-${Date.now()}`, "Compare runs");
    };

    const panel = new RunsPanel(model, openRun, (ids) => void app.commands.execute(COMMANDS.compare, { ids }));
    panel.title.icon = runsIcon;
    app.shell.add(panel, "left", { rank: 650 });

    app.commands.addCommand(COMMANDS.openRuns, {
      label: "Show Training Runs",
      caption: "Open the panel of live and finished nbforge training runs",
      execute: () => app.shell.activateById(panel.id),
    });
    app.commands.addCommand(COMMANDS.openRun, {
      label: "Open Training Run Chart",
      execute: (args) => {
        if (typeof args.id !== "string") throw new Error(`${COMMANDS.openRun} needs the run's id: { id: "..." }`);
        return openRun(args.id);
      },
    });
    app.commands.addCommand(COMMANDS.compare, {
      label: "Compare Selected Training Runs",
      caption: "Overlay the runs selected in the Training runs panel in one chart",
      isEnabled: () => model.selected().length > 0,
      execute: (args) => compare(Array.isArray(args.ids) ? (args.ids as string[]) : model.selected()),
    });
    if (palette) {
      palette.addItem({ command: COMMANDS.openRuns, category: "nbforge" });
      palette.addItem({ command: COMMANDS.compare, category: "nbforge" });
    }
    if (restorer) {
      restorer.add(panel, "nbforge-runs");
      void restorer.restore(charts, {
        command: COMMANDS.openRun,
        args: (w) => ({ id: runOf.get(w) ?? "" }),
        name: (w) => runOf.get(w) ?? w.id,
      });
    }

    notebooks.widgetAdded.connect((_, nb) => watchNotebook(nb));
    notebooks.forEach(watchNotebook);
  },
};

export default plugin;
