// A Jupyter client over ZeroMQ: the sockets a front end opens to a kernel, with
// replies matched to requests by parent msg_id. This module is "nbforge/client".
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import * as zmq from "zeromq";
import {
  Signer,
  channelAddress,
  decode,
  encode,
  makeHeader,
  type ConnectionInfo,
  type JsonObject,
  type Message,
  type MessageHeader,
} from "../jupyter/wire.js";
import { LaunchedKernel, type InterruptMode, type LaunchOptions } from "./launcher.js";
import type {
  CommInfoReplyContent,
  CompleteReplyContent,
  ExecuteReplyContent,
  ExecuteRequestContent,
  HistoryReplyContent,
  HistoryRequestContent,
  InputRequestContent,
  InspectReplyContent,
  InterruptReplyContent,
  IsCompleteReplyContent,
  KernelInfoReplyContent,
  ShutdownReplyContent,
} from "./messages.js";

export * from "./messages.js";
export {
  LaunchedKernel,
  KernelSpecError,
  findKernelSpec,
  listKernelSpecs,
  readKernelSpec,
  newConnectionInfo,
  pickFreePorts,
  writeConnectionFile,
  type InterruptMode,
  type KernelExit,
  type KernelSpec,
  type LaunchOptions,
} from "./launcher.js";
export {
  PROTOCOL_VERSION,
  Signer,
  WireError,
  channelAddress,
  decode,
  encode,
  makeHeader,
  type Channel,
  type ConnectionInfo,
  type JsonObject,
  type Message,
  type MessageHeader,
} from "../jupyter/wire.js";

/** Channels on which the client sends requests and awaits replies. */
export type RequestChannel = "shell" | "control";
/** Channels with a DEALER socket, on which raw frames can be sent. */
export type DealerChannel = "shell" | "control" | "stdin";
/** Channels whose incoming messages can be observed. */
export type ListenChannel = "shell" | "control" | "stdin" | "iopub";

export type MessageListener = (msg: Message) => void;
export type InputHandler = (prompt: string, password: boolean) => string | Promise<string>;

/** A request or wait that the kernel did not answer in time. */
export class KernelTimeoutError extends Error {}
/** The kernel process ended, or the client was closed, while a request was waiting. */
export class KernelGoneError extends Error {}

export interface ClientLaunchOptions extends LaunchOptions {
  /** How long the kernel may take to answer kernel_info on shell and iopub (default 60 s). */
  startupTimeoutMs?: number;
}

export interface ConnectOptions {
  /** A name for error messages (default: the connection's kernel_name). */
  name?: string;
  interruptMode?: InterruptMode;
  /** A kernel started with LaunchedKernel.start that the client then owns (signals, kills, cleans up). */
  kernel?: LaunchedKernel;
}

export interface RequestOptions {
  metadata?: JsonObject;
  buffers?: Buffer[];
  timeoutMs?: number;
}

export interface PendingRequest {
  header: MessageHeader;
  /** The reply whose parent is this request; rejected on timeout, close or kernel death. */
  reply: Promise<Message>;
}

export interface ExecuteOptions {
  silent?: boolean;
  storeHistory?: boolean;
  userExpressions?: Record<string, string>;
  allowStdin?: boolean;
  stopOnError?: boolean;
  /** Called with each iopub message of this request as it arrives. */
  onIopub?: MessageListener;
  /** Answers the kernel's input_request messages for this request. */
  onInput?: InputHandler;
  timeoutMs?: number;
  /** Called once the request is on its way, with its header (e.g. to interrupt it later). */
  onSent?: (header: MessageHeader) => void;
}

export interface ExecuteOutcome {
  reply: Message<ExecuteReplyContent>;
  /** Every iopub message whose parent is the request, in arrival order (status included). */
  outputs: Message[];
}

const DEFAULT_STARTUP_TIMEOUT_MS = 60_000;
const SHUTDOWN_GRACE_MS = 5_000;

function parentId(msg: Message): string | undefined {
  return msg.parent_header.msg_id;
}

function isStatus(msg: Message, state: string): boolean {
  return msg.header.msg_type === "status" && msg.content.execution_state === state;
}

/** Waits for `promise` at most `ms`; resolves with its value, or `timedOut` when time ran out first. */
export function within<T, U>(promise: Promise<T>, ms: number, timedOut: U): Promise<T | U> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<U>((resolve) => (timer = setTimeout(() => resolve(timedOut), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export class KernelClient {
  /** The session id put in every header this client sends. */
  readonly session = randomUUID();
  readonly name: string;
  readonly interruptMode: InterruptMode;
  private readonly signer: Signer;
  private readonly dealers: Record<DealerChannel, zmq.Dealer>;
  private readonly iopub: zmq.Subscriber;
  private hb: zmq.Request;
  private hbChain: Promise<unknown> = Promise.resolve();
  private readonly sendChains = new Map<zmq.Socket, Promise<void>>();
  private readonly listeners: Record<ListenChannel, Set<MessageListener>> = {
    shell: new Set(),
    control: new Set(),
    stdin: new Set(),
    iopub: new Set(),
  };
  private readonly replyHandlers = new Map<string, (reply: Message) => void>();
  private readonly iopubByParent = new Map<string, MessageListener>();
  private readonly inputHandlers = new Map<string, InputHandler>();
  /** Rejecters of everything now waiting on the kernel, called on close or kernel death. */
  private readonly waiters = new Set<(error: Error) => void>();
  /** Set once the client is closed or the kernel gone; new waits fail with it at once. */
  private failure: Error | undefined;
  private exitExpected = false;
  private closed = false;

  private constructor(
    readonly connectionInfo: ConnectionInfo,
    readonly kernel: LaunchedKernel | undefined,
    options: ConnectOptions,
  ) {
    this.name = options.name ?? kernel?.name ?? connectionInfo.kernel_name ?? "kernel";
    this.interruptMode = options.interruptMode ?? kernel?.interruptMode ?? "signal";
    this.signer = new Signer(connectionInfo.key, connectionInfo.signature_scheme);
    // The kernel sends input_request on stdin to the routing id of the shell request,
    // so shell and stdin share one routing id (the session), as in jupyter_client.
    this.dealers = {
      shell: new zmq.Dealer({ linger: 0, routingId: this.session }),
      control: new zmq.Dealer({ linger: 0 }),
      stdin: new zmq.Dealer({ linger: 0, routingId: this.session }),
    };
    this.iopub = new zmq.Subscriber({ linger: 0 });
    this.iopub.subscribe();
    for (const channel of ["shell", "control", "stdin"] as const) {
      this.dealers[channel].connect(channelAddress(connectionInfo, channel));
      void this.pump(channel, this.dealers[channel]);
    }
    this.iopub.connect(channelAddress(connectionInfo, "iopub"));
    void this.pump("iopub", this.iopub);
    this.hb = this.openHeartbeat();
    kernel?.onExit((exit) => this.kernelExited(exit.code, exit.signal));
  }

  /** Connects to a running kernel; call waitForReady() before relying on iopub. */
  static connect(info: ConnectionInfo, options: ConnectOptions = {}): KernelClient {
    return new KernelClient(info, options.kernel, options);
  }

  /** Starts a kernel (by kernelspec name or argv), connects, and waits until it is ready. */
  static async launch(options: ClientLaunchOptions = {}): Promise<KernelClient> {
    const kernel = await LaunchedKernel.start(options);
    const client = new KernelClient(kernel.connectionInfo, kernel, {});
    try {
      await client.waitForReady(options.startupTimeoutMs);
    } catch (e) {
      await client.close();
      throw e;
    }
    return client;
  }

  /**
   * Resolves once the kernel answers kernel_info_request on shell and its iopub
   * messages reach us. A SUB socket misses whatever is published before its
   * subscription lands, so kernel_info is resent until its status shows on iopub.
   */
  async waitForReady(timeoutMs = DEFAULT_STARTUP_TIMEOUT_MS): Promise<Message<KernelInfoReplyContent>> {
    const deadline = Date.now() + timeoutMs;
    const sent = new Set<string>();
    let iopubReady = false;
    let stopListening = () => {};
    const iopubSeen = new Promise<void>((resolve) => {
      stopListening = this.onIopub((msg) => {
        if (!sent.has(parentId(msg) ?? "")) return;
        iopubReady = true;
        resolve();
      });
    });
    let reply: Message | undefined;
    try {
      for (let attempt = 0; ; attempt++) {
        const left = deadline - Date.now();
        if (left <= 0) break;
        const wait = Math.min(left, 250 * 1.5 ** Math.min(attempt, 6));
        const request = this.send("shell", "kernel_info_request", {}, { timeoutMs: wait });
        sent.add(request.header.msg_id);
        try {
          reply ??= await request.reply;
        } catch (e) {
          if (!(e instanceof KernelTimeoutError)) throw e;
          continue;
        }
        await within(iopubSeen, Math.min(wait, Math.max(0, deadline - Date.now())), undefined);
        if (iopubReady) return reply as Message<KernelInfoReplyContent>;
      }
    } finally {
      stopListening();
    }
    const stderr = this.kernel?.stderr.trim();
    throw new KernelTimeoutError(
      `kernel "${this.name}" did not become ready within ${timeoutMs} ms ` +
        (reply ? "(it answered on shell, but nothing arrived on iopub)" : "(no kernel_info_reply on shell)") +
        (stderr ? `; its stderr ends with:\n${stderr}` : ""),
    );
  }

  /** Observes every valid message arriving on a channel; returns a function that stops it. */
  onMessage(channel: ListenChannel, listener: MessageListener): () => void {
    this.listeners[channel].add(listener);
    return () => this.listeners[channel].delete(listener);
  }

  onIopub(listener: MessageListener): () => void {
    return this.onMessage("iopub", listener);
  }

  /** Signs a message with the connection's key, as frames for sendRaw (tests tamper with them). */
  buildFrames(msgType: string, content: JsonObject, options: { metadata?: JsonObject; parent?: MessageHeader } = {}): {
    header: MessageHeader;
    frames: Buffer[];
  } {
    const header = makeHeader(msgType, this.session);
    const frames = encode(this.signer, {
      identities: [],
      header,
      parent_header: options.parent ?? {},
      metadata: options.metadata ?? {},
      content,
    });
    return { header, frames };
  }

  /** Sends frames exactly as given, e.g. a malformed or badly signed message. */
  sendRaw(channel: DealerChannel, frames: Buffer[]): Promise<void> {
    return this.enqueue(this.dealers[channel], frames);
  }

  /** Sends a request and returns at once; its reply is awaited through `reply`. */
  send(channel: RequestChannel, msgType: string, content: JsonObject, options: RequestOptions = {}): PendingRequest {
    const header = makeHeader(msgType, this.session);
    const reply = this.expectReply(header.msg_id, options.timeoutMs, `${msgType} on ${channel}`);
    reply.catch(() => undefined); // A caller that never awaits the reply must not cause an unhandled rejection.
    const frames = encode(this.signer, {
      identities: [],
      header,
      parent_header: {},
      metadata: options.metadata ?? {},
      content,
      buffers: options.buffers,
    });
    this.enqueue(this.dealers[channel], frames).catch(() => undefined);
    return { header, reply };
  }

  /** Sends a request and resolves with the reply whose parent it is. */
  request(channel: RequestChannel, msgType: string, content: JsonObject, options: RequestOptions = {}): Promise<Message> {
    return this.send(channel, msgType, content, options).reply;
  }

  /** Runs code; resolves after both the execute_reply and the request's iopub idle status arrived. */
  async execute(code: string, options: ExecuteOptions = {}): Promise<ExecuteOutcome> {
    const content: ExecuteRequestContent = {
      code,
      silent: options.silent ?? false,
      store_history: options.storeHistory ?? !(options.silent ?? false),
      user_expressions: options.userExpressions ?? {},
      allow_stdin: options.allowStdin ?? options.onInput !== undefined,
      stop_on_error: options.stopOnError ?? true,
    };
    const header = makeHeader("execute_request", this.session);
    const id = header.msg_id;
    const outputs: Message[] = [];
    const idle = new Promise<void>((resolve) => {
      this.iopubByParent.set(id, (msg) => {
        outputs.push(msg);
        options.onIopub?.(msg);
        if (isStatus(msg, "idle")) resolve();
      });
    });
    if (options.onInput) this.inputHandlers.set(id, options.onInput);
    const reply = this.expectReply(id, undefined, "execute_request");
    const frames = encode(this.signer, { identities: [], header, parent_header: {}, metadata: {}, content });
    try {
      await this.enqueue(this.dealers.shell, frames);
      options.onSent?.(header);
      const [replyMsg] = await this.guard(Promise.all([reply, idle]), options.timeoutMs, "execute_request");
      return { reply: replyMsg as Message<ExecuteReplyContent>, outputs };
    } finally {
      reply.catch(() => undefined);
      this.replyHandlers.delete(id);
      this.iopubByParent.delete(id);
      this.inputHandlers.delete(id);
    }
  }

  async kernelInfo(channel: RequestChannel = "shell", timeoutMs?: number): Promise<Message<KernelInfoReplyContent>> {
    return (await this.request(channel, "kernel_info_request", {}, { timeoutMs })) as Message<KernelInfoReplyContent>;
  }

  /** cursorPos counts Unicode code points, as the protocol (5.2+) does. */
  async complete(code: string, cursorPos: number = [...code].length): Promise<Message<CompleteReplyContent>> {
    return (await this.request("shell", "complete_request", { code, cursor_pos: cursorPos })) as Message<CompleteReplyContent>;
  }

  async inspect(code: string, cursorPos: number = [...code].length, detailLevel: 0 | 1 = 0): Promise<Message<InspectReplyContent>> {
    const content = { code, cursor_pos: cursorPos, detail_level: detailLevel };
    return (await this.request("shell", "inspect_request", content)) as Message<InspectReplyContent>;
  }

  async isComplete(code: string): Promise<Message<IsCompleteReplyContent>> {
    return (await this.request("shell", "is_complete_request", { code })) as Message<IsCompleteReplyContent>;
  }

  async history(content: HistoryRequestContent): Promise<Message<HistoryReplyContent>> {
    return (await this.request("shell", "history_request", content)) as Message<HistoryReplyContent>;
  }

  async commInfo(targetName?: string): Promise<Message<CommInfoReplyContent>> {
    const content = targetName === undefined ? {} : { target_name: targetName };
    return (await this.request("shell", "comm_info_request", content)) as Message<CommInfoReplyContent>;
  }

  /**
   * Interrupts the running cell: interrupt_request on control when the kernel's
   * interrupt_mode is "message" (resolving with the reply), else SIGINT.
   */
  async interrupt(timeoutMs?: number): Promise<Message<InterruptReplyContent> | undefined> {
    if (this.interruptMode === "message") {
      return (await this.request("control", "interrupt_request", {}, { timeoutMs })) as Message<InterruptReplyContent>;
    }
    if (!this.kernel) {
      throw new Error(`kernel "${this.name}": cannot send SIGINT to a kernel this client did not start; connect with interruptMode "message"`);
    }
    this.kernel.signal("SIGINT");
    return undefined;
  }

  /** Sends shutdown_request on control; for a launched kernel, also waits for (or forces) its exit. */
  async shutdown(options: { restart?: boolean; timeoutMs?: number } = {}): Promise<Message<ShutdownReplyContent>> {
    const timeoutMs = options.timeoutMs ?? SHUTDOWN_GRACE_MS;
    this.exitExpected = true;
    const reply = await this.request("control", "shutdown_request", { restart: options.restart ?? false }, { timeoutMs });
    if (this.kernel) {
      const exited = await within(this.kernel.exited.then(() => true), timeoutMs, false);
      if (!exited) await this.kernel.kill();
    }
    return reply as Message<ShutdownReplyContent>;
  }

  /** Restarts a launched kernel as a Jupyter kernel manager does: shutdown(restart), relaunch, wait. */
  async restart(startupTimeoutMs?: number): Promise<Message<KernelInfoReplyContent>> {
    if (!this.kernel) throw new Error(`kernel "${this.name}": only a kernel this client launched can be restarted`);
    if (this.kernel.running) {
      await this.shutdown({ restart: true }).catch(() => this.kernel?.kill());
    }
    await this.kernel.restart();
    this.exitExpected = false;
    this.failure = undefined;
    return this.waitForReady(startupTimeoutMs);
  }

  /** Sends a heartbeat and resolves with the round trip in milliseconds. */
  heartbeat(timeoutMs = 1000): Promise<number> {
    const beat = this.hbChain.then(() => this.beatOnce(timeoutMs));
    this.hbChain = beat.catch(() => undefined);
    return beat;
  }

  /** Answers an input_request (found via onMessage("stdin")) with `value`. */
  sendStdin(value: string, request: Message): Promise<void> {
    const frames = encode(this.signer, {
      identities: [],
      header: makeHeader("input_reply", this.session),
      parent_header: request.header,
      metadata: {},
      content: { value },
    });
    return this.enqueue(this.dealers.stdin, frames);
  }

  /** Closes the sockets; a launched kernel is killed and its connection file removed. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.exitExpected = true;
    this.fail(new KernelGoneError(`kernel "${this.name}": the client was closed`));
    for (const socket of [...Object.values(this.dealers), this.iopub, this.hb]) socket.close();
    await this.kernel?.dispose();
  }

  private async beatOnce(timeoutMs: number): Promise<number> {
    const payload = Buffer.from(randomUUID());
    const started = performance.now();
    this.hb.sendTimeout = timeoutMs;
    this.hb.receiveTimeout = timeoutMs;
    try {
      await this.hb.send(payload);
      const [echo] = await this.hb.receive();
      if (!echo.equals(payload)) throw new Error(`kernel "${this.name}": heartbeat echoed different bytes`);
      return performance.now() - started;
    } catch (e) {
      // A REQ socket that missed its reply cannot send again; replace it.
      this.hb.close();
      this.hb = this.openHeartbeat();
      if (e instanceof Error && (e as { code?: string }).code === "EAGAIN") {
        throw new KernelTimeoutError(`kernel "${this.name}": no heartbeat echo within ${timeoutMs} ms`);
      }
      throw e;
    }
  }

  private openHeartbeat(): zmq.Request {
    const hb = new zmq.Request({ linger: 0 });
    hb.connect(channelAddress(this.connectionInfo, "hb"));
    return hb;
  }

  /** ZeroMQ allows one send in flight per socket, so sends on a socket go one after another. */
  private enqueue(socket: zmq.Socket & zmq.Writable, frames: Buffer[]): Promise<void> {
    if (this.closed) return Promise.reject(this.failure);
    const previous = this.sendChains.get(socket) ?? Promise.resolve();
    const sent = previous.then(() => socket.send(frames));
    this.sendChains.set(
      socket,
      sent.catch(() => undefined),
    );
    return sent;
  }

  private expectReply(msgId: string, timeoutMs: number | undefined, what: string): Promise<Message> {
    const reply = new Promise<Message>((resolve) => this.replyHandlers.set(msgId, resolve));
    return this.guard(reply, timeoutMs, what).finally(() => this.replyHandlers.delete(msgId));
  }

  /** Wraps a wait so that it fails on timeout, on close and when the kernel dies. */
  private guard<T>(promise: Promise<T>, timeoutMs: number | undefined, what: string): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<T>((resolve, reject) => {
      const fail = (error: Error) => {
        cleanup();
        reject(error);
      };
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(
              () => fail(new KernelTimeoutError(`${what}: kernel "${this.name}" did not answer within ${timeoutMs} ms`)),
              timeoutMs,
            );
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters.delete(fail);
      };
      this.waiters.add(fail);
      promise.then(
        (value) => {
          cleanup();
          resolve(value);
        },
        (error: unknown) => {
          cleanup();
          reject(error);
        },
      );
    });
  }

  private fail(error: Error): void {
    this.failure = error;
    for (const reject of [...this.waiters]) reject(error);
  }

  private kernelExited(code: number | null, signal: NodeJS.Signals | null): void {
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    const stderr = this.kernel?.stderr.trim();
    const error = new KernelGoneError(`kernel "${this.name}" ${how}` + (stderr ? `; its stderr ends with:\n${stderr}` : ""));
    if (this.exitExpected) {
      this.failure ??= error; // Replies already in flight (e.g. shutdown_reply) may still land.
    } else {
      this.fail(error);
    }
  }

  private async pump(channel: ListenChannel, socket: zmq.Socket & zmq.Readable): Promise<void> {
    try {
      for await (const frames of socket) this.deliver(channel, frames);
    } catch {
      // The socket was closed under the loop; nothing more arrives on it.
    }
  }

  private deliver(channel: ListenChannel, frames: Buffer[]): void {
    let msg: Message;
    try {
      msg = decode(this.signer, frames);
    } catch {
      return; // Like a kernel, a client drops what it cannot verify.
    }
    for (const listener of this.listeners[channel]) listener(msg);
    const parent = parentId(msg);
    if (parent === undefined) return;
    if (channel === "iopub") {
      this.iopubByParent.get(parent)?.(msg);
    } else if (channel === "stdin") {
      if (msg.header.msg_type === "input_request") void this.answerInput(parent, msg);
    } else {
      this.replyHandlers.get(parent)?.(msg);
    }
  }

  private async answerInput(parent: string, request: Message): Promise<void> {
    const handler = this.inputHandlers.get(parent);
    if (!handler) return; // Left to onMessage("stdin") listeners, who answer with sendStdin.
    const { prompt, password } = request.content as InputRequestContent;
    let value = "";
    try {
      value = await handler(String(prompt ?? ""), password === true);
    } catch {
      // A failing handler still answers, or the kernel would wait for input forever.
    }
    await this.sendStdin(value, request).catch(() => undefined);
  }
}
