// Byte-level BPE (GPT-2 and every tokenizer.json the Hugging Face tokenizers
// library writes) through @huggingface/tokenizers, a pure-JavaScript port that
// needs no network: we hand it the parsed files from a local folder. A folder
// with only GPT-2's original vocab.json + merges.txt is turned into the
// equivalent tokenizer.json (byte-level pre-tokenizer and decoder, BPE model).
import { Tokenizer } from "@huggingface/tokenizers";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readJsonObject } from "../io/json.js";
import type { DecodeOptions, EncodeOptions, TextTokenizer } from "./tokenizer.js";

type Json = Record<string, unknown>;

/** The token string of a special-token entry in tokenizer_config.json (a string or { content }). */
function tokenContent(v: unknown): string | null {
  if (typeof v === "string") return v;
  if (v !== null && typeof v === "object" && typeof (v as Json).content === "string") return (v as Json).content as string;
  return null;
}

export class BPETokenizer implements TextTokenizer {
  readonly vocabSize: number;
  readonly eosTokenId: number | null;
  readonly padTokenId: number | null;
  private readonly tok: Tokenizer;

  /** tokenizerJson: a parsed tokenizer.json; config: a parsed tokenizer_config.json ({} when absent). */
  constructor(readonly tokenizerJson: Json, readonly config: Json = {}) {
    const model = tokenizerJson.model as Json | undefined;
    if (model === undefined || typeof model !== "object") throw new TypeError("BPETokenizer: tokenizer.json has no \"model\" section");
    this.tok = new Tokenizer(tokenizerJson, config);
    // The vocabulary may have gaps filled by added tokens; the size is one past the largest id.
    let maxId = -1;
    for (const id of this.tok.get_vocab(true).values()) maxId = Math.max(maxId, id);
    this.vocabSize = maxId + 1;
    const idOf = (key: string): number | null => {
      const t = tokenContent(config[key]);
      return t === null ? null : (this.tok.token_to_id(t) ?? null);
    };
    this.eosTokenId = idOf("eos_token");
    this.padTokenId = idOf("pad_token");
  }

  /** Reads tokenizer.json (+ tokenizer_config.json), or GPT-2's vocab.json + merges.txt, from a local folder. */
  static fromDir(dir: string): BPETokenizer {
    const configPath = join(dir, "tokenizer_config.json");
    const config = existsSync(configPath) ? readJsonObject(configPath) : {};
    const tjPath = join(dir, "tokenizer.json");
    if (existsSync(tjPath)) return new BPETokenizer(readJsonObject(tjPath), config);
    const vocabPath = join(dir, "vocab.json");
    const mergesPath = join(dir, "merges.txt");
    if (existsSync(vocabPath) && existsSync(mergesPath)) {
      const vocab = readJsonObject(vocabPath) as Record<string, number>;
      const merges = parseMerges(readFileSync(mergesPath, "utf8"), mergesPath);
      // GPT-2's folders name "<|endoftext|>" as BOS/EOS/UNK; keep whatever the config says, else that default.
      const eos = tokenContent(config.eos_token) ?? ("<|endoftext|>" in vocab ? "<|endoftext|>" : null);
      const cfg: Json = { ...config };
      if (eos !== null && cfg.eos_token === undefined) cfg.eos_token = eos;
      return new BPETokenizer(byteLevelTokenizerJson(vocab, merges, eos === null ? [] : [eos]), cfg);
    }
    throw new Error(`${dir}: no tokenizer.json, and not both vocab.json and merges.txt; put a Hugging Face tokenizer's files there`);
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    return this.tok.encode(text, { add_special_tokens: options.addSpecialTokens ?? false }).ids;
  }

  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    const list = Array.from(ids);
    list.forEach((id, i) => {
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) throw new RangeError(`BPETokenizer.decode: id ${id} at position ${i} is outside [0, ${this.vocabSize})`);
    });
    return this.tok.decode(list, { skip_special_tokens: options.skipSpecialTokens ?? false, clean_up_tokenization_spaces: false });
  }

  tokenToId(token: string): number | undefined {
    return this.tok.token_to_id(token);
  }

  /** The token strings of ids (byte-level tokens show spaces as "Ġ"). */
  idsToTokens(ids: ArrayLike<number>): string[] {
    return Array.from(ids, (id) => this.tok.id_to_token(id) ?? "");
  }

  save(dir: string): void {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "tokenizer.json"), JSON.stringify(this.tokenizerJson));
    writeFileSync(join(dir, "tokenizer_config.json"), JSON.stringify(this.config, null, 1) + "\n");
  }
}

/** merges.txt: an optional "#version" line, then one "left right" pair per line. */
export function parseMerges(text: string, where = "merges.txt"): string[] {
  const out: string[] = [];
  text.split("\n").forEach((line, i) => {
    if (line === "" || (i === 0 && line.startsWith("#version"))) return;
    const parts = line.split(" ");
    if (parts.length !== 2) throw new Error(`${where} line ${i + 1}: expected "left right", found ${JSON.stringify(line)}`);
    out.push(line);
  });
  return out;
}

/** The tokenizer.json that Hugging Face writes for GPT-2, from its vocab and merges. */
export function byteLevelTokenizerJson(vocab: Record<string, number>, merges: readonly string[], specialTokens: readonly string[] = []): Json {
  const byteLevel = { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: specialTokens.map((content) => {
      const id = vocab[content];
      if (id === undefined) throw new RangeError(`byteLevelTokenizerJson: special token ${JSON.stringify(content)} is not in the vocabulary`);
      return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true };
    }),
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: { ...byteLevel, trim_offsets: false },
    decoder: byteLevel,
    model: {
      type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: "", end_of_word_suffix: "",
      fuse_unk: false, byte_fallback: false, vocab, merges: [...merges],
    },
  };
}
