// nbforge's neural-network API: Module, layers, model families, LoRA, checkpoints.
export { Module, ModuleList, copyInto } from "./module.js";
export type { LoadStateDictOptions, LoadStateDictResult } from "./module.js";
