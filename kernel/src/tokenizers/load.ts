// loadTokenizer(dir): whichever tokenizer a local folder holds.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
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
    let f: CharTokenizerFile;
    try {
      f = JSON.parse(readFileSync(charPath, "utf8")) as CharTokenizerFile;
    } catch (e) {
      throw new Error(`${charPath}: not readable JSON (${(e as Error).message})`);
    }
    return CharTokenizer.fromJSON(f, charPath);
  }
  return BPETokenizer.fromDir(dir);
}
