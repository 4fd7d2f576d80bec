// The Trainer: a run resumed from a checkpoint gives bit-identical losses and
// parameters to an uninterrupted run (dropout on, gradient accumulation,
// clipping, a warmup+cosine schedule, a shuffling loader crossing epochs);
// gradient accumulation equals one big batch; hooks and callbacks fire.
import { AdamW, SGD, ArrayDataset, fit, DataLoader, GPT, Llama, Module, rngState, loadRngState, Trainer, WarmupCosineLR, crossEntropy, tensor, zeros, type Batch, type StepLog, type Tensor } from "nbforge";
import { emulateCudaForTests } from "nbforge/dist/tensor/device.js";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { seededRandom } from "../support/seeded-random.js";

const V = 13;
const T = 8;

function dataset(n: number) {
  const rand = seededRandom(42);
  return new ArrayDataset(Array.from({ length: n }, () => {
    const start = Math.floor(rand() * V);
    const step = 1 + Math.floor(rand() * 3);
    const seq = Array.from({ length: T + 1 }, (_, i) => (start + i * step) % V);
    return { inputIds: seq.slice(0, T), labels: seq.slice(1) };
  }));
}

function lmLoss(model: Module, batch: Batch) {
  const logits = (model as GPT).forward(batch.inputIds);
  return crossEntropy(logits.reshape([-1, V]), batch.labels.reshape([-1]));
}

interface Run {
  trainer: Trainer<GPT>;
  model: GPT;
}

function makeRun(opts: { seed: number; dataSeed: number; maxSteps: number; dir?: string; every?: number; accum?: number; batchSize?: number; dropout?: number; crashAt?: number; sgd?: boolean; shuffle?: boolean }): Run {
  const p = opts.dropout ?? 0.1;
  const model = new GPT({ vocabSize: V, nPositions: T, nEmbd: 16, nLayer: 2, nHead: 2, seed: opts.seed, embdPdrop: p, attnPdrop: p, residPdrop: p });
  const optimizer = opts.sgd === true ? new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 }) : new AdamW(model.parameters(), { lr: 3e-3, weightDecay: 0.1 });
  const scheduler = new WarmupCosineLR(optimizer, { warmupSteps: 2, totalSteps: 10, minLr: 1e-4 });
  const data = new DataLoader(dataset(10), { batchSize: opts.batchSize ?? 4, shuffle: opts.shuffle ?? true, seed: opts.dataSeed });
  const trainer = new Trainer({
    model, optimizer, scheduler, data, loss: lmLoss, maxSteps: opts.maxSteps,
    gradAccumulation: opts.accum ?? 2, maxGradNorm: 1.0,
    checkpointDir: opts.dir ?? null, checkpointEvery: opts.every,
    progress: false, liveMetrics: false,
    callbacks: opts.crashAt === undefined ? [] : [{ onStep: (log) => { if (log.step === opts.crashAt) throw new Error("simulated crash"); } }],
  });
  return { trainer, model };
}

const losses = (h: StepLog[]) => h.map((l) => l.loss);
const paramsOf = (m: Module) => m.parameters().map((p) => Array.from(p.data() as Float32Array));

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "nbforge-trainer-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("Trainer", () => {
  test("a run resumed from a checkpoint gives bit-identical losses and parameters", () => {
    const full = makeRun({ seed: 1, dataSeed: 5, maxSteps: 8 });
    full.trainer.fit();
    const ref = losses(full.trainer.history);
    expect(ref).toHaveLength(8);
    expect(ref[7]).toBeLessThan(ref[0]);

    const ckpt = join(dir, "ckpt");
    const crashed = makeRun({ seed: 1, dataSeed: 5, maxSteps: 8, dir: ckpt, every: 4, crashAt: 6 });
    expect(() => crashed.trainer.fit()).toThrow(/simulated crash/);
    expect(existsSync(join(ckpt, "trainer_state.json"))).toBe(true);
    // The checkpoint's model half is a Hugging Face folder too.
    const fromHF = GPT.fromPretrained(ckpt);
    const half = makeRun({ seed: 1, dataSeed: 5, maxSteps: 4 });
    half.trainer.fit();
    expect(paramsOf(fromHF)).toEqual(paramsOf(half.model));

    // A fresh process's objects: other weights, another data seed; the checkpoint restores all of it.
    const resumed = makeRun({ seed: 99, dataSeed: 123, maxSteps: 8 });
    resumed.trainer.loadCheckpoint(ckpt);
    expect(resumed.trainer.step).toBe(4);
    resumed.trainer.fit();
    expect(losses(resumed.trainer.history)).toEqual(ref);
    expect(paramsOf(resumed.model)).toEqual(paramsOf(full.model));
  });

  test("the resume test can fail: the same checkpoint with the dropout generators moved on diverges", () => {
    const full = makeRun({ seed: 1, dataSeed: 5, maxSteps: 8 });
    full.trainer.fit();
    const resumed = makeRun({ seed: 99, dataSeed: 123, maxSteps: 8 });
    resumed.trainer.loadCheckpoint(join(dir, "ckpt"));
    const gen = (resumed.model.getSubmodule("transformer.drop") as unknown as { generator: { draw(f: () => number): void } }).generator;
    gen.draw(() => 1);
    resumed.trainer.fit();
    expect(losses(resumed.trainer.history).slice(4)).not.toEqual(losses(full.trainer.history).slice(4));
  });

  test("two micro-batches of 2 accumulate to the gradient of one batch of 4", () => {
    // No dropout, no shuffling, equal micro-batches, and SGD (linear in the gradient):
    // the accumulated run follows the big-batch run to float rounding.
    const a = makeRun({ seed: 3, dataSeed: 0, maxSteps: 2, accum: 2, batchSize: 2, dropout: 0, sgd: true, shuffle: false });
    const b = makeRun({ seed: 3, dataSeed: 0, maxSteps: 2, accum: 1, batchSize: 4, dropout: 0, sgd: true, shuffle: false });
    a.trainer.fit();
    b.trainer.fit();
    const la = losses(a.trainer.history);
    const lb = losses(b.trainer.history);
    la.forEach((x, i) => expect(Math.abs(x - lb[i]) / lb[i]).toBeLessThan(1e-5));
    const pb = paramsOf(b.model);
    paramsOf(a.model).forEach((pa, i) => pa.forEach((x, j) => expect(Math.abs(x - pb[i][j])).toBeLessThan(1e-5)));
    // ...and the step moved the parameters well beyond that tolerance.
    const init = paramsOf(makeRun({ seed: 3, dataSeed: 0, maxSteps: 0 }).model);
    expect(Math.max(...pb[0].map((x, j) => Math.abs(x - init[0][j])))).toBeGreaterThan(1e-3);
  });

  test("evaluation hooks, callbacks and final checkpoint", () => {
    const seen: string[] = [];
    const run = makeRun({ seed: 2, dataSeed: 1, maxSteps: 4 });
    // fit() builds the Trainer and runs it.
    const t = fit({
      ...run.trainer.options,
      evaluate: (m, step) => {
        expect(m.training).toBe(false);
        return { step2: step * 2 };
      },
      evalEvery: 2,
      checkpointDir: join(dir, "final"),
      callbacks: [{ onStep: (l) => seen.push(`step ${l.step}`), onEvaluate: (s, m) => seen.push(`eval ${s} ${m.step2}`), onCheckpoint: (s) => seen.push(`ckpt ${s}`), onEnd: () => seen.push("end") }],
    });
    expect(t.step).toBe(4);
    expect(seen).toEqual(["step 1", "step 2", "eval 2 4", "step 3", "step 4", "eval 4 8", "ckpt 4", "end"]);
    expect(run.model.training).toBe(true);
    expect(() => new Trainer({ ...run.trainer.options, gradAccumulation: 0 })).toThrow(/gradAccumulation must be a positive integer/);
    expect(() => new Trainer({ ...run.trainer.options, checkpointEvery: 2, checkpointDir: null })).toThrow(/checkpointEvery needs a checkpointDir/);
  });
});

describe("Trainer on the device path (cuda emulated on the cpu)", () => {
  // A linear regression whose weight lives on "cuda": batches from the loader are moved there.
  class Regression extends Module {
    constructor(device: "cpu" | "cuda") {
      super();
      this.registerParameter("w", zeros([3, 1]).to(device).detach());
    }
    forward(x: Tensor): Tensor {
      return x.matmul(this.param("w"));
    }
  }
  const ds = new ArrayDataset(Array.from({ length: 12 }, (_, i) => ({ x: [i % 3, (i * 7) % 5, 1], y: [2 * (i % 3) - ((i * 7) % 5) + 0.5] })));
  function run(device: "cpu" | "cuda"): number[] {
    const model = new Regression(device);
    const t = new Trainer({
      model, optimizer: new SGD(model.parameters(), { lr: 0.02, momentum: 0.5 }),
      data: new DataLoader(ds, { batchSize: 4, shuffle: true, seed: 2, collateFn: (ex) => ({ x: tensor(ex.map((e) => e.x as number[])), y: tensor(ex.map((e) => e.y as number[])) }) }),
      loss: (m, b) => {
        expect(b.x.device).toBe(device);
        return m.forward(b.x).sub(b.y).pow(2).mean();
      },
      maxSteps: 6, progress: false, liveMetrics: false,
    });
    t.fit();
    return losses(t.history);
  }
  test("batches follow the model to its device; the losses match the cpu run", () => {
    const cpu = run("cpu");
    const was = emulateCudaForTests(true);
    try {
      const dev = run("cuda");
      dev.forEach((x, i) => expect(Math.abs(x - cpu[i])).toBeLessThanOrEqual(1e-6 * Math.max(1, cpu[i])));
    } finally {
      emulateCudaForTests(was);
    }
    expect(cpu[5]).toBeLessThan(cpu[0]);
  });
});

describe("random state of models", () => {
  test("a Llama's dropout generator is part of rngState, so restoring it repeats the same masks", () => {
    const model = new Llama({ vocabSize: 30, hiddenSize: 16, intermediateSize: 24, numHiddenLayers: 1, numAttentionHeads: 2, numKeyValueHeads: 1, attentionDropout: 0.5, seed: 3 });
    model.train();
    const ids = tensor([[1, 2, 3, 4, 5, 6]], { dtype: "int64" });
    const saved = rngState(model);
    const first = Array.from(model.forward(ids).data() as Float32Array);
    const second = Array.from(model.forward(ids).data() as Float32Array);
    expect(second).not.toEqual(first); // the masks differ from call to call...
    loadRngState(model, saved);
    expect(Array.from(model.forward(ids).data() as Float32Array)).toEqual(first); // ...and a restored state repeats them
  });
});
