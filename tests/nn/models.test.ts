// GPT-2 and Llama against PyTorch references written in
// tests/nn/reference_models.py. Our model writes its weights with
// savePretrained (so Python reading them is part of the test); Python returns
// logits, loss, every parameter's gradient, the parameters after three AdamW
// steps and greedy tokens (through a safetensors file Python writes), and a
// sharded Hugging Face-layout checkpoint of its own for fromPretrained.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { AdamW, GPT, cat, Llama, crossEntropy, readSafetensors, tensor, writeSafetensors, type CausalLM, type Tensor } from "nbforge";
import { seededRandom } from "../support/seeded-random.js";

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), "../../nn/reference_models.py");
const HYPER = { lr: 1e-2, betas: [0.9, 0.95], eps: 1e-8, weight_decay: 0.1 };
const PROMPT = 4;
const NEW = 8;

/** max |a - b| / max |b|: the error relative to the reference's scale. */
function relErr(a: Tensor, b: Tensor): number {
  expect(a.shape).toEqual(b.shape);
  const x = a.to("float64").data() as Float64Array;
  const y = b.to("float64").data() as Float64Array;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < y.length; i++) {
    diff = Math.max(diff, Math.abs(x[i] - y[i]));
    scale = Math.max(scale, Math.abs(y[i]));
  }
  return diff / Math.max(scale, 1e-30);
}

function rows(t: Tensor): number[][] {
  return t.toArray() as number[][];
}

interface Case {
  kind: "gpt2" | "llama";
  make(): CausalLM;
  load(dir: string): CausalLM;
}

const cases: Case[] = [
  {
    kind: "gpt2",
    make: () => new GPT({ vocabSize: 61, nPositions: 32, nEmbd: 32, nLayer: 2, nHead: 4, embdPdrop: 0, attnPdrop: 0, residPdrop: 0, seed: 3 }),
    load: (dir) => GPT.fromPretrained(dir),
  },
  {
    kind: "llama",
    make: () => new Llama({ vocabSize: 67, hiddenSize: 48, intermediateSize: 80, numHiddenLayers: 2, numAttentionHeads: 6, numKeyValueHeads: 2, rmsNormEps: 1e-5, ropeTheta: 500, seed: 5 }),
    load: (dir) => Llama.fromPretrained(dir),
  },
];

describe.each(cases)("$kind against PyTorch", ({ kind, make, load }) => {
  let dir: string;
  let model: CausalLM;
  let ref: Record<string, Tensor>;
  let ids: Tensor;
  let targets: Tensor;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), `nbforge-nn-${kind}-`));
    model = make();
    model.savePretrained(join(dir, "ours"));
    const rnd = seededRandom(kind === "gpt2" ? 11 : 12);
    const seq = Array.from({ length: 2 * 13 }, () => Math.floor(rnd() * model.vocabSize));
    const all = tensor(Int32Array.from(seq), { shape: [2, 13], dtype: "int64" });
    ids = all.slice(1, 0, 12).contiguous();
    targets = all.slice(1, 1, 13).contiguous();
    writeSafetensors(join(dir, "inputs.safetensors"), { ids, targets });
    const pyDir = join(dir, "python");
    const job = {
      kind, dir: join(dir, "ours"), inputs: join(dir, "inputs.safetensors"), output: join(dir, "ref.safetensors"),
      prompt_len: PROMPT, new_tokens: NEW, python_checkpoint: pyDir, python_logits: join(dir, "py-logits.safetensors"), ...HYPER,
    };
    spawnSync("mkdir", ["-p", pyDir]);
    writeFileSync(join(dir, "job.json"), JSON.stringify(job));
    const r = spawnSync("/usr/bin/python3", [SCRIPT, join(dir, "job.json")], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`PyTorch reference failed:\n${r.stderr}`);
    ref = readSafetensors(join(dir, "ref.safetensors")).tensors;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("logits, loss and every parameter's gradient match (rel err <= 1e-4)", () => {
    model.zeroGrad();
    const logits = model.forward(ids);
    expect(relErr(logits, ref.logits)).toBeLessThanOrEqual(1e-4);
    const loss = crossEntropy(logits.reshape([-1, model.vocabSize]), targets.reshape([-1]));
    expect(Math.abs(loss.item() - ref.loss.item()) / ref.loss.item()).toBeLessThanOrEqual(1e-4);
    loss.backward();
    const named = model.namedParameters();
    // every parameter of the Python model has a gradient here and vice versa
    expect(named.map(([n]) => `grad.${n}`).sort()).toEqual(Object.keys(ref).filter((k) => k.startsWith("grad.")).sort());
    for (const [name, p] of named) {
      expect(p.grad).not.toBeNull();
      const e = relErr(p.grad as Tensor, ref[`grad.${name}`]);
      if (e > 1e-4) throw new Error(`gradient of ${name}: rel err ${e}`);
    }
  });

  test("KV-cache greedy tokens equal no-cache greedy tokens and PyTorch's", () => {
    const prompt = ids.slice(1, 0, PROMPT);
    const cached = model.generate(prompt, { maxNewTokens: NEW });
    const plain = model.generate(prompt, { maxNewTokens: NEW, useCache: false });
    expect(cached.tokens).toEqual(plain.tokens);
    expect(cached.tokens).toEqual(rows(ref.greedy));
  });

  test("fromPretrained reads a sharded Hugging Face-layout checkpoint written by Python", () => {
    const theirs = load(join(dir, "python"));
    const py = readSafetensors(join(dir, "py-logits.safetensors")).tensors.logits;
    expect(relErr(theirs.forward(ids), py)).toBeLessThanOrEqual(1e-4);
    theirs.dispose();
  });

  test("parameters after three AdamW steps match torch.optim.AdamW", () => {
    const opt = new AdamW(model.parameters(), { lr: HYPER.lr, beta1: HYPER.betas[0], beta2: HYPER.betas[1], eps: HYPER.eps, weightDecay: HYPER.weight_decay });
    for (let i = 0; i < 3; i++) {
      opt.zeroGrad();
      const logits = model.forward(ids);
      crossEntropy(logits.reshape([-1, model.vocabSize]), targets.reshape([-1])).backward();
      opt.step();
    }
    for (const [name, p] of model.namedParameters()) {
      let [ours, theirs] = [p, ref[`adamw.${name}`]];
      if (name.endsWith("attn.c_attn.bias")) {
        // the key bias has a true gradient of 0 (softmax ignores a shift shared by all
        // keys); Adam's normalisation turns its float rounding noise into full-size
        // steps in both frameworks, so only the query and value biases are comparable
        const C = p.shape[0] / 3;
        [ours, theirs] = [ours, theirs].map((t) => cat([t.slice(0, 0, C), t.slice(0, 2 * C, 3 * C)]));
      }
      const e = relErr(ours, theirs);
      if (e > 1e-4) throw new Error(`${name} after 3 AdamW steps: rel err ${e}`);
    }
  });
});
