// The measurement graph of a SLAM problem: id remapping (file ids -> 0-based
// indices in order of first appearance) and the connectivity check. A
// disconnected graph has no unique solution (each component floats freely),
// so readers reject it and name the components.
import type { Problem } from "./problem.js";

/**
 * Maps arbitrary (possibly sparse, unordered) integer ids to 0-based indices in
 * order of first appearance, as CPL-SLAM does. SE-Sync assumes 0..n-1 ids.
 */
export class IdMap {
  readonly #index = new Map<number, number>();
  /** Original id of each index. */
  readonly ids: number[] = [];

  /** The index of `id`, assigning the next one on first sight. */
  intern(id: number): number {
    let k = this.#index.get(id);
    if (k === undefined) {
      k = this.ids.length;
      this.#index.set(id, k);
      this.ids.push(id);
    }
    return k;
  }

  /** The index of `id`, or undefined when it has not been seen. */
  get(id: number): number | undefined {
    return this.#index.get(id);
  }

  has(id: number): boolean {
    return this.#index.has(id);
  }

  get size(): number {
    return this.ids.length;
  }
}

/** One connected component: pose and landmark indices, ascending. */
export interface Component {
  poses: number[];
  landmarks: number[];
}

/** Union–find over poses (0..n-1) then landmarks (n..n+m-1). */
function componentRoots(problem: Problem): Int32Array {
  const n = problem.numPoses + problem.numLandmarks;
  const parent = new Int32Array(n);
  for (let v = 0; v < n; v++) parent[v] = v;
  const find = (v: number): number => {
    while (parent[v] !== v) {
      parent[v] = parent[parent[v]];
      v = parent[v];
    }
    return v;
  };
  const union = (a: number, b: number): void => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
  };
  for (const e of problem.poseEdges) union(e.i, e.j);
  for (const e of problem.landmarkEdges) union(e.i, problem.numPoses + e.k);
  for (let v = 0; v < n; v++) parent[v] = find(v);
  return parent;
}

/** The connected components of the measurement graph, largest first. */
export function connectedComponents(problem: Problem): Component[] {
  const roots = componentRoots(problem);
  const byRoot = new Map<number, Component>();
  for (let v = 0; v < roots.length; v++) {
    let c = byRoot.get(roots[v]);
    if (c === undefined) {
      c = { poses: [], landmarks: [] };
      byRoot.set(roots[v], c);
    }
    if (v < problem.numPoses) c.poses.push(v);
    else c.landmarks.push(v - problem.numPoses);
  }
  return [...byRoot.values()].sort(
    (a, b) => b.poses.length + b.landmarks.length - (a.poses.length + a.landmarks.length),
  );
}

/** Thrown for a measurement graph with more than one connected component. */
export class DisconnectedGraphError extends Error {
  readonly components: Component[];
  constructor(message: string, components: Component[]) {
    super(message);
    this.name = "DisconnectedGraphError";
    this.components = components;
  }
}

function listIds(label: string, indices: number[], ids: number[], limit = 6): string {
  if (indices.length === 0) return "";
  const shown = indices.slice(0, limit).map((k) => String(ids[k] ?? k));
  const more = indices.length > limit ? `, … (${indices.length} in all)` : "";
  return `${label} ${shown.join(", ")}${more}`;
}

/** Describes a component by its original ids, e.g. "poses 0, 1, 2; landmarks 5". */
export function describeComponent(problem: Problem, c: Component): string {
  return [listIds(c.poses.length === 1 ? "pose" : "poses", c.poses, problem.poseIds),
    listIds(c.landmarks.length === 1 ? "landmark" : "landmarks", c.landmarks, problem.landmarkIds)]
    .filter((s) => s !== "")
    .join("; ");
}

/**
 * Throws DisconnectedGraphError naming each component (by the file's ids) when
 * the measurement graph is not connected.
 */
export function checkConnected(problem: Problem): void {
  if (problem.numPoses === 0) {
    throw new Error(`${problem.source ?? "SLAM problem"}: no poses; a problem needs at least one pose measurement`);
  }
  const components = connectedComponents(problem);
  if (components.length <= 1) return;
  const shown = components.slice(0, 5).map((c, n) => `  ${n + 1}: ${describeComponent(problem, c)}`);
  if (components.length > 5) shown.push(`  … and ${components.length - 5} more`);
  throw new DisconnectedGraphError(
    `${problem.source ?? "SLAM problem"}: the measurement graph is disconnected (${components.length} components), ` +
      `so its solution is not unique:\n${shown.join("\n")}\n` +
      `Add measurements linking them, or solve each component on its own.`,
    components,
  );
}
