#!/usr/bin/env node
// SLAM benchmark: slam.solve (the SE-Sync pipeline) on every file in
// ../shared/datasets/slam, next to SE-Sync's (or CPL-SLAM's) total time on
// this kind of machine from that folder's README.
//
//   node bench/slam.mjs [--only intel,MIT] [--runs 3] [--data DIR]
//
// Per file: our time per stage (data matrix, initialisation, optimize,
// rounding, verify) and in total, the median of --runs runs (file reading
// excluded, as in the README), the reference total, the ratio ours /
// reference, and whether the optimum matches the README's f* (relative 1e-6)
// and is certified. The README's times were measured on a different run of a
// shared machine; compare ratios, not seconds.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { formatSeconds, median, renderTable } from "./stats.mjs";

const repoRoot = dirname(dirname(fileURLToPath(import.meta.url)));
const { values: options } = parseArgs({
  options: {
    only: { type: "string" },
    runs: { type: "string", default: "3" },
    data: { type: "string", default: process.env.NBFORGE_SLAM_DATA ?? resolve(repoRoot, "../shared/datasets/slam") },
  },
});

const { readG2O } = await import(join(repoRoot, "kernel/dist/slam/g2o.js"));
const { solve } = await import(join(repoRoot, "kernel/dist/slam/solve.js"));

/** The README table: file, f*, and the reference total seconds (a number, or null for "—"). */
function readTable(dir) {
  const rows = [];
  for (const line of readFileSync(join(dir, "README.md"), "utf8").split("\n")) {
    const cells = line.split("|").map((c) => c.trim());
    if (cells.length < 9 || !/^\d$/.test(cells[2])) continue;
    const optimum = Number(cells[6]);
    const reference = Number.parseFloat(cells[7]);
    rows.push({
      file: cells[1],
      optimum: Number.isFinite(optimum) ? optimum : null,
      reference: Number.isFinite(reference) ? reference : null,
      referenceNote: cells[7],
    });
  }
  return rows;
}

if (!existsSync(join(options.data, "README.md"))) {
  console.error(`bench:slam: no datasets at ${options.data}; pass --data DIR or set NBFORGE_SLAM_DATA`);
  process.exit(2);
}
const only = options.only ? new Set(options.only.split(",")) : null;
const runs = Math.max(1, Number(options.runs));
const stages = ["dataMatrix", "initialisation", "optimize", "rounding", "verify", "total"];
const fmt = formatSeconds;
const out = [];
for (const row of readTable(options.data)) {
  if (only && !only.has(row.file)) continue;
  const problem = readG2O(join(options.data, `${row.file}.g2o`));
  const results = [];
  for (let k = 0; k < runs; k++) results.push(solve(problem));
  const last = results[results.length - 1];
  const t = Object.fromEntries(stages.map((s) => [s, median(results.map((r) => r.times[s]))]));
  const match =
    row.optimum === null ? "(no f*)" : Math.abs(last.cost - row.optimum) / row.optimum < 1e-6 ? "yes" : `NO (${last.cost.toPrecision(12)})`;
  out.push([
    row.file,
    ...stages.map((s) => fmt(t[s])),
    row.reference === null ? row.referenceNote : fmt(row.reference),
    row.reference === null ? "—" : (t.total / row.reference).toFixed(2),
    `${last.relaxation} r=${last.rank}`,
    last.certified ? "yes" : "NO",
    match,
  ]);
  process.stderr.write(`${row.file}: ${fmt(t.total)}\n`);
}
console.log(
  renderTable(
    ["file", "data matrix", "init", "optimize", "rounding", "verify", "total", "SE-Sync total", "ratio", "relaxation", "certified", "f* match"],
    out,
  ),
);
console.log(`median of ${runs} run(s) per file; ratio = our total / the README's reference total (SE-Sync, or CPL-SLAM for the landmark files)`);
