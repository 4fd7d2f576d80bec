// KernelClient against ipykernel: the client must speak the protocol the way
// Jupyter's own front ends do, so a real Python kernel answers it.
import { KernelClient, KernelTimeoutError, Signer, encode, makeHeader, type Message } from "nbforge/client";
import { OutputArea } from "nbforge/dist/notebook/nbformat.js";
import { existsSync } from "node:fs";
import { launchPython } from "./python-kernel.js";

function ofType(messages: Message[], type: string): Message[] {
  return messages.filter((m) => m.header.msg_type === type);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe("KernelClient with ipykernel", () => {
  let client: KernelClient;

  beforeAll(async () => {
    client = await launchPython();
  });

  afterAll(async () => {
    await client?.close();
  });

  test("kernel_info on shell and control describes a Python kernel", async () => {
    for (const channel of ["shell", "control"] as const) {
      const reply = await client.kernelInfo(channel, 10_000);
      expect(reply.header.msg_type).toBe("kernel_info_reply");
      expect(reply.content.status).toBe("ok");
      expect(reply.content.protocol_version).toMatch(/^5\.\d+/);
      expect(reply.content.language_info.name).toBe("python");
      expect(reply.content.language_info.file_extension).toBe(".py");
      expect(reply.content.implementation).toBe("ipython");
    }
  });

  test("execute collects stream and execute_result between busy and idle", async () => {
    const seen: string[] = [];
    const { reply, outputs } = await client.execute('print("hello")\n6 * 7', {
      onIopub: (m) => seen.push(m.header.msg_type),
    });
    expect(reply.header.msg_type).toBe("execute_reply");
    expect(reply.content.status).toBe("ok");
    expect(outputs.every((m) => m.parent_header.msg_id === reply.parent_header.msg_id)).toBe(true);
    expect(outputs[0].content).toEqual({ execution_state: "busy" });
    expect(outputs[outputs.length - 1].content).toEqual({ execution_state: "idle" });
    expect(seen).toEqual(outputs.map((m) => m.header.msg_type));

    const [input] = ofType(outputs, "execute_input");
    expect(input.content.code).toBe('print("hello")\n6 * 7');
    const streams = ofType(outputs, "stream");
    expect(streams.map((m) => m.content.text).join("")).toBe("hello\n");
    expect(streams[0].content.name).toBe("stdout");
    const [result] = ofType(outputs, "execute_result");
    expect(result.content.data).toEqual({ "text/plain": "42" });
    expect(result.content.execution_count).toBe(reply.content.execution_count);
  });

  test("silent execution publishes no input or result and keeps the execution count", async () => {
    const before = await client.execute("1");
    const silent = await client.execute("silent_value = 2\nsilent_value", { silent: true });
    expect(silent.reply.content.status).toBe("ok");
    expect(ofType(silent.outputs, "execute_input")).toHaveLength(0);
    expect(ofType(silent.outputs, "execute_result")).toHaveLength(0);
    const after = await client.execute("3");
    expect(after.reply.content.execution_count).toBe(before.reply.content.execution_count + 1);
  });

  test("user_expressions are evaluated after the code", async () => {
    const { reply } = await client.execute("base = 20", { userExpressions: { doubled: "base * 2" } });
    const doubled = reply.content.user_expressions?.doubled as { status: string; data: Record<string, string> };
    expect(doubled.status).toBe("ok");
    expect(doubled.data["text/plain"]).toBe("40");
  });

  test("an exception gives an error reply and an error message", async () => {
    const { reply, outputs } = await client.execute("1 / 0");
    expect(reply.content.status).toBe("error");
    expect(reply.content.ename).toBe("ZeroDivisionError");
    const [error] = ofType(outputs, "error");
    expect(error.content.ename).toBe("ZeroDivisionError");
    expect(error.content.evalue).toMatch(/division by zero/);
    expect(Array.isArray(error.content.traceback)).toBe(true);
  });

  test("stop_on_error aborts a request queued behind a failing one", async () => {
    const [failing, queued] = await Promise.all([
      client.execute("import time; time.sleep(0.2); raise ValueError('first')"),
      client.execute("print('must not run')"),
    ]);
    expect(failing.reply.content.status).toBe("error");
    expect(queued.reply.content.status).toBe("aborted");
    expect(ofType(queued.outputs, "stream")).toHaveLength(0);
  });

  test("a display handle update arrives as update_display_data with the same display_id", async () => {
    const code = [
      "from IPython.display import display",
      "h = display('step 0', display_id=True)",
      "h.update('step 1')",
    ].join("\n");
    const { outputs } = await client.execute(code);
    const [shown] = ofType(outputs, "display_data");
    const [updated] = ofType(outputs, "update_display_data");
    const id = (shown.content.transient as { display_id: string }).display_id;
    expect(typeof id).toBe("string");
    expect((updated.content.transient as { display_id: string }).display_id).toBe(id);
    expect(updated.content.data).toEqual({ "text/plain": "'step 1'" });

    const area = new OutputArea();
    for (const m of outputs) area.handle(m);
    expect(area.outputs).toEqual([{ output_type: "display_data", data: { "text/plain": "'step 1'" }, metadata: {} }]);
  });

  test("input() is answered over stdin, with the prompt and the password flag", async () => {
    const prompts: Array<[string, boolean]> = [];
    const { reply, outputs } = await client.execute(
      "import getpass\nname = input('name? ')\nsecret = getpass.getpass('secret? ')\nf'{name}/{secret}'",
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
    expect(ofType(outputs, "execute_result")[0].content.data).toEqual({ "text/plain": "'ada/hunter2'" });
  });

  test("input_request can be answered by hand through onMessage and sendStdin", async () => {
    const stop = client.onMessage("stdin", (request) => {
      if (request.header.msg_type === "input_request") void client.sendStdin("typed by hand", request);
    });
    try {
      const { outputs } = await client.execute("input('> ')", { allowStdin: true });
      expect(ofType(outputs, "execute_result")[0].content.data).toEqual({ "text/plain": "'typed by hand'" });
    } finally {
      stop();
    }
  });

  test("complete, inspect, is_complete, history and comm_info get their replies", async () => {
    await client.execute("import os");
    const completion = await client.complete("os.pat");
    expect(completion.content.status).toBe("ok");
    // ipykernel completes the attribute only: "os.|pat|" → "path".
    expect(completion.content.matches).toContain("path");
    expect(completion.content.cursor_start).toBe(3);
    expect(completion.content.cursor_end).toBe(6);

    const inspection = await client.inspect("len", 3);
    expect(inspection.content.found).toBe(true);
    expect(String(inspection.content.data["text/plain"])).toMatch(/len/);

    expect((await client.isComplete("x = 1")).content.status).toBe("complete");
    const open = await client.isComplete("for i in range(3):");
    expect(open.content.status).toBe("incomplete");
    expect(open.content.indent).toBe("    ");
    expect((await client.isComplete("1 +* 2 )")).content.status).toBe("invalid");

    await client.execute("history_marker = 1");
    const history = await client.history({ output: false, raw: true, hist_access_type: "tail", n: 3 });
    expect(history.content.history.map((entry) => entry[2])).toContain("history_marker = 1");

    const comms = await client.commInfo();
    expect(comms.header.msg_type).toBe("comm_info_reply");
    expect(comms.content.comms).toEqual({});
  });

  test("heartbeat echoes and reports a round trip", async () => {
    const ms = await client.heartbeat(2000);
    expect(ms).toBeGreaterThan(0);
    expect(ms).toBeLessThan(2000);
  });

  test("a badly signed request is dropped and the kernel keeps answering", async () => {
    const header = makeHeader("kernel_info_request", client.session);
    const forged = encode(new Signer("not-the-key"), {
      identities: [],
      header,
      parent_header: {},
      metadata: {},
      content: {},
    });
    const replies: Message[] = [];
    const stop = client.onMessage("shell", (m) => {
      if (m.parent_header.msg_id === header.msg_id) replies.push(m);
    });
    await client.sendRaw("shell", forged);
    await client.sendRaw("shell", [Buffer.from("garbage"), Buffer.from("<IDS|MSG>")]);
    await sleep(500);
    stop();
    expect(replies).toHaveLength(0);
    expect((await client.kernelInfo("shell", 5000)).content.status).toBe("ok");
  });

  test("a request that gets no reply times out", async () => {
    // An unknown message type is ignored by ipykernel, so no reply ever comes.
    await expect(client.request("shell", "no_such_request", {}, { timeoutMs: 300 })).rejects.toBeInstanceOf(
      KernelTimeoutError,
    );
  });

  test("interrupt stops time.sleep and the kernel keeps its state", async () => {
    await client.execute("survivor = 'still here'");
    const running = client.execute("import time; time.sleep(30)");
    await sleep(500);
    const started = Date.now();
    await client.interrupt();
    const { reply, outputs } = await running;
    expect(Date.now() - started).toBeLessThan(5000);
    expect(reply.content.status).toBe("error");
    expect(ofType(outputs, "error")[0].content.ename).toBe("KeyboardInterrupt");
    const { outputs: after } = await client.execute("survivor");
    expect(ofType(after, "execute_result")[0].content.data).toEqual({ "text/plain": "'still here'" });
  });
});

describe("KernelClient lifecycle", () => {
  test("restart gives a fresh interpreter on the same connection", async () => {
    const client = await launchPython();
    try {
      await client.execute("before_restart = 1");
      const info = await client.restart(30_000);
      expect(info.content.language_info.name).toBe("python");
      const { reply } = await client.execute("before_restart");
      expect(reply.content.status).toBe("error");
      expect(reply.content.ename).toBe("NameError");
    } finally {
      await client.close();
    }
  });

  test("shutdown replies, the process exits, and close removes the connection file", async () => {
    const client = await launchPython();
    const file = client.kernel!.connectionFile;
    expect(existsSync(file)).toBe(true);
    const reply = await client.shutdown();
    expect(reply.content).toMatchObject({ status: "ok", restart: false });
    expect(client.kernel!.running).toBe(false);
    await client.close();
    expect(existsSync(file)).toBe(false);
    await expect(client.kernelInfo()).rejects.toThrow(/closed|exited/);
  });

  test("a kernel that dies at startup fails launch with its stderr", async () => {
    await expect(
      KernelClient.launch({
        argv: ["python3", "-c", "import sys; sys.stderr.write('boom at startup\\n'); sys.exit(3)"],
        startupTimeoutMs: 10_000,
      }),
    ).rejects.toThrow(/exited with code 3[\s\S]*boom at startup/);
  });

  test("an unknown kernel name lists the installed kernels", async () => {
    await expect(KernelClient.launch({ kernelName: "no-such-kernel" })).rejects.toThrow(/no kernelspec named "no-such-kernel"/);
  });
});
