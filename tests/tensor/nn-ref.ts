// Shared harness of the nn-op test files (norm, embedding, loss, attention):
// each case runs forward and backward here and in PyTorch (one python process
// per test file, via torch-ref.ts). Integer inputs (indices, targets) travel to
// PyTorch as float64 and are cast back there (.long()), since torch-ref moves
// only float32/float64.
import { kernelPath, manualSeed, randn, type DType, type Tensor } from "nbforge";
import { relError, runTorch, type RefCase, type RefResult } from "./torch-ref.js";

export interface NNCase {
  name: string;
  /** Python over x[0], x[1], ...; integer inputs arrive as float64, so write x[i].long(). */
  code: string;
  /** Builds the inputs in dtype; `ints` lists the positions holding integer tensors (int64 or int32). */
  make: (dtype: DType) => Tensor[];
  ints?: number[];
  /** Positions of float inputs held constant (no gradient asked or compared), e.g. an attention mask. */
  consts?: number[];
  fn: (...x: Tensor[]) => Tensor;
  backward?: boolean;
}

const TOL: Record<string, number> = { float32: 1e-5, float64: 1e-10 };

interface Prepared {
  c: NNCase;
  dtype: DType;
  ours: Tensor[];
  ref: RefCase;
}

export interface SuiteOptions {
  /** Also run every case with kernelPath("portable") (for kernels with an AVX2 copy chosen at run time). */
  bothPaths?: boolean;
}

/** Registers one jest test per case and dtype (and kernel path, with bothPaths), comparing with PyTorch. */
export function torchSuite(title: string, cases: readonly NNCase[], options: SuiteOptions = {}): void {
  const seed = Date.now() % 1_000_000_007;
  const prepared: Prepared[] = [];
  let refs: Map<string, RefResult>;
  beforeAll(() => {
    manualSeed(seed);
    for (const dtype of ["float32", "float64"] as DType[]) {
      for (const c of cases) {
        const ours = c.make(dtype);
        const toTorch = ours.map((x, i) => (c.ints?.includes(i) ? x.to("float64") : x));
        const out = c.fn(...ours);
        const gy = c.backward === false ? undefined : randn([...out.shape], { dtype });
        prepared.push({ c, dtype, ours, ref: { id: `${c.name.replace(/\W+/g, "_")}_${dtype}`, code: c.code, inputs: toTorch, gy } });
      }
    }
    refs = runTorch(prepared.map((p) => p.ref));
  });

  describe(title, () => {
    for (const dtype of ["float32", "float64"] as DType[]) {
      for (const c of cases) {
        const check = () => {
          const p = prepared.find((q) => q.c === c && q.dtype === dtype) as Prepared;
          const ref = refs.get(p.ref.id) as RefResult;
          const wantGrad = p.ref.gy !== undefined;
          const fixed = (i: number) => c.ints?.includes(i) === true || c.consts?.includes(i) === true;
          const inputs = p.ours.map((x, i) => (fixed(i) ? x : x.detach().requiresGrad_(wantGrad)));
          const out = c.fn(...inputs);
          expect(out.shape).toEqual(ref.shape);
          const tol = TOL[dtype];
          const fwd = relError(out.data() as Float64Array, ref.out);
          if (!(fwd <= tol)) throw new Error(`${p.ref.id} forward: relative error ${fwd} > ${tol} (seed ${seed})`);
          if (!wantGrad) return;
          out.backward(p.ref.gy);
          inputs.forEach((x, i) => {
            const g = ref.grads[i];
            if (g === null || fixed(i)) return;
            expect(x.grad).not.toBeNull();
            const err = relError((x.grad as Tensor).data() as Float64Array, g);
            if (!(err <= tol)) throw new Error(`${p.ref.id} backward input ${i}: relative error ${err} > ${tol} (seed ${seed})`);
          });
        };
        test(`${c.name} ${dtype}`, check);
        if (options.bothPaths) {
          test(`${c.name} ${dtype} (portable path)`, () => {
            kernelPath("portable");
            try {
              check();
            } finally {
              kernelPath("auto");
            }
          });
        }
      }
    }
  });
}
