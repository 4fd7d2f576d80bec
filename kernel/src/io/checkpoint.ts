// Hugging Face checkpoint folders: config.json plus model.safetensors, or
// shards listed by model.safetensors.index.json ({ weight_map: name -> file }).
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DTYPE_SIZE } from "../tensor/dtype.js";
import type { Tensor } from "../tensor/tensor.js";
import { readJsonObject } from "./json.js";
import { readSafetensors, writeSafetensors } from "./safetensors.js";

/** config.json of a checkpoint folder as a plain object. */
export function readConfigJson(dir: string): Record<string, unknown> {
  const path = join(dir, "config.json");
  if (!existsSync(path)) throw new Error(`${dir}: no config.json; a Hugging Face checkpoint folder holds config.json and model.safetensors`);
  return readJsonObject(path);
}

/** A config given as the parsed object, as a .json file, or as a checkpoint folder holding config.json. */
export function configFrom(config: Record<string, unknown> | string): Record<string, unknown> {
  if (typeof config !== "string") return config;
  if (!config.endsWith(".json")) return readConfigJson(config);
  if (!existsSync(config)) throw new Error(`${config}: no such config file; give a Hugging Face config.json, its folder, or the config as an object`);
  return readJsonObject(config);
}

/** Every tensor of a checkpoint folder (single file or sharded), by name. */
export function readCheckpointTensors(dir: string): Record<string, Tensor> {
  const single = join(dir, "model.safetensors");
  if (existsSync(single)) return readSafetensors(single).tensors;
  const indexPath = join(dir, "model.safetensors.index.json");
  if (existsSync(indexPath)) {
    const index = readJsonObject(indexPath) as { weight_map?: Record<string, string> };
    if (index.weight_map === undefined || typeof index.weight_map !== "object") throw new Error(`${indexPath}: missing "weight_map" (tensor name -> shard file)`);
    const byFile = new Map<string, string[]>();
    for (const [name, file] of Object.entries(index.weight_map)) {
      const list = byFile.get(file) ?? [];
      list.push(name);
      byFile.set(file, list);
    }
    const out: Record<string, Tensor> = {};
    for (const [file, names] of byFile) {
      const path = join(dir, file);
      if (!existsSync(path)) throw new Error(`${indexPath} names shard ${file}, which is not in ${dir}`);
      Object.assign(out, readSafetensors(path, { names }).tensors);
    }
    return out;
  }
  const present = existsSync(dir) ? readdirSync(dir).join(", ") : "(folder does not exist)";
  const hint = present.includes("pytorch_model.bin") ? "; pytorch_model.bin is a pickle, which nbforge does not read: convert it with safetensors' convert script" : "";
  throw new Error(`${dir}: no model.safetensors or model.safetensors.index.json (found: ${present || "nothing"})${hint}`);
}

export interface SaveCheckpointOptions {
  /** Split into shards of at most this many bytes (with an index), as transformers' max_shard_size. Default: one file. */
  maxShardBytes?: number;
}

/** Writes config.json and the tensors as model.safetensors (or shards plus index) into dir. */
export function writeCheckpoint(dir: string, config: Record<string, unknown>, tensors: Record<string, Tensor>, options: SaveCheckpointOptions = {}): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "config.json"), JSON.stringify(config, null, 2) + "\n");
  // transformers refuses safetensors files whose metadata lacks format "pt"
  const metadata = { format: "pt" };
  const limit = options.maxShardBytes;
  if (limit === undefined) {
    writeSafetensors(join(dir, "model.safetensors"), tensors, metadata);
    return;
  }
  const shards: Array<Record<string, Tensor>> = [{}];
  let size = 0;
  let total = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const bytes = t.numel * DTYPE_SIZE[t.dtype];
    if (size > 0 && size + bytes > limit) {
      shards.push({});
      size = 0;
    }
    shards[shards.length - 1][name] = t;
    size += bytes;
    total += bytes;
  }
  const n = shards.length;
  const weightMap: Record<string, string> = {};
  shards.forEach((shard, i) => {
    const file = `model-${String(i + 1).padStart(5, "0")}-of-${String(n).padStart(5, "0")}.safetensors`;
    writeSafetensors(join(dir, file), shard, metadata);
    for (const name of Object.keys(shard)) weightMap[name] = file;
  });
  writeFileSync(join(dir, "model.safetensors.index.json"), JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2) + "\n");
}
