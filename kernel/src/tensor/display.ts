// How a tensor shows itself: text like PyTorch's repr (values abbreviated with
// "..." for large tensors) and an HTML table for small 2-D tensors.
import type { Tensor } from "./tensor.js";

const THRESHOLD = 1000;
const EDGE = 3;

type Cell = number | boolean | "...";
type Nested = Cell | Nested[];

function values(t: Tensor): number[] | boolean[] {
  const d = t.data();
  if (d instanceof BigInt64Array) return Array.from(d, Number);
  if (t.dtype === "bool") return Array.from(d as Uint8Array, (v) => v !== 0);
  return Array.from(d as ArrayLike<number>);
}

// Reads what the repr shows: everything, or the first and last EDGE entries of each long dim.
function gather(t: Tensor, summarize: boolean): Nested {
  if (t.ndim === 0) return values(t)[0];
  const n = t.shape[0];
  if (t.ndim === 1) {
    if (!summarize || n <= 2 * EDGE) return values(t);
    const head = t.slice(0, 0, EDGE);
    const tail = t.slice(0, n - EDGE);
    const r: Nested[] = [...values(head), "...", ...values(tail)];
    head.dispose();
    tail.dispose();
    return r;
  }
  const idx: (number | null)[] = !summarize || n <= 2 * EDGE
    ? [...Array(n).keys()]
    : [0, 1, 2, null, n - 3, n - 2, n - 1];
  return idx.map((i) => {
    if (i === null) return "...";
    const row = t.slice(0, i, i + 1);
    const sq = row.reshape(t.shape.slice(1));
    const r = gather(sq, summarize);
    row.dispose();
    sq.dispose();
    return r;
  });
}

function leaves(n: Nested, out: Cell[]): void {
  if (Array.isArray(n)) for (const c of n) leaves(c, out);
  else out.push(n);
}

function formatter(cells: Cell[], isFloat: boolean): (c: Cell) => string {
  const nums = cells.filter((c): c is number => typeof c === "number" && Number.isFinite(c));
  let fmt: (v: number) => string = (v) => String(v);
  if (isFloat) {
    const absMax = nums.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const nonzero = nums.filter((v) => v !== 0).map(Math.abs);
    const absMin = nonzero.length > 0 ? Math.min(...nonzero) : 1;
    if (nums.every((v) => Number.isInteger(v)) && absMax < 1e8) fmt = (v) => `${v}.`;
    else if (absMax >= 1e8 || absMin < 1e-4 || absMax / absMin > 1e7) fmt = (v) => v.toExponential(4);
    else fmt = (v) => v.toFixed(4);
  }
  const str = (c: Cell): string => {
    if (c === "...") return "...";
    if (typeof c === "boolean") return c ? "true" : "false";
    if (!Number.isFinite(c)) return Number.isNaN(c) ? "nan" : c > 0 ? "inf" : "-inf";
    return fmt(c);
  };
  const width = cells.reduce<number>((w, c) => Math.max(w, str(c).length), 0);
  return (c) => str(c).padStart(width);
}

function render(n: Nested, f: (c: Cell) => string, depth: number, ndim: number, indent: number): string {
  if (!Array.isArray(n)) return f(n);
  if (depth === ndim - 1) return `[${n.map((c) => f(c as Cell)).join(", ")}]`;
  const sep = "," + "\n".repeat(ndim - depth - 1) + " ".repeat(indent + depth + 1);
  return `[${n.map((c) => (c === "..." ? "..." : render(c, f, depth + 1, ndim, indent))).join(sep)}]`;
}

export function formatTensor(t: Tensor): string {
  const meta = `shape=[${t.shape.join(", ")}], dtype=${t.dtype}, device=${t.device}`;
  if (t.isDisposed) return `tensor(<disposed>, ${meta})`;
  const grad = t.gradFn !== null ? `, gradFn=${t.gradFn.name}` : t.requiresGrad ? ", requiresGrad=true" : "";
  if (t.numel === 0) return `tensor([], ${meta}${grad})`;
  const nested = gather(t, t.numel > THRESHOLD);
  const cells: Cell[] = [];
  leaves(nested, cells);
  const isFloat = t.dtype === "float32" || t.dtype === "float64" || t.dtype === "float16" || t.dtype === "bfloat16";
  const body = render(nested, formatter(cells, isFloat), 0, t.ndim, "tensor(".length);
  return `tensor(${body}, ${meta}${grad})`;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** An HTML table for 2-D tensors up to 64 x 64; null otherwise. */
export function htmlTable(t: Tensor): string | null {
  if (t.isDisposed || t.ndim !== 2 || t.shape[0] > 64 || t.shape[1] > 64 || t.numel === 0) return null;
  const nested = gather(t, false) as Cell[][];
  const cells: Cell[] = [];
  leaves(nested, cells);
  const isFloat = t.dtype === "float32" || t.dtype === "float64" || t.dtype === "float16" || t.dtype === "bfloat16";
  const f = formatter(cells, isFloat);
  const head = `<tr><th></th>${nested[0].map((_, j) => `<th>${j}</th>`).join("")}</tr>`;
  const rows = nested.map((row, i) => `<tr><th>${i}</th>${row.map((c) => `<td>${escapeHtml(f(c).trim())}</td>`).join("")}</tr>`).join("");
  return `<table class="nbforge-tensor"><caption>Tensor [${t.shape.join(", ")}] ${t.dtype} ${t.device}</caption>${head}${rows}</table>`;
}
