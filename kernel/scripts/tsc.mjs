#!/usr/bin/env node
// Runs TypeScript 5.9's compiler. The `tsc` command may belong to the TypeScript 7
// package that the kernel uses as its native checker, so builds name 5.9 here.
//   node kernel/scripts/tsc.mjs -p tsconfig.json [--chmod-bin dist/cli.js]
import { createRequire } from "node:module";
import { chmodSync } from "node:fs";

const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const chmodAt = args.indexOf("--chmod-bin");
const executable = chmodAt >= 0 ? args.splice(chmodAt, 2)[1] : undefined;
const ts = require("typescript");
if (!ts.version.startsWith("5.")) throw new Error(`expected TypeScript 5.x for the build, found ${ts.version}`);

const parsed = ts.getParsedCommandLineOfConfigFile(args[args.indexOf("-p") + 1] ?? "tsconfig.json", {}, {
  ...ts.sys,
  onUnRecoverableConfigFileDiagnostic: (d) => {
    throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
  },
});
const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options, projectReferences: parsed.projectReferences });
const emitted = program.emit();
const diagnostics = [...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics];
if (diagnostics.length > 0) {
  const host = { getCanonicalFileName: (f) => f, getCurrentDirectory: ts.sys.getCurrentDirectory, getNewLine: () => "\n" };
  process.stderr.write(ts.formatDiagnosticsWithColorAndContext(diagnostics, host));
  process.exit(1);
}
if (executable) chmodSync(executable, 0o755);
