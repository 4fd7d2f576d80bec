// Deterministic memory: tidy() scopes, keep(), and memory() accounting.
// Tensors register here when created; tidy disposes the ones its function
// created and did not return.
import { nt } from "./native.js";
import type { Tensor } from "./tensor.js";

const scopes: Set<Tensor>[] = [];
let liveTensors = 0;

/** @internal */
export function trackTensor(t: Tensor): void {
  liveTensors++;
  const top = scopes[scopes.length - 1];
  if (top !== undefined) top.add(t);
}

/** @internal */
export function untrackTensor(): void {
  liveTensors--;
}

/** Removes a tensor from every open tidy scope, so no scope disposes it. Returns it. */
export function keep<T extends Tensor>(t: T): T {
  for (const s of scopes) s.delete(t);
  return t;
}

/** Tensors found in a tidy result: a Tensor, or arrays / plain objects / Maps holding tensors. */
function collect(value: unknown, out: Set<Tensor>, seen: Set<unknown>, isTensor: (v: unknown) => v is Tensor): void {
  if (value === null || typeof value !== "object" || seen.has(value)) return;
  seen.add(value);
  if (isTensor(value)) {
    out.add(value);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) collect(v, out, seen, isTensor);
  } else if (value instanceof Map) {
    for (const v of value.values()) collect(v, out, seen, isTensor);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value as Record<string, unknown>)) collect(v, out, seen, isTensor);
  }
}

let isTensorFn: ((v: unknown) => v is Tensor) | null = null;
let graphOf: ((t: Tensor, out: Set<Tensor>) => void) | null = null;

/** @internal wired by tensor.ts to avoid an import cycle at module evaluation */
export function configureScope(isTensor: (v: unknown) => v is Tensor, graph: (t: Tensor, out: Set<Tensor>) => void): void {
  isTensorFn = isTensor;
  graphOf = graph;
}

/**
 * Runs fn and disposes every tensor it created except those it returns (found in
 * arrays and plain objects) and the tensors their autograd graphs still need.
 * Kept tensors move to the enclosing scope. fn must be synchronous.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (error) {
    scopes.pop();
    for (const t of scope) t.dispose();
    throw error;
  }
  scopes.pop();
  if (result instanceof Promise) {
    throw new TypeError("tidy: fn returned a Promise; tidy scopes are synchronous, so await outside and tidy each step");
  }
  const kept = new Set<Tensor>();
  if (isTensorFn !== null) collect(result, kept, new Set(), isTensorFn);
  if (graphOf !== null) for (const t of [...kept]) graphOf(t, kept);
  const parent = scopes[scopes.length - 1];
  for (const t of scope) {
    if (kept.has(t)) parent?.add(t);
    else t.dispose();
  }
  return result;
}

export interface MemoryInfo {
  /** Tensors not yet disposed (views count separately). */
  tensors: number;
  /** Native storages alive and the bytes they hold. */
  storages: number;
  bytes: number;
  /** Bytes the caching allocator holds for reuse. */
  cachedBytes: number;
}

export function memory(): MemoryInfo {
  const s = nt.tensorMemoryStats();
  return { tensors: liveTensors, storages: s.liveStorages, bytes: s.liveBytes, cachedBytes: s.cachedBytes };
}

/** Frees the caching allocator's unused blocks. */
export function emptyCache(): void {
  nt.tensorEmptyCache();
}
