// The protocol runs off the thread that executes cells: while a cell spins,
// heartbeats, control requests, interrupts and live output keep flowing.
import type { KernelClient, Message } from "nbforge/client";
import { launchNbforge, median, ofType, sleep, streamText, textPlain } from "./nbforge-kernel.js";

describe("nbforge kernel: responsiveness while a cell runs", () => {
  let client: KernelClient;

  beforeAll(async () => {
    client = await launchNbforge();
    await client.execute('const survivor = "defined before the loop";');
  });

  afterAll(async () => {
    await client?.close();
  });

  test("a busy loop: heartbeat and control answer fast, interrupt stops it, state survives", async () => {
    let finished = false;
    const running = client.execute("while (true) {}").finally(() => (finished = true));
    await sleep(300); // well inside the loop by now

    const beats: number[] = [];
    for (let i = 0; i < 5; i++) beats.push(await client.heartbeat(2000));
    expect(median(beats)).toBeLessThan(100);
    expect(Math.max(...beats)).toBeLessThan(500);

    const infoTimes: number[] = [];
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      const info = await client.kernelInfo("control", 2000);
      infoTimes.push(performance.now() - started);
      expect(info.content.status).toBe("ok");
    }
    expect(median(infoTimes)).toBeLessThan(100);
    expect(finished).toBe(false);

    const interruptedAt = performance.now();
    const interruptReply = await client.interrupt(2000);
    expect(interruptReply?.header.msg_type).toBe("interrupt_reply");
    const { reply, outputs } = await running;
    expect(performance.now() - interruptedAt).toBeLessThan(500);
    expect(reply.content.status).toBe("error");
    expect(ofType(outputs, "error")).toHaveLength(1);

    const after = await client.execute("survivor");
    expect(after.reply.content.status).toBe("ok");
    expect(textPlain(ofType(after.outputs, "execute_result")[0])).toMatch(/defined before the loop/);
  });

  test("output printed inside a running loop reaches iopub before the cell ends", async () => {
    let finished = false;
    const live: Message[] = [];
    const running = client
      .execute("for (let i = 0; ; i++) { if (i % 1e7 === 0) console.log(i); }", {
        onIopub: (m) => {
          if (m.header.msg_type === "stream" && !finished) live.push(m);
        },
      })
      .finally(() => (finished = true));

    const deadline = Date.now() + 10_000;
    while (streamText(live, "stdout").split("\n").length < 3 && Date.now() < deadline) await sleep(50);
    expect(finished).toBe(false);
    expect(streamText(live, "stdout")).toMatch(/^0\n10000000\n/);

    await client.interrupt(2000);
    const { reply } = await running;
    expect(reply.content.status).toBe("error");
    expect((await client.execute("1 + 1")).reply.content.status).toBe("ok");
  });
});
