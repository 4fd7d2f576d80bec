// plot.slam: a landmark SLAM measurement graph (poses, landmarks, odometry, loop
// closure and landmark-observation edges) with residuals and the certificate's
// verdict. Validates the ids, renders a static SVG (the x-y plane; 3-D problems
// are drawn from above) and a text summary.
import type { MimeBundle } from "./display.js";
import { SLAM_MIME, type SlamData } from "./plot-types.js";
import { escapeXml, extent, linearScale, r, svgDocument, viridis } from "./svg.js";

export function toSlamData(input: SlamData): SlamData {
  const where = "plot.slam()";
  if (input.d !== 2 && input.d !== 3) throw new RangeError(`${where}: d must be 2 or 3, got ${String(input.d)}`);
  const poseIds = new Set<number>();
  input.poses.forEach((p, i) => {
    if (p.position.length !== input.d) throw new RangeError(`${where}: pose ${i} (id ${p.id}) has a ${p.position.length}-D position in a ${input.d}-D problem`);
    if (p.rotation && p.rotation.length !== input.d * input.d) {
      throw new RangeError(`${where}: pose ${p.id} rotation has ${p.rotation.length} entries; give a row-major ${input.d}×${input.d} matrix`);
    }
    poseIds.add(p.id);
  });
  const landmarkIds = new Set<number>();
  input.landmarks.forEach((l, i) => {
    if (l.position.length !== input.d) throw new RangeError(`${where}: landmark ${i} (id ${l.id}) has a ${l.position.length}-D position in a ${input.d}-D problem`);
    landmarkIds.add(l.id);
  });
  input.edges.forEach((e, i) => {
    if (!poseIds.has(e.from)) throw new RangeError(`${where}: edge ${i} (${e.kind}) starts at pose ${e.from}, which is not among the poses`);
    const targets = e.kind === "landmark" ? landmarkIds : poseIds;
    if (!targets.has(e.to)) {
      throw new RangeError(`${where}: edge ${i} (${e.kind}) ends at ${e.kind === "landmark" ? "landmark" : "pose"} ${e.to}, which is not among the ${e.kind === "landmark" ? "landmarks" : "poses"}`);
    }
  });
  return input;
}

function count(data: SlamData, kind: string): number {
  return data.edges.filter((e) => e.kind === kind).length;
}

export function slamSummary(data: SlamData): string {
  const lines = [
    `${data.title ?? "SLAM graph"} (${data.d}-D): ${data.poses.length} poses, ${data.landmarks.length} landmarks, ` +
      `${count(data, "odometry")} odometry, ${count(data, "loop")} loop closure, ${count(data, "landmark")} landmark edges`,
  ];
  if (data.cost !== undefined) lines.push(`  cost ${data.cost.toPrecision(6)}`);
  const residuals = data.edges.map((e) => e.residual).filter((v): v is number => v !== undefined);
  if (residuals.length > 0) {
    let worst = 0;
    data.edges.forEach((e, i) => {
      if ((e.residual ?? -Infinity) > (data.edges[worst].residual ?? -Infinity)) worst = i;
    });
    const w = data.edges[worst];
    lines.push(`  residuals: max ${w.residual!.toPrecision(4)} on ${w.kind} ${w.from}→${w.to}, mean ${(residuals.reduce((a, b) => a + b, 0) / residuals.length).toPrecision(4)}`);
  }
  const c = data.certificate;
  if (c) {
    const parts = [`certificate: ${c.verdict}`];
    if (c.minEigenvalue !== undefined) parts.push(`λmin ${c.minEigenvalue.toExponential(3)}`);
    if (c.gap !== undefined) parts.push(`gap ${c.gap.toExponential(3)}`);
    if (c.suspectPoses?.length) parts.push(`suspect poses ${c.suspectPoses.slice(0, 10).join(", ")}${c.suspectPoses.length > 10 ? ", …" : ""}`);
    lines.push(`  ${parts.join(", ")}`);
  }
  return lines.join("\n");
}

export const VERDICT_COLOURS = { optimal: "#2e7d32", "not-certified": "#ef6c00", failed: "#c62828" } as const;
const EDGE_COLOURS = { odometry: "#555555", loop: "#1e88e5", landmark: "#bbbbbb" } as const;

/** The x-y plane, edges coloured by residual when every edge has one. */
export function slamSvg(data: SlamData): string {
  const size = 480;
  const pad = 30;
  const titleH = data.title || data.certificate ? 22 : 0;
  const points = [...data.poses.map((p) => p.position), ...data.landmarks.map((l) => l.position)];
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const [x0, x1] = extent(xs);
  const [y0, y1] = extent(ys);
  const span = Math.max(x1 - x0, y1 - y0) || 1;
  const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
  const sx = linearScale(cx - span / 2, cx + span / 2, pad, size - pad);
  const sy = linearScale(cy - span / 2, cy + span / 2, titleH + size - pad, titleH + pad);
  const pose = new Map(data.poses.map((p) => [p.id, p.position]));
  const landmark = new Map(data.landmarks.map((l) => [l.id, l.position]));
  const residuals = data.edges.map((e) => e.residual ?? NaN);
  const byResidual = residuals.length > 0 && residuals.every(Number.isFinite);
  const logR = residuals.map((v) => Math.log10(Math.max(v, 1e-12)));
  const [lo, hi] = extent(logR);
  let body = "";
  if (titleH) {
    const verdict = data.certificate ? ` — certificate: ${data.certificate.verdict}` : "";
    const fill = data.certificate ? VERDICT_COLOURS[data.certificate.verdict] : "#000";
    body += `<text x="${size / 2}" y="15" text-anchor="middle" font-size="13" fill="${fill}">${escapeXml(`${data.title ?? "SLAM graph"}${verdict}`)}</text>`;
  }
  // Landmark observations under the trajectory, then loop closures, then odometry.
  for (const kind of ["landmark", "loop", "odometry"] as const) {
    data.edges.forEach((e, i) => {
      if (e.kind !== kind) return;
      const a = pose.get(e.from)!;
      const b = (kind === "landmark" ? landmark : pose).get(e.to)!;
      const colour = byResidual ? viridis(hi > lo ? (logR[i] - lo) / (hi - lo) : 0) : EDGE_COLOURS[kind];
      const width = kind === "landmark" ? 0.6 : 1.4;
      body += `<line x1="${r(sx(a[0]))}" y1="${r(sy(a[1]))}" x2="${r(sx(b[0]))}" y2="${r(sy(b[1]))}" stroke="${colour}" stroke-width="${width}"/>`;
    });
  }
  const suspect = new Set(data.certificate?.suspectPoses ?? []);
  for (const p of data.poses) {
    const fill = suspect.has(p.id) ? VERDICT_COLOURS.failed : "#333";
    body += `<circle cx="${r(sx(p.position[0]))}" cy="${r(sy(p.position[1]))}" r="2" fill="${fill}"/>`;
  }
  for (const l of data.landmarks) {
    const x = sx(l.position[0]), y = sy(l.position[1]);
    body += `<rect x="${r(x - 2.5)}" y="${r(y - 2.5)}" width="5" height="5" fill="#e15759"/>`;
  }
  return svgDocument(size, size + titleH, body);
}

export function slamBundle(data: SlamData): MimeBundle {
  return { [SLAM_MIME]: data, "image/svg+xml": slamSvg(data), "text/plain": slamSummary(data) };
}
