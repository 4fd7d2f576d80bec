// Starting a kernel the way a Jupyter front end does: find its kernelspec,
// pick free ports, write a connection file and spawn the kernel's argv.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ConnectionInfo } from "../jupyter/wire.js";
import { kernelspecDirs } from "../jupyter/paths.js";

/** How a kernel wants to be interrupted (kernel.json's interrupt_mode). */
export type InterruptMode = "signal" | "message";

/** A kernelspec read from `<data dir>/kernels/<name>/kernel.json`. */
export interface KernelSpec {
  name: string;
  /** The directory that holds kernel.json (substituted for `{resource_dir}`). */
  resourceDir: string;
  argv: string[];
  displayName: string;
  language: string;
  env: Record<string, string>;
  interruptMode: InterruptMode;
  metadata: Record<string, unknown>;
}

export class KernelSpecError extends Error {}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === "string");
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === "string")
  );
}

/** Reads and checks one kernel.json; throws KernelSpecError naming the file and the bad field. */
export function readKernelSpec(resourceDir: string, name: string): KernelSpec {
  const file = join(resourceDir, "kernel.json");
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new KernelSpecError(`${file}: cannot read kernel.json: ${(e as Error).message}`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new KernelSpecError(`${file}: expected a JSON object`);
  }
  const spec = raw as Record<string, unknown>;
  if (!isStringArray(spec.argv) || spec.argv.length === 0) {
    throw new KernelSpecError(`${file}: "argv" must be a non-empty array of strings`);
  }
  if (spec.env !== undefined && !isStringRecord(spec.env)) {
    throw new KernelSpecError(`${file}: "env" must map names to strings`);
  }
  const interruptMode = spec.interrupt_mode ?? "signal";
  if (interruptMode !== "signal" && interruptMode !== "message") {
    throw new KernelSpecError(`${file}: "interrupt_mode" must be "signal" or "message", found ${JSON.stringify(interruptMode)}`);
  }
  const metadata = spec.metadata;
  return {
    name,
    resourceDir,
    argv: spec.argv,
    displayName: typeof spec.display_name === "string" ? spec.display_name : name,
    language: typeof spec.language === "string" ? spec.language : "",
    env: spec.env ?? {},
    interruptMode,
    metadata: typeof metadata === "object" && metadata !== null ? (metadata as Record<string, unknown>) : {},
  };
}

/** Every installed kernelspec; the first directory that holds a name wins, as in Jupyter. */
export function listKernelSpecs(dirs: string[] = kernelspecDirs()): KernelSpec[] {
  const found = new Map<string, KernelSpec>();
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    for (const entry of readdirSync(dir)) {
      const resourceDir = join(dir, entry);
      const name = entry.toLowerCase(); // Jupyter treats kernel names case-insensitively.
      if (found.has(name) || !existsSync(join(resourceDir, "kernel.json"))) continue;
      if (!statSync(resourceDir).isDirectory()) continue;
      try {
        found.set(name, readKernelSpec(resourceDir, name));
      } catch {
        // A broken spec elsewhere must not hide the others; findKernelSpec reports it by name.
      }
    }
  }
  return [...found.values()];
}

/** Finds the kernelspec called `name`; the error lists the kernels that are installed. */
export function findKernelSpec(name: string, dirs: string[] = kernelspecDirs()): KernelSpec {
  const wanted = name.toLowerCase();
  for (const dir of dirs) {
    for (const entry of new Set([name, wanted])) {
      const resourceDir = join(dir, entry);
      if (existsSync(join(resourceDir, "kernel.json"))) return readKernelSpec(resourceDir, wanted);
    }
  }
  const installed = listKernelSpecs(dirs).map((s) => s.name);
  throw new KernelSpecError(
    `no kernelspec named "${name}" in ${dirs.join(", ")}; installed: ${installed.join(", ") || "none"}` +
      (wanted === "nbforge" ? ` (run "nbforge install" to install it)` : ""),
  );
}

/** Asks the OS for `count` distinct free TCP ports on `ip`. */
export async function pickFreePorts(count: number, ip = "127.0.0.1"): Promise<number[]> {
  // Hold every server open until all ports are known, so the OS cannot hand one out twice.
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const server = createServer();
          server.unref();
          server.once("error", reject);
          server.listen(0, ip, () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => {
    const address = s.address();
    if (address === null || typeof address === "string") throw new Error("listening server has no TCP port");
    return address.port;
  });
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  return ports;
}

/** A fresh connection (ports and a random HMAC key) for a kernel on `ip`. */
export async function newConnectionInfo(ip = "127.0.0.1", kernelName?: string): Promise<ConnectionInfo> {
  const [shell, iopub, stdin, control, hb] = await pickFreePorts(5, ip);
  return {
    transport: "tcp",
    ip,
    shell_port: shell,
    iopub_port: iopub,
    stdin_port: stdin,
    control_port: control,
    hb_port: hb,
    key: randomBytes(32).toString("hex"),
    signature_scheme: "hmac-sha256",
    ...(kernelName !== undefined ? { kernel_name: kernelName } : {}),
  };
}

/** Writes `info` as `kernel-<id>.json` in a new private temporary directory. */
export async function writeConnectionFile(info: ConnectionInfo): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "nbforge-kernel-"));
  const file = join(dir, `kernel-${randomBytes(6).toString("hex")}.json`);
  await writeFile(file, JSON.stringify(info, null, 1) + "\n", { mode: 0o600 });
  return file;
}

export interface LaunchOptions {
  /** The kernelspec to look up; required unless argv is given (then it only names the kernel). */
  kernelName?: string;
  /** An explicit command line instead of a kernelspec; `{connection_file}` is substituted. */
  argv?: string[];
  cwd?: string;
  /** Extra environment variables, applied over the current environment and the spec's env. */
  env?: Record<string, string>;
  /** Overrides the spec's interrupt_mode; an explicit argv defaults to "signal". */
  interruptMode?: InterruptMode;
  ip?: string;
}

export interface KernelExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const STDERR_TAIL_CHARS = 8000;

/** A kernel process started from a kernelspec or argv, with its connection file. */
export class LaunchedKernel {
  /** Settles when the process exits (also after a restart's replacement exits). */
  exited: Promise<KernelExit>;
  private child: ChildProcess;
  private stderrTail = "";
  private exitListeners = new Set<(exit: KernelExit) => void>();
  private cleanedUp = false;
  private alive = false;

  private constructor(
    readonly name: string,
    readonly argv: string[],
    readonly connectionInfo: ConnectionInfo,
    readonly connectionFile: string,
    readonly interruptMode: InterruptMode,
    private readonly spawnOptions: { cwd?: string; env: NodeJS.ProcessEnv },
  ) {
    this.child = this.spawnProcess();
    this.exited = this.watchExit(this.child);
  }

  static async start(options: LaunchOptions = {}): Promise<LaunchedKernel> {
    if (!options.argv && !options.kernelName) {
      throw new KernelSpecError(`launch: pass a kernelspec name (e.g. "python3") or an argv with {connection_file}`);
    }
    const spec = options.argv ? undefined : findKernelSpec(options.kernelName!);
    const template = options.argv ?? spec!.argv;
    if (template.length === 0) throw new KernelSpecError("argv: expected a command, found an empty array");
    const name = spec?.name ?? options.kernelName ?? template.join(" ");
    const info = await newConnectionInfo(options.ip, spec?.name ?? options.kernelName);
    const connectionFile = await writeConnectionFile(info);
    const argv = template.map((arg) =>
      arg.replaceAll("{connection_file}", connectionFile).replaceAll("{resource_dir}", spec?.resourceDir ?? ""),
    );
    const env = { ...process.env, ...(spec?.env ?? {}), ...(options.env ?? {}) };
    const interruptMode = options.interruptMode ?? spec?.interruptMode ?? "signal";
    return new LaunchedKernel(name, argv, info, connectionFile, interruptMode, { cwd: options.cwd, env });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.alive;
  }

  /** The last few kilobytes the kernel wrote to stderr, for error messages. */
  get stderr(): string {
    return this.stderrTail;
  }

  /** Called with the exit status whenever the kernel process ends. */
  onExit(listener: (exit: KernelExit) => void): () => void {
    this.exitListeners.add(listener);
    return () => this.exitListeners.delete(listener);
  }

  /** Sends a signal to the kernel's process group, so that its children get it too. */
  signal(signal: NodeJS.Signals): void {
    if (!this.running || this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      this.child.kill(signal);
    }
  }

  /** Starts the same command again with the same connection file (after the old process has ended). */
  async restart(): Promise<void> {
    if (this.running) await this.kill();
    this.child = this.spawnProcess();
    this.exited = this.watchExit(this.child);
  }

  /** Ends the process: SIGTERM, then SIGKILL after `graceMs`. */
  async kill(graceMs = 2000): Promise<KernelExit> {
    if (!this.running) return this.exited;
    this.signal("SIGTERM");
    const timer = setTimeout(() => this.signal("SIGKILL"), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Kills the process and removes the connection file's directory. */
  async dispose(): Promise<void> {
    await this.kill();
    if (this.cleanedUp) return;
    this.cleanedUp = true;
    await rm(join(this.connectionFile, ".."), { recursive: true, force: true });
  }

  private spawnProcess(): ChildProcess {
    const [command, ...args] = this.argv;
    // A new process group (detached) lets signal() reach the kernel's own children.
    const child = spawn(command, args, {
      cwd: this.spawnOptions.cwd,
      env: this.spawnOptions.env,
      stdio: ["ignore", "ignore", "pipe"],
      detached: true,
    });
    this.alive = true;
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-STDERR_TAIL_CHARS);
    });
    return child;
  }

  private watchExit(child: ChildProcess): Promise<KernelExit> {
    return new Promise((resolve) => {
      let finished = false;
      const finish = (exit: KernelExit) => {
        if (finished) return;
        finished = true;
        if (child === this.child) this.alive = false;
        resolve(exit);
        for (const listener of this.exitListeners) listener(exit);
      };
      child.once("error", (e) => {
        this.stderrTail += `\ncannot start ${this.argv[0]}: ${e.message}`;
        finish({ code: null, signal: null });
      });
      child.once("exit", (code, signal) => {
        // Let the last stderr arrive ("close"), unless a grandchild keeps the pipe open.
        const timer = setTimeout(() => finish({ code, signal }), 200);
        child.once("close", () => {
          clearTimeout(timer);
          finish({ code, signal });
        });
      });
    });
  }
}
