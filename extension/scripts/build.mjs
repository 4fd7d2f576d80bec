#!/usr/bin/env node
// Builds the JupyterLab extension without Python: TypeScript to lib/, then
// @jupyterlab/builder's build-labextension (webpack module federation) to
// labextension/, the folder `nbforge install` copies into Jupyter's
// labextensions directory. JupyterLab's core metadata, which the builder would
// read from the Python package, is in core/package.json.
//   node extension/scripts/build.mjs [--development]
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(dirname(fileURLToPath(import.meta.url)));
const require = createRequire(import.meta.url);
const run = (what, args) => {
  const started = Date.now();
  const result = spawnSync(process.execPath, args, { cwd: here, stdio: "inherit" });
  if (result.status !== 0) {
    console.error(`extension: ${what} failed (exit ${result.status ?? result.signal}); see the messages above`);
    process.exit(result.status ?? 1);
  }
  console.log(`extension: ${what} done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
};

run("TypeScript", [join(here, "..", "kernel", "scripts", "tsc.mjs"), "-p", "tsconfig.json"]);
const builder = require.resolve("@jupyterlab/builder/lib/build-labextension.js");
run("build-labextension", [builder, ...process.argv.slice(2), "--core-path", join(here, "core"), here]);
