// What the kernel says about itself in kernel_info_reply.
import { createRequire } from "node:module";
import { PROTOCOL_VERSION, type JsonObject } from "./wire.js";

const require = createRequire(import.meta.url);
const VERSION = (require("../../package.json") as { version: string }).version;
const TYPESCRIPT_VERSION = (require("typescript/package.json") as { version: string }).version;

export function kernelInfo(): JsonObject {
  return {
    status: "ok",
    protocol_version: PROTOCOL_VERSION,
    implementation: "nbforge",
    implementation_version: VERSION,
    language_info: {
      name: "typescript",
      version: TYPESCRIPT_VERSION,
      mimetype: "text/typescript",
      file_extension: ".ts",
      pygments_lexer: "typescript",
      codemirror_mode: { name: "javascript", typescript: true },
      nbconvert_exporter: "script",
    },
    banner: `nbforge ${VERSION}: typed TypeScript cells (TypeScript ${TYPESCRIPT_VERSION}, Node ${process.versions.node})`,
    help_links: [
      { text: "TypeScript handbook", url: "https://www.typescriptlang.org/docs/handbook/intro.html" },
      { text: "Node.js API", url: "https://nodejs.org/api/" },
    ],
    debugger: false,
  };
}
