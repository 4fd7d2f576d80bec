// `nbforge install` / `uninstall`: the kernelspec that makes Jupyter offer
// "TypeScript (nbforge)".
import { mkdirSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { logoPng, logoSvg } from "./logo.js";
import { sysPrefixDataDir, userDataDir } from "./paths.js";

export const KERNEL_NAME = "nbforge";
export const DISPLAY_NAME = "TypeScript (nbforge)";

export type InstallLocation = { kind: "user" } | { kind: "sys-prefix" } | { kind: "prefix"; prefix: string };

export function dataDirFor(location: InstallLocation): string {
  switch (location.kind) {
    case "user":
      return userDataDir();
    case "sys-prefix":
      return sysPrefixDataDir();
    case "prefix":
      return join(location.prefix, "share", "jupyter");
  }
}

export function kernelJson(): object {
  const cli = fileURLToPath(new URL("../cli.js", import.meta.url));
  return {
    argv: [process.execPath, cli, "kernel", "--connection-file", "{connection_file}"],
    display_name: DISPLAY_NAME,
    language: "typescript",
    interrupt_mode: "message",
    env: {},
    metadata: { debugger: false },
  };
}

/** Writes the kernelspec and returns its folder. */
export function installKernelspec(location: InstallLocation): string {
  const dir = join(dataDirFor(location), "kernels", KERNEL_NAME);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "kernel.json"), `${JSON.stringify(kernelJson(), null, 2)}\n`);
  writeFileSync(join(dir, "logo-32x32.png"), logoPng(32));
  writeFileSync(join(dir, "logo-64x64.png"), logoPng(64));
  writeFileSync(join(dir, "logo-svg.svg"), logoSvg());
  return dir;
}

/** Removes the kernelspec; returns the folder removed, if there was one. */
export function uninstallKernelspec(location: InstallLocation): string | undefined {
  const dir = join(dataDirFor(location), "kernels", KERNEL_NAME);
  if (!existsSync(dir)) return undefined;
  rmSync(dir, { recursive: true, force: true });
  return dir;
}
