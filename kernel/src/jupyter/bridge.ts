// Messages between the transport thread (ZeroMQ sockets) and the kernel's
// executing thread. Both sides speak only these plain objects.
import type { JsonObject, MessageHeader } from "./wire.js";

/** A request as the executing thread sees it: no sockets, no identities. */
export interface BridgedRequest {
  channel: "shell" | "control";
  header: MessageHeader;
  parent_header: Partial<MessageHeader>;
  metadata: JsonObject;
  content: JsonObject;
}

export type ToExecutor =
  | { kind: "request"; request: BridgedRequest }
  | { kind: "interrupt" }
  | { kind: "input_reply"; requestId: string; value: string }
  | { kind: "flushed"; token: number }
  | { kind: "shutdown"; restart: boolean }
  | { kind: "ready" };

export type ToTransport =
  | { kind: "reply"; channel: "shell" | "control"; parent: MessageHeader; msgType: string; content: JsonObject; metadata?: JsonObject }
  | { kind: "publish"; parent: Partial<MessageHeader>; msgType: string; content: JsonObject; metadata?: JsonObject }
  | { kind: "input_request"; requestId: string; parent: MessageHeader; prompt: string; password: boolean }
  | { kind: "flush"; token: number }
  | { kind: "batch"; messages: ToTransport[] };

export interface TransportConfig {
  connection: import("./wire.js").ConnectionInfo;
  kernelInfo: JsonObject;
  /** Shared interrupt slots (see Interpreter's INTERRUPT_SLOTS). */
  interruptFlags: Int32Array;
  session: string;
}
