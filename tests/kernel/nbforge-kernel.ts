// Launching our own kernel from the build (kernel/dist/cli.js), as Jupyter would.
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { KernelClient, type ClientLaunchOptions, type ExecuteOutcome, type Message } from "nbforge/client";

/** The repository root, found from this file (tests/dist/kernel/ after compilation). */
export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export const NBFORGE_ARGV = ["node", join(REPO_ROOT, "kernel", "dist", "cli.js"), "kernel", "--connection-file", "{connection_file}"];

/** How our kernel is started: its kernelspec's argv and interrupt_mode "message". */
export function nbforgeOptions(extra: ClientLaunchOptions = {}): ClientLaunchOptions {
  return { argv: NBFORGE_ARGV, interruptMode: "message", startupTimeoutMs: 30_000, ...extra };
}

export function launchNbforge(extra: ClientLaunchOptions = {}): Promise<KernelClient> {
  return KernelClient.launch(nbforgeOptions(extra));
}

export function ofType(messages: Message[], type: string): Message[] {
  return messages.filter((m) => m.header.msg_type === type);
}

/** The concatenated text of one stream ("stdout" or "stderr") among the messages. */
export function streamText(messages: Message[], name: "stdout" | "stderr"): string {
  return ofType(messages, "stream")
    .filter((m) => m.content.name === name)
    .map((m) => String(m.content.text))
    .join("");
}

export function textPlain(msg: Message | undefined): string {
  const data = msg?.content.data as Record<string, unknown> | undefined;
  return String(data?.["text/plain"] ?? "");
}

export function stripAnsi(text: string): string {
  return text.replace(/\u001b\[[0-9;]*m/g, "");
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** "ok", or "error: <ename>: <evalue>" so that a failing assertion shows why. */
export function statusOf(outcome: ExecuteOutcome): string {
  const c = outcome.reply.content;
  return c.status === "error" ? `error: ${String(c.ename)}: ${stripAnsi(String(c.evalue))}` : String(c.status);
}

/** The text/plain of a cell's execute_result, asserting that the cell succeeded. */
export function result(outcome: ExecuteOutcome): string {
  expect(statusOf(outcome)).toBe("ok");
  const [res] = ofType(outcome.outputs, "execute_result");
  expect(res).toBeDefined();
  return textPlain(res);
}
