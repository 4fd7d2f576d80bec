// Shared by the end-to-end browser test (tests/browser) and the live benchmark
// (bench/live.mjs): bundles a page that uses JupyterLab's packages and our
// renderers with esbuild, and launches Debian's headless chromium through
// playwright-core. Nothing is downloaded: the browser is the system's.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { chromium } from "playwright-core";

export const CHROMIUM = process.env.NBFORGE_CHROMIUM ?? "/usr/bin/chromium";

/** Why the browser cannot run here, or undefined when it can. */
export function chromiumMissing() {
  return existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is missing (apt-get install chromium, or set NBFORGE_CHROMIUM)`;
}

/**
 * Bundles `entry` (an ES module for the browser) into `outDir/page.js` next to an
 * HTML page `outDir/<name>.html` that loads it; returns the HTML's path.
 */
export async function bundlePage(entry, outDir, name = "index") {
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: [entry],
    bundle: true,
    format: "iife",
    platform: "browser",
    target: "chrome110",
    outfile: join(outDir, "page.js"),
    // JupyterLab packages import their icons as SVG text; their CSS is not needed here.
    loader: { ".svg": "text", ".css": "empty" },
    define: { "process.env.NODE_ENV": '"production"', global: "window" },
    logLevel: "warning",
  });
  const html = join(outDir, `${name}.html`);
  writeFileSync(html, `<!doctype html><html><head><meta charset="utf-8"><title>${name}</title></head><body><script src="page.js"></script></body></html>\n`);
  return html;
}

/**
 * Headless chromium as the issue asks: the system binary, no background
 * networking; shared memory in /tmp, since containers often give /dev/shm 64 MB.
 */
export function launchChromium(extraArgs = []) {
  return chromium.launch({ executablePath: CHROMIUM, args: ["--disable-background-networking", "--disable-dev-shm-usage", ...extraArgs] });
}
