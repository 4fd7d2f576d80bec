// Which notebooks a `nbforge test` command line names: files, folders (searched
// for *.ipynb) and globs (*, ?, **, {a,b}). Checkpoints and `*.out.ipynb` files
// (what `nbforge run` writes) inside folders are left out.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";

const GLOB_CHARS = /[*?{[]/;

function walk(dir: string, found: string[]): void {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const entry of entries.sort()) {
    if (entry === "node_modules" || entry === ".ipynb_checkpoints" || entry.startsWith(".")) continue;
    const path = join(dir, entry);
    let isDir = false;
    try {
      isDir = statSync(path).isDirectory();
    } catch {
      continue;
    }
    if (isDir) walk(path, found);
    else found.push(path);
  }
}

/** A glob as a regular expression over "/"-separated relative paths. */
export function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*" && glob[i + 1] === "*") {
      const slash = glob[i + 2] === "/";
      re += slash ? "(?:.*/)?" : ".*";
      i += slash ? 2 : 1;
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "{") {
      const end = glob.indexOf("}", i);
      if (end < 0) re += "\\{";
      else {
        re += `(?:${glob
          .slice(i + 1, end)
          .split(",")
          .map((alt) => alt.replace(/[.+^$()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*"))
          .join("|")})`;
        i = end;
      }
    } else if (c === "[") {
      const end = glob.indexOf("]", i);
      if (end < 0) re += "\\[";
      else {
        re += glob.slice(i, end + 1).replace(/^\[!/, "[^");
        i = end;
      }
    } else re += c.replace(/[.+^$()|\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

function isNotebook(path: string): boolean {
  return path.endsWith(".ipynb") && !path.endsWith(".out.ipynb");
}

/** Expands the command line's paths and globs into notebook paths, in order, without duplicates. */
export function expandNotebookPaths(patterns: readonly string[], cwd = process.cwd()): string[] {
  const result: string[] = [];
  const add = (path: string) => {
    if (!result.includes(path)) result.push(path);
  };
  for (const pattern of patterns) {
    if (!GLOB_CHARS.test(pattern)) {
      const full = resolve(cwd, pattern);
      if (existsSync(full) && statSync(full).isDirectory()) {
        const found: string[] = [];
        walk(full, found);
        for (const f of found.filter(isNotebook)) add(join(pattern, relative(full, f)));
      } else {
        add(pattern); // a missing file is reported when it is tested
      }
      continue;
    }
    const segments = pattern.split("/");
    const firstGlob = segments.findIndex((s) => GLOB_CHARS.test(s));
    const base = segments.slice(0, firstGlob).join("/");
    const regex = globToRegExp(segments.slice(firstGlob).join("/"));
    const root = resolve(cwd, base);
    const found: string[] = [];
    walk(root, found);
    const before = result.length;
    for (const f of found) {
      const rel = relative(root, f).split(sep).join("/");
      if (regex.test(rel) && f.endsWith(".ipynb")) add(base ? `${base}/${rel}` : rel);
    }
    if (result.length === before) add(pattern); // reported as "no notebook matches"
  }
  return result;
}
