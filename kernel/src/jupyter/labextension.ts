// `nbforge install` also copies the prebuilt JupyterLab extension (built into
// extension/labextension by `npm install`) into the Jupyter data directory's
// labextensions/, next to the kernelspec, where JupyterLab 4 loads prebuilt
// extensions from; `nbforge uninstall` removes it.
import { cpSync, existsSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { dataDirFor, type InstallLocation } from "./kernelspec.js";

export const LABEXTENSION_NAME = "nbforge-jupyterlab";

/** The built extension: the workspace package's labextension/ folder, if it was built. */
export function builtLabextension(): string | undefined {
  const candidates: string[] = [];
  try {
    const require = createRequire(import.meta.url);
    candidates.push(join(dirname(require.resolve(`${LABEXTENSION_NAME}/package.json`)), "labextension"));
  } catch {
    // not resolvable as a package: fall back to the repository layout
  }
  candidates.push(fileURLToPath(new URL("../../../extension/labextension", import.meta.url)));
  return candidates.find((dir) => existsSync(join(dir, "package.json")));
}

/** Where JupyterLab looks for the extension: labextensions/<package name> (the built package is LABEXTENSION_NAME). */
function labextensionDir(location: InstallLocation): string {
  return join(dataDirFor(location), "labextensions", LABEXTENSION_NAME);
}

/** Copies the built extension; returns its folder, or undefined when there is none to copy. */
export function installLabextension(location: InstallLocation): string | undefined {
  const source = builtLabextension();
  if (!source) return undefined;
  const target = labextensionDir(location);
  rmSync(target, { recursive: true, force: true }); // no stale hashed chunks from an older build
  cpSync(source, target, { recursive: true });
  return target;
}

/** Removes the installed extension; returns the folder removed, if there was one. */
export function uninstallLabextension(location: InstallLocation): string | undefined {
  const target = labextensionDir(location);
  if (!existsSync(target)) return undefined;
  rmSync(target, { recursive: true, force: true });
  return target;
}
