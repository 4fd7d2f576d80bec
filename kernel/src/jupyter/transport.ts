// The transport thread: owns the five ZeroMQ sockets, signs and verifies every
// message, and keeps the heartbeat, control channel and iopub flowing while the
// executing thread is busy. It knows nothing of TypeScript.
import { parentPort, workerData } from "node:worker_threads";
import { writeSync } from "node:fs";
import * as zmq from "zeromq";
import type { BridgedRequest, ToExecutor, ToTransport, TransportConfig } from "./bridge.js";
import { channelAddress, decode, encode, makeHeader, Signer, WireError, type JsonObject, type Message, type MessageHeader } from "./wire.js";

const REQUESTED = 0;
const TICK = 1;
/** How long the executing thread may go without turning its event loop before we send it SIGINT. */
const BLOCKED_AFTER_MS = 200;

function log(text: string): void {
  writeSync(2, `[nbforge transport] ${text}\n`);
}

/** ZeroMQ sockets accept one send at a time; this queues the rest in order. */
class SendQueue {
  private tail: Promise<void> = Promise.resolve();
  constructor(private readonly socket: zmq.Writable) {}
  send(frames: Buffer[]): Promise<void> {
    this.tail = this.tail.then(() => this.socket.send(frames)).catch((e: unknown) => log(`send failed: ${String(e)}`));
    return this.tail;
  }
}

class Transport {
  private readonly signer: Signer;
  private readonly shell = new zmq.Router();
  private readonly control = new zmq.Router();
  private readonly stdin = new zmq.Router();
  private readonly iopub = new zmq.Publisher();
  private readonly hb = new zmq.Reply();
  private readonly queues: Record<"shell" | "control" | "stdin" | "iopub", SendQueue>;
  /** Routing identities of requests, by msg_id, so replies and input requests find their client. */
  private readonly identities = new Map<string, Buffer[]>();
  private readonly pendingInput = new Map<string, string>();

  constructor(private readonly config: TransportConfig, private readonly executor: { post(m: ToExecutor): void }) {
    this.signer = new Signer(config.connection.key, config.connection.signature_scheme);
    this.queues = {
      shell: new SendQueue(this.shell),
      control: new SendQueue(this.control),
      stdin: new SendQueue(this.stdin),
      iopub: new SendQueue(this.iopub),
    };
  }

  async start(): Promise<void> {
    const info = this.config.connection;
    await Promise.all([
      this.shell.bind(channelAddress(info, "shell")),
      this.control.bind(channelAddress(info, "control")),
      this.stdin.bind(channelAddress(info, "stdin")),
      this.iopub.bind(channelAddress(info, "iopub")),
      this.hb.bind(channelAddress(info, "hb")),
    ]);
    void this.echoHeartbeats();
    void this.receive(this.shell, "shell");
    void this.receive(this.control, "control");
    void this.receiveInputReplies();
    void this.publish({}, "status", { execution_state: "starting" });
  }

  private close(): void {
    for (const socket of [this.shell, this.control, this.stdin, this.iopub, this.hb]) socket.close();
  }

  private async echoHeartbeats(): Promise<void> {
    while (!this.hb.closed) {
      try {
        for await (const frames of this.hb) await this.hb.send(frames);
      } catch (e) {
        if (!this.hb.closed) log(`heartbeat: ${String(e)}; still listening`);
      }
    }
  }

  private decodeOrLog(frames: Buffer[], channel: string): Message | undefined {
    try {
      return decode(this.signer, frames);
    } catch (e) {
      // Malformed or badly signed messages are dropped, never executed.
      log(`dropped a message on ${channel}: ${e instanceof WireError ? e.message : String(e)}`);
      return undefined;
    }
  }

  private async receive(socket: zmq.Router, channel: "shell" | "control"): Promise<void> {
    while (!socket.closed) {
      try {
        for await (const frames of socket) {
          const msg = this.decodeOrLog(frames, channel);
          if (!msg) continue;
          try {
            this.handle(msg, channel);
          } catch (e) {
            log(`failed to handle ${msg.header.msg_type} on ${channel}: ${String(e)}`);
          }
        }
      } catch (e) {
        if (!socket.closed) log(`${channel}: receive failed: ${String(e)}; still listening`);
      }
    }
  }

  private handle(msg: Message, channel: "shell" | "control"): void {
    this.identities.set(msg.header.msg_id, msg.identities);
    const type = msg.header.msg_type;
    // These never wait for the executing thread, so they answer while a cell runs.
    if (type === "kernel_info_request") {
      void this.answerLocally(msg, channel, "kernel_info_reply", this.config.kernelInfo);
      return;
    }
    if (channel === "control" && type === "interrupt_request") {
      this.interrupt();
      void this.answerLocally(msg, channel, "interrupt_reply", { status: "ok" });
      return;
    }
    if (channel === "control" && type === "shutdown_request") {
      const restart = msg.content.restart === true;
      void this.answerLocally(msg, channel, "shutdown_reply", { status: "ok", restart }).then(() => {
        // Close the sockets here: tearing a thread down with open sockets aborts the process.
        this.close();
        this.executor.post({ kind: "shutdown", restart });
      });
      return;
    }
    const request: BridgedRequest = {
      channel,
      header: msg.header,
      parent_header: msg.parent_header,
      metadata: msg.metadata,
      content: msg.content,
    };
    this.executor.post({ kind: "request", request });
  }

  private answerLocally(msg: Message, channel: "shell" | "control", replyType: string, content: JsonObject): Promise<void> {
    this.publish(msg.header, "status", { execution_state: "busy" });
    const sent = this.reply(channel, msg.header, replyType, content);
    return Promise.all([sent, this.publish(msg.header, "status", { execution_state: "idle" })]).then(() => {});
  }

  /**
   * Interrupts the executing thread three ways: a shared flag that every loop in a
   * cell checks, a message that cancels an awaiting cell, and SIGINT (caught by
   * the signal watchdog around synchronous code) if its event loop stays blocked.
   */
  private interrupt(): void {
    const flags = this.config.interruptFlags;
    const tickAtRequest = Atomics.load(flags, TICK);
    Atomics.add(flags, REQUESTED, 1);
    this.executor.post({ kind: "interrupt" });
    setTimeout(() => {
      if (Atomics.load(flags, TICK) === tickAtRequest) process.kill(process.pid, "SIGINT");
    }, BLOCKED_AFTER_MS);
  }

  reply(channel: "shell" | "control", parent: MessageHeader, msgType: string, content: JsonObject, metadata: JsonObject = {}): Promise<void> {
    const identities = this.identities.get(parent.msg_id) ?? [];
    this.identities.delete(parent.msg_id);
    const header = makeHeader(msgType, this.config.session);
    return this.queues[channel].send(encode(this.signer, { identities, header, parent_header: parent, metadata, content }));
  }

  publish(parent: Partial<MessageHeader>, msgType: string, content: JsonObject, metadata: JsonObject = {}): Promise<void> {
    const header = makeHeader(msgType, this.config.session);
    const topic = Buffer.from(`kernel.${this.config.session}.${msgType}`);
    return this.queues.iopub.send(encode(this.signer, { identities: [topic], header, parent_header: parent, metadata, content }));
  }

  requestInput(requestId: string, parent: MessageHeader, prompt: string, password: boolean): void {
    const identities = this.identities.get(parent.msg_id) ?? [];
    const header = makeHeader("input_request", this.config.session);
    this.pendingInput.set(header.msg_id, requestId);
    const content = { prompt, password };
    void this.queues.stdin.send(encode(this.signer, { identities, header, parent_header: parent, metadata: {}, content }));
  }

  private async receiveInputReplies(): Promise<void> {
    while (!this.stdin.closed) {
      try {
        await this.receiveInputRepliesOnce();
      } catch (e) {
        if (!this.stdin.closed) log(`stdin: receive failed: ${String(e)}; still listening`);
      }
    }
  }

  private async receiveInputRepliesOnce(): Promise<void> {
    for await (const frames of this.stdin) {
      const msg = this.decodeOrLog(frames, "stdin");
      if (!msg || msg.header.msg_type !== "input_reply") continue;
      const requestId = this.pendingInput.get(String(msg.parent_header.msg_id)) ?? [...this.pendingInput.values()][0];
      if (requestId === undefined) continue;
      for (const [key, id] of this.pendingInput) if (id === requestId) this.pendingInput.delete(key);
      this.executor.post({ kind: "input_reply", requestId, value: String(msg.content.value ?? "") });
    }
  }

  fromExecutor(message: ToTransport): void {
    switch (message.kind) {
      case "reply":
        void this.reply(message.channel, message.parent, message.msgType, message.content, message.metadata);
        return;
      case "publish":
        void this.publish(message.parent, message.msgType, message.content, message.metadata);
        return;
      case "input_request":
        return this.requestInput(message.requestId, message.parent, message.prompt, message.password);
      case "flush":
        return this.executor.post({ kind: "flushed", token: message.token });
      case "batch":
        for (const m of message.messages) this.fromExecutor(m);
        return;
    }
  }
}

if (parentPort) {
  // A failure in this thread must never take the kernel (and the user's variables) down.
  process.on("uncaughtException", (e) => log(`uncaught: ${e.stack ?? String(e)}`));
  process.on("unhandledRejection", (e) => log(`unhandled rejection: ${String(e)}`));
  const port = parentPort;
  const transport = new Transport(workerData as TransportConfig, { post: (m) => port.postMessage(m) });
  port.on("message", (m: ToTransport) => transport.fromExecutor(m));
  transport.start().then(
    () => port.postMessage({ kind: "ready" } satisfies ToExecutor),
    (e: unknown) => {
      log(`could not bind the kernel's sockets: ${String(e)}`);
      process.exit(1);
    },
  );
}
