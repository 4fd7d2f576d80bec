// GPT-2's original tokenizer files (vocab.json + merges.txt), rebuilt from the
// byte-pair ranks that js-tiktoken ships, so the tests need no download:
// ids are the ranks; each merge is found by running BPE on a token's bytes with
// only the lower ranks, which leaves exactly the two parts it was merged from.
import gpt2 from "js-tiktoken/ranks/gpt2";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** GPT-2's byte -> printable character table (bytes_to_unicode in GPT-2's encoder.py). */
export function bytesToUnicode(): string[] {
  const table = new Array<string>(256);
  const printable = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  let extra = 0;
  for (let b = 0; b < 256; b++) table[b] = String.fromCodePoint(printable(b) ? b : 256 + extra++);
  return table;
}

function ranksOf(): Map<string, number> {
  const ranks = new Map<string, number>();
  for (const line of gpt2.bpe_ranks.split("\n")) {
    if (line === "") continue;
    const [, offset, ...tokens] = line.split(" ");
    tokens.forEach((t, i) => ranks.set(Buffer.from(t, "base64").toString("latin1"), Number(offset) + i));
  }
  return ranks;
}

/** Writes vocab.json and merges.txt for GPT-2 into dir; returns the number of merges. */
export function writeGpt2Files(dir: string): number {
  const ranks = ranksOf();
  const b2u = bytesToUnicode();
  const show = (bytes: string) => Array.from(bytes, (c) => b2u[c.charCodeAt(0)]).join("");
  const byRank = [...ranks.entries()].sort((a, b) => a[1] - b[1]);
  const vocab: Record<string, number> = {};
  const merges: string[] = [];
  for (const [bytes, rank] of byRank) {
    vocab[show(bytes)] = rank;
    if (bytes.length < 2) continue;
    let parts = Array.from(bytes);
    for (;;) {
      let best = -1;
      let bestRank = rank;
      for (let i = 0; i + 1 < parts.length; i++) {
        const r = ranks.get(parts[i] + parts[i + 1]);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      parts = [...parts.slice(0, best), parts[best] + parts[best + 1], ...parts.slice(best + 2)];
    }
    if (parts.length !== 2) throw new Error(`token of rank ${rank} does not split into two lower-ranked parts`);
    merges.push(`${show(parts[0])} ${show(parts[1])}`);
  }
  for (const [tok, id] of Object.entries(gpt2.special_tokens)) vocab[tok] = id;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "vocab.json"), JSON.stringify(vocab));
  writeFileSync(join(dir, "merges.txt"), "#version: 0.2\n" + merges.join("\n") + "\n");
  return merges.length;
}
