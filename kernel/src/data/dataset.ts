// Datasets: anything with a length and an indexed get. TokenDataset cuts one
// long stream of token ids into language-modelling windows; TextDataset
// tokenizes a list of texts (or records) one example each.
import type { TextTokenizer } from "../tokenizers/tokenizer.js";

/** An example: named integer sequences (input_ids, labels, ...) or scalars. */
export type Example = Record<string, readonly number[] | number>;

export interface Dataset<T = Example> {
  readonly length: number;
  get(index: number): T;
}

/** A dataset over an in-memory array. */
export class ArrayDataset<T> implements Dataset<T> {
  constructor(readonly items: readonly T[]) {}
  get length(): number {
    return this.items.length;
  }
  get(index: number): T {
    checkIndex(index, this.items.length, "ArrayDataset");
    return this.items[index];
  }
}

export interface TokenDatasetOptions {
  /** Tokens the model sees per example. */
  blockSize: number;
  /** Distance between consecutive windows' starts (default blockSize: no overlap). */
  stride?: number;
}

/**
 * Language-modelling windows over a token stream: example i is
 * inputIds = tokens[s, s + blockSize), labels = tokens[s + 1, s + blockSize + 1), s = i·stride.
 */
export class TokenDataset implements Dataset<{ inputIds: number[]; labels: number[] }> {
  readonly tokens: Int32Array;
  readonly blockSize: number;
  readonly stride: number;
  readonly length: number;

  constructor(tokens: ArrayLike<number>, options: TokenDatasetOptions) {
    const { blockSize } = options;
    const stride = options.stride ?? blockSize;
    if (!Number.isInteger(blockSize) || blockSize < 1) throw new RangeError(`TokenDataset: blockSize must be a positive integer, got ${blockSize}`);
    if (!Number.isInteger(stride) || stride < 1) throw new RangeError(`TokenDataset: stride must be a positive integer, got ${stride}`);
    this.tokens = tokens instanceof Int32Array ? tokens : Int32Array.from(tokens);
    if (this.tokens.length < blockSize + 1) {
      throw new RangeError(`TokenDataset: ${this.tokens.length} tokens are too few for one window of blockSize ${blockSize} (+1 for the labels)`);
    }
    this.blockSize = blockSize;
    this.stride = stride;
    this.length = Math.floor((this.tokens.length - blockSize - 1) / stride) + 1;
  }

  /** Tokenizes text (documents joined with the EOS token when the tokenizer has one) into windows. */
  static fromText(tokenizer: TextTokenizer, texts: string | readonly string[], options: TokenDatasetOptions): TokenDataset {
    const docs = typeof texts === "string" ? [texts] : texts;
    const ids: number[] = [];
    docs.forEach((d, i) => {
      if (i > 0 && tokenizer.eosTokenId !== null) ids.push(tokenizer.eosTokenId);
      for (const t of tokenizer.encode(d)) ids.push(t);
    });
    return new TokenDataset(ids, options);
  }

  get(index: number): { inputIds: number[]; labels: number[] } {
    checkIndex(index, this.length, "TokenDataset");
    const s = index * this.stride;
    return {
      inputIds: Array.from(this.tokens.subarray(s, s + this.blockSize)),
      labels: Array.from(this.tokens.subarray(s + 1, s + this.blockSize + 1)),
    };
  }
}

export interface TextDatasetOptions {
  /** The record field holding the text (for records; default "text"). */
  field?: string;
  /** Cut longer texts to this many tokens. */
  maxLength?: number;
  /** Append the EOS token (default false). */
  addEos?: boolean;
}

/** One example per text: inputIds, and labels = inputIds (Hugging Face's convention: the loss compares logits[:, :-1] with labels[:, 1:]). */
export class TextDataset implements Dataset<{ inputIds: number[]; labels: number[] }> {
  private readonly texts: string[];
  constructor(readonly tokenizer: TextTokenizer, source: readonly string[] | readonly Record<string, unknown>[], readonly options: TextDatasetOptions = {}) {
    const field = options.field ?? "text";
    this.texts = source.map((r, i) => {
      if (typeof r === "string") return r;
      const v = (r as Record<string, unknown>)[field];
      if (typeof v !== "string") throw new TypeError(`TextDataset: record ${i} has no string field "${field}"; pass { field } naming the text column`);
      return v;
    });
  }
  get length(): number {
    return this.texts.length;
  }
  get(index: number): { inputIds: number[]; labels: number[] } {
    checkIndex(index, this.texts.length, "TextDataset");
    let ids = this.tokenizer.encode(this.texts[index]);
    if (this.options.addEos === true) {
      if (this.tokenizer.eosTokenId === null) throw new Error("TextDataset: addEos needs a tokenizer with an EOS token");
      ids.push(this.tokenizer.eosTokenId);
    }
    if (this.options.maxLength !== undefined) ids = ids.slice(0, this.options.maxLength);
    return { inputIds: ids, labels: [...ids] };
  }
}

function checkIndex(i: number, n: number, where: string): void {
  if (!Number.isInteger(i) || i < 0 || i >= n) throw new RangeError(`${where}: index ${i} is outside [0, ${n})`);
}
