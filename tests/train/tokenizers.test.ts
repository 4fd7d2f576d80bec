// Tokenizers: GPT-2 BPE (through @huggingface/tokenizers) against js-tiktoken's
// independent GPT-2 encoder, published GPT-2 ids, round trips, and the
// character tokenizer.
import { BPETokenizer, CharTokenizer, loadTokenizer } from "nbforge";
import { Tiktoken } from "js-tiktoken/lite";
import gpt2 from "js-tiktoken/ranks/gpt2";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeGpt2Files } from "./gpt2-files.js";

let dir: string;
let nMerges: number;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "nbforge-gpt2-"));
  nMerges = writeGpt2Files(join(dir, "gpt2"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TEXTS = [
  "Hello world",
  "The quick brown fox jumps over the lazy dog.",
  "  leading spaces, trailing spaces   ",
  "It's 2026; we'll see what they've done — naïve café, 東京, emoji 🎉!",
  "def f(x):\n    return x ** 2  # square\n\n\ttabbed",
  "1234567890 + 987654321 = 1111111211",
  "<|endoftext|> is written out, not special, when it appears in text",
];

describe("GPT-2 byte-level BPE", () => {
  test("the rebuilt files have GPT-2's 50,000 merges", () => {
    expect(nMerges).toBe(50000);
  });

  test("vocab.json + merges.txt encode exactly as js-tiktoken's GPT-2 encoder", () => {
    const tok = loadTokenizer(join(dir, "gpt2"));
    const ref = new Tiktoken(gpt2);
    expect(tok.vocabSize).toBe(50257);
    for (const text of TEXTS.slice(0, 6)) expect(tok.encode(text)).toEqual(ref.encode(text));
  });

  test("known GPT-2 ids", () => {
    const tok = loadTokenizer(join(dir, "gpt2"));
    // From GPT-2's published encoder.json: "Hello" 15496, " world" 995, "<|endoftext|>" 50256.
    expect(tok.encode("Hello world")).toEqual([15496, 995]);
    expect(tok.tokenToId("<|endoftext|>")).toBe(50256);
    expect(tok.eosTokenId).toBe(50256);
  });

  test("decode(encode(text)) gives the text back", () => {
    const tok = loadTokenizer(join(dir, "gpt2"));
    for (const text of TEXTS) expect(tok.decode(tok.encode(text))).toBe(text);
  });

  test("save() writes a tokenizer.json that loads back to the same ids", () => {
    const tok = loadTokenizer(join(dir, "gpt2")) as BPETokenizer;
    tok.save(join(dir, "saved"));
    const again = loadTokenizer(join(dir, "saved"));
    for (const text of TEXTS) expect(again.encode(text)).toEqual(tok.encode(text));
    expect(again.eosTokenId).toBe(50256);
  });

  test("a missing or broken folder names the problem", () => {
    expect(() => loadTokenizer(join(dir, "nope"))).toThrow(/does not exist/);
    writeFileSync(join(dir, "notes.txt"), "no tokenizer files here");
    expect(() => loadTokenizer(dir)).toThrow(/no tokenizer.json, and not both vocab.json and merges.txt/);
  });
});

describe("CharTokenizer", () => {
  const text = "0123456789+= ";
  test("round trip, special tokens and save/load", () => {
    const tok = CharTokenizer.fromText(text, { specialTokens: ["<pad>", "<eos>"], padToken: "<pad>", eosToken: "<eos>" });
    expect(tok.vocabSize).toBe(15);
    const ids = tok.encode("12+34=46", { addSpecialTokens: true });
    expect(ids[ids.length - 1]).toBe(tok.eosTokenId);
    expect(tok.decode(ids)).toBe("12+34=46<eos>");
    expect(tok.decode(ids, { skipSpecialTokens: true })).toBe("12+34=46");
    // Sorted by code point: " " (32) first, then "+" (43), then the digits.
    expect(tok.encode(" +0")).toEqual([0, 1, 2]);
    tok.save(join(dir, "chars"));
    const again = loadTokenizer(join(dir, "chars"));
    expect(again.encode("98 + 1")).toEqual(tok.encode("98 + 1"));
    expect(again.padTokenId).toBe(tok.padTokenId);
  });

  test("unknown characters and ids are reported with their position", () => {
    const tok = new CharTokenizer("ab");
    expect(() => tok.encode("abc")).toThrow(/character "c" at position 2 is not in the alphabet/);
    expect(() => tok.decode([0, 5])).toThrow(/id 5 at position 1 is outside \[0, 2\)/);
    expect(() => new CharTokenizer("aba")).toThrow(/appears twice/);
  });
});
