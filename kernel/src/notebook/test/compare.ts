// The comparison rules: a cell's fresh outputs against its stored ones.
//   text          exactly, after sanitizing; with a tolerance, the numbers in it
//                 within rtol/atol and the text around them exactly
//   errors        ename and evalue (the traceback is not compared)
//   plot bundles  application/vnd.plotly.v1+json and application/vnd.nbforge.*+json
//                 structurally: trace count, trace types, array lengths, numbers
//                 within tolerance
//   other JSON    deep equality, numbers within tolerance
//   images        the same size and a perceptual distance under a threshold, or ignored
import { decodePng, imageSize, perceptualDistance, svgSize, ImageDecodeError } from "./image.js";
import type { Tolerance } from "./markers.js";
import { groupByKey, outputValues, type OutputValue } from "./normalize.js";
import { sanitize, type SanitizeRule } from "./sanitize.js";
import type { Output } from "../nbformat.js";

export interface CompareOptions {
  tolerance: Tolerance;
  sanitize: readonly SanitizeRule[];
  /** Skip image comparison entirely. */
  ignoreImages: boolean;
  /** Largest perceptual distance (0..1) at which two images still match. */
  imageThreshold: number;
  /** Output keys (mime types, "stdout", "stderr", "error") that are never compared. */
  skipKeys: ReadonlySet<string>;
}

/** Keys nbval never compares either: widget model ids are random. */
export const DEFAULT_SKIP_KEYS: ReadonlySet<string> = new Set(["application/vnd.jupyter.widget-view+json"]);

export const DEFAULT_COMPARE_OPTIONS: CompareOptions = {
  tolerance: { rtol: 0, atol: 0 },
  sanitize: [],
  ignoreImages: false,
  imageThreshold: 0.05,
  skipKeys: DEFAULT_SKIP_KEYS,
};

/** One reason a cell failed. */
export interface Mismatch {
  /** The output key: "stdout", "stderr", "error", or a mime type. */
  key: string;
  /** One line: what differs. */
  message: string;
  /** Text forms for a diff, when there is something to show. */
  expected?: string;
  got?: string;
  /** Further lines for structural differences (JSON paths). */
  details?: string[];
}

const IMAGE_MIMES = new Set(["image/png", "image/jpeg", "image/gif", "image/svg+xml"]);

export function isImageMime(mime: string): boolean {
  return IMAGE_MIMES.has(mime);
}

export function isPlotMime(mime: string): boolean {
  return mime === "application/vnd.plotly.v1+json" || /^application\/vnd\.nbforge\.[^/]+\+json$/.test(mime);
}

function isJsonMimeType(mime: string): boolean {
  return mime === "application/json" || (mime.startsWith("application/") && mime.endsWith("+json"));
}

function formatTolerance(t: Tolerance): string {
  return `rtol=${t.rtol}, atol=${t.atol}`;
}

function withinTolerance(got: number, expected: number, t: Tolerance): boolean {
  if (got === expected) return true;
  if (Number.isNaN(got) && Number.isNaN(expected)) return true;
  return Math.abs(got - expected) <= t.atol + t.rtol * Math.abs(expected);
}

const NUMBER = /[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:Infinity|inf)\b|\bNaN\b|\bnan\b/g;

function parseNumber(token: string): number {
  const t = token.replace(/^\+/, "");
  if (/^-?inf$/.test(t)) return t.startsWith("-") ? -Infinity : Infinity;
  if (/^nan$/i.test(t)) return NaN;
  return Number(t);
}

/** Splits text into the parts between numbers and the numbers themselves. */
function tokenize(text: string): { parts: string[]; numbers: string[] } {
  const parts: string[] = [];
  const numbers: string[] = [];
  let last = 0;
  for (const m of text.matchAll(NUMBER)) {
    parts.push(text.slice(last, m.index));
    numbers.push(m[0]);
    last = (m.index ?? 0) + m[0].length;
  }
  parts.push(text.slice(last));
  return { parts, numbers };
}

/**
 * Compares text exactly, or, with a non-zero tolerance, numbers within it and the
 * rest exactly. Returns undefined when they match, else why not.
 */
export function compareText(got: string, expected: string, tolerance: Tolerance): string | undefined {
  if (got === expected) return undefined;
  if (tolerance.rtol === 0 && tolerance.atol === 0) return "differs";
  const g = tokenize(got);
  const e = tokenize(expected);
  if (g.numbers.length !== e.numbers.length || g.parts.some((p, i) => p !== e.parts[i])) {
    return "differs (beyond its numbers)";
  }
  for (let i = 0; i < g.numbers.length; i++) {
    const a = parseNumber(g.numbers[i]);
    const b = parseNumber(e.numbers[i]);
    if (!withinTolerance(a, b, tolerance)) {
      return `number ${i + 1} is ${g.numbers[i]}, expected ${e.numbers[i]} (${formatTolerance(tolerance)})`;
    }
  }
  return undefined;
}

function sanitized(text: string, options: CompareOptions): string {
  return sanitize(text, options.sanitize);
}

/** Plotly's typed arrays ({dtype, bdata}) as plain number arrays. */
function decodeTypedArray(value: Record<string, unknown>): number[] | undefined {
  if (typeof value.dtype !== "string" || typeof value.bdata !== "string") return undefined;
  const bytes = Buffer.from(value.bdata, "base64");
  const readers: Record<string, [number, (b: Buffer, at: number) => number]> = {
    f8: [8, (b, at) => b.readDoubleLE(at)],
    f4: [4, (b, at) => b.readFloatLE(at)],
    i1: [1, (b, at) => b.readInt8(at)],
    u1: [1, (b, at) => b.readUInt8(at)],
    i2: [2, (b, at) => b.readInt16LE(at)],
    u2: [2, (b, at) => b.readUInt16LE(at)],
    i4: [4, (b, at) => b.readInt32LE(at)],
    u4: [4, (b, at) => b.readUInt32LE(at)],
  };
  const reader = readers[value.dtype];
  if (!reader) return undefined;
  const [size, read] = reader;
  const out: number[] = [];
  for (let at = 0; at + size <= bytes.length; at += size) out.push(read(bytes, at));
  return out;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value === null) return "null";
  if (typeof value === "object") return "an object";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** Structural JSON comparison; pushes one line per difference (up to `limit`). */
export function compareJson(
  got: unknown,
  expected: unknown,
  options: CompareOptions,
  path = "",
  out: string[] = [],
  limit = 8,
): string[] {
  if (out.length >= limit) return out;
  const here = path || "(root)";
  if (typeof expected === "object" && expected !== null && !Array.isArray(expected)) {
    const typed = decodeTypedArray(expected as Record<string, unknown>);
    if (typed) expected = typed;
  }
  if (typeof got === "object" && got !== null && !Array.isArray(got)) {
    const typed = decodeTypedArray(got as Record<string, unknown>);
    if (typed) got = typed;
  }
  if (typeof expected === "number" && typeof got === "number") {
    if (!withinTolerance(got, expected, options.tolerance)) {
      out.push(`${here}: ${got}, expected ${expected} (${formatTolerance(options.tolerance)})`);
    }
    return out;
  }
  if (typeof expected === "string" && typeof got === "string") {
    const why = compareText(sanitized(got, options), sanitized(expected, options), options.tolerance);
    if (why) out.push(`${here}: ${describe(got)}, expected ${describe(expected)}`);
    return out;
  }
  if (Array.isArray(expected) && Array.isArray(got)) {
    if (got.length !== expected.length) {
      out.push(`${here}: length ${got.length}, expected ${expected.length}`);
      return out;
    }
    expected.forEach((e, i) => compareJson(got[i], e, options, `${path}[${i}]`, out, limit));
    return out;
  }
  if (typeof expected === "object" && expected !== null && typeof got === "object" && got !== null && !Array.isArray(got) && !Array.isArray(expected)) {
    const e = expected as Record<string, unknown>;
    const g = got as Record<string, unknown>;
    for (const key of Object.keys(e)) {
      const child = path ? `${path}.${key}` : key;
      if (!(key in g)) out.push(`${child}: missing`);
      else compareJson(g[key], e[key], options, child, out, limit);
      if (out.length >= limit) return out;
    }
    for (const key of Object.keys(g)) {
      if (!(key in e)) out.push(`${path ? `${path}.${key}` : key}: not expected`);
      if (out.length >= limit) return out;
    }
    return out;
  }
  if (got !== expected) out.push(`${here}: ${describe(got)}, expected ${describe(expected)}`);
  return out;
}

function traces(bundle: unknown): unknown[] | undefined {
  if (typeof bundle !== "object" || bundle === null || Array.isArray(bundle)) return undefined;
  const data = (bundle as Record<string, unknown>).data;
  return Array.isArray(data) ? data : undefined;
}

function traceType(trace: unknown): string {
  const type = typeof trace === "object" && trace !== null ? (trace as Record<string, unknown>).type : undefined;
  return typeof type === "string" ? type : "scatter";
}

/** A plot bundle: trace count and types first, then the rest structurally (plotly's layout template aside). */
export function comparePlot(got: unknown, expected: unknown, options: CompareOptions): string[] {
  const gotTraces = traces(got);
  const expectedTraces = traces(expected);
  if (gotTraces && expectedTraces) {
    if (gotTraces.length !== expectedTraces.length) {
      return [`${gotTraces.length} traces, expected ${expectedTraces.length}`];
    }
    const types = gotTraces.map(traceType);
    const expectedTypes = expectedTraces.map(traceType);
    const wrong = types.findIndex((t, i) => t !== expectedTypes[i]);
    if (wrong >= 0) return [`trace ${wrong} is a "${types[wrong]}" trace, expected "${expectedTypes[wrong]}"`];
  }
  const strip = (bundle: unknown): unknown => {
    if (typeof bundle !== "object" || bundle === null || Array.isArray(bundle)) return bundle;
    const copy = { ...(bundle as Record<string, unknown>) };
    const layout = copy.layout;
    if (typeof layout === "object" && layout !== null && !Array.isArray(layout)) {
      const { template: _template, ...rest } = layout as Record<string, unknown>;
      copy.layout = rest;
    }
    delete copy.config;
    return copy;
  };
  return compareJson(strip(got), strip(expected), options);
}

function imageBytes(data: unknown): Buffer {
  return Buffer.from(typeof data === "string" ? data.replace(/\s+/g, "") : "", "base64");
}

export function compareImage(mime: string, got: unknown, expected: unknown, options: CompareOptions): string | undefined {
  if (mime === "image/svg+xml") {
    const g = svgSize(String(got));
    const e = svgSize(String(expected));
    if (g.width !== e.width || g.height !== e.height) {
      return `SVG size ${g.width ?? "?"} x ${g.height ?? "?"}, expected ${e.width ?? "?"} x ${e.height ?? "?"}`;
    }
    return undefined;
  }
  const gBytes = imageBytes(got);
  const eBytes = imageBytes(expected);
  if (gBytes.equals(eBytes)) return undefined;
  const gSize = imageSize(gBytes);
  const eSize = imageSize(eBytes);
  if (!gSize || !eSize) return gSize === eSize ? undefined : `cannot read the ${gSize ? "stored" : "new"} image's size`;
  if (gSize.width !== eSize.width || gSize.height !== eSize.height) {
    return `image is ${gSize.width}x${gSize.height} px, expected ${eSize.width}x${eSize.height} px`;
  }
  if (mime !== "image/png") return undefined; // JPEG and GIF: compared by size only
  try {
    const distance = perceptualDistance(decodePng(gBytes), decodePng(eBytes));
    if (distance > options.imageThreshold) {
      return `image differs: perceptual distance ${distance.toFixed(4)} > threshold ${options.imageThreshold}`;
    }
  } catch (e) {
    if (e instanceof ImageDecodeError) return `cannot decode the image: ${e.message}`;
    throw e;
  }
  return undefined;
}

function textOf(data: unknown): string {
  return typeof data === "string" ? data : JSON.stringify(data, null, 1);
}

function compareValue(key: string, got: OutputValue, expected: OutputValue, options: CompareOptions): Mismatch | undefined {
  if (got.kind === "error" && expected.kind === "error") {
    const g = `${got.ename}: ${sanitized(got.evalue, options)}`;
    const e = `${expected.ename}: ${sanitized(expected.evalue, options)}`;
    if (got.ename !== expected.ename) return { key, message: `raised ${got.ename}, expected ${expected.ename}`, expected: e, got: g };
    if (compareText(sanitized(got.evalue, options), sanitized(expected.evalue, options), options.tolerance)) {
      return { key, message: `${got.ename}'s message differs`, expected: e, got: g };
    }
    return undefined;
  }
  if (got.kind === "stream" && expected.kind === "stream") {
    const g = sanitized(got.text, options);
    const e = sanitized(expected.text, options);
    const why = compareText(g, e, options.tolerance);
    return why ? { key, message: `${key} ${why}`, expected: e, got: g } : undefined;
  }
  if (got.kind === "data" && expected.kind === "data") {
    if (isImageMime(key)) {
      if (options.ignoreImages) return undefined;
      const why = compareImage(key, got.data, expected.data, options);
      return why ? { key, message: `${key}: ${why}` } : undefined;
    }
    if (isPlotMime(key) || isJsonMimeType(key)) {
      const lines = isPlotMime(key) ? comparePlot(got.data, expected.data, options) : compareJson(got.data, expected.data, options);
      return lines.length > 0 ? { key, message: `${key} differs: ${lines[0]}`, details: lines } : undefined;
    }
    const g = sanitized(textOf(got.data), options);
    const e = sanitized(textOf(expected.data), options);
    const why = compareText(g, e, options.tolerance);
    return why ? { key, message: `${key} ${why}`, expected: e, got: g } : undefined;
  }
  return { key, message: `${key}: output kinds differ` };
}

function summarizeKey(values: readonly OutputValue[]): string {
  return values
    .map((v) => (v.kind === "stream" ? v.text : v.kind === "error" ? `${v.ename}: ${v.evalue}` : textOf(v.data)))
    .join("\n");
}

/**
 * Compares fresh outputs with stored ones, key by key as nbval does: every
 * stored key must appear with the same number of values, no new key may
 * appear, and each value must match under the rules above.
 */
export function compareOutputs(got: readonly Output[], expected: readonly Output[], options: CompareOptions = DEFAULT_COMPARE_OPTIONS): Mismatch[] {
  const skip = (key: string) => options.skipKeys.has(key) || (options.ignoreImages && isImageMime(key));
  const g = groupByKey(outputValues(got).filter((v) => !skip(v.key)));
  const e = groupByKey(outputValues(expected).filter((v) => !skip(v.key)));
  const mismatches: Mismatch[] = [];
  for (const [key, values] of e) {
    const fresh = g.get(key);
    if (!fresh) {
      const shown = isImageMime(key) ? undefined : summarizeKey(values);
      mismatches.push({ key, message: `missing output: ${key} was stored, the cell did not produce it`, expected: shown, got: shown === undefined ? undefined : "" });
      continue;
    }
    if (fresh.length !== values.length) {
      mismatches.push({
        key,
        message: `${fresh.length} ${key} outputs, expected ${values.length}`,
        ...(isImageMime(key) ? {} : { expected: summarizeKey(values), got: summarizeKey(fresh) }),
      });
      continue;
    }
    for (let i = 0; i < values.length; i++) {
      const mismatch = compareValue(key, fresh[i], values[i], options);
      if (mismatch) mismatches.push(mismatch);
    }
  }
  for (const [key, values] of g) {
    if (e.has(key)) continue;
    const shown = isImageMime(key) ? undefined : summarizeKey(values);
    mismatches.push({ key, message: `unexpected output: ${key} was not stored`, got: shown, expected: shown === undefined ? undefined : "" });
  }
  return mismatches;
}
