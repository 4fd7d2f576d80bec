// nbval's sanitize files: INI-like sections of `regex:` / `replace:` line pairs,
// applied to every text output (reference and fresh alike) before comparing.
//
//   [Memory addresses]
//   regex: (<[a-zA-Z_][0-9a-zA-Z_.]* at )(0x[0-9a-fA-F]+)(>)
//   replace: \1MEMORY_ADDRESS\3
//
// Patterns are Python regular expressions, as nbval reads them; the common
// Python-only forms ((?P<n>...), (?P=n), \g<1>, \1 in replacements) are translated.
import { readFileSync } from "node:fs";

export interface SanitizeRule {
  /** The section the rule came from ("" before any section). */
  section: string;
  pattern: RegExp;
  /** The replacement in JavaScript's String.replace syntax. */
  replacement: string;
  /** Where it was read, for messages: "file:line". */
  origin: string;
}

export class SanitizeFileError extends Error {}

/** Python regex syntax to JavaScript: named groups and back-references by name. */
function translatePattern(source: string): string {
  return source.replace(/\(\?P</g, "(?<").replace(/\(\?P=(\w+)\)/g, "\\k<$1>");
}

/** Python replacement syntax (\1, \g<1>, \g<name>, \\) to JavaScript's ($1, $<name>, $$). */
export function translateReplacement(replace: string): string {
  let out = "";
  for (let i = 0; i < replace.length; i++) {
    const c = replace[i];
    if (c === "$") {
      out += "$$";
    } else if (c === "\\" && i + 1 < replace.length) {
      const rest = replace.slice(i + 1);
      const numbered = /^(\d{1,2})/.exec(rest);
      const named = /^g<(\w+)>/.exec(rest);
      if (numbered) {
        out += `$${numbered[1]}`;
        i += numbered[1].length;
      } else if (named) {
        out += /^\d+$/.test(named[1]) ? `$${named[1]}` : `$<${named[1]}>`;
        i += named[0].length;
      } else {
        const escapes: Record<string, string> = { n: "\n", t: "\t", r: "\r", "\\": "\\" };
        out += escapes[rest[0]] ?? `\\${rest[0]}`;
        i += 1;
      }
    } else {
      out += c;
    }
  }
  return out;
}

/** Parses a sanitize file's text; `source` names it in errors. */
export function parseSanitizeRules(text: string, source = "sanitize file"): SanitizeRule[] {
  const rules: SanitizeRule[] = [];
  let section = "";
  let pending: { regex: string; line: number } | undefined;
  const lines = text.split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    const at = `${source}:${i + 1}`;
    if (line === "" || line.startsWith(";") || (line.startsWith("#") && !pending)) continue;
    const header = /^\[(.*)\]$/.exec(line);
    if (header) {
      if (pending) throw new SanitizeFileError(`${source}:${pending.line}: "regex:" has no "replace:" line after it`);
      section = header[1].trim();
      continue;
    }
    const entry = /^(regex|replace)\s*[:=]\s?(.*)$/.exec(raw.trimStart());
    if (!entry) {
      throw new SanitizeFileError(`${at}: expected "[section]", "regex: PATTERN" or "replace: TEXT", found "${line.slice(0, 60)}"`);
    }
    const value = entry[2].replace(/\s+$/, "");
    if (entry[1] === "regex") {
      if (pending) throw new SanitizeFileError(`${source}:${pending.line}: "regex:" has no "replace:" line after it`);
      pending = { regex: value, line: i + 1 };
      continue;
    }
    if (!pending) throw new SanitizeFileError(`${at}: "replace:" needs a "regex:" line before it`);
    let pattern: RegExp;
    try {
      pattern = new RegExp(translatePattern(pending.regex), "g");
    } catch (e) {
      throw new SanitizeFileError(`${source}:${pending.line}: invalid regex "${pending.regex}": ${(e as Error).message}`);
    }
    rules.push({ section, pattern, replacement: translateReplacement(value), origin: `${source}:${pending.line}` });
    pending = undefined;
  }
  if (pending) throw new SanitizeFileError(`${source}:${pending.line}: "regex:" has no "replace:" line after it`);
  return rules;
}

export function readSanitizeFile(path: string): SanitizeRule[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new SanitizeFileError(`--sanitize-with ${path}: cannot read the file: ${(e as Error).message}`);
  }
  return parseSanitizeRules(text, path);
}

/** Applies every rule in order, as nbval does. */
export function sanitize(text: string, rules: readonly SanitizeRule[]): string {
  let out = text;
  for (const rule of rules) out = out.replace(rule.pattern, rule.replacement);
  return out;
}
