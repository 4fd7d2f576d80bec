// What every tokenizer offers: text to ids and back, the vocabulary size, the
// special ids a data pipeline needs, and saving to a folder loadTokenizer reads.

export interface EncodeOptions {
  /** Add the tokenizer's special tokens (e.g. BOS/EOS) where its post-processor puts them (default false). */
  addSpecialTokens?: boolean;
}

export interface DecodeOptions {
  /** Leave special tokens out of the text (default false). */
  skipSpecialTokens?: boolean;
}

export interface TextTokenizer {
  /** Ids run from 0 to vocabSize - 1 (special tokens included). */
  readonly vocabSize: number;
  /** The end-of-text id, when the tokenizer has one. */
  readonly eosTokenId: number | null;
  /** The padding id, when the tokenizer has one. */
  readonly padTokenId: number | null;
  encode(text: string, options?: EncodeOptions): number[];
  decode(ids: ArrayLike<number>, options?: DecodeOptions): string;
  /** A token's id, or undefined when it is not in the vocabulary. */
  tokenToId(token: string): number | undefined;
  /** Writes the files loadTokenizer(dir) reads back. */
  save(dir: string): void;
}
