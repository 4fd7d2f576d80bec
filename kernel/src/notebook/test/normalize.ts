// Outputs as the regression test compares them: streams merged per stream name
// with carriage returns and backspaces applied as a terminal would, and every
// output split into keyed values (a stream name, a mime type, or "error"),
// the way nbval compares them. Display updates and clear_output are applied
// earlier, by OutputArea, when the fresh outputs are collected.
import type { JsonObject } from "../../jupyter/wire.js";
import type { Output } from "../nbformat.js";

/** One comparable value of a cell's outputs. */
export type OutputValue =
  | { kind: "stream"; key: "stdout" | "stderr"; text: string }
  | { kind: "data"; key: string; data: unknown; metadata: JsonObject }
  | { kind: "error"; key: "error"; ename: string; evalue: string };

/** Applies backspaces (erasing the character before, within a line) and carriage returns (restarting the line). */
export function applyControlCharacters(text: string): string {
  let out = text;
  // A backspace erases the character before it, but never a newline (nbval's rule, repeated until stable).
  for (let previous = ""; previous !== out; ) {
    previous = out;
    out = out.replace(/[^\n\b]\x08/g, "");
  }
  out = out.replace(/^\x08+/gm, "");
  // A carriage return not followed by a newline rewinds the line: keep what was written after the last one.
  return out
    .split("\n")
    .map((line) => {
      const body = line.endsWith("\r") ? line.slice(0, -1) : line;
      const at = body.lastIndexOf("\r");
      return (at < 0 ? body : body.slice(at + 1)) + (line.endsWith("\r") ? "\r" : "");
    })
    .join("\n");
}

/** Merges all stream outputs of one name into the first of them, then applies \r and \b. */
export function mergeStreams(outputs: readonly Output[]): Output[] {
  const merged: Output[] = [];
  const byName = new Map<string, { output_type: "stream"; name: "stdout" | "stderr"; text: string }>();
  for (const output of outputs) {
    if (output.output_type !== "stream") {
      merged.push(output);
      continue;
    }
    const first = byName.get(output.name);
    if (first) {
      first.text += output.text;
    } else {
      const copy = { ...output };
      byName.set(output.name, copy);
      merged.push(copy);
    }
  }
  for (const stream of byName.values()) stream.text = applyControlCharacters(stream.text);
  return merged;
}

/** The keyed values of a cell's outputs, in order within each key. */
export function outputValues(outputs: readonly Output[]): OutputValue[] {
  const values: OutputValue[] = [];
  for (const output of mergeStreams(outputs)) {
    switch (output.output_type) {
      case "stream":
        values.push({ kind: "stream", key: output.name, text: output.text });
        break;
      case "display_data":
      case "execute_result":
        for (const [mime, data] of Object.entries(output.data)) {
          values.push({ kind: "data", key: mime, data, metadata: output.metadata });
        }
        break;
      case "error":
        values.push({ kind: "error", key: "error", ename: output.ename, evalue: output.evalue });
        break;
    }
  }
  return values;
}

/** Groups values by key, keeping their order. */
export function groupByKey(values: readonly OutputValue[]): Map<string, OutputValue[]> {
  const groups = new Map<string, OutputValue[]>();
  for (const value of values) {
    const list = groups.get(value.key) ?? [];
    list.push(value);
    groups.set(value.key, list);
  }
  return groups;
}
