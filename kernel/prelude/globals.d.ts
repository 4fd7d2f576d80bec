// Globals that the nbforge kernel defines in every cell.
export {};

declare global {
  /** A mime bundle: mime type to data, e.g. { "text/html": "<b>hi</b>" }. */
  type MimeBundle = { [mime: string]: unknown };

  interface DisplayOptions {
    /** Give the output a display id so that it can be updated later; `true` makes one up. */
    id?: true | string;
    metadata?: { [mime: string]: unknown };
  }

  /** A handle on a displayed output. */
  interface DisplayHandle {
    readonly displayId: string;
    /** Replaces the output in place (update_display_data). */
    update(value: unknown): void;
  }

  interface DisplayFunction {
    /** Shows a value richly: its `Symbol.for("Jupyter.display")` bundle, or text. */
    (value: unknown, options?: DisplayOptions): DisplayHandle;
    html(html: string, options?: DisplayOptions): DisplayHandle;
    markdown(markdown: string, options?: DisplayOptions): DisplayHandle;
    svg(svg: string, options?: DisplayOptions): DisplayHandle;
    /** PNG bytes or base64 text. */
    png(png: Uint8Array | string, options?: DisplayOptions): DisplayHandle;
    json(value: unknown, options?: DisplayOptions): DisplayHandle;
    latex(latex: string, options?: DisplayOptions): DisplayHandle;
    /** Shows a ready mime bundle as it is. */
    bundle(bundle: MimeBundle, options?: DisplayOptions): DisplayHandle;
  }

  /** Shows a value in the cell's output. */
  const display: DisplayFunction;

  /** Clears the cell's output; with `wait`, only when the next output arrives. */
  function clearOutput(options?: { wait?: boolean }): void;

  /** Asks the user for a line of text through the front end. */
  function input(prompt?: string, options?: { password?: boolean }): Promise<string>;

  /** Kernel settings that a cell may change. */
  const kernel: {
    /** Type-check cells before running them (default true). `// @ts-nocheck` skips one cell. */
    typeCheck: boolean;
    /** Comms with the front end (Jupyter widgets protocol). */
    readonly comm: import("nbforge").CommManager;
  };
}
