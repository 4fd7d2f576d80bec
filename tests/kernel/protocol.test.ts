// The nbforge kernel's transport (messaging spec 5.3): status messages, kernel_info,
// and what it does with messages it must not trust.
import { KernelClient, LaunchedKernel, Signer, encode, makeHeader, type Message } from "nbforge/client";
import { launchNbforge, nbforgeOptions, sleep } from "./nbforge-kernel.js";

describe("nbforge kernel: status and kernel_info", () => {
  let client: KernelClient;
  const iopub: Message[] = [];

  beforeAll(async () => {
    // Listen on iopub from the very start, before the kernel is ready.
    const kernel = await LaunchedKernel.start(nbforgeOptions());
    client = KernelClient.connect(kernel.connectionInfo, { kernel });
    client.onIopub((m) => iopub.push(m));
    await client.waitForReady(30_000);
  });

  afterAll(async () => {
    await client?.close();
  });

  test("kernel_info_reply describes a TypeScript kernel, on shell and on control", async () => {
    for (const channel of ["shell", "control"] as const) {
      const { header, content } = await client.kernelInfo(channel, 10_000);
      expect(header.msg_type).toBe("kernel_info_reply");
      expect(content.status).toBe("ok");
      expect(content.protocol_version).toBe("5.3");
      expect(content.implementation).toBe("nbforge");
      expect(typeof content.implementation_version).toBe("string");
      expect(typeof content.banner).toBe("string");
      expect(content.language_info.name).toBe("typescript");
      expect(content.language_info.file_extension).toBe(".ts");
      expect(content.language_info.mimetype).toMatch(/typescript/);
      expect(content.language_info.codemirror_mode).toBeDefined();
      expect(content.help_links?.length).toBeGreaterThan(0);
      for (const link of content.help_links ?? []) {
        expect(typeof link.text).toBe("string");
        expect(link.url).toMatch(/^https?:\/\//);
      }
    }
  });

  test("the kernel says starting at most once, then busy and idle around every request", async () => {
    const requests = [
      client.send("shell", "kernel_info_request", {}),
      client.send("shell", "execute_request", {
        code: "1 + 1",
        silent: false,
        store_history: true,
        user_expressions: {},
        allow_stdin: false,
        stop_on_error: true,
      }),
      client.send("shell", "is_complete_request", { code: "1 +" }),
      client.send("shell", "complete_request", { code: "Math.ma", cursor_pos: 7 }),
      client.send("control", "kernel_info_request", {}),
    ];
    await Promise.all(requests.map((r) => r.reply));
    await sleep(300); // idle follows the reply

    expect(iopub.filter((m) => m.content.execution_state === "starting").length).toBeLessThanOrEqual(1);
    for (const { header } of requests) {
      const own = iopub.filter((m) => m.parent_header.msg_id === header.msg_id);
      const states = own.filter((m) => m.header.msg_type === "status").map((m) => m.content.execution_state);
      expect([header.msg_type, states]).toEqual([header.msg_type, ["busy", "idle"]]);
      expect([header.msg_type, own[0].content.execution_state]).toEqual([header.msg_type, "busy"]);
      expect([header.msg_type, own[own.length - 1].content.execution_state]).toEqual([header.msg_type, "idle"]);
    }
  });

  test("iopub messages are signed, carry the session, and name their parent", async () => {
    const { reply, outputs } = await client.execute("2 * 21");
    expect(outputs.length).toBeGreaterThanOrEqual(4);
    for (const m of outputs) {
      expect(m.parent_header.msg_id).toBe(reply.parent_header.msg_id);
      expect(m.parent_header.session).toBe(client.session);
      expect(typeof m.header.session).toBe("string");
      expect(m.header.version).toBe("5.3");
    }
  });

  test("a badly signed request gets no reply and the kernel keeps answering", async () => {
    const header = makeHeader("kernel_info_request", client.session);
    const forged = encode(new Signer("a-key-the-kernel-does-not-have"), {
      identities: [],
      header,
      parent_header: {},
      metadata: {},
      content: {},
    });
    const answers: Message[] = [];
    const stopShell = client.onMessage("shell", (m) => m.parent_header.msg_id === header.msg_id && answers.push(m));
    const stopIopub = client.onIopub((m) => m.parent_header.msg_id === header.msg_id && answers.push(m));
    await client.sendRaw("shell", forged);
    await client.sendRaw("control", forged);
    await sleep(500);
    stopShell();
    stopIopub();
    expect(answers).toEqual([]);
    expect((await client.kernelInfo("shell", 5000)).content.status).toBe("ok");
    expect(await client.heartbeat(2000)).toBeLessThan(2000);
  });

  test("malformed frames do not kill the kernel", async () => {
    const signer = new Signer(client.connectionInfo.key, client.connectionInfo.signature_scheme);
    const notJson = [Buffer.from("{not json"), Buffer.from("{}"), Buffer.from("{}"), Buffer.from("{}")];
    const noMsgType = [Buffer.from('{"msg_id":"x"}'), Buffer.from("{}"), Buffer.from("{}"), Buffer.from("{}")];
    const arrayContent = [
      Buffer.from(JSON.stringify(makeHeader("execute_request", client.session))),
      Buffer.from("{}"),
      Buffer.from("{}"),
      Buffer.from("[1, 2]"),
    ];
    const malformed: Buffer[][] = [
      [Buffer.from("just one frame")],
      [Buffer.from("<IDS|MSG>")],
      [Buffer.from("<IDS|MSG>"), Buffer.from("sig"), Buffer.from("{}")],
      [Buffer.from("<IDS|MSG>"), Buffer.from(signer.sign(notJson)), ...notJson],
      [Buffer.from("<IDS|MSG>"), Buffer.from(signer.sign(noMsgType)), ...noMsgType],
      [Buffer.from("<IDS|MSG>"), Buffer.from(signer.sign(arrayContent)), ...arrayContent],
      client.buildFrames("execute_request", { code: 42 as unknown as string }).frames,
      client.buildFrames("complete_request", { code: "x", cursor_pos: "end" }).frames,
      client.buildFrames("no_such_request", {}).frames,
    ];
    for (const frames of malformed) {
      await client.sendRaw("shell", frames);
      await client.sendRaw("control", frames);
    }
    await sleep(300);
    expect(client.kernel?.running ?? true).toBe(true);
    expect((await client.kernelInfo("shell", 5000)).content.status).toBe("ok");
    expect((await client.kernelInfo("control", 5000)).content.status).toBe("ok");
    const { reply } = await client.execute("'still alive'", { timeoutMs: 10_000 });
    expect(reply.content.status).toBe("ok");
  });
});

describe("nbforge kernel: shutdown", () => {
  test("shutdown_request with restart: true is answered on control", async () => {
    const client = await launchNbforge();
    try {
      const reply = await client.shutdown({ restart: true });
      expect(reply.header.msg_type).toBe("shutdown_reply");
      expect(reply.content).toMatchObject({ status: "ok", restart: true });
    } finally {
      await client.close();
    }
  });

  test("shutdown_request ends the kernel process", async () => {
    const client = await launchNbforge();
    try {
      const reply = await client.shutdown();
      expect(reply.content).toMatchObject({ status: "ok", restart: false });
      expect(client.kernel?.running).toBe(false);
    } finally {
      await client.close();
    }
  });

  test("restart gives a fresh scope", async () => {
    const client = await launchNbforge();
    try {
      await client.execute("const beforeRestart = 1");
      await client.restart(30_000);
      const { reply } = await client.execute("beforeRestart");
      expect(reply.content.status).toBe("error");
    } finally {
      await client.close();
    }
  });
});
