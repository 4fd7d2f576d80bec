// Inserts an interrupt check at the top of every loop body in a cell, so that
// an interrupt request stops even a synchronous `while (true) {}` anywhere in the
// cell's code (including after an `await`, where no signal watchdog is active).
// The check reads a shared Int32Array that the transport thread writes.
import ts from "typescript";

/** Name of the global function the check calls; it throws when an interrupt is pending. */
export const INTERRUPT_CHECK = "__nbforge_checkInterrupt";
/** Name of the global Int32Array: [0] interrupt requests, [2] requests already handled. */
export const INTERRUPT_FLAGS = "__nbforge_interruptFlags";

export const insertInterruptChecks: ts.TransformerFactory<ts.SourceFile> = (context) => {
  const f = context.factory;
  const check = (): ts.Statement =>
    f.createIfStatement(
      f.createStrictInequality(
        f.createElementAccessExpression(f.createIdentifier(INTERRUPT_FLAGS), 0),
        f.createElementAccessExpression(f.createIdentifier(INTERRUPT_FLAGS), 2),
      ),
      f.createExpressionStatement(f.createCallExpression(f.createIdentifier(INTERRUPT_CHECK), undefined, [])),
    );
  const guard = (body: ts.Statement): ts.Statement =>
    ts.isBlock(body) ? f.updateBlock(body, [check(), ...body.statements]) : f.createBlock([check(), body], true);

  const visit = (node: ts.Node): ts.Node => {
    const visited = ts.visitEachChild(node, visit, context);
    if (ts.isWhileStatement(visited)) return f.updateWhileStatement(visited, visited.expression, guard(visited.statement));
    if (ts.isDoStatement(visited)) return f.updateDoStatement(visited, guard(visited.statement), visited.expression);
    if (ts.isForStatement(visited)) {
      return f.updateForStatement(visited, visited.initializer, visited.condition, visited.incrementor, guard(visited.statement));
    }
    if (ts.isForOfStatement(visited)) {
      return f.updateForOfStatement(visited, visited.awaitModifier, visited.initializer, visited.expression, guard(visited.statement));
    }
    if (ts.isForInStatement(visited)) {
      return f.updateForInStatement(visited, visited.initializer, visited.expression, guard(visited.statement));
    }
    return visited;
  };
  return (file) => ts.visitNode(file, visit) as ts.SourceFile;
};
