// Module bookkeeping (names, state dicts, modes, dtype conversion), LoRA
// merge/unmerge, and safetensors round trips and errors.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  GPT, Linear, Llama, Module, ModuleList, applyLoRA, cudaAvailable, mergeAndUnload, gradcheck, linear, loraStateDict, mergeLoRA, unmergeLoRA, randn, readSafetensors,
  readSafetensorsHeader, tensor, writeSafetensors, type Tensor,
} from "nbforge";
import { maxAbsDiff } from "./helpers.js";


class Tiny extends Module {
  constructor() {
    super();
    this.registerModule("proj", new Linear(3, 2));
    this.registerModule("layers", new ModuleList([new Linear(2, 2, { bias: false }), new Linear(2, 1)]));
    this.registerBuffer("running", tensor([1, 2]));
    this.registerBuffer("scratch", tensor([0]), { persistent: false });
  }
}

const tinyGPT = () => new GPT({ vocabSize: 40, nPositions: 16, nEmbd: 16, nLayer: 2, nHead: 2, embdPdrop: 0, attnPdrop: 0, residPdrop: 0, seed: 1 });

describe("Module", () => {
  test("dotted names, buffers, parameter counts, train/eval", () => {
    const m = new Tiny();
    expect(m.namedParameters().map(([n]) => n)).toEqual(["proj.weight", "proj.bias", "layers.0.weight", "layers.1.weight", "layers.1.bias"]);
    expect(Object.keys(m.stateDict())).toEqual(["running", "proj.weight", "proj.bias", "layers.0.weight", "layers.1.weight", "layers.1.bias"]);
    expect(m.namedBuffers().map(([n]) => n)).toEqual(["running", "scratch"]);
    expect(m.numParameters()).toBe(6 + 2 + 4 + 2 + 1);
    m.eval();
    expect(m.namedModules().every(([, x]) => !x.training)).toBe(true);
    m.train();
    expect(m.getSubmodule("layers.1").training).toBe(true);
  });

  test("tied weights: one parameter, two state-dict keys, either name loads it", () => {
    const g = tinyGPT();
    expect(g.namedParameters().some(([n]) => n === "lm_head.weight")).toBe(false);
    const sd = g.stateDict();
    expect(sd["lm_head.weight"]).toBe(sd["transformer.wte.weight"]);
    const other = tinyGPT();
    const src: Record<string, Tensor> = {};
    for (const [k, t] of Object.entries(sd)) if (k !== "lm_head.weight") src[k] = t.add(1);
    other.loadStateDict(src);
    expect(maxAbsDiff(other.lmHead.weight, sd["transformer.wte.weight"].add(1))).toBe(0);
  });

  test("loadStateDict copies in place (optimizers keep their tensors) and converts dtypes", () => {
    const m = new Tiny();
    const w = m.getSubmodule("proj").param("weight");
    const sd: Record<string, Tensor> = {};
    for (const [k, t] of Object.entries(m.stateDict())) sd[k] = randn(t.shape, { dtype: "float64" });
    m.loadStateDict(sd);
    expect(m.getSubmodule("proj").param("weight")).toBe(w);
    expect(maxAbsDiff(w, sd["proj.weight"])).toBeLessThan(1e-6);
  });

  test("loadStateDict names missing, unexpected and mis-shaped keys", () => {
    const m = new Tiny();
    const sd = { ...m.stateDict() };
    delete sd["layers.1.bias"];
    sd["layers.2.weight"] = randn([2, 2]);
    sd["proj.weight"] = randn([3, 2]);
    let msg = "";
    try {
      m.loadStateDict(sd);
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toContain("proj.weight: checkpoint has [3,2], model has [2,3]");
    expect(msg).toContain("missing 1 key(s): layers.1.bias");
    expect(msg).toContain("unexpected 1 key(s): layers.2.weight");
    // non-strict: the missing and unexpected keys are reported, not fatal; shapes still must match
    sd["proj.weight"] = randn([2, 3]);
    expect(m.loadStateDict(sd, { strict: false })).toEqual({ missingKeys: ["layers.1.bias"], unexpectedKeys: ["layers.2.weight"] });
    expect(maxAbsDiff(m.getSubmodule("proj").param("weight"), sd["proj.weight"])).toBe(0);
  });

  test("to(dtype) converts parameters and keeps them trainable; to('cuda') explains itself where there is no GPU", () => {
    const g = tinyGPT();
    const ids = tensor([[1, 2, 3]], { dtype: "int64" });
    const before = g.forward(ids);
    g.to("float64");
    expect(g.parameters().every((p) => p.dtype === "float64" && p.requiresGrad)).toBe(true);
    expect(g.lmHead.weight).toBe(g.stateDict()["transformer.wte.weight"]);
    expect(maxAbsDiff(g.forward(ids), before)).toBeLessThan(1e-5);
    if (!cudaAvailable()) expect(() => g.to("cuda")).toThrow(/cuda is unavailable/);
    expect(() => g.to("tpu" as "cpu")).toThrow(/unknown dtype|device/);
  });
});

describe("LoRA", () => {
  test("GPT-2 Conv1D and Llama Linear: merged forward equals unmerged, unmerge restores the base weights", () => {
    const models = [
      { m: tinyGPT(), targets: ["c_attn", "c_proj"], count: 6 }, // c_proj names both the attention and the MLP output
      { m: new Llama({ vocabSize: 40, hiddenSize: 16, intermediateSize: 24, numHiddenLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 2, seed: 2 }), targets: ["q_proj", "v_proj"], count: 4 },
    ];
    for (const { m, targets, count } of models) {
      const ids = tensor([[3, 1, 4, 1, 5], [9, 2, 6, 5, 3]], { dtype: "int64" });
      const base = m.forward(ids);
      const before = Object.fromEntries(Object.entries(m.stateDict()).map(([k, t]) => [k, t.clone()]));
      const adapted = applyLoRA(m, { r: 4, alpha: 8, targets });
      expect(adapted.length).toBe(count);
      // trainable: only the adapters
      expect(m.namedParameters().filter(([, p]) => p.requiresGrad).map(([n]) => n).every((n) => /lora_[AB]/.test(n))).toBe(true);
      // B starts at zero: the adapted model computes the base model
      expect(maxAbsDiff(m.forward(ids), base)).toBe(0);
      for (const [k, t] of Object.entries(loraStateDict(m))) if (k.endsWith("lora_B.weight")) t.storage.native.write(Float32Array.from(randn(t.shape).data() as Float32Array), 0);
      const unmerged = m.forward(ids);
      expect(maxAbsDiff(unmerged, base)).toBeGreaterThan(1e-3);
      mergeLoRA(m);
      expect(maxAbsDiff(m.forward(ids), unmerged)).toBeLessThan(1e-4);
      unmergeLoRA(m);
      for (const [k, t] of Object.entries(before)) expect(maxAbsDiff(m.stateDict()[k], t)).toBeLessThan(1e-5);
      expect(maxAbsDiff(m.forward(ids), unmerged)).toBeLessThan(1e-5);
      // merge_and_unload: the base architecture's keys again, computing the adapted model
      expect(mergeAndUnload(m).length).toBe(count);
      expect(Object.keys(m.stateDict()).sort()).toEqual(Object.keys(before).sort());
      expect(maxAbsDiff(m.forward(ids), unmerged)).toBeLessThan(1e-4);
    }
  });

  test("the LoRA branch is W x + b + (alpha / r) B A x, and only A and B get gradients", () => {
    const base = new Linear(6, 5);
    const holder = new Module();
    holder.registerModule("proj", base);
    applyLoRA(holder, { r: 2, alpha: 6, targets: ["proj"] });
    const lora = holder.getSubmodule("proj") as unknown as { forward(x: Tensor): Tensor };
    const A = holder.stateDict()["proj.lora_A.weight"];
    const B = holder.stateDict()["proj.lora_B.weight"];
    B.storage.native.write(Float32Array.from(randn(B.shape).data() as Float32Array), 0);
    const x = randn([3, 6]);
    const W = base.weight;
    const expected = x.matmul(W.mT).add(base.bias as Tensor).add(x.matmul(A.mT).matmul(B.mT).mul(3));
    const y = lora.forward(x);
    expect(maxAbsDiff(y, expected)).toBeLessThan(1e-5);
    y.sum().backward();
    expect(W.grad).toBeNull();
    expect(A.grad).not.toBeNull();
    expect(B.grad).not.toBeNull();
  });

  test("a target that matches nothing lists the projections there are", () => {
    expect(() => applyLoRA(tinyGPT(), { r: 2, targets: ["q_proj"] })).toThrow(/named .*c_attn/);
  });
});

describe("safetensors", () => {
  let dir: string;
  beforeAll(() => { dir = mkdtempSync(join(tmpdir(), "nbforge-st-")); });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("every dtype round-trips bit for bit, with metadata; the header is 8-byte aligned", () => {
    const src: Record<string, Tensor> = {
      f32: randn([2, 3]), f64: randn([4], { dtype: "float64" }), bf16: randn([3, 2]).to("bfloat16"), f16: randn([5]).to("float16"),
      i64: tensor([[1, -2], [3, 4]], { dtype: "int64" }), i32: tensor([7, 8], { dtype: "int32" }), u8: tensor([255, 0], { dtype: "uint8" }),
      b: tensor([true, false]), empty: randn([0, 3]), scalar: tensor(Float32Array.of(2.5), { shape: [] }), view: randn([4, 4]).mT,
    };
    const path = join(dir, "all.safetensors");
    writeSafetensors(path, src, { note: "hello" });
    const bytes = readFileSync(path);
    expect(Number(bytes.readBigUInt64LE(0)) % 8).toBe(0);
    const { tensors, metadata } = readSafetensors(path);
    expect(metadata).toEqual({ note: "hello" });
    for (const [k, t] of Object.entries(src)) {
      expect(tensors[k].dtype).toBe(t.dtype);
      expect(tensors[k].shape).toEqual(t.shape);
      expect(Array.from(tensors[k].data() as ArrayLike<number | bigint>)).toEqual(Array.from(t.data() as ArrayLike<number | bigint>));
    }
    expect(readSafetensorsHeader(path).tensors.bf16).toEqual({ dtype: "BF16", shape: [3, 2], data_offsets: expect.any(Array) });
  });

  test("bad files give errors that say what is wrong", () => {
    const p = (name: string, content: Buffer) => {
      const f = join(dir, name);
      writeFileSync(f, content);
      return f;
    };
    const header = (obj: unknown, data = 0) => {
      const j = Buffer.from(JSON.stringify(obj));
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(j.length));
      return Buffer.concat([len, j, Buffer.alloc(data)]);
    };
    expect(() => readSafetensors(p("short", Buffer.from([1, 2])))).toThrow(/too short/);
    expect(() => readSafetensors(p("huge", header({}).subarray(0, 8).fill(0xff)))).toThrow(/header length/);
    expect(() => readSafetensors(p("dtype", header({ x: { dtype: "F8_E4M3", shape: [1], data_offsets: [0, 1] } }, 1)))).toThrow(/"x" has dtype F8_E4M3/);
    expect(() => readSafetensors(p("span", header({ x: { dtype: "F32", shape: [2], data_offsets: [0, 4] } }, 4)))).toThrow(/needs 8 bytes but data_offsets span 4/);
    expect(() => readSafetensors(p("past", header({ x: { dtype: "F32", shape: [2], data_offsets: [0, 8] } }, 4)))).toThrow(/outside the 4-byte data buffer/);
  });
});

describe("linear (fused op)", () => {
  const f64 = (shape: number[]) => randn(shape, { dtype: "float64", requiresGrad: true });
  test.each([["out_in", [4, 3]], ["in_out", [3, 4]]] as const)("gradcheck, layout %s, with and without bias", (layout, wShape) => {
    expect(gradcheck((x, w, b) => linear(x, w, b, layout), [f64([2, 5, 3]), f64([...wShape]), f64([4])])).toBe(true);
    expect(gradcheck((x, w) => linear(x, w, null, layout), [f64([5, 3]), f64([...wShape])])).toBe(true);
  });
  test("few rows (the token-by-token path) and many rows agree with matmul + add, both layouts", () => {
    for (const rows of [1, 3, 8, 9, 40]) {
      for (const nin of [7, 45, 96]) {
        const x = randn([rows, nin]);
        const w = randn([13, nin]);
        const b = randn([13]);
        const ref = x.to("float64").matmul(w.to("float64").mT).add(b.to("float64"));
        expect(maxAbsDiff(linear(x, w, b), ref)).toBeLessThan(1e-4);
        expect(maxAbsDiff(linear(x, w.mT.contiguous(), b, "in_out"), ref)).toBeLessThan(1e-4);
        expect(maxAbsDiff(linear(x.to("float64"), w.to("float64"), null), ref.sub(b.to("float64")))).toBeLessThan(1e-10);
      }
    }
  });
  test("equals matmul + add, and names bad shapes", () => {
    const x = randn([2, 3, 5]);
    const w = randn([4, 5]);
    const b = randn([4]);
    expect(maxAbsDiff(linear(x, w, b), x.matmul(w.mT).add(b))).toBeLessThan(1e-5);
    expect(() => linear(x, randn([5, 4]), null, "out_in")).toThrow(/ends in 5 features but the weight \(\[out, in\]\) takes 4/);
  });
});

describe("ModuleList", () => {
  test("iteration, at() and length follow the registered children, including one replaced by registerModule", () => {
    const a = new Linear(2, 2);
    const b = new Linear(2, 3);
    const list = new ModuleList<Module>([a, b]);
    const replacement = new Linear(2, 4);
    list.registerModule("1", replacement); // the way a LoRA rewrite swaps a child
    expect([...list]).toEqual([a, replacement]);
    expect(list.at(-1)).toBe(replacement);
    expect(list.length).toBe(2);
    list.set(0, b);
    expect([...list]).toEqual([b, replacement]);
    expect(() => list.at(2)).toThrow(/index 2 is out of range for 2 modules/);
  });
});
