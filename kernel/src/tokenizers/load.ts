// loadTokenizer(dir): whichever tokenizer a local folder holds.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { readJsonObject } from "../io/json.js";
import { BPETokenizer } from "./bpe.js";
import { CHAR_TOKENIZER_FILE, CharTokenizer, type CharTokenizerFile } from "./char.js";
import type { TextTokenizer } from "./tokenizer.js";

/**
 * Loads a tokenizer from a local folder: a saved CharTokenizer (char_tokenizer.json),
 * a Hugging Face tokenizer.json (+ tokenizer_config.json), or GPT-2's vocab.json + merges.txt.
 */
export function loadTokenizer(dir: string): TextTokenizer {
  if (!existsSync(dir)) throw new Error(`loadTokenizer: folder ${dir} does not exist`);
  const charPath = join(dir, CHAR_TOKENIZER_FILE);
  if (existsSync(charPath)) {
    return CharTokenizer.fromJSON(readJsonObject(charPath) as unknown as CharTokenizerFile, charPath);
  }
  return BPETokenizer.fromDir(dir);
}
