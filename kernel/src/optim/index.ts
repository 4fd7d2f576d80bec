// Optimizers, gradient clipping and learning-rate schedules.
export { Optimizer } from "./optimizer.js";
export type { BaseHyper, ParamGroup, ParamGroupInput, ParamsInput, ParamState, OptimizerStateDict } from "./optimizer.js";
export { AdamW, ADAMW_DEFAULTS } from "./adamw.js";
export type { AdamWHyper, AdamWOptions } from "./adamw.js";
export { SGD, SGD_DEFAULTS } from "./sgd.js";
export type { SGDHyper, SGDOptions } from "./sgd.js";
export { clipGradNorm } from "./clip.js";
export type { ClipOptions } from "./clip.js";
export { LRScheduler, WarmupCosineLR, LinearLR, ConstantLR, LambdaLR } from "./schedule.js";
export type { SchedulerStateDict, WarmupCosineLROptions, LinearLROptions, ConstantLROptions } from "./schedule.js";
