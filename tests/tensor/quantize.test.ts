// Block-wise int8/int4 quantization: codes bit-exact against a numpy float32
// implementation of the same scheme, scales equal, round-trip error within half
// a scale per element, int4 packing, and error messages.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dequantize, manualSeed, quantize, randn, tensor, type Tensor } from "nbforge";

const seed = Date.now() % 1_000_000_007;

// The reference: the same scheme in numpy, float32 throughout.
const SCRIPT = String.raw`
import json, sys
import numpy as np
d = sys.argv[1]
man = json.load(open(d + "/manifest.json"))
for c in man:
    x = np.fromfile(f"{d}/{c['id']}_x.bin", dtype=np.float32)
    bits, block = c["bits"], c["block"]
    qmax = np.float32(127 if bits == 8 else 7)
    nb = (x.size + block - 1) // block
    pad = np.zeros(nb * block, dtype=np.float32)
    pad[: x.size] = x
    blocks = pad.reshape(nb, block)
    scales = (np.abs(blocks).max(axis=1) / qmax).astype(np.float32)
    safe = np.where(scales == 0, np.float32(1), scales).astype(np.float32)
    codes = np.clip(np.rint(blocks / safe[:, None]), -qmax, qmax)
    codes = np.where(scales[:, None] == 0, 0, codes).astype(np.int8).reshape(-1)[: x.size]
    if bits == 4:
        c4 = codes.astype(np.uint8) & 0xF
        if c4.size % 2:
            c4 = np.concatenate([c4, np.zeros(1, dtype=np.uint8)])
        codes = (c4[0::2] | (c4[1::2] << 4)).astype(np.uint8)
    codes.tofile(f"{d}/{c['id']}_codes.bin")
    scales.tofile(f"{d}/{c['id']}_scales.bin")
`;

interface Case { id: string; x: Tensor; bits: 8 | 4; block: number }
let cases: Case[];
const ref = new Map<string, { codes: Uint8Array; scales: Float32Array }>();

beforeAll(() => {
  manualSeed(seed);
  const heavy = (n: number) => randn([n]).mul(randn([n]).exp()); // heavy-tailed magnitudes per block
  cases = [
    { id: "i8_b64", x: randn([4, 100]), bits: 8, block: 64 },
    { id: "i8_b1", x: randn([37]), bits: 8, block: 1 },
    { id: "i8_heavy", x: heavy(5000), bits: 8, block: 128 },
    { id: "i4_b32", x: randn([3, 50]), bits: 4, block: 32 },
    { id: "i4_odd_numel", x: randn([3, 3, 7]), bits: 4, block: 8 },
    { id: "i4_heavy", x: heavy(4099), bits: 4, block: 256 },
    { id: "i8_zero_block", x: tensor([0, 0, 0, 0, 1, -2, 3, 0.5]), bits: 8, block: 4 },
  ];
  const dir = mkdtempSync(join(tmpdir(), "nbforge-quant-"));
  try {
    for (const c of cases) {
      const d = c.x.data() as Float32Array;
      writeFileSync(join(dir, `${c.id}_x.bin`), new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
    }
    writeFileSync(join(dir, "manifest.json"), JSON.stringify(cases.map((c) => ({ id: c.id, bits: c.bits, block: c.block }))));
    writeFileSync(join(dir, "ref.py"), SCRIPT);
    const r = spawnSync("/usr/bin/python3", [join(dir, "ref.py"), dir], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`numpy reference failed:\n${r.stderr}`);
    for (const c of cases) {
      const codes = new Uint8Array(readFileSync(join(dir, `${c.id}_codes.bin`)));
      const sb = readFileSync(join(dir, `${c.id}_scales.bin`));
      ref.set(c.id, { codes, scales: new Float32Array(sb.buffer.slice(sb.byteOffset, sb.byteOffset + sb.byteLength)) });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe("block-wise quantization", () => {
  const ids = ["i8_b64", "i8_b1", "i8_heavy", "i4_b32", "i4_odd_numel", "i4_heavy", "i8_zero_block"];
  for (const id of ids) {
    test(`${id}: codes and scales match numpy bit for bit; round trip within scale/2`, () => {
      const c = cases.find((k) => k.id === id) as Case;
      const q = quantize(c.x, { bits: c.bits, blockSize: c.block });
      const r = ref.get(id) as { codes: Uint8Array; scales: Float32Array };
      const raw = q.data.data();
      const bytes = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
      expect(q.data.dtype).toBe(c.bits === 8 ? "int8" : "uint8");
      expect(q.data.shape).toEqual(c.bits === 8 ? c.x.shape : [Math.ceil(c.x.numel / 2)]);
      let mismatches = 0;
      for (let i = 0; i < r.codes.length; i++) if (bytes[i] !== r.codes[i]) mismatches++;
      expect(bytes.length).toBe(r.codes.length);
      expect(mismatches).toBe(0);
      expect(Array.from(q.scales.data() as Float32Array)).toEqual(Array.from(r.scales));
      const back = dequantize(q);
      expect(back.shape).toEqual(c.x.shape);
      expect(back.dtype).toBe("float32");
      const x = c.x.data() as Float32Array;
      const y = back.data() as Float32Array;
      const s = r.scales;
      for (let i = 0; i < x.length; i++) {
        const bound = s[Math.floor(i / c.block)] / 2;
        // half a scale, plus float32 rounding of code * scale (a few ulp of |x|)
        const err = Math.abs(x[i] - y[i]);
        if (!(err <= bound * (1 + 1e-6) + Math.abs(x[i]) * 2 ** -22)) throw new Error(`${id}: element ${i}: error ${err} > scale/2 = ${bound} (seed ${seed})`);
      }
    });
  }
  test("codes use the full range; int4 packs low nibble first", () => {
    const q = quantize(tensor([7, -7, 1, 0]), { bits: 4, blockSize: 4 });
    expect(Array.from(q.data.data() as Uint8Array)).toEqual([0x97, 0x01]);
    expect(q.scales.toArray()).toEqual([1]);
    expect(dequantize(q).toArray()).toEqual([7, -7, 1, 0]);
    const q8 = quantize(tensor([[-254, 1], [127, 0]], { dtype: "float64" }), { bits: 8, blockSize: 2 });
    expect(q8.data.toArray()).toEqual([[-127, 0], [127, 0]]);
  });
  test("errors", () => {
    const x = randn([10]);
    expect(() => quantize(x, { bits: 4, blockSize: 5 })).toThrow(/int4 blocks must hold an even number of elements .* got blockSize 5; use 6/);
    expect(() => quantize(x, { bits: 2 as 8 })).toThrow(/bits must be 8 or 4, got 2/);
    expect(() => quantize(x, { blockSize: 0 })).toThrow(/blockSize must be a positive integer, got 0/);
    expect(() => quantize(tensor([1, 2], { dtype: "int32" }))).toThrow(/quantize: needs a floating-point tensor, got int32/);
    const q = quantize(x, { blockSize: 4 });
    expect(() => dequantize({ ...q, scales: q.scales.slice(0, 0, 2) })).toThrow(/dequantize: scales must be float32 with 3 elements \(one per block of 4\), got float32 \[2\]/);
    expect(() => dequantize({ ...q, bits: 4 })).toThrow(/dequantize: data must be uint8 with 5 elements for int4 codes of \[10\], got int8 \[10\]/);
  });
});
