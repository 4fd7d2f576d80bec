#!/usr/bin/env node
// nbforge install | uninstall | kernel | run | test
import { installKernelspec, uninstallKernelspec, type InstallLocation } from "./jupyter/kernelspec.js";
import { installLabextension, uninstallLabextension } from "./jupyter/labextension.js";

const USAGE = `usage:
  nbforge install [--user | --sys-prefix | --prefix P]   write the "TypeScript (nbforge)" kernelspec and the JupyterLab extension
  nbforge uninstall [--user | --sys-prefix | --prefix P] remove it
  nbforge kernel --connection-file FILE                 run the kernel (Jupyter starts this)
  nbforge run NOTEBOOK [-o OUT] [--kernel-name NAME]    execute a notebook and save it with its outputs
  nbforge test [NOTEBOOKS...] [options]                 re-run notebooks and compare with their saved outputs
                                                        (nbforge test --help lists the options)
  nbforge slam certify FILE.g2o [--json]                solve a SLAM problem locally and certify global optimality
                                                        (nbforge slam --help lists the options)`;

class UsageError extends Error {}

function option(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  if (at < 0) return undefined;
  const value = args[at + 1];
  if (value === undefined || value.startsWith("--")) throw new UsageError(`${name} needs a value`);
  args.splice(at, 2);
  return value;
}

function flag(args: string[], name: string): boolean {
  const at = args.indexOf(name);
  if (at >= 0) args.splice(at, 1);
  return at >= 0;
}

function location(args: string[]): InstallLocation {
  const prefix = option(args, "--prefix");
  if (prefix) return { kind: "prefix", prefix };
  if (flag(args, "--sys-prefix")) return { kind: "sys-prefix" };
  flag(args, "--user");
  return { kind: "user" };
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case "install": {
      const where = location(args);
      const dir = installKernelspec(where);
      console.log(`Installed kernelspec nbforge in ${dir}`);
      const extension = installLabextension(where);
      console.log(extension ? `Installed the JupyterLab extension in ${extension}` : "The JupyterLab extension is not built (run npm install in the repository); plots show as SVG");
      return 0;
    }
    case "uninstall": {
      const where = location(args);
      const dir = uninstallKernelspec(where);
      console.log(dir ? `Removed kernelspec nbforge from ${dir}` : "No nbforge kernelspec was installed there");
      const extension = uninstallLabextension(where);
      if (extension) console.log(`Removed the JupyterLab extension from ${extension}`);
      return 0;
    }
    case "kernel": {
      const file = option(args, "--connection-file") ?? option(args, "-f") ?? args[0];
      if (!file) throw new UsageError("kernel: pass --connection-file FILE (Jupyter fills in {connection_file})");
      const { runKernel } = await import("./jupyter/kernel.js");
      await runKernel(file);
      return -1; // keeps running
    }
    case "run": {
      const output = option(args, "-o") ?? option(args, "--output");
      const kernelName = option(args, "--kernel-name");
      const notebook = args[0];
      if (!notebook) throw new UsageError("run: which notebook? e.g. nbforge run notebooks/00-tour.ipynb -o out.ipynb");
      const { runNotebookCommand } = await import("./notebook/run-command.js");
      return runNotebookCommand(notebook, { output, kernelName });
    }
    case "test": {
      const { testCommand, TestUsageError, TEST_USAGE } = await import("./notebook/test/command.js");
      if (args.includes("-h") || args.includes("--help")) {
        console.log(TEST_USAGE);
        return 0;
      }
      try {
        return await testCommand(args);
      } catch (e) {
        if (e instanceof TestUsageError) throw new UsageError(e.message);
        throw e;
      }
    }
    case "slam": {
      const { slamCommand, SlamUsageError, SLAM_USAGE } = await import("./slam/cli.js");
      try {
        return await slamCommand(args);
      } catch (e) {
        if (e instanceof SlamUsageError) {
          console.error(`nbforge: ${e.message}\n\n${SLAM_USAGE}`);
          return 2;
        }
        throw e;
      }
    }
    case undefined:
    case "-h":
    case "--help":
      console.log(USAGE);
      return command ? 0 : 2;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof UsageError) console.error(`nbforge: ${e.message}\n\n${USAGE}`);
    else console.error(`nbforge: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 2;
  },
);
