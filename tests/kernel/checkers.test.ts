// Both type checkers behind the kernel: the native one (tsgo, the default) and
// TypeScript 5.9 in process (NBFORGE_CHECKER=tsc, and the fallback), giving the
// same verdicts; and a kernel whose native checker dies keeps checking cells.
import { execFileSync } from "node:child_process";
import type { KernelClient } from "nbforge/client";
import { launchNbforge, result, statusOf, stripAnsi } from "./nbforge-kernel.js";

const CASES: { name: string; run(client: KernelClient): Promise<void> }[] = [
  {
    name: "a type error names line and column, and nothing runs",
    async run(client) {
      const { reply } = await client.execute('let ran = 0;\nconst n: number = "text"; ran = 1;');
      expect(reply.content.status).toBe("error");
      expect(stripAnsi(String(reply.content.evalue))).toMatch(/line 2, column 7: Type 'string' is not assignable to type 'number'/);
      expect(result(await client.execute("// @ts-nocheck\ntypeof ran"))).toBe("'undefined'");
    },
  },
  {
    name: "later cells see earlier declarations with their types",
    async run(client) {
      expect(statusOf(await client.execute("let total = 40;\nfunction twice(x: number): number { return 2 * x }"))).toBe("ok");
      expect(result(await client.execute("twice(total) + 2"))).toBe("82");
      const { reply } = await client.execute('total = "many"');
      expect(stripAnsi(String(reply.content.evalue))).toMatch(/TS2322/);
    },
  },
  {
    name: "a variable whose type the cell never named keeps that type in later cells",
    async run(client) {
      // manualSeed returns nbforge's Generator, which must not become the built-in Generator.
      expect(statusOf(await client.execute('import { manualSeed } from "nbforge";\nconst generator = manualSeed(0);'))).toBe("ok");
      expect(result(await client.execute('import { randn } from "nbforge";\nrandn([2], { generator }).shape'))).toBe("[ 2 ]");
    },
  },
  {
    name: "a re-run cell may declare its names again",
    async run(client) {
      expect(statusOf(await client.execute("const label = 1;"))).toBe("ok");
      expect(result(await client.execute('const label = "one"; label.toUpperCase()'))).toBe("'ONE'");
    },
  },
  {
    name: "completion lists members with their kinds",
    async run(client) {
      const code = 'const word = "x"; word.toLo';
      const reply = await client.complete(code, code.length);
      expect(reply.content.matches).toEqual(expect.arrayContaining(["toLowerCase", "toLocaleLowerCase"]));
      expect(reply.content.cursor_start).toBe(code.length - 4);
    },
  },
  {
    name: "inspection shows a signature",
    async run(client) {
      const reply = await client.inspect("Math.max", 8);
      expect(reply.content.found).toBe(true);
      expect(String((reply.content.data as Record<string, unknown>)["text/plain"])).toMatch(/max\(\.\.\.values: number\[\]\): number/);
    },
  },
];

describe.each([
  ["native checker (tsgo)", {}],
  ["TypeScript 5.9 in process", { NBFORGE_CHECKER: "tsc" }],
])("type checking with the %s", (_label, env) => {
  let client: KernelClient;
  beforeAll(async () => {
    client = await launchNbforge({ env: { ...process.env, ...env } as Record<string, string> });
  });
  afterAll(() => client?.close());
  test.each(CASES.map((c) => [c.name, c] as const))("%s", async (_name, c) => c.run(client));
});

describe("a kernel whose native checker dies", () => {
  let client: KernelClient;
  beforeAll(async () => {
    client = await launchNbforge();
  });
  afterAll(() => client?.close());

  test("starts it again and keeps every declaration", async () => {
    expect(statusOf(await client.execute("const kept: number = 7;"))).toBe("ok");
    const kernelPid = client.kernel?.pid;
    expect(kernelPid).toBeDefined();
    // The checker is the kernel's child process running TypeScript 7's binary.
    const children = execFileSync("pgrep", ["-P", String(kernelPid)], { encoding: "utf8" }).trim().split("\n").filter(Boolean);
    expect(children.length).toBeGreaterThan(0);
    for (const pid of children) process.kill(Number(pid), "SIGKILL");
    const { reply } = await client.execute('const wrong: number = "x";');
    expect(stripAnsi(String(reply.content.evalue))).toMatch(/TS2322/);
    expect(result(await client.execute("kept * 6"))).toBe("42");
  });
});
