// Cursor positions: the protocol (5.2 and later) counts them in Unicode code
// points, JavaScript strings in UTF-16 code units.

/** The UTF-16 offset of a protocol cursor position (the end of the code when absent). */
export function cursorOffset(code: string, cursorPos: unknown): number {
  if (typeof cursorPos !== "number") return code.length;
  let offset = 0;
  for (let points = 0; points < cursorPos && offset < code.length; points++) {
    offset += (code.codePointAt(offset) ?? 0) > 0xffff ? 2 : 1;
  }
  return offset;
}

/** The protocol position (code points) of a UTF-16 offset. */
export function codePoints(code: string, offset: number): number {
  return [...code.slice(0, offset)].length;
}
