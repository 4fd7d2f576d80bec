// `nbforge install | uninstall` and the command line's errors: the kernelspec
// files, the logos, where they go, and that Debian's jupyter_client finds them.
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inflateSync } from "node:zlib";
import { REPO_ROOT } from "./nbforge-kernel.js";

const CLI = join(REPO_ROOT, "kernel", "dist", "cli.js");
const PYTHON = "/usr/bin/python3";

function nbforge(args: string[], env: Record<string, string> = {}, timeoutMs = 20_000): SpawnSyncReturns<string> {
  const run = spawnSync(process.execPath, [CLI, ...args], {
    encoding: "utf8",
    env: { ...process.env, ...env },
    timeout: timeoutMs,
    cwd: tmpdir(),
  });
  if (run.error) throw run.error;
  return run;
}

/** The command's exit code; a command killed by the timeout counts as "still running". */
function exitOf(run: SpawnSyncReturns<string>): number | string {
  return run.status ?? `killed by ${run.signal} (still running)`;
}

// --- PNG: just enough of the format to check a file is a well-formed image ---

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

interface PngInfo {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  chunkTypes: string[];
  /** Inflated IDAT data length. */
  rawLength: number;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Parses a PNG's chunks, checking the signature, every CRC, IHDR first and IEND last. */
function parsePng(file: Buffer): PngInfo {
  expect(file.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
  const chunkTypes: string[] = [];
  const idat: Buffer[] = [];
  let ihdr: Buffer | undefined;
  let at = 8;
  while (at < file.length) {
    const length = file.readUInt32BE(at);
    const type = file.subarray(at + 4, at + 8).toString("latin1");
    const data = file.subarray(at + 8, at + 8 + length);
    const crc = file.readUInt32BE(at + 8 + length);
    expect({ chunk: type, crc: crc32(file.subarray(at + 4, at + 8 + length)) }).toEqual({ chunk: type, crc });
    chunkTypes.push(type);
    if (type === "IHDR") ihdr = data;
    if (type === "IDAT") idat.push(data);
    at += 12 + length;
  }
  expect(at).toBe(file.length);
  expect(chunkTypes[0]).toBe("IHDR");
  expect(chunkTypes[chunkTypes.length - 1]).toBe("IEND");
  expect(ihdr?.length).toBe(13);
  return {
    width: ihdr!.readUInt32BE(0),
    height: ihdr!.readUInt32BE(4),
    bitDepth: ihdr![8],
    colorType: ihdr![9],
    chunkTypes,
    rawLength: inflateSync(Buffer.concat(idat)).length,
  };
}

/** Bytes per pixel of 8-bit PNG colour types: grey, -, RGB, palette, grey+alpha, -, RGBA. */
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

describe("nbforge install / uninstall", () => {
  let prefix: string;
  let userDir: string;

  beforeAll(async () => {
    prefix = await mkdtemp(join(tmpdir(), "nbforge-prefix-"));
    userDir = await mkdtemp(join(tmpdir(), "nbforge-jupyter-data-"));
  });

  afterAll(async () => {
    for (const dir of [prefix, userDir]) if (dir) await rm(dir, { recursive: true, force: true });
  });

  const specDir = () => join(prefix, "share", "jupyter", "kernels", "nbforge");

  test("install --prefix writes kernel.json under <prefix>/share/jupyter/kernels/nbforge", () => {
    const run = nbforge(["install", "--prefix", prefix]);
    expect(exitOf(run)).toBe(0);
    expect(run.stdout).toContain(specDir());
    const spec = JSON.parse(readFileSync(join(specDir(), "kernel.json"), "utf8")) as Record<string, unknown>;
    expect(spec.display_name).toBe("TypeScript (nbforge)");
    expect(spec.language).toBe("typescript");
    expect(spec.interrupt_mode).toBe("message");
    const argv = spec.argv as string[];
    expect(Array.isArray(argv)).toBe(true);
    expect(argv).toContain("{connection_file}");
    // The command is runnable: an existing executable and the built CLI.
    expect(existsSync(argv[0])).toBe(true);
    expect(statSync(argv[0]).mode & 0o111).not.toBe(0);
    expect(argv).toContain(CLI);
    expect(argv).toContain("kernel");
  });

  const labextensionDir = () => join(prefix, "share", "jupyter", "labextensions", "nbforge-jupyterlab");

  test("install --prefix also copies the built JupyterLab extension into labextensions/", () => {
    const pkg = JSON.parse(readFileSync(join(labextensionDir(), "package.json"), "utf8")) as { name: string; jupyterlab?: { _build?: { load?: string } } };
    expect(pkg.name).toBe("nbforge-jupyterlab");
    // A prebuilt extension: JupyterLab loads the remote entry its _build names.
    const load = pkg.jupyterlab?._build?.load;
    expect(typeof load).toBe("string");
    expect(existsSync(join(labextensionDir(), load as string))).toBe(true);
  });

  test.each([[32, 32], [64, 64]])("logo-%ix%i.png is a valid PNG of that size", (size) => {
    const png = parsePng(readFileSync(join(specDir(), `logo-${size}x${size}.png`)));
    expect([png.width, png.height]).toEqual([size, size]);
    expect(png.bitDepth).toBe(8);
    expect(CHANNELS[png.colorType]).toBeDefined();
    // One filter byte per row, then the pixels.
    expect(png.rawLength).toBe(size * (1 + size * CHANNELS[png.colorType]));
  });

  test("Debian's jupyter_client sees the nbforge kernelspec", () => {
    const script = [
      "import json",
      "from jupyter_client.kernelspec import KernelSpecManager",
      "specs = KernelSpecManager().get_all_specs()",
      "print(json.dumps(specs))",
    ].join("\n");
    const run = spawnSync(PYTHON, ["-Xfrozen_modules=off", "-c", script], {
      encoding: "utf8",
      env: { ...process.env, JUPYTER_PATH: join(prefix, "share", "jupyter"), PYDEVD_DISABLE_FILE_VALIDATION: "1" },
      timeout: 30_000,
    });
    expect(run.status).toBe(0);
    const lines = run.stdout.trim().split("\n");
    const specs = JSON.parse(lines[lines.length - 1]) as Record<string, { resource_dir: string; spec: Record<string, unknown> }>;
    expect(Object.keys(specs)).toContain("nbforge");
    expect(specs.nbforge.resource_dir).toBe(specDir());
    expect(specs.nbforge.spec.display_name).toBe("TypeScript (nbforge)");
    expect(specs.nbforge.spec.language).toBe("typescript");
    expect(specs.nbforge.spec.interrupt_mode).toBe("message");
  });

  test("uninstall --prefix removes the kernelspec folder", () => {
    expect(existsSync(specDir())).toBe(true);
    const run = nbforge(["uninstall", "--prefix", prefix]);
    expect(exitOf(run)).toBe(0);
    expect(existsSync(specDir())).toBe(false);
    expect(existsSync(labextensionDir())).toBe(false);
    // Uninstalling again is harmless.
    expect(exitOf(nbforge(["uninstall", "--prefix", prefix]))).toBe(0);
  });

  test("install --user honours JUPYTER_DATA_DIR", () => {
    const run = nbforge(["install", "--user"], { JUPYTER_DATA_DIR: userDir });
    expect(exitOf(run)).toBe(0);
    const file = join(userDir, "kernels", "nbforge", "kernel.json");
    expect(existsSync(file)).toBe(true);
    expect((JSON.parse(readFileSync(file, "utf8")) as { display_name: string }).display_name).toBe("TypeScript (nbforge)");
    expect(exitOf(nbforge(["uninstall", "--user"], { JUPYTER_DATA_DIR: userDir }))).toBe(0);
    expect(existsSync(join(userDir, "kernels", "nbforge"))).toBe(false);
  });
});

describe("nbforge command line errors", () => {
  test("`nbforge kernel` without a connection file exits non-zero and says what is missing", () => {
    const run = nbforge(["kernel"], {}, 10_000);
    expect(exitOf(run)).not.toBe(0);
    expect(run.status).not.toBeNull();
    expect(run.stderr).toMatch(/connection.file/i);
  });

  test("an unknown command exits non-zero and names it", () => {
    const run = nbforge(["frobnicate"]);
    expect(exitOf(run)).not.toBe(0);
    expect(run.status).not.toBeNull();
    expect(run.stderr).toContain("frobnicate");
  });

  test("a connection file that does not exist: non-zero exit and a message naming the file", () => {
    const missing = "/nonexistent.json";
    expect(existsSync(missing)).toBe(false);
    const run = nbforge(["kernel", "--connection-file", missing], {}, 10_000);
    expect(exitOf(run)).not.toBe(0);
    expect(run.status).not.toBeNull();
    expect(run.stderr).toContain(missing);
  });

  test("--prefix without a value is a usage error", async () => {
    // Should it install anyway, let it not touch the real user data directory.
    const dataDir = await mkdtemp(join(tmpdir(), "nbforge-jupyter-data-"));
    const run = nbforge(["install", "--prefix"], { JUPYTER_DATA_DIR: dataDir });
    await rm(dataDir, { recursive: true, force: true });
    expect(exitOf(run)).not.toBe(0);
    expect(run.stderr).toMatch(/--prefix/);
  });
});
