// A character-level tokenizer for small demos: one id per Unicode code point of
// a fixed alphabet, then optional special tokens (e.g. "<pad>", "<eos>").
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { DecodeOptions, EncodeOptions, TextTokenizer } from "./tokenizer.js";

/** The file a saved CharTokenizer lives in. */
export const CHAR_TOKENIZER_FILE = "char_tokenizer.json";

export interface CharTokenizerOptions {
  /** Special tokens, given ids after the characters, in order. */
  specialTokens?: readonly string[];
  /** Which special token is end-of-text / padding (must be in specialTokens). */
  eosToken?: string;
  padToken?: string;
}

export interface CharTokenizerFile {
  type: "char";
  chars: string[];
  specialTokens: string[];
  eosToken: string | null;
  padToken: string | null;
}

export class CharTokenizer implements TextTokenizer {
  readonly chars: readonly string[];
  readonly specialTokens: readonly string[];
  readonly eosTokenId: number | null;
  readonly padTokenId: number | null;
  private readonly ids = new Map<string, number>();

  /** alphabet: every character the texts may hold (a string or a list; duplicates are an error). */
  constructor(alphabet: string | readonly string[], options: CharTokenizerOptions = {}) {
    const chars = typeof alphabet === "string" ? [...alphabet] : [...alphabet];
    chars.forEach((c, i) => {
      if ([...c].length !== 1) throw new RangeError(`CharTokenizer: alphabet entry ${JSON.stringify(c)} is not one character`);
      if (this.ids.has(c)) throw new RangeError(`CharTokenizer: character ${JSON.stringify(c)} appears twice in the alphabet`);
      this.ids.set(c, i);
    });
    const specials = [...(options.specialTokens ?? [])];
    specials.forEach((s, i) => {
      if (this.ids.has(s)) throw new RangeError(`CharTokenizer: special token ${JSON.stringify(s)} clashes with a character or another special token`);
      this.ids.set(s, chars.length + i);
    });
    this.chars = chars;
    this.specialTokens = specials;
    const special = (name: string, tok: string | undefined): number | null => {
      if (tok === undefined) return null;
      const i = specials.indexOf(tok);
      if (i < 0) throw new RangeError(`CharTokenizer: ${name} ${JSON.stringify(tok)} is not one of specialTokens`);
      return chars.length + i;
    };
    this.eosTokenId = special("eosToken", options.eosToken);
    this.padTokenId = special("padToken", options.padToken);
  }

  /** A tokenizer whose alphabet is every distinct character of text, sorted by code point. */
  static fromText(text: string, options: CharTokenizerOptions = {}): CharTokenizer {
    const set = [...new Set(text)].sort((a, b) => (a.codePointAt(0) as number) - (b.codePointAt(0) as number));
    return new CharTokenizer(set, options);
  }

  get vocabSize(): number {
    return this.chars.length + this.specialTokens.length;
  }

  /** One id per character; special tokens are matched only by tokenToId, never inside text. */
  encode(text: string, options: EncodeOptions = {}): number[] {
    const out: number[] = [];
    let pos = 0;
    for (const c of text) {
      const id = this.ids.get(c);
      if (id === undefined || id >= this.chars.length) {
        throw new RangeError(`CharTokenizer.encode: character ${JSON.stringify(c)} at position ${pos} is not in the alphabet; build the tokenizer from text that contains it`);
      }
      out.push(id);
      pos++;
    }
    if (options.addSpecialTokens === true && this.eosTokenId !== null) out.push(this.eosTokenId);
    return out;
  }

  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    let s = "";
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
        throw new RangeError(`CharTokenizer.decode: id ${id} at position ${i} is outside [0, ${this.vocabSize})`);
      }
      if (id < this.chars.length) s += this.chars[id];
      else if (options.skipSpecialTokens !== true) s += this.specialTokens[id - this.chars.length];
    }
    return s;
  }

  tokenToId(token: string): number | undefined {
    return this.ids.get(token);
  }

  toJSON(): CharTokenizerFile {
    const name = (id: number | null) => (id === null ? null : this.specialTokens[id - this.chars.length]);
    return { type: "char", chars: [...this.chars], specialTokens: [...this.specialTokens], eosToken: name(this.eosTokenId), padToken: name(this.padTokenId) };
  }

  static fromJSON(f: CharTokenizerFile, where = "CharTokenizer.fromJSON"): CharTokenizer {
    if (f === null || typeof f !== "object" || f.type !== "char" || !Array.isArray(f.chars)) {
      throw new TypeError(`${where}: expected { type: "char", chars: [...], specialTokens: [...] }`);
    }
    return new CharTokenizer(f.chars, {
      specialTokens: f.specialTokens ?? [],
      eosToken: f.eosToken ?? undefined,
      padToken: f.padToken ?? undefined,
    });
  }

  save(dir: string): void {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, CHAR_TOKENIZER_FILE), JSON.stringify(this.toJSON(), null, 1) + "\n");
  }
}
