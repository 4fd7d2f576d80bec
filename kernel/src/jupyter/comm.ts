// Comms: named two-way channels between kernel code and the front end
// (comm_open, comm_msg, comm_close), the transport that live plots use.
import { randomUUID } from "node:crypto";

export type CommData = { [key: string]: unknown };
type Publish = (msgType: "comm_open" | "comm_msg" | "comm_close", content: CommData, metadata?: CommData) => void;

export class Comm {
  private readonly messageHandlers: ((data: CommData) => void)[] = [];
  private readonly closeHandlers: ((data: CommData) => void)[] = [];
  closed = false;

  constructor(readonly id: string, readonly targetName: string, private readonly publish: Publish, private readonly onClosed: (c: Comm) => void) {}

  send(data: CommData, metadata: CommData = {}): void {
    if (this.closed) throw new Error(`comm ${this.id} (${this.targetName}) is closed; open a new one to send`);
    this.publish("comm_msg", { comm_id: this.id, data }, metadata);
  }

  close(data: CommData = {}): void {
    if (this.closed) return;
    this.publish("comm_close", { comm_id: this.id, data });
    this.closeLocally(data);
  }

  onMessage(handler: (data: CommData) => void): void {
    this.messageHandlers.push(handler);
  }

  onClose(handler: (data: CommData) => void): void {
    this.closeHandlers.push(handler);
  }

  /** @internal A message from the front end. */
  deliver(data: CommData): void {
    for (const h of this.messageHandlers) h(data);
  }

  /** @internal */
  closeLocally(data: CommData): void {
    this.closed = true;
    this.onClosed(this);
    for (const h of this.closeHandlers) h(data);
  }
}

export type CommTarget = (comm: Comm, data: CommData) => void;

export class CommManager {
  private readonly comms = new Map<string, Comm>();
  private readonly targets = new Map<string, CommTarget>();

  constructor(private readonly publish: Publish) {}

  /** Handles comms that the front end opens with this target name. */
  registerTarget(targetName: string, target: CommTarget): void {
    this.targets.set(targetName, target);
  }

  /** Opens a comm from the kernel side. */
  open(targetName: string, data: CommData = {}, metadata: CommData = {}): Comm {
    const comm = this.create(randomUUID(), targetName);
    this.publish("comm_open", { comm_id: comm.id, target_name: targetName, data }, metadata);
    return comm;
  }

  list(targetName?: string): { [id: string]: { target_name: string } } {
    const out: { [id: string]: { target_name: string } } = {};
    for (const c of this.comms.values()) if (!targetName || c.targetName === targetName) out[c.id] = { target_name: c.targetName };
    return out;
  }

  /** @internal comm_open from the front end. */
  opened(id: string, targetName: string, data: CommData): void {
    const target = this.targets.get(targetName);
    if (!target) {
      // The spec: reply to an unknown target by closing the comm.
      this.publish("comm_close", { comm_id: id, data: {} });
      return;
    }
    target(this.create(id, targetName), data);
  }

  /** @internal */
  message(id: string, data: CommData): void {
    this.comms.get(id)?.deliver(data);
  }

  /** @internal */
  closed(id: string, data: CommData): void {
    this.comms.get(id)?.closeLocally(data);
  }

  private create(id: string, targetName: string): Comm {
    const comm = new Comm(id, targetName, this.publish, (c) => this.comms.delete(c.id));
    this.comms.set(id, comm);
    return comm;
  }
}
