// Turns one TypeScript cell into a script that runs in the kernel's global scope.
//
// The cell is transpiled by TypeScript (types erased, with a source map), then its
// top-level declarations are rewritten into assignments to globals, so that a later
// cell sees them and a re-run cell may declare them again. Everything is wrapped in
// an async function so that top-level `await` works, and the last expression
// statement becomes the function's return value (the cell's result).
// Rewrites never add or remove line breaks, so a line of the output is the same
// line of the transpiled JavaScript and the source map still applies.
import ts from "typescript";
import { insertInterruptChecks } from "./interrupt-checks.js";

export interface CompiledCell {
  /** A script whose completion value is a Promise of the cell's result. */
  script: string;
  /** Source map from the transpiled JavaScript back to the TypeScript cell. */
  sourceMap: string;
  /** Globals the cell declares; the runtime creates them before running it. */
  declaredNames: string[];
  /** Whether the cell ends in an expression whose value is the result. */
  hasResult: boolean;
  /** Characters the wrapper puts before the JavaScript on line 1 (for mapping columns). */
  firstLineShift: number;
}

/** Runtime helpers the compiled script calls; the runtime puts them on globalThis. */
export const RUNTIME = {
  importModule: "__nbforge_import",
  scope: "globalThis",
} as const;

interface Edit {
  start: number;
  end: number;
  text: string;
}

export function compileCell(source: string, fileName: string): CompiledCell {
  const transpiled = ts.transpileModule(source, {
    fileName,
    reportDiagnostics: false,
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      sourceMap: true,
      inlineSources: true,
      removeComments: false,
      esModuleInterop: true,
      experimentalDecorators: false,
      useDefineForClassFields: true,
      // Keep imports whose bindings this cell does not use: later cells may use them.
      verbatimModuleSyntax: true,
    },
    transformers: { before: [insertInterruptChecks] },
  });
  const js = transpiled.outputText.replace(/\n\/\/# sourceMappingURL=.*\s*$/, "\n");
  const file = ts.createSourceFile("cell.js", js, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);

  const edits: Edit[] = [];
  const declared = new Set<string>();
  const hoistedFunctions: string[] = [];
  let importCount = 0;
  let hasResult = false;

  const statements = file.statements;
  statements.forEach((statement, index) => {
    const isLast = index === statements.length - 1;
    if (ts.isImportDeclaration(statement)) {
      edits.push(rewriteImport(statement, file, `__nbforge_m${importCount++}`, declared));
    } else if (ts.isExportDeclaration(statement)) {
      edits.push(blankOut(statement, file)); // `export { a }` has no meaning in a notebook
    } else if (ts.isExportAssignment(statement)) {
      edits.push({ start: statement.getStart(file), end: statement.expression.getStart(file), text: "" });
    } else if (ts.isVariableStatement(statement)) {
      edits.push(...rewriteVariables(statement, file, declared));
    } else if (ts.isFunctionDeclaration(statement) && statement.name) {
      edits.push(...stripModifiers(statement, file));
      declared.add(statement.name.text);
      hoistedFunctions.push(statement.name.text);
    } else if (ts.isClassDeclaration(statement) && statement.name) {
      const name = statement.name.text;
      declared.add(name);
      const strip = stripModifiers(statement, file);
      const classKeyword = statement.getChildren(file).find((c) => c.kind === ts.SyntaxKind.ClassKeyword);
      const at = classKeyword!.getStart(file);
      edits.push(...strip, { start: at, end: at, text: `${name} = ` }, { start: statement.end, end: statement.end, text: ";" });
    } else if (isLast && ts.isExpressionStatement(statement)) {
      hasResult = true;
      const expr = statement.expression;
      edits.push({ start: expr.getStart(file), end: expr.getStart(file), text: "return (" });
      edits.push({ start: expr.end, end: expr.end, text: ")" });
    }
  });

  const body = applyEdits(js, edits);
  // Function declarations are hoisted inside the wrapper; publish them before any
  // statement runs, as a script's function declarations would be.
  const publish = hoistedFunctions.map((n) => `${RUNTIME.scope}.${n} = ${n};`).join(" ");
  const opening = `(async () => { "use strict"; ${publish}`;
  return {
    script: `${opening}${body}\n})()`,
    sourceMap: transpiled.sourceMapText ?? "",
    declaredNames: [...declared],
    hasResult,
    firstLineShift: opening.length,
  };
}

function applyEdits(text: string, edits: Edit[]): string {
  const sorted = [...edits].sort((a, b) => a.start - b.start || a.end - b.end);
  let out = "";
  let at = 0;
  for (const e of sorted) {
    out += text.slice(at, e.start) + e.text;
    at = Math.max(at, e.end);
  }
  return out + text.slice(at);
}

/** Replaces a node with blank lines, keeping the line count. */
function blankOut(node: ts.Node, file: ts.SourceFile, replacement = ""): Edit {
  const start = node.getStart(file);
  const newlines = file.text.slice(start, node.end).split("\n").length - 1;
  return { start, end: node.end, text: replacement + "\n".repeat(newlines) };
}

function stripModifiers(node: ts.Node, file: ts.SourceFile): Edit[] {
  const modifiers = ts.canHaveModifiers(node) ? ts.getModifiers(node) ?? [] : [];
  return modifiers
    .filter((m) => m.kind === ts.SyntaxKind.ExportKeyword || m.kind === ts.SyntaxKind.DefaultKeyword)
    .map((m) => ({ start: m.getStart(file), end: m.end, text: "" }));
}

/** `const a = 1, {b} = o;` becomes `(a = 1), ({b} = o);` */
function rewriteVariables(statement: ts.VariableStatement, file: ts.SourceFile, declared: Set<string>): Edit[] {
  const list = statement.declarationList;
  const isVar = (list.flags & (ts.NodeFlags.Let | ts.NodeFlags.Const)) === 0;
  const edits: Edit[] = [];
  // Remove `export const ` up to the first declaration.
  edits.push({ start: statement.getStart(file), end: list.declarations[0].getStart(file), text: "" });
  for (const decl of list.declarations) {
    for (const name of bindingNames(decl.name)) declared.add(name);
    const start = decl.getStart(file);
    if (decl.initializer) {
      // A type annotation survives in no JS, so the declaration text is `pattern = init`.
      edits.push({ start, end: start, text: "(" }, { start: decl.end, end: decl.end, text: ")" });
    } else if (ts.isIdentifier(decl.name)) {
      // `let x;` resets x when the cell is re-run; `var x;` (also TypeScript's enum prelude) keeps it.
      edits.push({ start, end: decl.end, text: isVar ? "void 0" : `(${decl.name.text} = undefined)` });
    }
  }
  return edits;
}

export function bindingNames(name: ts.BindingName): string[] {
  if (ts.isIdentifier(name)) return [name.text];
  const names: string[] = [];
  for (const element of name.elements) {
    if (ts.isOmittedExpression(element)) continue;
    names.push(...bindingNames(element.name));
  }
  return names;
}

/** `import d, { a as b } from "m"` becomes `const __m = await import(...); d = ...; b = __m.a;` on one line. */
function rewriteImport(statement: ts.ImportDeclaration, file: ts.SourceFile, temp: string, declared: Set<string>): Edit {
  const specifier = (statement.moduleSpecifier as ts.StringLiteral).text;
  const load = `await ${RUNTIME.importModule}(${JSON.stringify(specifier)})`;
  const clause = statement.importClause;
  if (!clause) return blankOut(statement, file, `${load};`);
  const parts = [`const ${temp} = ${load};`];
  if (clause.name) {
    declared.add(clause.name.text);
    parts.push(`${clause.name.text} = ${temp}.default;`);
  }
  const bindings = clause.namedBindings;
  if (bindings && ts.isNamespaceImport(bindings)) {
    declared.add(bindings.name.text);
    parts.push(`${bindings.name.text} = ${temp};`);
  } else if (bindings) {
    for (const element of bindings.elements) {
      if (element.isTypeOnly) continue;
      const imported = (element.propertyName ?? element.name).text;
      declared.add(element.name.text);
      parts.push(`${element.name.text} = ${temp}[${JSON.stringify(imported)}];`);
    }
  }
  return blankOut(statement, file, parts.join(" "));
}
