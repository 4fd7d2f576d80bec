// Loads the compiled addon. ESM cannot import a .node file directly, so the
// addon is loaded through a CommonJS require bound to this folder.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

// node-gyp writes Release builds by default and Debug builds with --debug.
const candidates = ["./build/Release/nbforge_native.node", "./build/Debug/nbforge_native.node"];

function loadAddon() {
  const failures = [];
  for (const path of candidates) {
    try {
      return require(path);
    } catch (error) {
      failures.push(`${path}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  throw new Error(
    "@nbforge/native: the compiled addon could not be loaded; build it with " +
      "`npm install` (or `npm rebuild @nbforge/native`) at the repository root.\n" +
      failures.join("\n"),
  );
}

const addon = loadAddon();

/** Version of the compiled addon. */
export const version = () => addon.version();

/** Whether this CPU runs the AVX2+FMA kernels. */
export const hasAvx2 = () => addon.hasAvx2();

/** Dot product of two equally long Float64Arrays. */
export const dot = (a, b) => addon.dot(a, b);

/**
 * The raw addon: every function each native module registers (see src/registry.h).
 * Typed wrappers live with the TypeScript code that uses them.
 */
export { addon };

export default { version, hasAvx2, dot, addon };
