// What a cell declares at top level, and how those declarations are carried into
// the type checker's view of later cells.
//
// Later cells are checked against a "history" of declarations: imports and type,
// function and class declarations keep their source text; variables become
// `declare let x: T` with T their declared (or inferred) type, so that control-flow
// narrowing from an earlier initializer never leaks into a later cell.
import ts from "typescript";
import { bindingNames } from "./compile-cell.js";

/** One top-level name (or a group of merged declarations of one name) in the history. */
export interface HistoryEntry {
  name: string;
  text: string;
}

/** Names declared at the top level of a cell, values and types alike. */
export function declaredNames(file: ts.SourceFile): Set<string> {
  const names = new Set<string>();
  for (const statement of file.statements) {
    for (const name of namesOf(statement)) names.add(name);
  }
  return names;
}

function namesOf(statement: ts.Statement): string[] {
  if (ts.isVariableStatement(statement)) {
    return statement.declarationList.declarations.flatMap((d) => bindingNames(d.name));
  }
  if (ts.isImportDeclaration(statement)) {
    const clause = statement.importClause;
    if (!clause) return [];
    const names = clause.name ? [clause.name.text] : [];
    const bindings = clause.namedBindings;
    if (bindings && ts.isNamespaceImport(bindings)) names.push(bindings.name.text);
    else if (bindings) names.push(...bindings.elements.map((e) => e.name.text));
    return names;
  }
  if (
    ts.isFunctionDeclaration(statement) ||
    ts.isClassDeclaration(statement) ||
    ts.isInterfaceDeclaration(statement) ||
    ts.isTypeAliasDeclaration(statement) ||
    ts.isEnumDeclaration(statement) ||
    ts.isImportEqualsDeclaration(statement)
  ) {
    return statement.name ? [statement.name.text] : [];
  }
  if (ts.isModuleDeclaration(statement) && ts.isIdentifier(statement.name)) return [statement.name.text];
  return [];
}

/**
 * The history entries a checked cell contributes. `offset` is where the cell's
 * text starts inside `file` (the checker's file holds the history before it).
 */
export function historyEntries(file: ts.SourceFile, offset: number, typeText: TypeText): HistoryEntry[] {
  const entries = new Map<string, string[]>();
  const add = (name: string, text: string) => entries.set(name, [...(entries.get(name) ?? []), text]);
  const textOf = (node: ts.Node) => file.text.slice(node.getStart(file), node.end);

  for (const statement of file.statements) {
    if (statement.getStart(file) < offset) continue;
    if (ts.isImportDeclaration(statement)) {
      importEntries(statement, file).forEach(([name, text]) => add(name, text));
    } else if (ts.isVariableStatement(statement)) {
      const isConst = (statement.declarationList.flags & ts.NodeFlags.Const) !== 0;
      for (const decl of statement.declarationList.declarations) {
        for (const [name, type] of variableTypes(decl, file, typeText)) {
          add(name, `declare ${isConst ? "const" : "let"} ${name}: ${type};`);
        }
      }
    } else {
      for (const name of namesOf(statement)) add(name, textOf(statement));
    }
  }
  return [...entries].map(([name, texts]) => ({ name, text: texts.join("\n") }));
}

function importEntries(statement: ts.ImportDeclaration, file: ts.SourceFile): [string, string][] {
  const from = file.text.slice(statement.moduleSpecifier.getStart(file), statement.moduleSpecifier.end);
  const clause = statement.importClause;
  if (!clause) return [];
  const typeOnly = clause.isTypeOnly ? "type " : "";
  const out: [string, string][] = [];
  if (clause.name) out.push([clause.name.text, `import ${typeOnly}${clause.name.text} from ${from};`]);
  const bindings = clause.namedBindings;
  if (bindings && ts.isNamespaceImport(bindings)) {
    out.push([bindings.name.text, `import ${typeOnly}* as ${bindings.name.text} from ${from};`]);
  } else if (bindings) {
    for (const e of bindings.elements) {
      const spec = e.propertyName ? `${e.propertyName.text} as ${e.name.text}` : e.name.text;
      out.push([e.name.text, `import ${typeOnly || (e.isTypeOnly ? "type " : "")}{ ${spec} } from ${from};`]);
    }
  }
  return out;
}

/** The declared type of the variable a name binds, printed by whichever checker is in use. */
export type TypeText = (name: ts.Identifier) => string | undefined;

/** The declared type of each name a variable declaration binds, as source text. */
function variableTypes(decl: ts.VariableDeclaration, file: ts.SourceFile, typeText: TypeText): [string, string][] {
  if (ts.isIdentifier(decl.name) && decl.type) {
    return [[decl.name.text, file.text.slice(decl.type.getStart(file), decl.type.end)]];
  }
  const out: [string, string][] = [];
  const visit = (name: ts.BindingName) => {
    if (ts.isIdentifier(name)) {
      const text = typeText(name);
      out.push([name.text, text !== undefined && isWritableType(text) ? text : "any"]);
    } else {
      for (const element of name.elements) if (!ts.isOmittedExpression(element)) visit(element.name);
    }
  };
  visit(decl.name);
  return out;
}

/** Whether a printed type can be parsed back (anonymous classes and the like cannot). */
function isWritableType(text: string): boolean {
  if (/\(Anonymous (class|function)\)|\.\.\.\s*\d+ more/.test(text)) return false;
  const probe = ts.createSourceFile("probe.ts", `type __T = ${text};`, ts.ScriptTarget.ES2022);
  return (probe as unknown as { parseDiagnostics: unknown[] }).parseDiagnostics.length === 0;
}
