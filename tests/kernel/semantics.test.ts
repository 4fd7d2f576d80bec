// What cells mean: the display protocol, errors after a cell ends, interrupts
// (by message and by SIGINT), type checking across cells and its switches,
// re-declarations, destructuring, enums, and comms between cells and the front end.
import { randomUUID } from "node:crypto";
import type { ExecuteOutcome, KernelClient, Message } from "nbforge/client";
import { launchNbforge, ofType, result, sleep, statusOf, streamText, stripAnsi } from "./nbforge-kernel.js";


function typeError(outcome: ExecuteOutcome): string {
  expect(outcome.reply.content.status).toBe("error");
  const [error] = ofType(outcome.outputs, "error");
  expect(error.content.ename).toBe("TSError");
  return stripAnsi(`${String(error.content.evalue)}\n${(error.content.traceback as string[]).join("\n")}`);
}

function dataOf(msg: Message | undefined): Record<string, unknown> {
  return (msg?.content.data ?? {}) as Record<string, unknown>;
}

/** Collects iopub messages until `until` holds or `ms` pass; returns what arrived. */
async function collectIopub(client: KernelClient, until: (seen: Message[]) => boolean, ms = 5000): Promise<Message[]> {
  const seen: Message[] = [];
  const stop = client.onIopub((m) => seen.push(m));
  try {
    const deadline = Date.now() + ms;
    while (!until(seen) && Date.now() < deadline) await sleep(20);
    return seen;
  } finally {
    stop();
  }
}

/**
 * Code that prints "running" and makes sure it reaches the front end before the
 * code after it starts: the second write, 30 ms after the first, flushes the batch
 * from inside write() (a cell that never yields has no timer to flush it).
 */
const ANNOUNCE = 'console.log("starting"); const announcedAt = Date.now(); while (Date.now() - announcedAt < 30) {} console.log("running");\n';

/** Starts a cell and resolves once it has printed "running", so an interrupt cannot arrive before the code under test runs. */
async function startCell(client: KernelClient, code: string, timeoutMs?: number): Promise<{ running: Promise<ExecuteOutcome> }> {
  let stdout = "";
  const running = client.execute(code, {
    timeoutMs,
    onIopub: (m) => {
      if (m.header.msg_type === "stream" && m.content.name === "stdout") stdout += String(m.content.text);
    },
  });
  running.catch(() => undefined);
  const deadline = Date.now() + 30_000;
  while (!stdout.includes("running") && Date.now() < deadline) await sleep(10);
  if (!stdout.includes("running")) throw new Error(`the cell did not print "running" within 30 s:\n${code}`);
  await sleep(50); // into the code after the announcement
  return { running };
}

describe("nbforge kernel: cell semantics (interrupt_mode message)", () => {
  let client: KernelClient;

  beforeAll(async () => {
    client = await launchNbforge();
  });

  afterAll(async () => {
    await client?.close();
  });

  describe("the Symbol.for(\"Jupyter.display\") protocol", () => {
    const classCell = [
      "class Italic {",
      "  constructor(readonly word: string) {}",
      '  [Symbol.for("Jupyter.display")]() { return { "text/html": `<i>${this.word}</i>` }; }',
      "}",
    ].join("\n");

    test("a displayable last expression is an execute_result with its text/html and a text/plain", async () => {
      expect(statusOf(await client.execute(classCell))).toBe("ok");
      const outcome = await client.execute('new Italic("x")');
      expect(statusOf(outcome)).toBe("ok");
      const [res] = ofType(outcome.outputs, "execute_result");
      const data = dataOf(res);
      expect(data["text/html"]).toBe("<i>x</i>");
      expect(typeof data["text/plain"]).toBe("string");
      expect(data["text/plain"]).toMatch(/Italic/);
      expect(ofType(outcome.outputs, "display_data")).toHaveLength(0);
    });

    test("display(obj) publishes display_data with the object's bundle", async () => {
      const outcome = await client.execute('display(new Italic("y"));');
      expect(statusOf(outcome)).toBe("ok");
      const shown = ofType(outcome.outputs, "display_data");
      expect(shown).toHaveLength(1);
      expect(dataOf(shown[0])["text/html"]).toBe("<i>y</i>");
      expect(typeof dataOf(shown[0])["text/plain"]).toBe("string");
      expect(ofType(outcome.outputs, "execute_result")).toHaveLength(0);
    });

    test("a bundle's own text/plain is kept", async () => {
      const code = 'const both = { [Symbol.for("Jupyter.display")]: () => ({ "text/html": "<b>b</b>", "text/plain": "plain b" }) };\nboth';
      const data = dataOf(ofType((await client.execute(code)).outputs, "execute_result")[0]);
      expect(data).toEqual({ "text/html": "<b>b</b>", "text/plain": "plain b" });
    });

    test("a value without the protocol is shown as util.inspect shows it", async () => {
      expect(result(await client.execute("({ a: 1 })"))).toBe("{ a: 1 }");
      expect(result(await client.execute('new Map([["k", [1, 2]]])'))).toBe("Map(1) { 'k' => [ 1, 2 ] }");
      expect(result(await client.execute('"text"'))).toBe("'text'");
      const data = dataOf(ofType((await client.execute("[1, 2, 3]")).outputs, "execute_result")[0]);
      expect(data).toEqual({ "text/plain": "[ 1, 2, 3 ]" });
    });
  });

  test("an error thrown from a timer after the cell ended goes to stderr; the kernel and its variables survive", async () => {
    expect(statusOf(await client.execute("const keptAcrossTimerError = 41;"))).toBe("ok");
    const arrived = collectIopub(client, (seen) => streamText(seen, "stderr").includes("timer went wrong"));
    const { reply } = await client.execute('setTimeout(() => { throw new Error("timer went wrong"); }, 50);\n"scheduled"');
    expect(reply.content.status).toBe("ok");
    const late = await arrived;
    expect(streamText(late, "stderr")).toMatch(/Error: timer went wrong/);
    expect(result(await client.execute("keptAcrossTimerError + 1"))).toBe("42");
  });

  describe("interrupt_request", () => {
    test("stops a cell awaiting a promise that never settles, within 500 ms, with an error reply", async () => {
      const { running } = await startCell(client, 'console.log("running");\nawait new Promise(() => {});');
      const started = performance.now();
      const interruptReply = await client.interrupt(2000);
      expect(interruptReply?.content.status).toBe("ok");
      const { reply, outputs } = await running;
      expect(performance.now() - started).toBeLessThan(500);
      expect(reply.content.status).toBe("error");
      expect(ofType(outputs, "error")).toHaveLength(1);
      expect(result(await client.execute("'after the never-settling promise'"))).toBe("'after the never-settling promise'");
    });

    test("stops a busy loop that starts after an await", async () => {
      const { running } = await startCell(client, `await new Promise((r) => setTimeout(r, 10));\n${ANNOUNCE}while (true) {}`);
      const started = performance.now();
      await client.interrupt(2000);
      const { reply } = await running;
      expect(performance.now() - started).toBeLessThan(1000);
      expect(reply.content.status).toBe("error");
      expect(result(await client.execute("'after the loop'"))).toBe("'after the loop'");
    });
  });

  describe("type checking", () => {
    test("kernel.typeCheck = false runs ill-typed code; = true checks again", async () => {
      expect(statusOf(await client.execute("kernel.typeCheck = false;"))).toBe("ok");
      expect(result(await client.execute('const unchecked: number = "s";\nunchecked'))).toBe("'s'");
      expect(statusOf(await client.execute("kernel.typeCheck = true;"))).toBe("ok");
      expect(typeError(await client.execute('const checkedAgain: number = "s";\ncheckedAgain'))).toMatch(/TS2322/);
    });

    test("// @ts-nocheck on the first line skips checking for that cell only", async () => {
      expect(result(await client.execute('// @ts-nocheck\nconst noCheck: number = "s";\nnoCheck'))).toBe("'s'");
      expect(typeError(await client.execute('const checkedNext: number = "s";'))).toMatch(/TS2322/);
    });

    test("a later cell assigning the wrong type to an earlier cell's variable is TS2322", async () => {
      expect(statusOf(await client.execute("let count = 1;"))).toBe("ok");
      const text = typeError(await client.execute('count = "x";'));
      expect(text).toMatch(/TS2322/);
      expect(text).toMatch(/Type 'string' is not assignable to type 'number'/);
      // The failed cell did not run: count is still 1.
      expect(result(await client.execute("count"))).toBe("1");
    });
  });

  describe("declarations", () => {
    test("a class declared again with a new body replaces the old one", async () => {
      expect(statusOf(await client.execute("class A { v = 1 }"))).toBe("ok");
      expect(result(await client.execute("new A().v"))).toBe("1");
      expect(statusOf(await client.execute('class A { v = "two"; w = 2 }'))).toBe("ok");
      expect(result(await client.execute("[new A().v, new A().w]"))).toBe("[ 'two', 2 ]");
      // The checker knows the new shape too.
      expect(result(await client.execute("const aw: number = new A().w;\naw"))).toBe("2");
    });

    test("destructuring declarations bind every name", async () => {
      expect(result(await client.execute("const { p, q: [r] } = { p: 1, q: [2] };\np + r"))).toBe("3");
      expect(result(await client.execute("let [s1, , s3 = 30, ...rest] = [10, 20, undefined, 40, 50];\n[s1, s3, rest]"))).toBe(
        "[ 10, 30, [ 40, 50 ] ]",
      );
      expect(result(await client.execute("p * 10 + r"))).toBe("12");
    });

    test("enums work within and across cells, and can be declared again", async () => {
      expect(result(await client.execute("enum Color { Red, Green = 5, Blue }\n[Color.Red, Color.Blue, Color[5]]"))).toBe(
        "[ 0, 6, 'Green' ]",
      );
      expect(result(await client.execute("const c: Color = Color.Green;\nc"))).toBe("5");
      expect(typeError(await client.execute('const wrongColor: Color = "Green";'))).toMatch(/TS2322/);
      expect(result(await client.execute('enum Color { Red = "r", Green = "g" }\nColor.Green'))).toBe("'g'");
      expect(result(await client.execute("const s: string = Color.Red;\ns"))).toBe("'r'");
    });
  });

  describe("comms", () => {
    test("kernel.comm is typed: registerTarget, onMessage and send type-check", async () => {
      const outcome = await client.execute(
        'kernel.comm.registerTarget("echo-typed", (comm, data) => comm.onMessage((d) => comm.send(d)));',
      );
      expect(statusOf(outcome)).toBe("ok");
    });

    /** Opens a comm to target "echo" from the front end, sends `data`, and returns the echo (or undefined). */
    async function echoThroughComm(data: Record<string, unknown>): Promise<{ commId: string; sent: Message["header"]; echo?: Message }> {
      const commId = randomUUID();
      const isEcho = (m: Message) => m.header.msg_type === "comm_msg" && m.content.comm_id === commId;
      const arrived = collectIopub(client, (seen) => seen.some(isEcho));
      client.send("shell", "comm_open", { comm_id: commId, target_name: "echo", data: {} });
      const sent = client.send("shell", "comm_msg", { comm_id: commId, data }).header;
      const echoes = (await arrived).filter(isEcho);
      expect(echoes).toHaveLength(1);
      return { commId, sent, echo: echoes[0] };
    }

    test("a target registered by a cell echoes a comm_msg from the front end; comm_info lists the comm", async () => {
      const registered = await client.execute(
        '// @ts-nocheck\nkernel.comm.registerTarget("echo", (comm, data) => comm.onMessage((d) => comm.send(d)));',
      );
      expect(statusOf(registered)).toBe("ok");

      const { commId, echo } = await echoThroughComm({ ping: [1, "two"] });
      expect(echo?.content.data).toEqual({ ping: [1, "two"] });

      const info = await client.commInfo();
      expect(info.content.status).toBe("ok");
      expect(info.content.comms[commId]).toEqual({ target_name: "echo" });
      const filtered = await client.commInfo("echo");
      expect(Object.keys(filtered.content.comms)).toEqual([commId]);
      expect(Object.keys((await client.commInfo("no-such-target")).content.comms)).toEqual([]);

      // Closed from the front end: gone from comm_info.
      client.send("shell", "comm_close", { comm_id: commId, data: {} });
      const deadline = Date.now() + 5000;
      while ((await client.commInfo()).content.comms[commId] !== undefined && Date.now() < deadline) await sleep(20);
      expect((await client.commInfo()).content.comms[commId]).toBeUndefined();
    });

    test("the echo's parent_header is the comm_msg that caused it", async () => {
      // As in ipykernel: iopub messages published while the kernel handles a request have it as parent.
      const { commId, sent, echo } = await echoThroughComm({ n: 1 });
      expect(echo?.parent_header.msg_id).toBe(sent.msg_id);
      client.send("shell", "comm_close", { comm_id: commId, data: {} });
    });

    test("comm_open for an unknown target is answered with comm_close", async () => {
      const commId = randomUUID();
      const closed = collectIopub(client, (seen) => seen.some((m) => m.header.msg_type === "comm_close" && m.content.comm_id === commId));
      client.send("shell", "comm_open", { comm_id: commId, target_name: "nobody-listens", data: {} });
      expect((await closed).filter((m) => m.header.msg_type === "comm_close" && m.content.comm_id === commId)).toHaveLength(1);
      expect((await client.commInfo()).content.comms[commId]).toBeUndefined();
    });

    test("kernel.comm.open publishes comm_open on iopub and the comm is listed", async () => {
      const outcome = await client.execute('// @ts-nocheck\nconst opened = kernel.comm.open("t", { x: 1 });\nopened.id');
      const id = result(outcome).replace(/^'|'$/g, "");
      const [open] = ofType(outcome.outputs, "comm_open");
      expect(open).toBeDefined();
      expect(open.content.target_name).toBe("t");
      expect(open.content.data).toEqual({ x: 1 });
      expect(open.content.comm_id).toBe(id);
      expect((await client.commInfo("t")).content.comms[id]).toEqual({ target_name: "t" });

      const sent = await client.execute('// @ts-nocheck\nopened.send({ y: 2 });\nopened.close();');
      const [message] = ofType(sent.outputs, "comm_msg");
      expect(message.content).toEqual({ comm_id: id, data: { y: 2 } });
      expect(ofType(sent.outputs, "comm_close")).toHaveLength(1);
      expect((await client.commInfo("t")).content.comms[id]).toBeUndefined();
    });
  });
});

describe("nbforge kernel: interrupt by SIGINT (interrupt_mode signal)", () => {
  let client: KernelClient;

  beforeAll(async () => {
    client = await launchNbforge({ interruptMode: "signal" });
    await client.execute('const beforeSignal = "kept";');
  });

  afterAll(async () => {
    await client?.close();
  });

  test("SIGINT stops while (true) {} and the kernel survives with its variables", async () => {
    expect(client.interruptMode).toBe("signal");
    const { running } = await startCell(client, `${ANNOUNCE}while (true) {}`);
    const started = performance.now();
    await client.interrupt(); // process.kill(-pid, "SIGINT")
    const { reply } = await running;
    expect(performance.now() - started).toBeLessThan(1000);
    expect(reply.content.status).toBe("error");
    expect(client.kernel?.running).toBe(true);
    expect(result(await client.execute("beforeSignal"))).toBe("'kept'");
  });

  test("SIGINT stops a cell awaiting a promise that never settles", async () => {
    const { running } = await startCell(client, 'console.log("running");\nawait new Promise(() => {});');
    await client.interrupt();
    const { reply } = await running;
    expect(reply.content.status).toBe("error");
    expect(client.kernel?.running).toBe(true);
  });

  test("SIGINT stops a busy loop that starts after an await", async () => {
    // Node cannot run a JavaScript handler while the loop blocks; the kernel's native
    // SIGINT handler counts the signal into the flags every loop checks.
    const { running } = await startCell(client, `await new Promise((r) => setTimeout(r, 10));\n${ANNOUNCE}while (true) {}`, 5000);
    const started = performance.now();
    await client.interrupt();
    const { reply } = await running;
    expect(performance.now() - started).toBeLessThan(1000);
    expect(reply.content.status).toBe("error");
    expect(client.kernel?.running).toBe(true);
    expect(result(await client.execute("beforeSignal"))).toBe("'kept'");
  });

  test("after SIGINT-interrupted cells, SIGINT still stops the next one", async () => {
    for (let i = 0; i < 2; i++) {
      const { running } = await startCell(client, `${ANNOUNCE}while (true) {}`);
      await client.interrupt();
      expect((await running).reply.content.status).toBe("error");
    }
    expect(client.kernel?.running).toBe(true);
  });
});
