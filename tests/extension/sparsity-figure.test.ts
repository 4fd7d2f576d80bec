// The sparsity renderer's data handling, fed by the kernel's plot.sparsity:
// the packed mask decodes to the original, the pattern histogram matches a
// direct count over the N:M groups, block averages match, and the group grid
// sits between groups.
import { plot } from "nbforge/dist/display/plot.js";
import { decodeMask, groupGrid, heatmapZ, patternHistogram, sparsityFigure } from "nbforge-jupyterlab/lib/figures/sparsity.js";
import { LIGHT_THEME } from "nbforge-jupyterlab/lib/types.js";
import { seededRandom } from "../support/seeded-random.js";

/** A random valid n:m mask: in each group of m along a row, n distinct positions kept. */
function randomNM(rows: number, cols: number, n: number, m: number, rand: () => number): Uint8Array {
  const mask = new Uint8Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < cols; g += m) {
      const idx = Array.from({ length: m }, (_, k) => k);
      for (let k = m - 1; k > 0; k--) {
        const j = Math.floor(rand() * (k + 1));
        [idx[k], idx[j]] = [idx[j], idx[k]];
      }
      for (const k of idx.slice(0, n)) mask[r * cols + g + k] = 1;
    }
  }
  return mask;
}

describe("sparsity data", () => {
  const rand = seededRandom(11);
  const rows = 24, cols = 32;
  const mask = randomNM(rows, cols, 2, 4, rand);
  const weights = Float32Array.from({ length: rows * cols }, () => rand() * 2 - 1);
  const data = plot.sparsity([{ name: "fc1", rows, cols, n: 2, m: 4, mask, weights }]).data;
  const layer = data.layers[0];

  test("the packed mask travels and decodes to the original bytes", () => {
    expect(Array.from(decodeMask(layer))).toEqual(Array.from(mask));
    expect(layer.density).toBeCloseTo(0.5, 12);
  });

  test("the pattern histogram equals a direct count of keep patterns over groups", () => {
    const counts = new Map<string, number>();
    for (let r = 0; r < rows; r++) {
      for (let g = 0; g < cols; g += 4) {
        const label = Array.from({ length: 4 }, (_, k) => String(mask[r * cols + g + k])).join("");
        counts.set(label, (counts.get(label) ?? 0) + 1);
      }
    }
    const hist = patternHistogram(layer);
    expect(Object.fromEntries(hist.labels.map((l, i) => [l, hist.counts[i]]))).toEqual(Object.fromEntries(counts));
    expect(hist.counts.reduce((a, b) => a + b, 0)).toBe((rows * cols) / 4);
    for (const l of hist.labels) expect([...l].filter((c) => c === "1")).toHaveLength(2);
  });

  test("the heat map is the mask itself when small, |weights| when asked", () => {
    const { z, factor } = heatmapZ(layer, "mask");
    expect(factor).toBe(1);
    expect(z.flat()).toEqual(Array.from(mask));
    const w = heatmapZ(layer, "weights").z.flat();
    w.forEach((v, i) => expect(v).toBeCloseTo(Math.abs(weights[i]), 6));
  });

  test("group boundaries every m columns, between the groups", () => {
    const grid = groupGrid(layer, 1);
    const xs = grid.x.filter((v): v is number => v !== null);
    expect([...new Set(xs)]).toEqual([3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5]);
  });

  test("the figure has the heat map, the histogram and the grid", () => {
    const fig = sparsityFigure(layer, "mask", LIGHT_THEME);
    expect((fig.data as { type: string }[]).map((t) => t.type)).toEqual(["heatmap", "bar", "scatter"]);
  });

  test("large layers are block-averaged: each cell is the kept fraction of its block", () => {
    const big = 1200;
    const bigMask = randomNM(big, big, 1, 4, rand);
    const bigLayer = plot.sparsity({ name: "big", rows: big, cols: big, n: 1, m: 4, mask: bigMask }).data.layers[0];
    const { z, factor } = heatmapZ(bigLayer, "mask");
    expect(factor).toBe(3);
    let kept = 0;
    for (let i = 3; i < 6; i++) for (let j = 6; j < 9; j++) kept += bigMask[i * big + j];
    expect(z[1][2]).toBeCloseTo(kept / 9, 12);
    expect(groupGrid(bigLayer, factor).x).toEqual([]);
  });

  test("a mask that breaks N:M is reported in the summary; bad shapes name the fix", () => {
    const bad = new Uint8Array(8).fill(1);
    expect(String(plot.sparsity({ name: "dense", rows: 2, cols: 4, n: 2, m: 4, mask: bad }))).toContain("2 groups break 2:4");
    expect(() => plot.sparsity({ name: "x", rows: 2, cols: 6, n: 2, m: 4, mask: new Uint8Array(12) })).toThrow(/cols \(6\) must be a multiple of m \(4\)/);
    expect(() => plot.sparsity({ name: "x", rows: 2, cols: 4, n: 2, m: 4, mask: new Uint8Array(7) })).toThrow(/mask has 7/);
  });
});
