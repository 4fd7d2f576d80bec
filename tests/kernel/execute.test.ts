// Executing TypeScript cells in the nbforge kernel: results, counts, errors,
// streams, displays, stdin and the persistent scope.
import type { KernelClient, Message } from "nbforge/client";
import { launchNbforge, ofType, sleep, streamText, stripAnsi, textPlain } from "./nbforge-kernel.js";

describe("nbforge kernel: execute_request", () => {
  let client: KernelClient;

  beforeAll(async () => {
    client = await launchNbforge();
  });

  afterAll(async () => {
    await client?.close();
  });

  test("execute_input echoes the code and execute_result carries the count and text/plain", async () => {
    const code = "const fortyTwo: number = 6 * 7;\nfortyTwo";
    const { reply, outputs } = await client.execute(code);
    expect(reply.content.status).toBe("ok");
    const count = reply.content.execution_count;
    expect(count).toBeGreaterThan(0);
    const [input] = ofType(outputs, "execute_input");
    expect(input.content).toEqual({ code, execution_count: count });
    const [result] = ofType(outputs, "execute_result");
    expect(result.content.execution_count).toBe(count);
    expect(textPlain(result)).toBe("42");
  });

  test("execution counts go up by one per stored execution", async () => {
    const first = await client.execute("1");
    const second = await client.execute("2");
    expect(second.reply.content.execution_count).toBe(first.reply.content.execution_count + 1);
  });

  test("silent execution publishes no outputs and does not count", async () => {
    const before = await client.execute("0");
    const silent = await client.execute('console.log("hidden"); const silentValue = 5; silentValue', { silent: true });
    expect(silent.reply.content.status).toBe("ok");
    const published = silent.outputs.filter((m) => m.header.msg_type !== "status").map((m) => m.header.msg_type);
    expect(published).toEqual([]);
    const after = await client.execute("silentValue");
    expect(after.reply.content.execution_count).toBe(before.reply.content.execution_count + 1);
    expect(textPlain(ofType(after.outputs, "execute_result")[0])).toBe("5");
  });

  test("store_history: false neither counts nor enters history", async () => {
    const before = await client.execute("0");
    const unstored = await client.execute("const unstoredMarker = 3; unstoredMarker", { storeHistory: false });
    expect(unstored.reply.content.status).toBe("ok");
    const after = await client.execute("unstoredMarker + 1");
    expect(after.reply.content.execution_count).toBe(before.reply.content.execution_count + 1);
    expect(textPlain(ofType(after.outputs, "execute_result")[0])).toBe("4");
    const history = await client.history({ output: false, raw: true, hist_access_type: "tail", n: 50 });
    const inputs = history.content.history.map((entry) => entry[2]);
    expect(inputs).toContain("unstoredMarker + 1");
    expect(inputs).not.toContain("const unstoredMarker = 3; unstoredMarker");
  });

  test("user_expressions are evaluated after the code, each with its own status", async () => {
    const { reply } = await client.execute("const userBase = 6", {
      userExpressions: { doubled: "userBase * 2", broken: "userBase.(" },
    });
    expect(reply.content.status).toBe("ok");
    const expressions = reply.content.user_expressions as Record<string, { status: string; data?: Record<string, unknown> }>;
    expect(expressions.doubled.status).toBe("ok");
    expect(expressions.doubled.data?.["text/plain"]).toBe("12");
    expect(expressions.broken.status).toBe("error");
  });

  test("with stop_on_error, a request queued behind a failing one is aborted", async () => {
    const [failing, queued] = await Promise.all([
      client.execute('await new Promise((r) => setTimeout(r, 200));\nthrow new Error("first fails")'),
      client.execute('console.log("must not run")'),
    ]);
    expect(failing.reply.content.status).toBe("error");
    expect(queued.reply.content.status).toBe("aborted");
    expect(streamText(queued.outputs, "stdout")).toBe("");
    // Later requests run again.
    const { reply } = await client.execute("'runs again'");
    expect(reply.content.status).toBe("ok");
  });

  test("a type error is one error message naming line and column, with no stderr", async () => {
    const { reply, outputs } = await client.execute('const typeMistake: number = "s";');
    expect(reply.content.status).toBe("error");
    const errors = ofType(outputs, "error");
    expect(errors).toHaveLength(1);
    const text = stripAnsi(`${errors[0].content.evalue}\n${(errors[0].content.traceback as string[]).join("\n")}`);
    expect(text).toMatch(/line 1, column 7|:1:7\b/);
    expect(text).toMatch(/not assignable to type 'number'/);
    expect(streamText(outputs, "stderr")).toBe("");
    expect(ofType(outputs, "execute_result")).toHaveLength(0);
  });

  test("a runtime error's traceback points at the cell line that threw", async () => {
    const code = ["const fine = 1;", "function explode(): never {", '  throw new RangeError("deep down");', "}", "explode();"].join("\n");
    const { reply, outputs } = await client.execute(code);
    expect(reply.content.status).toBe("error");
    expect(reply.content.ename).toBe("RangeError");
    const [error] = ofType(outputs, "error");
    expect(error.content.ename).toBe("RangeError");
    expect(error.content.evalue).toBe("deep down");
    const traceback = stripAnsi((error.content.traceback as string[]).join("\n"));
    expect(traceback).toMatch(/:3:\d+|line 3\b/);
  });

  test("console.log goes to stdout and console.error to stderr", async () => {
    const { outputs } = await client.execute('console.log("to out", 1);\nconsole.error("to err");\nconsole.log("more");');
    expect(streamText(outputs, "stdout")).toBe("to out 1\nmore\n");
    expect(streamText(outputs, "stderr")).toBe("to err\n");
  });

  test("display and display.html publish display_data", async () => {
    const { outputs } = await client.execute('display.html("<i>hi</i>");\ndisplay({ a: 1 });');
    const shown = ofType(outputs, "display_data");
    expect(shown).toHaveLength(2);
    expect((shown[0].content.data as Record<string, unknown>)["text/html"]).toBe("<i>hi</i>");
    expect(textPlain(shown[1])).toMatch(/a: 1/);
  });

  test("a display call as a cell's last statement shows no result of its own", async () => {
    // As in IPython, display() is for its side effect; its return value is not echoed.
    const { outputs } = await client.execute('display.markdown("**only once**");');
    expect(ofType(outputs, "display_data")).toHaveLength(1);
    expect(ofType(outputs, "execute_result")).toHaveLength(0);
  });

  test("a display handle's update is update_display_data with the same display_id", async () => {
    const { outputs } = await client.execute('const handle = display("step 0", { id: true });\nhandle.update("step 1");');
    const [shown] = ofType(outputs, "display_data");
    const [updated] = ofType(outputs, "update_display_data");
    const id = (shown.content.transient as { display_id?: string }).display_id;
    expect(typeof id).toBe("string");
    expect(id).not.toBe("");
    expect((updated.content.transient as { display_id?: string }).display_id).toBe(id);
    expect(textPlain(shown)).toMatch(/step 0/);
    expect(textPlain(updated)).toMatch(/step 1/);
    // A later cell can update it too.
    const later = await client.execute('handle.update("step 2");');
    const [again] = ofType(later.outputs, "update_display_data");
    expect((again.content.transient as { display_id?: string }).display_id).toBe(id);
  });

  test("clearOutput({ wait: true }) publishes clear_output with wait", async () => {
    const { outputs } = await client.execute('console.log("frame 1");\nclearOutput({ wait: true });\nconsole.log("frame 2");');
    const [clear] = ofType(outputs, "clear_output");
    expect(clear.content.wait).toBe(true);
    const order = outputs.map((m) => m.header.msg_type).filter((t) => t === "stream" || t === "clear_output");
    expect(order).toEqual(["stream", "clear_output", "stream"]);
  });

  test("await input() is answered over stdin, with the password flag", async () => {
    const prompts: Array<[string, boolean]> = [];
    const { reply, outputs } = await client.execute(
      'const who = await input("name? ");\nconst secret = await input("secret? ", { password: true });\n`${who}:${secret.length}`',
      {
        onInput: (prompt, password) => {
          prompts.push([prompt, password]);
          return password ? "hunter2" : "ada";
        },
      },
    );
    expect(reply.content.status).toBe("ok");
    expect(prompts).toEqual([
      ["name? ", false],
      ["secret? ", true],
    ]);
    expect(textPlain(ofType(outputs, "execute_result")[0])).toMatch(/ada:7/);
  });

  test("input() without allow_stdin fails the cell instead of hanging", async () => {
    const { reply } = await client.execute('await input("never asked")', { allowStdin: false, timeoutMs: 10_000 });
    expect(reply.content.status).toBe("error");
  });

  test("re-running a const declaration with a new value works", async () => {
    expect((await client.execute("const rerun = 1; rerun")).reply.content.status).toBe("ok");
    const { reply, outputs } = await client.execute("const rerun = 2; rerun");
    expect(reply.content.status).toBe("ok");
    expect(textPlain(ofType(outputs, "execute_result")[0])).toBe("2");
  });

  test("a redefined function replaces the old one", async () => {
    await client.execute("function pick(): number { return 1; }");
    await client.execute("function pick(): number { return 2; }");
    const { outputs } = await client.execute("pick()");
    expect(textPlain(ofType(outputs, "execute_result")[0])).toBe("2");
  });

  test("top-level await yields the awaited value", async () => {
    const { reply, outputs } = await client.execute(
      "const awaited = await new Promise<number>((resolve) => setTimeout(() => resolve(7), 20));\nawaited * 6",
    );
    expect(reply.content.status).toBe("ok");
    expect(textPlain(ofType(outputs, "execute_result")[0])).toBe("42");
  });

  test("an unhandled rejection after a cell is reported on stderr and the kernel lives on", async () => {
    const late: Message[] = [];
    const stop = client.onIopub((m) => {
      if (m.header.msg_type === "stream" && m.content.name === "stderr") late.push(m);
    });
    try {
      const { reply } = await client.execute(
        'setTimeout(() => { Promise.reject(new Error("late failure")); }, 50);\n"scheduled"',
      );
      expect(reply.content.status).toBe("ok");
      const deadline = Date.now() + 5000;
      while (!late.some((m) => String(m.content.text).includes("late failure")) && Date.now() < deadline) await sleep(50);
      expect(late.map((m) => String(m.content.text)).join("")).toMatch(/late failure/);
    } finally {
      stop();
    }
    expect((await client.execute("'alive'")).reply.content.status).toBe("ok");
  });

  test("process.exit is refused with an error and the kernel lives on", async () => {
    const { reply, outputs } = await client.execute("process.exit(1)");
    expect(reply.content.status).toBe("error");
    expect(ofType(outputs, "error")).toHaveLength(1);
    expect(client.kernel?.running).toBe(true);
    const after = await client.execute("'still here'");
    expect(after.reply.content.status).toBe("ok");
  });
});
