// display(): rich output as a protocol. A value with a method at
// Symbol.for("Jupyter.display") returning a mime bundle shows as that bundle;
// anything else shows as text. Primitives implement the protocol without knowing
// Jupyter; the kernel installs a sink that turns displays into messages, and in a
// plain Node script the text form goes to stdout.
import { randomUUID } from "node:crypto";
import { inspect } from "node:util";

export const DISPLAY_PROTOCOL = Symbol.for("Jupyter.display");

export type MimeBundle = { [mime: string]: unknown };

export interface Displayable {
  [DISPLAY_PROTOCOL](): MimeBundle;
}

export interface DisplayOptions {
  /** Give the output a display id so that it can be updated later; `true` makes one up. */
  id?: true | string;
  metadata?: { [mime: string]: unknown };
}

/** Where displays go: the kernel's messages, or stdout outside a kernel. */
export interface DisplaySink {
  display(bundle: MimeBundle, metadata: { [mime: string]: unknown }, displayId: string | undefined, update: boolean): void;
  clearOutput(wait: boolean): void;
}

const stdoutSink: DisplaySink = {
  display: (bundle) => process.stdout.write(`${String(bundle["text/plain"] ?? "")}\n`),
  clearOutput: () => {},
};

let sink: DisplaySink = stdoutSink;

export function setDisplaySink(next: DisplaySink | undefined): void {
  sink = next ?? stdoutSink;
}

/** Whether displays reach a front end (a kernel installed its sink) rather than stdout. */
export function hasDisplaySink(): boolean {
  return sink !== stdoutSink;
}

/** The text form of any value, as the kernel shows results. */
export function textOf(value: unknown): string {
  return inspect(value, { depth: 4, colors: false, maxArrayLength: 100 });
}

/** A value's mime bundle; it always carries text/plain. */
export function mimeBundleOf(value: unknown): MimeBundle {
  const method = value !== null && (typeof value === "object" || typeof value === "function")
    ? (value as Partial<Displayable>)[DISPLAY_PROTOCOL]
    : undefined;
  if (typeof method === "function") {
    const bundle = method.call(value);
    if (bundle === null || typeof bundle !== "object") {
      throw new TypeError(`[Symbol.for("Jupyter.display")]() must return a mime bundle object, got ${textOf(bundle)}`);
    }
    return "text/plain" in bundle ? { ...bundle } : { ...bundle, "text/plain": textOf(value) };
  }
  return { "text/plain": textOf(value) };
}

export class DisplayHandle {
  constructor(readonly displayId: string, private readonly metadata: { [mime: string]: unknown }) {}

  /** Replaces the displayed output in place. */
  update(value: unknown): void {
    sink.display(mimeBundleOf(value), this.metadata, this.displayId, true);
  }
}

function show(bundle: MimeBundle, options: DisplayOptions = {}): DisplayHandle {
  const displayId = options.id === true ? randomUUID() : options.id;
  const metadata = options.metadata ?? {};
  sink.display(bundle, metadata, displayId, false);
  return new DisplayHandle(displayId ?? "", metadata);
}

/** Wraps a ready bundle so that `update()` of a handle can take it too. */
function bundleValue(bundle: MimeBundle): Displayable {
  return { [DISPLAY_PROTOCOL]: () => bundle };
}

function base64(png: Uint8Array | string): string {
  return typeof png === "string" ? png : Buffer.from(png).toString("base64");
}

export const display = Object.assign((value: unknown, options?: DisplayOptions) => show(mimeBundleOf(value), options), {
  bundle: (bundle: MimeBundle, options?: DisplayOptions) => show(mimeBundleOf(bundleValue(bundle)), options),
  html: (html: string, options?: DisplayOptions) => show({ "text/html": html, "text/plain": "<HTML>" }, options),
  markdown: (md: string, options?: DisplayOptions) => show({ "text/markdown": md, "text/plain": md }, options),
  svg: (svg: string, options?: DisplayOptions) => show({ "image/svg+xml": svg, "text/plain": "<SVG>" }, options),
  png: (png: Uint8Array | string, options?: DisplayOptions) => show({ "image/png": base64(png), "text/plain": "<PNG>" }, options),
  json: (value: unknown, options?: DisplayOptions) => show({ "application/json": value, "text/plain": textOf(value) }, options),
  latex: (latex: string, options?: DisplayOptions) => show({ "text/latex": latex, "text/plain": latex }, options),
});

export function clearOutput(options: { wait?: boolean } = {}): void {
  sink.clearOutput(options.wait ?? false);
}
