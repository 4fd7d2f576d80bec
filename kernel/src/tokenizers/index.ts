// Tokenizers: GPT-2 byte-level BPE (and any tokenizer.json), characters, and loading from a folder.
export type { TextTokenizer, EncodeOptions, DecodeOptions } from "./tokenizer.js";
export { CharTokenizer, CHAR_TOKENIZER_FILE } from "./char.js";
export type { CharTokenizerOptions, CharTokenizerFile } from "./char.js";
export { BPETokenizer, byteLevelTokenizerJson, parseMerges } from "./bpe.js";
export { loadTokenizer } from "./load.js";
