// Small statistics and formatting helpers for the benchmark tables.

/** The q-quantile (0..1) by nearest rank, e.g. quantile(xs, 0.9) for p90. */
export function quantile(values, q) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1];
}

export function median(values) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Seconds as a short human reading: "850 µs", "3.2 ms", "1.41 s". */
export function formatSeconds(seconds) {
  if (!Number.isFinite(seconds)) return "n/a";
  if (seconds < 1e-3) return `${(seconds * 1e6).toFixed(0)} µs`;
  if (seconds < 1) return `${(seconds * 1e3).toPrecision(3)} ms`;
  return `${seconds.toPrecision(3)} s`;
}

/** "2.41x" for value / reference; "n/a" when either is missing. */
export function formatRatio(value, reference) {
  if (!Number.isFinite(value) || !Number.isFinite(reference) || reference === 0) return "n/a";
  return `${(value / reference).toFixed(2)}x`;
}

/** Renders rows of cells as a left-aligned, space-padded text table. */
export function renderTable(header, rows) {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => String(row[column]).length)),
  );
  const line = (cells) => cells.map((cell, column) => String(cell).padEnd(widths[column])).join("  ").trimEnd();
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)].join("\n");
}
