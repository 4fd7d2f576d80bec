// generate(): sampling controls, stop tokens, left-padded batches and the
// value head; checkpoints round-trip through savePretrained / fromPretrained
// (sharded too). The greedy and cached paths are checked against PyTorch in
// models.test.ts.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GPT, Generator, Llama, attend, cat, gradcheck, paddingMask, randn, rotary, tensor, type Tensor } from "nbforge";
import { emulateCudaForTests } from "nbforge/dist/tensor/device.js";
import { maxAbsDiff } from "./helpers.js";

const gpt = (extra: Record<string, unknown> = {}) =>
  new GPT({ vocabSize: 50, nPositions: 64, nEmbd: 32, nLayer: 2, nHead: 4, embdPdrop: 0, attnPdrop: 0, residPdrop: 0, seed: 9, ...extra });
const llama = (extra: Record<string, unknown> = {}) =>
  new Llama({ vocabSize: 50, hiddenSize: 32, intermediateSize: 48, numHiddenLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 2, seed: 4, ...extra });


describe.each([["gpt2", gpt], ["llama", llama]] as const)("generate (%s)", (_name, make) => {
  const model = make();
  const prompt = [[5, 7, 9, 11], [3, 1]];

  test("a seeded generator reproduces samples; topK 1 is greedy", () => {
    const opts = { maxNewTokens: 10, doSample: true, temperature: 1.3, topK: 20, topP: 0.9 };
    const a = model.generate(prompt, { ...opts, generator: new Generator(42) }).tokens;
    const b = model.generate(prompt, { ...opts, generator: new Generator(42) }).tokens;
    const c = model.generate(prompt, { ...opts, generator: new Generator(43) }).tokens;
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    const greedy = model.generate(prompt, { maxNewTokens: 10 }).tokens;
    expect(model.generate(prompt, { maxNewTokens: 10, doSample: true, topK: 1, generator: new Generator(1) }).tokens).toEqual(greedy);
    // a tiny nucleus keeps only the most likely token
    expect(model.generate(prompt, { maxNewTokens: 10, doSample: true, topP: 1e-6, generator: new Generator(1) }).tokens).toEqual(greedy);
  });

  test("top-k sampling only draws among the k most likely tokens", () => {
    const one = [[5, 7, 9, 11]];
    const logits = model.forward(tensor(one, { dtype: "int64" })).slice(1, 3, 4).reshape([50]);
    const top = new Set(Array.from(logits.topk(3).indices.to("float64").data() as Float64Array));
    const gen = new Generator(7);
    for (let i = 0; i < 20; i++) expect(top.has(model.generate(one, { maxNewTokens: 1, doSample: true, topK: 3, generator: gen }).tokens[0][0])).toBe(true);
  });

  test("left-padded rows generate what they generate alone; stop tokens end a row", () => {
    const batch = model.generate(prompt, { maxNewTokens: 8, padTokenId: 0 });
    for (let b = 0; b < prompt.length; b++) expect(batch.tokens[b]).toEqual(model.generate([prompt[b]], { maxNewTokens: 8 }).tokens[0]);
    expect(batch.sequences.shape).toEqual([2, 12]);
    expect((batch.attentionMask.toArray() as number[][])[1].slice(0, 2)).toEqual([0, 0]);
    const stop = batch.tokens[0][2];
    const stopped = model.generate(prompt, { maxNewTokens: 8, stopTokens: [stop] });
    expect(stopped.tokens[0]).toEqual(batch.tokens[0].slice(0, batch.tokens[0].indexOf(stop) + 1));
  });

  test("bad options are named", () => {
    expect(() => model.generate(prompt, { maxNewTokens: 2, doSample: true, temperature: 0 })).toThrow(/temperature must be > 0/);
    expect(() => model.generate(prompt, { maxNewTokens: 2, doSample: true, topP: 1.5 })).toThrow(/topP must be in \(0, 1\]/);
    expect(() => model.generate([[]], { maxNewTokens: 2 })).toThrow(/at least one token/);
    expect(() => model.forward(tensor([[0.5, 1]]))).toThrow(/int32\/int64 tensor \[batch, time\]/);
  });
});

describe("checkpoints and the value head", () => {
  let dir: string;
  beforeAll(() => { dir = mkdtempSync(join(tmpdir(), "nbforge-ckpt-")); });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const ids = tensor([[1, 2, 3, 4, 5]], { dtype: "int64" });

  test("a value head gives one value per position and survives save/load", () => {
    const critic = gpt({ valueHead: true });
    const v = critic.values(ids);
    expect(v.shape).toEqual([1, 5]);
    critic.savePretrained(join(dir, "critic"));
    const back = GPT.fromPretrained(join(dir, "critic"));
    expect(back.hasValueHead).toBe(true);
    expect(maxAbsDiff(back.values(ids), v)).toBe(0);
    expect(() => gpt().values(ids)).toThrow(/no value head/);
  });

  test("sharded savePretrained writes an index and loads back; tied weights are stored once", () => {
    const m = llama({ tieWordEmbeddings: true });
    m.savePretrained(join(dir, "sharded"), { maxShardBytes: 20_000 });
    const files = readdirSync(join(dir, "sharded"));
    expect(files.filter((f) => f.endsWith(".safetensors")).length).toBeGreaterThan(1);
    const index = JSON.parse(readFileSync(join(dir, "sharded", "model.safetensors.index.json"), "utf8")) as { weight_map: Record<string, string> };
    expect(Object.keys(index.weight_map)).not.toContain("lm_head.weight");
    const back = Llama.fromPretrained(join(dir, "sharded"));
    expect(maxAbsDiff(back.forward(ids), m.forward(ids))).toBe(0);
    const cfg = JSON.parse(readFileSync(join(dir, "sharded", "config.json"), "utf8")) as Record<string, unknown>;
    expect(cfg).toMatchObject({ model_type: "llama", num_key_value_heads: 2, tie_word_embeddings: true, torch_dtype: "float32" });
  });

  test("fromConfig builds the architecture a config.json describes", () => {
    gpt({ nLayer: 3 }).savePretrained(join(dir, "cfg"));
    const m = GPT.fromConfig(join(dir, "cfg", "config.json"));
    expect(m.numLayers).toBe(3);
    expect(m.numParameters()).toBe(gpt({ nLayer: 3 }).numParameters());
    // A .json path is read as named, not as its folder's config.json.
    const two = JSON.parse(readFileSync(join(dir, "cfg", "config.json"), "utf8")) as Record<string, unknown>;
    writeFileSync(join(dir, "cfg", "two-layers.json"), JSON.stringify({ ...two, n_layer: 2 }));
    expect(GPT.fromConfig(join(dir, "cfg", "two-layers.json")).numLayers).toBe(2);
    expect(() => GPT.fromConfig(join(dir, "cfg", "missing.json"))).toThrow(/missing\.json: no such config file/);
    expect(Llama.fromConfig({ model_type: "llama", vocab_size: 10, hidden_size: 8, intermediate_size: 16, num_hidden_layers: 1, num_attention_heads: 2 }).config.numKeyValueHeads).toBe(2);
    expect(() => Llama.fromConfig({ model_type: "llama", vocab_size: 10 })).toThrow(/missing "num_attention_heads"/);
  });

  test("a folder without weights or with the wrong model type is explained", () => {
    expect(() => GPT.fromPretrained(join(dir, "nothing-here"))).toThrow(/no config.json/);
    gpt().savePretrained(join(dir, "g"));
    expect(() => Llama.fromPretrained(join(dir, "g"))).toThrow(/model_type "gpt2"; Llama reads/);
  });
});

describe("attention paths and padding", () => {
  test("the composed attention (used with attention dropout) matches the fused kernel, with and without a cache", () => {
    const q = randn([2, 3, 5, 8]);
    const k = randn([2, 3, 9, 8]);
    const v = randn([2, 3, 9, 8]);
    const mask = paddingMask(tensor([[1, 1, 1, 1, 1, 1, 1, 1, 1], [0, 0, 1, 1, 1, 1, 1, 1, 1]], { dtype: "int64" }), 2, 9, "float32");
    for (const [qq, kk, vv] of [[q, k, v], [q, k.slice(2, 4), v.slice(2, 4)]]) {
      const m = kk.shape[2] === 9 ? mask : null;
      const fused = attend(qq, kk, vv, { scale: 0.3, mask: m, dropoutP: 0, training: false });
      // p so small that no element is dropped: the composed path with a scale of 1 / (1 - p)
      const composed = attend(qq, kk, vv, { scale: 0.3, mask: m, dropoutP: 1e-12, training: true });
      expect(maxAbsDiff(fused, composed)).toBeLessThan(1e-5);
    }
  });

  test("a right-padded row gives the same logits on its real tokens as the row alone", () => {
    for (const model of [gpt(), llama()]) {
      const alone = model.forward(tensor([[4, 8, 15]], { dtype: "int64" }));
      const padded = model.forward(tensor([[4, 8, 15, 0, 0], [1, 2, 3, 4, 5]], { dtype: "int64" }), {
        attentionMask: tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], { dtype: "int64" }),
      });
      expect(maxAbsDiff(padded.slice(0, 0, 1).slice(1, 0, 3), alone)).toBeLessThan(1e-5);
    }
  });
});

describe("rotary (fused op)", () => {
  test("equals x cos + rotate_half(x) sin, per-batch tables too, and passes gradcheck", () => {
    const x = randn([2, 3, 5, 8], { dtype: "float64" });
    for (const tb of [1, 2]) {
      const cos = randn([tb, 1, 5, 8], { dtype: "float64" });
      const sin = randn([tb, 1, 5, 8], { dtype: "float64" });
      const rot = cat([x.slice(-1, 4, 8).neg(), x.slice(-1, 0, 4)], -1);
      expect(maxAbsDiff(rotary(x, cos, sin), x.mul(cos).add(rot.mul(sin)))).toBeLessThan(1e-12);
      const [c, s] = [randn([tb, 1, 3, 4], { dtype: "float64" }), randn([tb, 1, 3, 4], { dtype: "float64" })];
      expect(gradcheck((t) => rotary(t, c, s), [randn([2, 2, 3, 4], { dtype: "float64", requiresGrad: true })])).toBe(true);
    }
  });
});

describe("dropout", () => {
  test("training mode drops (embedding, attention, residual), reproducibly for a seed; eval mode does not", () => {
    const ids = tensor([[1, 2, 3, 4, 5, 6]], { dtype: "int64" });
    const make = () => new GPT({ vocabSize: 50, nPositions: 16, nEmbd: 32, nLayer: 2, nHead: 4, embdPdrop: 0.1, attnPdrop: 0.1, residPdrop: 0.1, seed: 3 });
    const a = make();
    const b = make();
    const ta = a.forward(ids);
    expect(maxAbsDiff(ta, b.forward(ids))).toBe(0);
    expect(maxAbsDiff(ta, a.forward(ids))).toBeGreaterThan(0);
    a.eval();
    expect(maxAbsDiff(a.forward(ids), a.forward(ids))).toBe(0);
    expect(maxAbsDiff(a.forward(ids), ta)).toBeGreaterThan(0);
    ta.sum().backward();
    expect(a.parameters().every((p) => p.grad !== null)).toBe(true);
  });
});

describe("bfloat16 models", () => {
  test.each([["gpt2", gpt], ["llama", llama]] as const)("%s: forward and backward stay in bfloat16, near the float32 model", (_n, make) => {
    const ids = tensor([[1, 2, 3, 4, 5, 6]], { dtype: "int64" });
    const ref = make().forward(ids);
    const m = make().to("bfloat16");
    const logits = m.forward(ids);
    expect(logits.dtype).toBe("bfloat16");
    // bfloat16 keeps 8 significant bits: agreement to a few percent of the logits' range
    const scale = Math.max(...Array.from(ref.abs().data() as Float32Array));
    expect(maxAbsDiff(logits, ref) / scale).toBeLessThan(0.05);
    logits.sum().backward();
    expect(m.parameters().every((p) => p.grad !== null && p.grad.dtype === "bfloat16")).toBe(true);
  });
});

describe("models on the device path (cuda emulated on the cpu)", () => {
  test.each([["gpt2", gpt], ["llama", llama]] as const)("%s: to('cuda') gives the cpu logits, gradients and greedy tokens", (_n, make) => {
    const ids = tensor([[1, 2, 3, 4, 5, 6], [6, 5, 4, 3, 2, 1]], { dtype: "int64" });
    const cpu = make();
    const ref = cpu.forward(ids);
    const refTokens = cpu.generate([[1, 2, 3], [7]], { maxNewTokens: 5 }).tokens;
    const was = emulateCudaForTests(true);
    try {
      const m = make().to("cuda");
      expect(m.parameters().every((p) => p.device === "cuda" && p.requiresGrad)).toBe(true);
      const logits = m.forward(ids.to("cuda"));
      expect(logits.device).toBe("cuda");
      expect(maxAbsDiff(logits.to("cpu"), ref)).toBeLessThan(1e-5);
      logits.sum().backward();
      expect(m.parameters().every((p) => p.grad !== null && p.grad.device === "cuda")).toBe(true);
      expect(m.generate([[1, 2, 3], [7]], { maxNewTokens: 5 }).tokens).toEqual(refTokens);
    } finally {
      emulateCudaForTests(was);
    }
  });
});
