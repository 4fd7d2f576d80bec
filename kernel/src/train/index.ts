// Training: the Trainer loop and checkpoints that resume bit for bit.
export { Trainer, fit } from "./trainer.js";
export type { TrainerOptions, TrainerCallback, StepLog } from "./trainer.js";
export { saveCheckpoint, loadCheckpoint, CHECKPOINT_FORMAT } from "./checkpoint.js";
export type { TrainingParts, TrainerStateFile } from "./checkpoint.js";
export { rngState, loadRngState } from "./rng.js";
export type { RngState, GeneratorState } from "./rng.js";
