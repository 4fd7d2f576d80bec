// The Jupyter wire format (messaging spec 5.3): message types, HMAC signing and
// the multipart frame layout shared by the kernel's transport and the client.
import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";

export const PROTOCOL_VERSION = "5.3";
const DELIMITER = "<IDS|MSG>";

export type JsonObject = { [key: string]: unknown };

export interface MessageHeader {
  msg_id: string;
  session: string;
  username: string;
  date: string;
  msg_type: string;
  version: string;
}

export interface Message<C extends JsonObject = JsonObject> {
  /** ZeroMQ routing identities that precede the delimiter (shell, control, stdin). */
  identities: Buffer[];
  header: MessageHeader;
  parent_header: Partial<MessageHeader>;
  metadata: JsonObject;
  content: C;
  buffers: Buffer[];
}

/** The connection file that Jupyter writes for a kernel. */
export interface ConnectionInfo {
  transport: "tcp" | "ipc";
  ip: string;
  shell_port: number;
  iopub_port: number;
  stdin_port: number;
  control_port: number;
  hb_port: number;
  key: string;
  signature_scheme: string;
  kernel_name?: string;
}

export type Channel = "shell" | "iopub" | "stdin" | "control" | "hb";

export function channelAddress(info: ConnectionInfo, channel: Channel): string {
  const port = info[`${channel}_port` as const];
  return info.transport === "ipc" ? `ipc://${info.ip}-${port}` : `tcp://${info.ip}:${port}`;
}

export function makeHeader(msgType: string, session: string, username = "nbforge"): MessageHeader {
  return {
    msg_id: randomUUID(),
    session,
    username,
    date: new Date().toISOString(),
    msg_type: msgType,
    version: PROTOCOL_VERSION,
  };
}

/** Signs and verifies frames with the connection's key (HMAC-SHA256 by default). */
export class Signer {
  private readonly algorithm: string | null;

  constructor(private readonly key: string, scheme = "hmac-sha256") {
    if (key === "") {
      this.algorithm = null; // An empty key disables signing, as the spec allows.
      return;
    }
    const match = /^hmac-(.+)$/.exec(scheme);
    if (!match) throw new Error(`signature_scheme "${scheme}": expected "hmac-<digest>", e.g. "hmac-sha256"`);
    this.algorithm = match[1];
  }

  sign(frames: Buffer[]): string {
    if (this.algorithm === null) return "";
    const hmac = createHmac(this.algorithm, this.key);
    for (const frame of frames) hmac.update(frame);
    return hmac.digest("hex");
  }

  verify(signature: string, frames: Buffer[]): boolean {
    if (this.algorithm === null) return true;
    const expected = Buffer.from(this.sign(frames));
    const given = Buffer.from(signature);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }
}

export class WireError extends Error {}

/** Serializes a message into the multipart frames that go on a socket. */
export function encode(signer: Signer, msg: Omit<Message, "buffers"> & { buffers?: Buffer[] }): Buffer[] {
  const parts = [msg.header, msg.parent_header, msg.metadata, msg.content].map((part) =>
    Buffer.from(JSON.stringify(part)),
  );
  return [
    ...msg.identities,
    Buffer.from(DELIMITER),
    Buffer.from(signer.sign(parts)),
    ...parts,
    ...(msg.buffers ?? []),
  ];
}

/** Parses multipart frames; throws WireError for a malformed or badly signed message. */
export function decode(signer: Signer, frames: Buffer[]): Message {
  const delimiterAt = frames.findIndex((f) => f.length === DELIMITER.length && f.toString() === DELIMITER);
  if (delimiterAt < 0) throw new WireError("no <IDS|MSG> delimiter frame");
  if (frames.length < delimiterAt + 6) {
    throw new WireError(`expected at least 5 frames after the delimiter, found ${frames.length - delimiterAt - 1}`);
  }
  const signature = frames[delimiterAt + 1].toString();
  const parts = frames.slice(delimiterAt + 2, delimiterAt + 6);
  if (!signer.verify(signature, parts)) throw new WireError("bad HMAC signature");
  const [header, parent_header, metadata, content] = parts.map((p, i) => {
    try {
      const value: unknown = JSON.parse(p.toString());
      if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error("not an object");
      return value as JsonObject;
    } catch (e) {
      const name = ["header", "parent_header", "metadata", "content"][i];
      throw new WireError(`${name} frame is not a JSON object: ${(e as Error).message}`);
    }
  });
  if (typeof header.msg_type !== "string" || typeof header.msg_id !== "string") {
    throw new WireError("header lacks msg_type or msg_id");
  }
  return {
    identities: frames.slice(0, delimiterAt),
    header: header as unknown as MessageHeader,
    parent_header: parent_header as Partial<MessageHeader>,
    metadata,
    content,
    buffers: frames.slice(delimiterAt + 6),
  };
}
