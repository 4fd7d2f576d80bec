// nbforge's notebook regression tester (`nbforge test`): nbval's rules and more.
export * from "./markers.js";
export * from "./sanitize.js";
export * from "./normalize.js";
export * from "./image.js";
export * from "./compare.js";
export * from "./execute.js";
export * from "./tester.js";
export * from "./report.js";
export * from "./paths.js";
export * from "./command.js";
