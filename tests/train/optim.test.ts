// AdamW, SGD, clipGradNorm and the LR schedules against torch.optim on fresh
// seeded random tensors, several steps each.
import { AdamW, SGD, Generator, clipGradNorm, randn, ConstantLR, LambdaLR, LinearLR, WarmupCosineLR, type Tensor, type DType } from "nbforge";
import { emulateCudaForTests } from "nbforge/dist/tensor/device.js";
import { runTorchOptim, maxRelErr, type OptimCase, type ClipCase, type ScheduleCase, type TorchOptimResults } from "./torch-optim.js";

const gen = new Generator(1234);
const shapes = [[7, 5], [33], [3, 4, 6]];
const STEPS = 6;

function makeCase(id: string, optimizer: "AdamW" | "SGD", groups: OptimCase["groups"], dtype: DType = "float32", dropGrad = false): OptimCase {
  const params = shapes.map((s) => randn(s, { generator: gen, dtype }));
  // Parameter 1 has no gradient on step 2 when dropGrad: torch skips it (and its step count).
  const grads = Array.from({ length: STEPS }, (_, s) => shapes.map((sh, i) => (dropGrad && s === 2 && i === 1 ? null : randn(sh, { generator: gen, dtype }))));
  return { id, optimizer, groups, params, grads };
}

const all = [0, 1, 2];
const cases: OptimCase[] = [
  makeCase("adamw_default", "AdamW", [{ params: all, kwargs: {} }]),
  makeCase("adamw_wd", "AdamW", [{ params: all, kwargs: { lr: 0.05, betas: [0.8, 0.95], eps: 1e-6, weight_decay: 0.1 } }], "float32", true),
  makeCase("adamw_groups", "AdamW", [{ params: [0, 2], kwargs: { lr: 0.02, weight_decay: 0.0 } }, { params: [1], kwargs: { lr: 0.003, weight_decay: 0.5, maximize: true } }]),
  makeCase("adamw_f64", "AdamW", [{ params: all, kwargs: { lr: 0.01, weight_decay: 0.05 } }], "float64"),
  makeCase("sgd_plain", "SGD", [{ params: all, kwargs: { lr: 0.1 } }]),
  makeCase("sgd_momentum", "SGD", [{ params: all, kwargs: { lr: 0.05, momentum: 0.9, dampening: 0.1, weight_decay: 0.01 } }], "float32", true),
  makeCase("sgd_nesterov", "SGD", [{ params: all, kwargs: { lr: 0.05, momentum: 0.8, nesterov: true, weight_decay: 0.02 } }]),
  makeCase("sgd_f64", "SGD", [{ params: all, kwargs: { lr: 0.05, momentum: 0.9, maximize: true } }], "float64"),
];

const clipCases: ClipCase[] = [
  { id: "clip_l2", grads: shapes.map((s) => randn(s, { generator: gen })), maxNorm: 1.5, normType: 2 },
  { id: "clip_l2_noop", grads: shapes.map((s) => randn(s, { generator: gen, std: 0.01 })), maxNorm: 100, normType: 2 },
  { id: "clip_inf", grads: shapes.map((s) => randn(s, { generator: gen })), maxNorm: 0.5, normType: Infinity },
];

const scheduleCases: ScheduleCase[] = [
  { id: "linear", code: "S.LinearLR(opt, start_factor=0.25, end_factor=0.9, total_iters=7)", lr: 0.1, steps: 12 },
  { id: "constant", code: "S.ConstantLR(opt, factor=0.5, total_iters=4)", lr: 0.2, steps: 8 },
  { id: "lambda", code: "S.LambdaLR(opt, lambda t: 0.95 ** t + 0.01 * (t % 3))", lr: 0.3, steps: 10 },
  // Cosine with no warmup is torch's CosineAnnealingLR (its recursive form) up to T_max.
  { id: "cosine", code: "S.CosineAnnealingLR(opt, T_max=20, eta_min=0.001)", lr: 0.1, steps: 20 },
  // Warmup + cosine: torch's LinearLR for the warmup chained into CosineAnnealingLR by SequentialLR.
  { id: "warmup_cosine", code: "S.SequentialLR(opt, [S.LinearLR(opt, start_factor=0.2, total_iters=5), S.CosineAnnealingLR(opt, T_max=15, eta_min=0.002)], milestones=[5])", lr: 0.1, steps: 20 },
];

let ref: TorchOptimResults;
beforeAll(() => {
  ref = runTorchOptim(cases, clipCases, scheduleCases);
});

function toKwargsOptions(kw: Record<string, unknown>): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(kw)) {
    if (k === "betas") {
      o.beta1 = (v as number[])[0];
      o.beta2 = (v as number[])[1];
    } else o[k.replace(/_(.)/g, (_, c: string) => c.toUpperCase())] = v;
  }
  return o;
}

function build(c: OptimCase, params: Tensor[]): AdamW | SGD {
  const groups = c.groups.map((g) => ({ params: g.params.map((i) => params[i]), ...toKwargsOptions(g.kwargs) }));
  return c.optimizer === "AdamW" ? new AdamW(groups) : new SGD(groups);
}

function setGrads(params: Tensor[], row: readonly (Tensor | null)[]): void {
  params.forEach((p, i) => {
    p.zeroGrad();
    const g = row[i];
    if (g !== null) p.grad = g.clone();
  });
}

function asF64(t: Tensor): Float64Array {
  return Float64Array.from(t.data() as Float32Array | Float64Array);
}

describe("optimizers match torch.optim", () => {
  test.each(cases.map((c) => [c.id, c] as const))("%s", (_id, c) => {
    const params = c.params.map((p) => p.clone().requiresGrad_());
    const opt = build(c, params);
    const tol = c.params[0].dtype === "float64" ? 1e-12 : 1e-5;
    const expected = ref.optim.get(c.id)!;
    c.grads.forEach((row, s) => {
      setGrads(params, row);
      opt.step();
      params.forEach((p, i) => {
        // Relative to the parameter's scale (elementwise, with a floor at 1% of its largest magnitude, where float32 cancellation dominates).
        const e = expected[s][i];
        const floor = 1e-2 * Math.max(...Array.from(e, Math.abs));
        const err = maxRelErr(asF64(p), e, floor);
        if (process.env.NBFORGE_SHOW_ERR) console.log(c.id, s, i, err);
        expect(err).toBeLessThanOrEqual(tol);
      });
    });
  });

  test("a state dict restored into a new optimizer continues the same trajectory", () => {
    for (const c of [cases[1], cases[5]]) {
      const a = c.params.map((p) => p.clone().requiresGrad_());
      const optA = build(c, a);
      const b = c.params.map((p) => p.clone().requiresGrad_());
      let optB = build(c, b);
      c.grads.forEach((row, s) => {
        if (s === 3) {
          // Round-trip B's state through copies, as a checkpoint does.
          const sd = optB.stateDict();
          const copied = { ...sd, state: Object.fromEntries(Object.entries(sd.state).map(([k, v]) => [k, Object.fromEntries(Object.entries(v).map(([n, x]) => [n, typeof x === "number" ? x : x.clone()]))])) };
          optB = build(c, b);
          (optB as AdamW).loadStateDict(copied as unknown as ReturnType<AdamW["stateDict"]>);
        }
        setGrads(a, row);
        optA.step();
        setGrads(b, row);
        optB.step();
      });
      a.forEach((p, i) => expect(Array.from(b[i].data() as Float32Array)).toEqual(Array.from(p.data() as Float32Array)));
    }
  });

  test("addParamGroup gives the trajectory of a group given at construction", () => {
    const c = cases[2]; // adamw_groups: [0, 2] and [1] with different hyper-parameters
    const a = c.params.map((p) => p.clone().requiresGrad_());
    const b = c.params.map((p) => p.clone().requiresGrad_());
    const optA = build(c, a);
    const optB = new AdamW([{ params: [b[0], b[2]], ...toKwargsOptions(c.groups[0].kwargs) }]);
    optB.addParamGroup({ params: [b[1]], ...toKwargsOptions(c.groups[1].kwargs) });
    expect(() => optB.addParamGroup({ params: [b[1]] })).toThrow(/appears twice/);
    c.grads.forEach((row) => {
      setGrads(a, row);
      optA.step();
      setGrads(b, row);
      optB.step();
    });
    a.forEach((p, i) => expect(Array.from(b[i].data() as Float32Array)).toEqual(Array.from(p.data() as Float32Array)));
  });

  test("bad input names the problem", () => {
    const p = randn([3], { generator: gen }).requiresGrad_();
    expect(() => new AdamW([p], { beta1: 1.2 })).toThrow(/betas must lie in \[0, 1\)/);
    expect(() => new AdamW([p, p])).toThrow(/appears twice/);
    expect(() => new SGD([p], { nesterov: true })).toThrow(/Nesterov momentum needs momentum > 0/);
    expect(() => new SGD([])).toThrow(/no params/);
    const opt = new AdamW([p]);
    expect(() => opt.loadStateDict({ state: {}, paramGroups: [] })).toThrow(/0 parameter groups, this optimizer 1/);
  });
});

describe("clipGradNorm matches torch.nn.utils.clip_grad_norm_", () => {
  test.each(clipCases.map((c) => [c.id, c] as const))("%s", (_id, c) => {
    const params = c.grads.map((g) => {
      const p = randn(g.shape, { generator: gen }).requiresGrad_();
      p.grad = g.clone();
      return p;
    });
    const norm = clipGradNorm(params, c.maxNorm, { normType: c.normType });
    const r = ref.clip.get(c.id)!;
    expect(Math.abs(norm - r.norm) / r.norm).toBeLessThan(1e-5);
    params.forEach((p, i) => expect(maxRelErr(asF64(p.grad!), r.grads[i], 1e-4)).toBeLessThan(1e-5));
  });
});

describe("LR schedules match torch.optim.lr_scheduler", () => {
  const sched = (id: string, lr: number) => {
    const opt = new SGD([randn([1], { generator: gen }).requiresGrad_()], { lr });
    switch (id) {
      case "linear": return new LinearLR(opt, { startFactor: 0.25, endFactor: 0.9, totalIters: 7 });
      case "constant": return new ConstantLR(opt, { factor: 0.5, totalIters: 4 });
      case "lambda": return new LambdaLR(opt, (t) => 0.95 ** t + 0.01 * (t % 3));
      case "cosine": return new WarmupCosineLR(opt, { warmupSteps: 0, totalSteps: 20, minLr: 0.001 });
      default: return new WarmupCosineLR(opt, { warmupSteps: 5, totalSteps: 20, minLr: 0.002, startFactor: 0.2 });
    }
  };
  test.each(scheduleCases.map((c) => [c.id, c] as const))("%s", (id, c) => {
    const s = sched(id, c.lr);
    const got = [s.lastLr[0]];
    for (let t = 0; t < c.steps; t++) {
      s.step();
      got.push(s.lastLr[0]);
    }
    const want = ref.schedule.get(id)!;
    expect(got.length).toBe(want.length);
    expect(maxRelErr(got, want, 1e-9)).toBeLessThan(1e-9);
  });

  test("a schedule restored from its state dict continues exactly", () => {
    const a = sched("warmup_cosine", 0.1);
    for (let t = 0; t < 7; t++) a.step();
    const b = sched("warmup_cosine", 0.1);
    b.loadStateDict(JSON.parse(JSON.stringify(a.stateDict())));
    for (let t = 0; t < 5; t++) {
      a.step();
      b.step();
      expect(b.lastLr).toEqual(a.lastLr);
    }
  });
});

// Parameters off the CPU take the composed device path; the emulated cuda device
// runs it here on host memory, against the same torch.optim trajectories.
describe("optimizers and clipping on the device path (cuda emulated on the cpu)", () => {
  let was = false;
  beforeAll(() => {
    was = emulateCudaForTests(true);
  });
  afterAll(() => {
    emulateCudaForTests(was);
  });

  test.each(["adamw_wd", "adamw_groups", "sgd_momentum", "sgd_nesterov", "sgd_f64"].map((id) => [id]))("%s", (id) => {
    const c = cases.find((x) => x.id === id)!;
    const params = c.params.map((p) => p.to("cuda").requiresGrad_());
    expect(params[0].device).toBe("cuda");
    const opt = build(c, params);
    const tol = c.params[0].dtype === "float64" ? 1e-12 : 1e-5;
    const expected = ref.optim.get(c.id)!;
    c.grads.forEach((row, s) => {
      params.forEach((p, i) => {
        p.zeroGrad();
        const g = row[i];
        if (g !== null) p.grad = g.to("cuda");
      });
      opt.step();
      params.forEach((p, i) => {
        const e = expected[s][i];
        const floor = 1e-2 * Math.max(...Array.from(e, Math.abs));
        expect(maxRelErr(asF64(p.cpu()), e, floor)).toBeLessThanOrEqual(tol);
      });
    });
    // The state dict round-trips through the device buffers too.
    const sd = opt.stateDict();
    const again = build(c, params);
    (again as AdamW).loadStateDict(sd as unknown as ReturnType<AdamW["stateDict"]>);
    expect(Object.keys(again.stateDict().state)).toEqual(Object.keys(sd.state));
  });

  test("clipGradNorm", () => {
    const c = clipCases[0];
    const params = c.grads.map((g) => {
      const p = randn(g.shape, { generator: gen }).to("cuda").requiresGrad_();
      p.grad = g.to("cuda");
      return p;
    });
    const norm = clipGradNorm(params, c.maxNorm);
    const r = ref.clip.get(c.id)!;
    expect(Math.abs(norm - r.norm) / r.norm).toBeLessThan(1e-5);
    params.forEach((p, i) => expect(maxRelErr(asF64(p.grad!.cpu()), r.grads[i], 1e-4)).toBeLessThan(1e-5));
  });
});
