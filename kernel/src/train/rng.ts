// The random state a training run consumes: the global generator (rand, randn,
// dropout without a generator) and every generator a module holds (Dropout's,
// attention dropout's). Saving (seed, offset) of each and restoring them makes
// the random numbers after a resume the ones the run would have drawn.
import { Generator, defaultGeneratorOf, manualSeed } from "../tensor/creation.js";
import type { Module } from "../nn/module.js";

export interface GeneratorState {
  seed: number;
  offset: number;
}

export interface RngState {
  global: GeneratorState;
  /** By the dotted path of the first module that holds each generator. */
  modules: Record<string, GeneratorState>;
}

/** Every distinct generator the model's modules hold, under the first path that holds it. */
function moduleGenerators(model: Module): Map<string, Generator> {
  const out = new Map<string, Generator>();
  const seen = new Set<Generator>();
  for (const [path, m] of model.namedModules()) {
    const g = (m as unknown as { generator?: unknown }).generator;
    if (g instanceof Generator && !seen.has(g)) {
      seen.add(g);
      out.set(path, g);
    }
  }
  return out;
}

function setState(g: Generator, s: GeneratorState, where: string): void {
  if (!Number.isSafeInteger(s?.seed) || !Number.isSafeInteger(s?.offset) || s.offset < 0) {
    throw new TypeError(`${where}: expected { seed, offset } integers, got ${JSON.stringify(s)}`);
  }
  g.manualSeed(s.seed);
  // draw() advances the counter by what its callback returns: here, straight to the saved offset.
  g.draw(() => s.offset);
}

export function rngState(model: Module): RngState {
  const modules: Record<string, GeneratorState> = {};
  for (const [path, g] of moduleGenerators(model)) modules[path] = g.state;
  return { global: defaultGeneratorOf().state, modules };
}

export function loadRngState(model: Module, s: RngState): void {
  const gens = moduleGenerators(model);
  for (const [path, st] of Object.entries(s.modules ?? {})) {
    const g = gens.get(path);
    if (g === undefined) throw new Error(`loadRngState: the checkpoint has a generator at module "${path}", this model has none there`);
    setState(g, st, `loadRngState(${path})`);
  }
  const global = manualSeed(s.global.seed);
  setState(global, s.global, "loadRngState(global)");
}
