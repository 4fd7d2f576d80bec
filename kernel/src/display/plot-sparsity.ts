// plot.sparsity: N:M sparsity patterns. Packs each layer's mask into bits,
// measures density and how often each in-group keep pattern occurs, checks the
// N:M rule, and renders a static SVG (one density map per layer) and a summary.
import type { MimeBundle } from "./display.js";
import { SPARSITY_MIME, type SparsityData, type SparsityLayerData, type SparsityLayerInput } from "./plot-types.js";
import { escapeXml, r, svgDocument, viridis } from "./svg.js";

/** Weights larger than this many cells are block-averaged (of |w|) before they travel. */
const MAX_WEIGHT_CELLS = 256 * 256;

/** Bit-packs (LSB first) a row-major 0/1 mask. */
export function packBits(bits: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(Math.ceil(bits.length / 8));
  for (let i = 0; i < bits.length; i++) if (bits[i]) out[i >> 3] |= 1 << (i & 7);
  return out;
}

export function unpackBits(packed: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (packed[i >> 3] >> (i & 7)) & 1;
  return out;
}

function validate(layer: SparsityLayerInput, index: number): void {
  const where = `plot.sparsity(): layer ${index} ("${layer.name}")`;
  for (const k of ["rows", "cols", "n", "m"] as const) {
    if (!Number.isInteger(layer[k]) || layer[k] <= 0) throw new RangeError(`${where}: ${k} must be a positive integer, got ${layer[k]}`);
  }
  if (layer.n > layer.m) throw new RangeError(`${where}: n (${layer.n}) must be at most m (${layer.m}) in an N:M pattern`);
  if (layer.m > 16) throw new RangeError(`${where}: m = ${layer.m} is larger than the 16 that the pattern histogram supports`);
  if (layer.cols % layer.m !== 0) throw new RangeError(`${where}: cols (${layer.cols}) must be a multiple of m (${layer.m}); pad the layer or pick another m`);
  const size = layer.rows * layer.cols;
  const m = layer.mask;
  const length = m instanceof Uint8Array || Array.isArray(m) ? m.length : m.packed.length * 8;
  const expected = m instanceof Uint8Array || Array.isArray(m) ? size : Math.ceil(size / 8) * 8;
  if (length !== expected) {
    throw new RangeError(`${where}: mask has ${m instanceof Uint8Array || Array.isArray(m) ? length : `${m.packed.length} packed bytes`} for ${layer.rows}×${layer.cols} weights; give one entry per weight (or ceil(rows·cols/8) packed bytes)`);
  }
  if (layer.weights && layer.weights.length !== size) {
    throw new RangeError(`${where}: weights has ${layer.weights.length} entries for ${layer.rows}×${layer.cols}; give them row-major`);
  }
}

/** Block-averages |weights| down to at most MAX_WEIGHT_CELLS cells. */
function downsampleWeights(layer: SparsityLayerInput): { weights: number[]; shape: [number, number] } {
  const w = layer.weights!;
  const f = Math.max(1, Math.ceil(Math.sqrt((layer.rows * layer.cols) / MAX_WEIGHT_CELLS)));
  if (f === 1) return { weights: Array.from(w), shape: [layer.rows, layer.cols] };
  const rows = Math.ceil(layer.rows / f);
  const cols = Math.ceil(layer.cols / f);
  const sum = new Float64Array(rows * cols);
  const count = new Float64Array(rows * cols);
  for (let i = 0; i < layer.rows; i++) {
    for (let j = 0; j < layer.cols; j++) {
      const k = Math.floor(i / f) * cols + Math.floor(j / f);
      sum[k] += Math.abs(w[i * layer.cols + j]);
      count[k]++;
    }
  }
  return { weights: Array.from(sum, (s, k) => s / count[k]), shape: [rows, cols] };
}

export function toSparsityLayer(layer: SparsityLayerInput, index = 0): SparsityLayerData {
  validate(layer, index);
  const size = layer.rows * layer.cols;
  const bits = layer.mask instanceof Uint8Array || Array.isArray(layer.mask) ? packBits(layer.mask) : layer.mask.packed;
  let kept = 0;
  const patterns: { [bits: string]: number } = {};
  for (let row = 0; row < layer.rows; row++) {
    for (let g = 0; g < layer.cols; g += layer.m) {
      let pattern = 0;
      for (let k = 0; k < layer.m; k++) {
        const i = row * layer.cols + g + k;
        if ((bits[i >> 3] >> (i & 7)) & 1) {
          pattern |= 1 << k;
          kept++;
        }
      }
      patterns[pattern] = (patterns[pattern] ?? 0) + 1;
    }
  }
  const data: SparsityLayerData = {
    name: layer.name,
    rows: layer.rows,
    cols: layer.cols,
    n: layer.n,
    m: layer.m,
    maskBits: Buffer.from(bits.buffer, bits.byteOffset, Math.ceil(size / 8)).toString("base64"),
    density: size > 0 ? kept / size : 0,
    patterns,
  };
  if (layer.weights) {
    const { weights, shape } = downsampleWeights(layer);
    data.weights = weights;
    data.weightsShape = shape;
  }
  return data;
}

function popcount(v: number): number {
  let c = 0;
  for (; v; v &= v - 1) c++;
  return c;
}

/** Groups that keep more than n of their m weights (should be 0 for a valid N:M mask). */
export function violations(layer: SparsityLayerData): number {
  let bad = 0;
  for (const [bits, count] of Object.entries(layer.patterns)) if (popcount(Number(bits)) > layer.n) bad += count;
  return bad;
}

export function toSparsityData(layers: SparsityLayerInput | SparsityLayerInput[], options: { title?: string } = {}): SparsityData {
  const list = Array.isArray(layers) ? layers : [layers];
  if (list.length === 0) throw new RangeError("plot.sparsity(): give at least one layer");
  const data: SparsityData = { layers: list.map(toSparsityLayer) };
  if (options.title) data.title = options.title;
  return data;
}

export function sparsitySummary(data: SparsityData): string {
  const lines = [`${data.title ?? "N:M sparsity"}: ${data.layers.length} layer${data.layers.length === 1 ? "" : "s"}`];
  for (const l of data.layers) {
    const top = Object.entries(l.patterns)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([bits, count]) => `${patternString(Number(bits), l.m)}×${count}`)
      .join(" ");
    const bad = violations(l);
    lines.push(
      `  ${l.name} [${l.rows}×${l.cols}] ${l.n}:${l.m} density ${l.density.toFixed(3)}` +
        `${bad > 0 ? `, ${bad} groups break ${l.n}:${l.m}` : ""}; top patterns ${top}`,
    );
  }
  return lines.join("\n");
}

/** Pattern bits as the group reads left to right: 0b0011 with m = 4 -> "1100". */
export function patternString(bits: number, m: number): string {
  let s = "";
  for (let k = 0; k < m; k++) s += (bits >> k) & 1 ? "1" : "0";
  return s;
}

const CELL_GRID = 48;

/** One density map per layer (up to 6): each cell is the kept fraction of its block of weights. */
export function sparsitySvg(data: SparsityData): string {
  const shown = data.layers.slice(0, 6);
  const panel = 220;
  const titleH = data.title ? 20 : 0;
  const width = Math.max(1, Math.min(3, shown.length)) * panel;
  const height = titleH + Math.ceil(shown.length / 3) * (panel + 30);
  let body = data.title ? `<text x="${width / 2}" y="14" text-anchor="middle" font-size="13">${escapeXml(data.title)}</text>` : "";
  shown.forEach((l, k) => {
    const ox = (k % 3) * panel + 10;
    const oy = titleH + Math.floor(k / 3) * (panel + 30) + 20;
    const bits = unpackBits(new Uint8Array(Buffer.from(l.maskBits, "base64")), l.rows * l.cols);
    const gr = Math.min(CELL_GRID, l.rows);
    const gc = Math.min(CELL_GRID, l.cols);
    const size = panel - 20;
    const scale = size / Math.max(gr, gc);
    const kept = new Float64Array(gr * gc);
    const total = new Float64Array(gr * gc);
    for (let i = 0; i < l.rows; i++) {
      const bi = Math.floor((i * gr) / l.rows);
      for (let j = 0; j < l.cols; j++) {
        const b = bi * gc + Math.floor((j * gc) / l.cols);
        kept[b] += bits[i * l.cols + j];
        total[b]++;
      }
    }
    body += `<text x="${ox + size / 2}" y="${oy - 6}" text-anchor="middle">${escapeXml(`${l.name} ${l.n}:${l.m} (${(l.density * 100).toFixed(1)}%)`)}</text>`;
    // One rect per run of equal colour along a row keeps the SVG small.
    for (let i = 0; i < gr; i++) {
      for (let j = 0; j < gc; ) {
        const colour = viridis(kept[i * gc + j] / total[i * gc + j]);
        let end = j + 1;
        while (end < gc && viridis(kept[i * gc + end] / total[i * gc + end]) === colour) end++;
        body += `<rect x="${r(ox + j * scale)}" y="${r(oy + i * scale)}" width="${r((end - j) * scale + 0.05)}" height="${r(scale + 0.05)}" fill="${colour}"/>`;
        j = end;
      }
    }
  });
  return svgDocument(width, height, body);
}

export function sparsityBundle(data: SparsityData): MimeBundle {
  return { [SPARSITY_MIME]: data, "image/svg+xml": sparsitySvg(data), "text/plain": sparsitySummary(data) };
}
