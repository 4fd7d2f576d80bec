// Jupyter's data directories, in the order Jupyter searches them (jupyter_core's
// jupyter_path): JUPYTER_PATH entries, the user directory, the environment's
// prefix, then the system directories.
import { homedir } from "node:os";
import { join } from "node:path";

export function userDataDir(): string {
  if (process.env.JUPYTER_DATA_DIR) return process.env.JUPYTER_DATA_DIR;
  const xdg = process.env.XDG_DATA_HOME || join(homedir(), ".local", "share");
  return join(xdg, "jupyter");
}

/** The data directory of the Python environment's prefix (sys.prefix), as `--sys-prefix` uses. */
export function sysPrefixDataDir(): string {
  const prefix = process.env.CONDA_PREFIX || process.env.VIRTUAL_ENV || "/usr";
  return join(prefix, "share", "jupyter");
}

export function systemDataDirs(): string[] {
  return ["/usr/local/share/jupyter", "/usr/share/jupyter"];
}

export function jupyterDataPath(): string[] {
  const fromEnv = (process.env.JUPYTER_PATH ?? "").split(":").filter((p) => p !== "");
  const dirs = [...fromEnv, userDataDir(), sysPrefixDataDir(), ...systemDataDirs()];
  return dirs.filter((d, i) => dirs.indexOf(d) === i);
}

/** Every directory that may hold kernelspecs, most specific first. */
export function kernelspecDirs(): string[] {
  return jupyterDataPath().map((d) => join(d, "kernels"));
}
