// The SLAM renderer's data handling, fed by the kernel's plot.slam: edges land
// on the poses and landmarks they join, residual colouring bins every edge
// once, certificate colouring follows the verdict, 3-D uses scatter3d, and
// hover text carries ids and measured values.
import { plot } from "nbforge/dist/display/plot.js";
import type { SlamData } from "nbforge/dist/display/plot-types.js";
import { defaultSlamView, residualBins, slamFigure, VERDICT_COLOURS, RESIDUAL_BINS } from "nbforge-jupyterlab/lib/figures/slam.js";
import { LIGHT_THEME } from "nbforge-jupyterlab/lib/types.js";
import { seededRandom } from "../support/seeded-random.js";

type Trace = { type: string; name: string; mode: string; x: (number | null)[]; y: (number | null)[]; z?: (number | null)[]; text?: string[]; line?: { color: string } };

/** A square loop of poses observing a few landmarks, with residuals spread over decades. */
function problem(d: 2 | 3): SlamData {
  const rand = seededRandom(3);
  const poses = Array.from({ length: 12 }, (_, i) => {
    const t = (i / 12) * 2 * Math.PI;
    const position = d === 2 ? ([Math.cos(t) * 5, Math.sin(t) * 5] as [number, number]) : ([Math.cos(t) * 5, Math.sin(t) * 5, i * 0.1] as [number, number, number]);
    return { id: i, position, heading: t + Math.PI / 2 };
  });
  const landmarks = Array.from({ length: 4 }, (_, k) => ({
    id: 100 + k,
    position: (d === 2 ? [rand() * 4 - 2, rand() * 4 - 2] : [rand() * 4 - 2, rand() * 4 - 2, 0]) as [number, number] | [number, number, number],
  }));
  const edges: SlamData["edges"] = [];
  for (let i = 0; i + 1 < 12; i++) edges.push({ kind: "odometry", from: i, to: i + 1, residual: 10 ** (-4 + (i % 5)), measurement: [0.1 * i, 0.2] });
  edges.push({ kind: "loop", from: 11, to: 0, residual: 3.5 });
  for (let i = 0; i < 12; i += 3) edges.push({ kind: "landmark", from: i, to: 100 + (i / 3), residual: 1e-3 });
  return { title: "square", d, poses, landmarks, edges, certificate: { verdict: "optimal", minEigenvalue: 2e-9, suspectPoses: [] } };
}

describe("SLAM figure", () => {
  const data = plot.slam(problem(2)).data;

  test("every edge segment joins the positions of its two ends", () => {
    const fig = slamFigure(data, { dims: 2, colouring: "kind" }, LIGHT_THEME);
    const odometry = (fig.data as Trace[]).find((t) => t.name === "odometry")!;
    const segments: [number, number, number, number][] = [];
    for (let k = 0; k < odometry.x.length; k += 3) segments.push([odometry.x[k]!, odometry.y[k]!, odometry.x[k + 1]!, odometry.y[k + 1]!]);
    expect(segments).toHaveLength(11);
    segments.forEach((s, i) => {
      expect(s).toEqual([...data.poses[i].position, ...data.poses[i + 1].position]);
    });
    const obs = (fig.data as Trace[]).find((t) => t.name === "landmark")!;
    expect(obs.x[1]).toBe(data.landmarks[0].position[0]);
  });

  test("residual colouring puts each edge in exactly one log-spaced bin", () => {
    const { bin, edgesOfBins } = residualBins(data.edges);
    expect(bin).toHaveLength(data.edges.length);
    data.edges.forEach((e, i) => {
      expect(e.residual!).toBeGreaterThanOrEqual(edgesOfBins[bin[i]] * (1 - 1e-9));
      expect(e.residual!).toBeLessThanOrEqual(edgesOfBins[bin[i] + 1] * (1 + 1e-9));
    });
    const fig = slamFigure(data, defaultSlamView(data), LIGHT_THEME);
    const lineTraces = (fig.data as Trace[]).filter((t) => t.mode === "lines" && t.name.startsWith("residual"));
    const segments = lineTraces.reduce((n, t) => n + t.x.filter((v) => v === null).length, 0);
    expect(segments).toBe(data.edges.length);
    expect(lineTraces.length).toBeLessThanOrEqual(2 * RESIDUAL_BINS);
  });

  test("certificate colouring follows the verdict; hover names ids and measurements", () => {
    const failed = { ...data, certificate: { verdict: "failed" as const, suspectPoses: [4] } };
    const fig = slamFigure(failed, { dims: 2, colouring: "certificate" }, LIGHT_THEME);
    const odometry = (fig.data as Trace[]).find((t) => t.name === "odometry")!;
    expect(odometry.line!.color).toBe(VERDICT_COLOURS.failed);
    const poses = (fig.data as Trace[]).find((t) => t.name === "poses")! as Trace & { marker: { color: string[] } };
    expect(poses.marker.color[4]).toBe(VERDICT_COLOURS.failed);
    expect(poses.text![4]).toContain("suspect");
    const edges = (fig.data as Trace[]).find((t) => t.name === "edges")!;
    expect(edges.text![2]).toBe("odometry 2 → 3<br>residual 0.01000<br>measured 0.2, 0.2");
  });

  test("3-D problems draw with scatter3d, or from above in 2-D", () => {
    const d3 = plot.slam(problem(3)).data;
    expect(defaultSlamView(d3).dims).toBe(3);
    const types3 = new Set((slamFigure(d3, { dims: 3, colouring: "kind" }, LIGHT_THEME).data as Trace[]).map((t) => t.type));
    expect([...types3]).toEqual(["scatter3d"]);
    const top = slamFigure(d3, { dims: 2, colouring: "kind" }, LIGHT_THEME);
    expect(new Set((top.data as Trace[]).map((t) => t.type))).toEqual(new Set(["scatter"]));
  });

  test("the kernel's bundle carries an SVG with one line per edge and a summary", () => {
    const bundle = plot.slam(problem(2)).bundle();
    const svg = String(bundle["image/svg+xml"]);
    expect(svg.match(/<line /g)).toHaveLength(data.edges.length);
    expect(svg.match(/<circle /g)).toHaveLength(12);
    expect(String(bundle["text/plain"])).toContain("12 poses, 4 landmarks, 11 odometry, 1 loop closure, 4 landmark edges");
    expect(String(bundle["text/plain"])).toContain("max 3.500 on loop 11→0");
  });
});

describe("large graphs", () => {
  test("residual bins and the static SVG cope with 200,000 edges (no spread into Math.min/max)", () => {
    const rand = seededRandom(11);
    const n = 200_000;
    const edges = Array.from({ length: n }, (_, i) => ({ kind: "odometry" as const, from: i, to: i + 1, residual: 10 ** (6 * rand() - 3) }));
    const { bin } = residualBins(edges);
    expect(bin.length).toBe(n);
    expect(Math.min(...bin.slice(0, 1000))).toBeGreaterThanOrEqual(0);
    const poses = Array.from({ length: n + 1 }, (_, i) => ({ id: i, position: [Math.cos(i / 1000) * i, Math.sin(i / 1000) * i] as [number, number] }));
    const fig = plot.slam({ d: 2, poses, landmarks: [], edges });
    const bundle = fig[Symbol.for("Jupyter.display") as keyof typeof fig] as unknown as () => Record<string, unknown>;
    expect(String(bundle.call(fig)["image/svg+xml"])).toContain("<svg");
  });
});
