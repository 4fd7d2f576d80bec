// How cells import modules: packages installed next to the notebook (ESM-only
// and CommonJS, typed and untyped), local .ts files, Node built-ins, and what a
// missing package says. The kernel runs with a temporary notebook folder as cwd.
import type { ExecuteOutcome, KernelClient } from "nbforge/client";
import { launchNbforge, ofType, result, statusOf, stripAnsi } from "./nbforge-kernel.js";
import { makeNotebookFolder, removeFolder } from "./fixtures/notebook-folder.js";

const NOTEBOOK_FILES: Record<string, string | object> = {
  // An ESM-only package: "exports" with only the "import" condition, so require() cannot load it.
  "node_modules/esm-only-pkg/package.json": {
    name: "esm-only-pkg",
    version: "1.0.0",
    type: "module",
    exports: { ".": { import: "./index.js" } },
  },
  "node_modules/esm-only-pkg/index.js": 'export const triple = (x) => 3 * x;\nexport default "esm-default";\n',
  "node_modules/esm-only-pkg/index.d.ts":
    "export declare const triple: (x: number) => number;\ndeclare const _default: string;\nexport default _default;\n",
  // The same package without a declaration file.
  "node_modules/esm-untyped-pkg/package.json": {
    name: "esm-untyped-pkg",
    version: "1.0.0",
    type: "module",
    exports: { ".": { import: "./index.js" } },
  },
  "node_modules/esm-untyped-pkg/index.js": 'export const quadruple = (x) => 4 * x;\nexport default "untyped-default";\n',
  // A CommonJS package whose exports object is built from arrow functions.
  "node_modules/cjs-pkg/package.json": { name: "cjs-pkg", version: "1.0.0", main: "index.js" },
  "node_modules/cjs-pkg/index.js": "module.exports = { double: (x) => 2 * x };\n",
  "node_modules/cjs-pkg/index.d.ts":
    "declare namespace cjsPkg {\n  function double(x: number): number;\n}\nexport = cjsPkg;\n",
  // A local TypeScript module next to the notebook.
  "util.ts": [
    'export function greet(name: string): string { return "hi " + name }',
    "export const VERSION = 3",
    "export interface Greeting { to: string; text: string }",
    "",
  ].join("\n"),
};


function errorText(outcome: ExecuteOutcome): { ename: string; evalue: string; text: string } {
  expect(outcome.reply.content.status).toBe("error");
  const [error] = ofType(outcome.outputs, "error");
  expect(error).toBeDefined();
  const ename = String(error.content.ename);
  const evalue = stripAnsi(String(error.content.evalue));
  const text = stripAnsi(`${evalue}\n${(error.content.traceback as string[]).join("\n")}`);
  return { ename, evalue, text };
}

describe("nbforge kernel: imports from the notebook's folder", () => {
  let folder: string;
  let client: KernelClient;

  beforeAll(async () => {
    folder = await makeNotebookFolder(NOTEBOOK_FILES, "nbforge-modules-");
    client = await launchNbforge({ cwd: folder });
  });

  afterAll(async () => {
    await client?.close();
    await removeFolder(folder);
  });

  test("a named import from an ESM-only package runs and is typed", async () => {
    expect(result(await client.execute('import { triple } from "esm-only-pkg";\ntriple(2)'))).toBe("6");
  });

  test("the default import of an ESM-only package", async () => {
    expect(result(await client.execute('import esmDefault from "esm-only-pkg";\nesmDefault'))).toBe("'esm-default'");
  });

  test("an ESM package's declaration file is used: a wrong argument type is a type error", async () => {
    const { ename, text } = errorText(await client.execute('import { triple as tripleChecked } from "esm-only-pkg";\ntripleChecked("2")'));
    expect(ename).toBe("TSError");
    expect(text).toMatch(/TS2345/);
    expect(text).toMatch(/not assignable to parameter of type 'number'/);
  });

  test("a package without declarations is a type error (TS7016) naming it", async () => {
    const { ename, evalue } = errorText(await client.execute('import { quadruple } from "esm-untyped-pkg";\nquadruple(2)'));
    expect(ename).toBe("TSError");
    expect(evalue).toMatch(/TS7016/);
    expect(evalue).toMatch(/Could not find a declaration file for module 'esm-untyped-pkg'/);
  });

  test("// @ts-nocheck lets a cell import a package without declarations", async () => {
    const outcome = await client.execute('// @ts-nocheck\nimport untypedDefault, { quadruple } from "esm-untyped-pkg";\n[quadruple(2), untypedDefault]');
    expect(result(outcome)).toBe("[ 8, 'untyped-default' ]");
  });

  test("the default import of a CommonJS package is its module.exports", async () => {
    expect(result(await client.execute('import cjs from "cjs-pkg";\ncjs.double(4)'))).toBe("8");
  });

  test("a named import from a CommonJS package whose exports are arrow functions", async () => {
    // Node's own ESM loader finds no named exports in `module.exports = { double: (x) => 2 * x }`
    // (cjs-module-lexer only sees identifier values), but TypeScript with esModuleInterop,
    // which the checker uses, promises `double`: the kernel must deliver it.
    const outcome = await client.execute('import { double } from "cjs-pkg";\n[typeof double, double(4)]');
    expect(result(outcome)).toBe("[ 'function', 8 ]");
  });

  test("a namespace import of a CommonJS package carries its properties", async () => {
    const outcome = await client.execute('import * as cjsNs from "cjs-pkg";\ncjsNs.double(5)');
    expect(result(outcome)).toBe("10");
  });

  test('a local module imported as "./util.ts"', async () => {
    expect(result(await client.execute('import { greet, VERSION } from "./util.ts";\n[greet("x"), VERSION]'))).toBe("[ 'hi x', 3 ]");
  });

  test('a local module imported as "./util" (no extension)', async () => {
    expect(result(await client.execute('import { greet as greetAgain } from "./util";\ngreetAgain("x")'))).toBe("'hi x'");
  });

  test("a local module's types are checked: greet(1) is a type error", async () => {
    const { ename, text } = errorText(await client.execute('import { greet as greetTyped } from "./util";\ngreetTyped(1)'));
    expect(ename).toBe("TSError");
    expect(text).toMatch(/TS2345/);
  });

  test('node built-ins: import { join } from "node:path" and import * as os from "os"', async () => {
    expect(result(await client.execute('import { join } from "node:path";\njoin("a", "b", "..", "c")'))).toBe("'a/c'");
    expect(result(await client.execute('import * as os from "os";\n[typeof os.platform, os.EOL]'))).toBe("[ 'function', '\\n' ]");
  });

  test("an import in one cell is usable and typed in later cells", async () => {
    expect(statusOf(await client.execute('import { triple as tripleLater } from "esm-only-pkg";\nimport cjsLater from "cjs-pkg";'))).toBe("ok");
    expect(result(await client.execute("tripleLater(5) + cjsLater.double(1)"))).toBe("17");
    const typed = errorText(await client.execute('tripleLater("5")'));
    expect(typed.ename).toBe("TSError");
    expect(typed.text).toMatch(/TS2345/);
    // The checker knows the imported function's return type in the later cell.
    const returnType = errorText(await client.execute("const notAString: string = tripleLater(1);"));
    expect(returnType.text).toMatch(/TS2322/);
    expect(returnType.text).toMatch(/'number' is not assignable to type 'string'/);
  });

  test("type-only imports do not fail at run time", async () => {
    const code = [
      'import { type Greeting, greet as greetTypeOnly } from "./util";',
      'import type { Greeting as AlsoGreeting } from "./util.ts";',
      'const greeting: Greeting = { to: "x", text: greetTypeOnly("x") };',
      "const again: AlsoGreeting = greeting;",
      "again.text",
    ].join("\n");
    expect(result(await client.execute(code))).toBe("'hi x'");
    // The type stays known to later cells.
    expect(result(await client.execute('const later: Greeting = { to: "y", text: "z" };\nlater.to'))).toBe("'y'");
  });

  test("a missing package (unchecked cell): the error names it and suggests npm install", async () => {
    const { evalue } = errorText(await client.execute('// @ts-nocheck\nimport { nothing } from "not-installed-pkg";\nnothing'));
    expect(evalue).toMatch(/not-installed-pkg/);
    expect(evalue).toMatch(/npm install not-installed-pkg/);
  });

  test("a missing scoped package's subpath: the suggestion installs the package, not the subpath", async () => {
    const { evalue } = errorText(await client.execute('// @ts-nocheck\nimport { nothing } from "@missing-scope/pkg/sub";\nnothing'));
    expect(evalue).toMatch(/@missing-scope\/pkg\/sub/);
    expect(evalue).toMatch(/npm install @missing-scope\/pkg(?!\/)/);
  });

  test("a missing package in a type-checked cell: the error names it and suggests npm install", async () => {
    // In an ordinary (checked) cell the checker sees the missing module first; the user must still
    // be told which package is missing and how to install it.
    const { evalue, text } = errorText(await client.execute('import { nothing } from "not-installed-pkg";\nnothing'));
    expect(evalue).toMatch(/not-installed-pkg/);
    expect(text).toMatch(/npm install not-installed-pkg/);
  });

  test("the kernel still runs cells after the import errors", async () => {
    expect(result(await client.execute("VERSION + 1"))).toBe("4");
  });
});
