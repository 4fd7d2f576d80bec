// Reading a JSON file that must hold one object (config.json, tokenizer.json, ...),
// with errors that name the file.
import { readFileSync } from "node:fs";

/** The JSON object in the file at path. */
export function readJsonObject(path: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw new Error(`${path}: expected a JSON object`);
  return raw as Record<string, unknown>;
}
