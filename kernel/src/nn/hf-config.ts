// Reading Hugging Face config.json fields with clear errors.
export type HFConfig = Record<string, unknown>;

export function num(c: HFConfig, key: string, fallback?: number): number {
  const v = c[key];
  if (v === undefined || v === null) {
    if (fallback !== undefined) return fallback;
    throw new Error(`config.json: missing "${key}" (a number)`);
  }
  if (typeof v !== "number" || !Number.isFinite(v)) throw new TypeError(`config.json: "${key}" must be a number, got ${JSON.stringify(v)}`);
  return v;
}

export function int(c: HFConfig, key: string, fallback?: number): number {
  const v = num(c, key, fallback);
  if (!Number.isInteger(v) || v < 0) throw new RangeError(`config.json: "${key}" must be a non-negative integer, got ${v}`);
  return v;
}

export function bool(c: HFConfig, key: string, fallback: boolean): boolean {
  const v = c[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== "boolean") throw new TypeError(`config.json: "${key}" must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

export function str(c: HFConfig, key: string, fallback: string): string {
  const v = c[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== "string") throw new TypeError(`config.json: "${key}" must be a string, got ${JSON.stringify(v)}`);
  return v;
}

export function checkModelType(c: HFConfig, accepted: readonly string[], cls: string): void {
  const t = c.model_type;
  if (t !== undefined && !accepted.includes(String(t))) {
    throw new Error(`${cls}: config.json has model_type "${String(t)}"; ${cls} reads ${accepted.map((a) => `"${a}"`).join(" or ")}`);
  }
}
