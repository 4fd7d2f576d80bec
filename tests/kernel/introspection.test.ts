// Completion, inspection, is_complete, history and comm_info in the nbforge kernel.
import type { KernelClient } from "nbforge/client";
import { launchNbforge } from "./nbforge-kernel.js";

describe("nbforge kernel: introspection requests", () => {
  let client: KernelClient;

  beforeAll(async () => {
    client = await launchNbforge();
  });

  afterAll(async () => {
    await client?.close();
  });

  test("complete_request completes a member and reports its span and types", async () => {
    const code = 'const s = "x"; s.toUp';
    const { header, content } = await client.complete(code, code.length);
    expect(header.msg_type).toBe("complete_reply");
    expect(content.status).toBe("ok");
    expect(content.matches).toContain("toUpperCase");
    expect(content.matches).not.toContain("toLowerCase");
    expect(content.cursor_start).toBe(code.length - "toUp".length);
    expect(content.cursor_end).toBe(code.length);
    const types = content.metadata._jupyter_types_experimental as Array<{ text: string; type: string; start: number; end: number }>;
    expect(Array.isArray(types)).toBe(true);
    const upper = types.find((t) => t.text === "toUpperCase");
    expect(upper?.type).toBeTruthy();
    expect(upper?.start).toBe(content.cursor_start);
    expect(upper?.end).toBe(content.cursor_end);
  });

  test("complete_request sees declarations from earlier cells", async () => {
    await client.execute("const completionTarget = { alphaBeta: 1, alphaGamma: 2 };");
    const code = "completionTarget.alpha";
    const { content } = await client.complete(code, code.length);
    expect(content.matches).toEqual(expect.arrayContaining(["alphaBeta", "alphaGamma"]));
  });

  test("complete_request counts the cursor in code points", async () => {
    const code = 'const emoji = "😀"; emoji.leng';
    const cursor = [...code].length;
    const { content } = await client.complete(code, cursor);
    expect(content.matches).toContain("length");
    expect(content.cursor_end).toBe(cursor);
    expect(content.cursor_start).toBe(cursor - "leng".length);
  });

  test("inspect_request shows a function's signature", async () => {
    await client.execute("function area(width: number, height: number): number { return width * height; }");
    const { header, content } = await client.inspect("area(2, 3)", 2);
    expect(header.msg_type).toBe("inspect_reply");
    expect(content.status).toBe("ok");
    expect(content.found).toBe(true);
    const text = String(content.data["text/plain"]);
    expect(text).toMatch(/area\(width: number, height: number\): number/);
  });

  test("inspect_request on nothing known says found: false", async () => {
    const { content } = await client.inspect("   ", 1);
    expect(content.status).toBe("ok");
    expect(content.found).toBe(false);
  });

  test("is_complete_request: complete, incomplete with an indent, invalid", async () => {
    expect((await client.isComplete("const done = 1;")).content.status).toBe("complete");
    const open = await client.isComplete("function f() {");
    expect(open.content.status).toBe("incomplete");
    expect(open.content.indent).toMatch(/^[ \t]+$/);
    expect((await client.isComplete("const x = 1;\n}")).content.status).toBe("invalid");
  });

  test("history_request: tail, range and search", async () => {
    // History may persist across kernel sessions, so this run's lines carry a unique tag.
    const tag = `run${Date.now().toString(36)}`;
    const first = `const ${tag}First = 1;`;
    const second = `const ${tag}Second = 2;`;
    await client.execute(first);
    await client.execute(second);

    const tail = await client.history({ output: false, raw: true, hist_access_type: "tail", n: 2 });
    expect(tail.header.msg_type).toBe("history_reply");
    expect(tail.content.history.map((e) => e[2])).toEqual([first, second]);
    const [session, line] = tail.content.history[1];
    expect(typeof session).toBe("number");

    const range = await client.history({ output: false, raw: true, hist_access_type: "range", session: 0, start: line, stop: line + 1 });
    expect(range.content.history.map((e) => e[2])).toEqual([second]);

    const search = await client.history({ output: false, raw: true, hist_access_type: "search", pattern: `const ${tag}F*`, n: 10 });
    expect(search.content.history.map((e) => e[2])).toEqual([first]);

    await client.execute("40 + 2");
    const withOutput = await client.history({ output: true, raw: true, hist_access_type: "tail", n: 1 });
    expect(withOutput.content.history[0][2]).toEqual(["40 + 2", "42"]);
  });

  test("comm_info_request lists no comms on a fresh kernel", async () => {
    const { header, content } = await client.commInfo();
    expect(header.msg_type).toBe("comm_info_reply");
    expect(content.status).toBe("ok");
    expect(content.comms).toEqual({});
  });
});
