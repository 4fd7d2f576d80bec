// Whether a cell is complete, needs more lines, or can never parse: what a
// console front end asks before sending code (is_complete_request).
import ts from "typescript";

export type Completeness = { status: "complete" } | { status: "incomplete"; indent: string } | { status: "invalid" };

export function completeness(code: string): Completeness {
  if (code.trim() === "") return { status: "complete" };
  const file = ts.createSourceFile("cell.ts", code, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  const errors = (file as unknown as { parseDiagnostics: ts.DiagnosticWithLocation[] }).parseDiagnostics;
  const depth = openBrackets(code);
  if (errors.length === 0) return depth.unterminated ? { status: "incomplete", indent: "" } : { status: "complete" };
  // An error at the very end of the input is one more line away from parsing.
  const end = code.trimEnd().length;
  const atEnd = errors.every((e) => e.start >= end || e.start + e.length >= end);
  if (atEnd && (depth.open > 0 || depth.unterminated)) return { status: "incomplete", indent: "  ".repeat(depth.open) };
  return { status: "invalid" };
}

/** Counts brackets still open at the end, and whether a string or template is unterminated. */
function openBrackets(code: string): { open: number; unterminated: boolean } {
  const scanner = ts.createScanner(ts.ScriptTarget.ES2022, false, ts.LanguageVariant.Standard, code);
  const stack: ("bracket" | "template")[] = [];
  let unterminated = false;
  const opens = new Set([ts.SyntaxKind.OpenBraceToken, ts.SyntaxKind.OpenParenToken, ts.SyntaxKind.OpenBracketToken]);
  const closes = new Set([ts.SyntaxKind.CloseBraceToken, ts.SyntaxKind.CloseParenToken, ts.SyntaxKind.CloseBracketToken]);
  for (let token = scanner.scan(); token !== ts.SyntaxKind.EndOfFileToken; token = scanner.scan()) {
    if (token === ts.SyntaxKind.CloseBraceToken && stack[stack.length - 1] === "template") {
      // This `}` ends a `${...}`: the template literal continues after it.
      token = scanner.reScanTemplateToken(false);
      if (token === ts.SyntaxKind.TemplateTail) stack.pop();
    } else if (opens.has(token)) stack.push("bracket");
    else if (closes.has(token)) stack.pop();
    else if (token === ts.SyntaxKind.TemplateHead) stack.push("template");
    if (scanner.isUnterminated()) unterminated = true;
  }
  return { open: stack.length, unterminated };
}
