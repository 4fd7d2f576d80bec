// Data: record readers (JSON Lines; Parquet written by parquetjs-lite, an
// independent writer, and read through hyparquet), datasets, and the
// DataLoader's seeded shuffling, padding, masks and resumable state.
import { ArrayDataset, CharTokenizer, DataLoader, TextDataset, TokenDataset, collate, readJsonl, readParquet, streamJsonl, type Example } from "nbforge";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

interface ParquetWriter {
  appendRow(row: Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
}
interface ParquetJs {
  ParquetSchema: new (fields: Record<string, { type: string; optional?: boolean }>) => unknown;
  ParquetWriter: { openFile(schema: unknown, path: string): Promise<ParquetWriter> };
}
const parquetjs = createRequire(import.meta.url)("parquetjs-lite") as ParquetJs;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "nbforge-data-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ROWS = Array.from({ length: 37 }, (_, i) => ({ text: `row ${i}: ${"ab".repeat(i % 5)}`, label: i * 3 - 7, score: i / 8 }));

describe("record readers", () => {
  test("JSON Lines, whole and streamed; a bad line is named", async () => {
    const path = join(dir, "rows.jsonl");
    writeFileSync(path, ROWS.map((r) => JSON.stringify(r)).join("\n") + "\n\n");
    expect(readJsonl(path)).toEqual(ROWS);
    const streamed = [];
    for await (const r of streamJsonl(path)) streamed.push(r);
    expect(streamed).toEqual(ROWS);
    writeFileSync(join(dir, "bad.jsonl"), '{"a": 1}\n{"a": 2,\n');
    expect(() => readJsonl(join(dir, "bad.jsonl"))).toThrow(/bad.jsonl line 2: not valid JSON/);
    writeFileSync(join(dir, "arr.jsonl"), "[1, 2]\n");
    expect(() => readJsonl(join(dir, "arr.jsonl"))).toThrow(/line 1: expected a JSON object per line, found an array/);
  });

  test("Parquet written by parquetjs-lite reads back through hyparquet", async () => {
    const path = join(dir, "rows.parquet");
    const schema = new parquetjs.ParquetSchema({ text: { type: "UTF8" }, label: { type: "INT32" }, score: { type: "DOUBLE" } });
    const w = await parquetjs.ParquetWriter.openFile(schema, path);
    for (const r of ROWS) await w.appendRow(r);
    await w.close();
    const rows = await readParquet(path);
    expect(rows).toEqual(ROWS);
    const some = await readParquet(path, { columns: ["text"], rowStart: 5, rowEnd: 8 });
    expect(some).toEqual(ROWS.slice(5, 8).map((r) => ({ text: r.text })));
    await expect(readParquet(join(dir, "rows.jsonl"))).rejects.toThrow(/readParquet: .*rows.jsonl/);
  });
});

describe("datasets", () => {
  test("TokenDataset windows are shifted by one for the labels", () => {
    const ds = new TokenDataset(Array.from({ length: 23 }, (_, i) => i), { blockSize: 5, stride: 4 });
    expect(ds.length).toBe(5); // starts 0, 4, 8, 12, 16 (16 + 5 + 1 = 22 <= 23)
    expect(ds.get(2)).toEqual({ inputIds: [8, 9, 10, 11, 12], labels: [9, 10, 11, 12, 13] });
    expect(() => ds.get(5)).toThrow(/index 5 is outside \[0, 5\)/);
    expect(() => new TokenDataset([1, 2, 3], { blockSize: 3 })).toThrow(/too few for one window/);
  });

  test("TextDataset tokenizes records and appends EOS", () => {
    const tok = CharTokenizer.fromText("abc ", { specialTokens: ["<eos>"], eosToken: "<eos>" });
    const ds = new TextDataset(tok, [{ body: "ab c" }, { body: "cab" }], { field: "body", addEos: true });
    expect(ds.get(1).inputIds).toEqual([...tok.encode("cab"), tok.eosTokenId]);
    expect(() => new TextDataset(tok, [{ text: 1 }])).toThrow(/record 0 has no string field "text"/);
  });
});

describe("DataLoader", () => {
  const ds = new ArrayDataset(Array.from({ length: 29 }, (_, i) => ({ inputIds: Array.from({ length: 1 + (i % 4) }, (_, k) => 100 + i * 10 + k), labels: [i], id: i })));
  const ids = (loader: DataLoader) => [...loader].map((b) => (b.id.toArray() as number[]));

  test("each epoch is a permutation; the same seed gives the same order, other seeds and epochs differ", () => {
    const a = new DataLoader(ds, { batchSize: 4, shuffle: true, seed: 7 });
    const b = new DataLoader(ds, { batchSize: 4, shuffle: true, seed: 7 });
    const c = new DataLoader(ds, { batchSize: 4, shuffle: true, seed: 8 });
    const e0 = ids(a).flat();
    expect([...e0].sort((x, y) => x - y)).toEqual(Array.from({ length: 29 }, (_, i) => i));
    expect(ids(b).flat()).toEqual(e0);
    expect(ids(c).flat()).not.toEqual(e0);
    const e1 = ids(a).flat();
    expect(e1).not.toEqual(e0);
    expect([...e1].sort((x, y) => x - y)).toEqual(Array.from({ length: 29 }, (_, i) => i));
    expect(a.length).toBe(8);
    expect(new DataLoader(ds, { batchSize: 4, dropLast: true }).length).toBe(7);
    expect(ids(new DataLoader(ds, { batchSize: 10 })).flat()).toEqual(Array.from({ length: 29 }, (_, i) => i));
  });

  test("a loader restored from its state dict serves exactly the batches that were next", () => {
    const a = new DataLoader(ds, { batchSize: 3, shuffle: true, seed: 3 });
    for (let i = 0; i < 12; i++) a.next(); // into epoch 1
    const saved = JSON.parse(JSON.stringify(a.stateDict()));
    const rest = [];
    for (let i = 0; i < 15; i++) rest.push(a.next()?.id.toArray() ?? null);
    const b = new DataLoader(ds, { batchSize: 3, shuffle: true, seed: 999 });
    b.loadStateDict(saved);
    const again = [];
    for (let i = 0; i < 15; i++) again.push(b.next()?.id.toArray() ?? null);
    expect(again).toEqual(rest);
  });

  test("padding, label padding, left padding and attention masks", () => {
    const examples: Example[] = [{ inputIds: [5, 6, 7], labels: [6, 7, 8] }, { inputIds: [9], labels: [1] }];
    const right = collate(examples, { padId: 0 });
    expect(right.inputIds.dtype).toBe("int64");
    expect(right.inputIds.toArray()).toEqual([[5, 6, 7], [9, 0, 0]]);
    expect(right.labels.toArray()).toEqual([[6, 7, 8], [1, -100, -100]]);
    expect(right.attentionMask.toArray()).toEqual([[1, 1, 1], [1, 0, 0]]);
    const left = collate(examples, { padId: 2, padSide: "left", padTo: 4 });
    expect(left.inputIds.toArray()).toEqual([[2, 5, 6, 7], [2, 2, 2, 9]]);
    expect(left.attentionMask.toArray()).toEqual([[0, 1, 1, 1], [0, 0, 0, 1]]);
    expect(() => collate(examples, { padTo: 2 })).toThrow(/sequence of 3 tokens, longer than padTo 2/);
    expect(() => new DataLoader(ds, { batchSize: 0 })).toThrow(/batchSize must be a positive integer/);
  });
});
