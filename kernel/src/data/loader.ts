// DataLoader: seeded shuffling, batching, padding and attention masks. The
// order of epoch e is a Fisher–Yates shuffle driven by a generator seeded with
// (seed, e), so it depends on nothing else; stateDict() records (epoch, batch)
// and a restored loader continues with exactly the batches that were next.
import { tensor } from "../tensor/creation.js";
import type { Tensor } from "../tensor/tensor.js";
import type { DType } from "../tensor/dtype.js";
import type { Dataset, Example } from "./dataset.js";

export type Batch = Record<string, Tensor>;

export interface CollateOptions {
  /** The id padding takes in every sequence field but labels (default 0). */
  padId?: number;
  /** The value padding takes in labels, ignored by crossEntropy (default -100). */
  labelPadId?: number;
  /** Pad on the right (default) or left (for generation). */
  padSide?: "right" | "left";
  /** Pad every batch to this length instead of its longest sequence; longer sequences are an error. */
  padTo?: number;
  /** Integer dtype of the batch tensors (default int64, as PyTorch's LongTensor). */
  dtype?: DType;
  /** The sequence field the attention mask describes (default "inputIds"); the mask is added as attentionMask. */
  maskField?: string;
}

/**
 * Stacks examples into tensors: sequence fields are padded to one length (the
 * attention mask marks real tokens with 1), number fields become a [batch] tensor.
 */
export function collate(examples: readonly Example[], options: CollateOptions = {}): Batch {
  if (examples.length === 0) throw new RangeError("collate: no examples");
  const dtype = options.dtype ?? "int64";
  const padSide = options.padSide ?? "right";
  const maskField = options.maskField ?? "inputIds";
  const keys = Object.keys(examples[0]);
  const out: Batch = {};
  for (const key of keys) {
    const first = examples[0][key];
    if (typeof first === "number") {
      const vals = examples.map((e, i) => {
        const v = e[key];
        if (typeof v !== "number") throw new TypeError(`collate: field "${key}" is a number in example 0 but not in example ${i}`);
        return v;
      });
      out[key] = tensor(Float64Array.from(vals), { dtype: Number.isInteger(vals[0]) && vals.every(Number.isInteger) ? dtype : "float32" });
      continue;
    }
    const seqs = examples.map((e, i) => {
      const v = e[key];
      if (!Array.isArray(v)) throw new TypeError(`collate: field "${key}" is a sequence in example 0 but not in example ${i}`);
      return v as readonly number[];
    });
    const longest = Math.max(...seqs.map((s) => s.length));
    const T = options.padTo ?? longest;
    if (longest > T) throw new RangeError(`collate: field "${key}" has a sequence of ${longest} tokens, longer than padTo ${T}; truncate it in the dataset`);
    const pad = key === "labels" ? (options.labelPadId ?? -100) : (options.padId ?? 0);
    const data = new Int32Array(seqs.length * T).fill(pad);
    const mask = key === maskField ? new Int32Array(seqs.length * T) : null;
    seqs.forEach((s, b) => {
      const start = b * T + (padSide === "left" ? T - s.length : 0);
      for (let t = 0; t < s.length; t++) {
        data[start + t] = s[t];
        if (mask !== null) mask[start + t] = 1;
      }
    });
    out[key] = tensor(data, { shape: [seqs.length, T], dtype });
    if (mask !== null) out.attentionMask = tensor(mask, { shape: [seqs.length, T], dtype });
  }
  return out;
}

export interface DataLoaderOptions extends CollateOptions {
  batchSize: number;
  /** Shuffle each epoch (default false). */
  shuffle?: boolean;
  /** Seed of the shuffles (default 0). */
  seed?: number;
  /** Drop the last batch when it is smaller than batchSize (default false). */
  dropLast?: boolean;
  /** Your own collate function instead of padding. */
  collateFn?: (examples: Example[]) => Batch;
}

export interface DataLoaderState {
  seed: number;
  epoch: number;
  /** Batches already taken from this epoch. */
  batch: number;
}

/** Batches of a dataset, epoch after epoch: `for (const batch of loader)` runs one epoch from where the loader stands. */
export class DataLoader<T extends Example = Example> implements Iterable<Batch> {
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  private seed: number;
  private epoch = 0;
  private batch = 0;
  private order: Uint32Array | null = null;

  constructor(readonly dataset: Dataset<T>, readonly options: DataLoaderOptions) {
    const { batchSize } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`DataLoader: batchSize must be a positive integer, got ${batchSize}`);
    if (dataset.length === 0) throw new RangeError("DataLoader: the dataset is empty");
    this.batchSize = batchSize;
    this.shuffle = options.shuffle ?? false;
    this.dropLast = options.dropLast ?? false;
    this.seed = options.seed ?? 0;
    if (!Number.isSafeInteger(this.seed) || this.seed < 0) throw new RangeError(`DataLoader: seed must be a non-negative integer, got ${this.seed}`);
  }

  /** Batches per epoch. */
  get length(): number {
    const n = this.dataset.length / this.batchSize;
    return this.dropLast ? Math.floor(n) : Math.ceil(n);
  }

  /** The epoch the next batch comes from. */
  get currentEpoch(): number {
    return this.epoch;
  }

  /** The dataset indices of epoch e, in the order they are served. */
  indicesOf(epoch: number): Uint32Array {
    const n = this.dataset.length;
    const idx = new Uint32Array(n);
    for (let i = 0; i < n; i++) idx[i] = i;
    if (!this.shuffle) return idx;
    const rand = splitmix32(this.seed, epoch);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      const t = idx[i];
      idx[i] = idx[j];
      idx[j] = t;
    }
    return idx;
  }

  /** The next batch, moving to the next epoch after the last; null at an epoch's end (once). */
  next(): Batch | null {
    if (this.batch >= this.length) {
      this.epoch++;
      this.batch = 0;
      this.order = null;
      return null;
    }
    if (this.order === null) this.order = this.indicesOf(this.epoch);
    const start = this.batch * this.batchSize;
    const end = Math.min(start + this.batchSize, this.order.length);
    const examples: Example[] = [];
    for (let i = start; i < end; i++) examples.push(this.dataset.get(this.order[i]));
    this.batch++;
    return this.options.collateFn !== undefined ? this.options.collateFn(examples) : collate(examples, this.options);
  }

  /** The rest of the current epoch. */
  *[Symbol.iterator](): Iterator<Batch> {
    for (;;) {
      const b = this.next();
      if (b === null) return;
      yield b;
    }
  }

  stateDict(): DataLoaderState {
    return { seed: this.seed, epoch: this.epoch, batch: this.batch };
  }

  loadStateDict(s: DataLoaderState): void {
    if (s === null || typeof s !== "object" || !Number.isInteger(s.epoch) || !Number.isInteger(s.batch) || !Number.isInteger(s.seed)) {
      throw new TypeError("DataLoader.loadStateDict: expected { seed, epoch, batch } from a DataLoader's stateDict()");
    }
    if (s.batch < 0 || s.batch > this.length) throw new RangeError(`DataLoader.loadStateDict: batch ${s.batch} is outside an epoch of ${this.length} batches`);
    this.seed = s.seed;
    this.epoch = s.epoch;
    this.batch = s.batch;
    this.order = null;
  }
}

/** A uniform [0, 1) stream from (seed, stream) by SplitMix32-style mixing. */
function splitmix32(seed: number, stream: number): () => number {
  let state = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul((stream + 1) >>> 0, 0x85ebca6b) ^ Math.floor(seed / 4294967296)) >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    z ^= z >>> 16;
    return (z >>> 0) / 4294967296;
  };
}
