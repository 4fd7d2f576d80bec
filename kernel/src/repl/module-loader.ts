// How a cell's `import` finds modules: Node built-ins, packages installed next to
// the notebook (ESM-only and CommonJS alike), local `.ts` files, and nbforge itself.
import { createRequire } from "node:module";
import { builtinModules } from "node:module";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { pathToFileURL, fileURLToPath } from "node:url";
import ts from "typescript";

const NBFORGE_ENTRY = join(dirname(fileURLToPath(import.meta.url)), "..", "index.js");
let tsHookInstalled = false;

/** Lets `require` (and so `import` of a local file) load TypeScript, transpiled to CommonJS. */
function installTypeScriptHook(): void {
  if (tsHookInstalled) return;
  tsHookInstalled = true;
  const extensions = (createRequire(import.meta.url) as NodeJS.Require).extensions as unknown as Record<
    string,
    (module: { _compile(code: string, file: string): void }, file: string) => void
  >;
  extensions[".ts"] = (module, file) => {
    const out = ts.transpileModule(readFileSync(file, "utf8"), {
      fileName: file,
      compilerOptions: {
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.CommonJS,
        esModuleInterop: true,
        inlineSourceMap: true,
      },
    });
    module._compile(out.outputText, file);
  };
}

export class ModuleLoader {
  constructor(private readonly cwd: string) {}

  async import(specifier: string): Promise<unknown> {
    if (specifier === "nbforge") return import(pathToFileURL(NBFORGE_ENTRY).href);
    if (specifier.startsWith("node:") || builtinModules.includes(specifier)) return import(specifier);
    if (specifier.startsWith(".") || isAbsolute(specifier)) return this.importFile(specifier);
    return this.importPackage(specifier);
  }

  private importFile(specifier: string): Promise<unknown> {
    const base = resolve(this.cwd, specifier);
    const candidates = [base, `${base}.ts`, `${base}.js`, `${base}.mjs`, join(base, "index.ts"), join(base, "index.js")];
    const file = candidates.find((c) => existsSync(c) && statSync(c).isFile());
    if (!file) {
      throw new Error(`import "${specifier}": no file at ${base}(.ts|.js) — paths are relative to the notebook's folder ${this.cwd}`);
    }
    if (file.endsWith(".ts")) {
      installTypeScriptHook();
      const exports: unknown = createRequire(join(this.cwd, "noop.js"))(file);
      return Promise.resolve(namespaceOf(exports));
    }
    return import(pathToFileURL(file).href);
  }

  private async importPackage(specifier: string): Promise<unknown> {
    const resolved = resolvePackage(specifier, this.cwd);
    if (!resolved) {
      throw new Error(
        `import "${specifier}": package not found from ${this.cwd}. Install it there with \`npm install ${packageName(specifier)}\`.`,
      );
    }
    // Node's import() of CommonJS sees only the names its lexer can find; `require`
    // gives every property of module.exports, as TypeScript's types promise.
    if (isCommonJs(resolved)) return namespaceOf(createRequire(resolved)(resolved));
    return import(pathToFileURL(resolved).href);
  }
}

/** Whether Node loads a file as CommonJS: .cjs, or .js under a package.json without "type": "module". */
function isCommonJs(file: string): boolean {
  if (file.endsWith(".cjs")) return true;
  if (!file.endsWith(".js")) return false;
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const pkgJson = join(dir, "package.json");
    if (existsSync(pkgJson)) {
      try {
        return (JSON.parse(readFileSync(pkgJson, "utf8")) as { type?: string }).type !== "module";
      } catch {
        return true;
      }
    }
    if (dirname(dir) === dir) return true;
  }
}

/** A CommonJS module's exports seen as an ES namespace (default plus named). */
function namespaceOf(exports: unknown): Record<string, unknown> {
  if (exports !== null && typeof exports === "object") {
    const record = exports as Record<string, unknown>;
    return { ...record, default: "default" in record && record.__esModule ? record.default : exports };
  }
  return { default: exports };
}

function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

/**
 * Resolves a bare specifier from a folder, honouring package.json "exports" with
 * the "import" condition (which `require.resolve` would not).
 */
function resolvePackage(specifier: string, fromDir: string): string | undefined {
  const name = packageName(specifier);
  const subpath = "." + specifier.slice(name.length);
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const pkgDir = join(dir, "node_modules", name);
    const pkgJson = join(pkgDir, "package.json");
    if (existsSync(pkgJson)) {
      const pkg = JSON.parse(readFileSync(pkgJson, "utf8")) as { exports?: unknown; main?: string; module?: string };
      const target = pkg.exports !== undefined ? resolveExports(pkg.exports, subpath) : undefined;
      if (target) return join(pkgDir, target);
      if (subpath !== ".") return createRequire(pkgJson).resolve(specifier);
      return createRequire(pkgJson).resolve(join(pkgDir, pkg.module ?? pkg.main ?? "index.js"));
    }
    if (dirname(dir) === dir) return undefined;
  }
}

function resolveExports(exports: unknown, subpath: string): string | undefined {
  if (typeof exports === "string" || Array.isArray(exports)) return subpath === "." ? pickCondition(exports) : undefined;
  if (exports === null || typeof exports !== "object") return undefined;
  const map = exports as Record<string, unknown>;
  const isSubpathMap = Object.keys(map).some((k) => k.startsWith("."));
  if (!isSubpathMap) return subpath === "." ? pickCondition(map) : undefined;
  if (subpath in map) return pickCondition(map[subpath]);
  for (const [key, value] of Object.entries(map)) {
    const star = key.indexOf("*");
    if (star < 0) continue;
    const [before, after] = [key.slice(0, star), key.slice(star + 1)];
    if (subpath.startsWith(before) && subpath.endsWith(after)) {
      const match = subpath.slice(before.length, subpath.length - after.length);
      return pickCondition(value)?.replace(/\*/g, match);
    }
  }
  return undefined;
}

function pickCondition(target: unknown): string | undefined {
  if (typeof target === "string") return target;
  if (Array.isArray(target)) {
    for (const t of target) {
      const picked = pickCondition(t);
      if (picked) return picked;
    }
    return undefined;
  }
  if (target === null || typeof target !== "object") return undefined;
  const conditions = target as Record<string, unknown>;
  for (const condition of ["node", "import", "module", "default", "require"]) {
    if (condition in conditions) {
      const picked = pickCondition(conditions[condition]);
      if (picked) return picked;
    }
  }
  return undefined;
}
