// Kernelspec lookup, ports and connection files.
import {
  KernelSpecError,
  findKernelSpec,
  listKernelSpecs,
  newConnectionInfo,
  pickFreePorts,
  writeConnectionFile,
} from "nbforge/client";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

describe("kernelspecs", () => {
  let root: string;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "nbforge-specs-"));
    const write = (dir: string, name: string, spec: object) => {
      mkdirSync(join(root, dir, name), { recursive: true });
      writeFileSync(join(root, dir, name, "kernel.json"), JSON.stringify(spec));
    };
    write("a", "echo", { argv: ["echo", "{connection_file}"], display_name: "Echo A", language: "sh", interrupt_mode: "message" });
    write("b", "echo", { argv: ["echo"], display_name: "Echo B" });
    write("b", "broken", { argv: "not an array" });
    write("b", "badmode", { argv: ["x"], interrupt_mode: "telepathy" });
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  test("the first directory that holds a name wins, with its fields read", () => {
    const spec = findKernelSpec("ECHO", [join(root, "a"), join(root, "b")]);
    expect(spec).toMatchObject({
      name: "echo",
      displayName: "Echo A",
      language: "sh",
      interruptMode: "message",
      argv: ["echo", "{connection_file}"],
      resourceDir: join(root, "a", "echo"),
    });
    expect(findKernelSpec("echo", [join(root, "b")]).interruptMode).toBe("signal");
  });

  test("bad kernel.json files are reported by file and field", () => {
    expect(() => findKernelSpec("broken", [join(root, "b")])).toThrow(/broken[/\\]kernel\.json: "argv" must be a non-empty array/);
    expect(() => findKernelSpec("badmode", [join(root, "b")])).toThrow(/"interrupt_mode" must be "signal" or "message"/);
    expect(() => findKernelSpec("missing", [join(root, "b")])).toThrow(KernelSpecError);
  });

  test("listing skips broken specs and lists each name once", () => {
    const names = listKernelSpecs([join(root, "a"), join(root, "b")]).map((s) => s.name);
    expect(names.sort()).toEqual(["echo"]);
  });

  const withPythonSpec = listKernelSpecs().some((s) => s.name === "python3") ? test : test.skip;
  withPythonSpec("the python3 kernelspec of the system is found in Jupyter's data path", () => {
    const spec = findKernelSpec("python3");
    expect(spec.argv).toContain("{connection_file}");
    expect(spec.language).toBe("python");
  });
});

describe("connections", () => {
  test("free ports are distinct and can be bound", async () => {
    const ports = await pickFreePorts(5);
    expect(new Set(ports).size).toBe(5);
    for (const port of ports) {
      await new Promise<void>((resolve, reject) => {
        const server = createServer();
        server.once("error", reject);
        server.listen(port, "127.0.0.1", () => server.close(() => resolve()));
      });
    }
  });

  test("a connection file is private JSON with a 256-bit key", async () => {
    const info = await newConnectionInfo("127.0.0.1", "echo");
    expect(info.key).toMatch(/^[0-9a-f]{64}$/);
    expect(info.signature_scheme).toBe("hmac-sha256");
    expect(info.kernel_name).toBe("echo");
    const file = await writeConnectionFile(info);
    try {
      expect(JSON.parse(readFileSync(file, "utf8"))).toEqual(info);
      expect(statSync(file).mode & 0o777).toBe(0o600);
    } finally {
      rmSync(dirname(file), { recursive: true, force: true });
    }
  });
});
