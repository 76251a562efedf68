// Every error message the library can produce, read from its sources (src/) with the TypeScript parser:
// each `fail(code, func, detail)` call (the one error path, errors.ts), each report of a thread function
// that cannot be called (EINVAL at the join), each `new TypeError(...)`, `new RangeError(...)`,
// `new Error(...)` and `new DOMException(...)`, and each way a join's QemuThreadFailure ends: the `what`
// of `new QemuThreadFailure(func, id, name, what)` and of the library's reports, `threadReport(what)`. A message becomes a pattern: its literal text, with `…` wherever a value is
// interpolated. A detail computed by a function of the library (say `describeUnusable(v)`) stands for
// every string that function can return. docs/errors.md is checked against these (error-table.test.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { filesUnder, ROOT } from './snippets.js';

export interface FailSite {
  code: string;
  /** The function name given to fail(), when it is a literal (else null: it comes from the caller). */
  func: string | null;
  /** The detail's possible patterns ('' for none). */
  details: string[];
  where: string;
}

const THROWN = ['TypeError', 'RangeError', 'Error', 'DOMException', 'QemuThreadFailure'] as const;

export interface ThrowSite {
  kind: (typeof THROWN)[number];
  messages: string[];
  where: string;
}

const HOLE = '…';

interface Sources {
  files: ts.SourceFile[];
  /** Top-level functions and private or ordinary methods, by name, for resolving computed details. */
  functions: Map<string, ts.FunctionLikeDeclaration>;
}

function load(): Sources {
  const files = filesUnder('src', (name) => name.endsWith('.ts')).map((path) =>
    ts.createSourceFile(path, readFileSync(join(ROOT, path), 'utf8'), ts.ScriptTarget.Latest, true),
  );
  const functions = new Map<string, ts.FunctionLikeDeclaration>();
  const visit = (node: ts.Node) => {
    if ((ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node)) && node.name && node.body) {
      functions.set(node.name.getText(), node);
    }
    ts.forEachChild(node, visit);
  };
  for (const file of files) visit(file);
  return { files, functions };
}

/** The patterns an expression can evaluate to. */
function patterns(expr: ts.Expression, src: Sources, depth = 0): string[] {
  if (ts.isParenthesizedExpression(expr)) return patterns(expr.expression, src, depth);
  if (ts.isStringLiteral(expr) || ts.isNoSubstitutionTemplateLiteral(expr)) return [expr.text];
  if (ts.isTemplateExpression(expr)) {
    let out = [expr.head.text];
    for (const span of expr.templateSpans) {
      // A local constant with a known set of strings (`const what = cond ? 'a' : 'b'`) is spelled out.
      const known = ts.isIdentifier(span.expression) ? localConstant(span.expression, src, depth) : [HOLE];
      out = out.flatMap((o) => known.map((k) => o + k + span.literal.text));
    }
    return out;
  }
  if (ts.isIdentifier(expr)) return localConstant(expr, src, depth);
  if (ts.isBinaryExpression(expr) && expr.operatorToken.kind === ts.SyntaxKind.PlusToken) {
    const left = patterns(expr.left, src, depth);
    const right = patterns(expr.right, src, depth);
    return left.flatMap((l) => right.map((r) => l + r));
  }
  if (ts.isConditionalExpression(expr)) {
    return [...patterns(expr.whenTrue, src, depth), ...patterns(expr.whenFalse, src, depth)];
  }
  if (ts.isCallExpression(expr) && depth < 3) {
    const callee = expr.expression;
    const name = ts.isIdentifier(callee)
      ? callee.text
      : ts.isPropertyAccessExpression(callee) && callee.expression.kind === ts.SyntaxKind.ThisKeyword
        ? callee.name.getText()
        : null;
    const fn = name === null ? undefined : src.functions.get(name);
    if (fn?.body !== undefined) {
      const returned: string[] = [];
      const visit = (node: ts.Node) => {
        if (ts.isReturnStatement(node) && node.expression) {
          returned.push(...patterns(node.expression, src, depth + 1));
        }
        if (!ts.isFunctionLike(node)) ts.forEachChild(node, visit);
      };
      ts.forEachChild(fn.body, visit);
      if (returned.length > 0) return [...new Set(returned)];
    }
  }
  return [HOLE];
}

/**
 * The patterns of `const name = ...` declared in a block around `id` (before it), when every one is made
 * of text; otherwise a hole. Parameters and other variables are holes.
 */
function localConstant(id: ts.Identifier, src: Sources, depth: number): string[] {
  for (let scope: ts.Node | undefined = id.parent; scope !== undefined; scope = scope.parent) {
    if (!ts.isBlock(scope)) continue;
    for (const statement of scope.statements) {
      if (statement.getStart() > id.getStart()) break;
      if (!ts.isVariableStatement(statement)) continue;
      if ((statement.declarationList.flags & ts.NodeFlags.Const) === 0) continue;
      for (const decl of statement.declarationList.declarations) {
        if (ts.isIdentifier(decl.name) && decl.name.text === id.text && decl.initializer !== undefined) {
          const found = patterns(decl.initializer, src, depth + 1);
          return found.every((p) => p.replace(/…/g, '').trim() !== '') ? found : [HOLE];
        }
      }
    }
  }
  return [HOLE];
}

/** A function name given as a literal or a local constant; null when it comes from the caller. */
function funcName(expr: ts.Expression | undefined, src: Sources): string | null {
  if (expr === undefined) return null;
  const found = ts.isIdentifier(expr) ? localConstant(expr, src, 0) : patterns(expr, src);
  return found.length === 1 && !found[0].includes(HOLE) ? found[0] : null;
}

function where(node: ts.Node): string {
  const file = node.getSourceFile();
  return `${file.fileName}:${file.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
}

/** Every fail() call and every TypeError / RangeError construction in src/. */
export function errorSites(): { fails: FailSite[]; throws: ThrowSite[] } {
  const src = load();
  const fails: FailSite[] = [];
  const throws: ThrowSite[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'fail') {
      const [code, func, detail] = node.arguments;
      if (code !== undefined && ts.isStringLiteral(code)) {
        fails.push({
          code: code.text,
          func: funcName(func, src),
          details: detail === undefined ? [''] : patterns(detail, src),
          where: where(node),
        });
      }
    }
    // The thread trampoline reports a missing or uncallable export; the joiner fails with it (EINVAL).
    if (
      ts.isCallExpression(node) &&
      ts.isIdentifier(node.expression) &&
      node.expression.text === 'publish' &&
      node.arguments[0]?.getText() === 'Outcome.BadFunction' &&
      node.arguments[1] !== undefined
    ) {
      fails.push({
        code: 'EINVAL',
        func: 'qemu_thread_join',
        details: patterns(node.arguments[1], src),
        where: where(node),
      });
    }
    if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && node.arguments?.[0] !== undefined) {
      const name = node.expression.text;
      const kind = THROWN.find((k) => k === name);
      // A QemuThreadFailure's message is `<func>: thread <id> '<name>' <what>`: its pattern is the `what`.
      const message = kind === 'QemuThreadFailure' ? node.arguments[3] : node.arguments[0];
      if (kind !== undefined && message !== undefined) {
        throws.push({ kind, messages: patterns(message, src), where: where(node) });
      }
    }
    if (
      ts.isCallExpression(node) &&
      ts.isIdentifier(node.expression) &&
      node.expression.text === 'threadReport' &&
      node.arguments[0] !== undefined
    ) {
      throws.push({
        kind: 'QemuThreadFailure',
        messages: patterns(node.arguments[0], src),
        where: where(node),
      });
    }
    ts.forEachChild(node, visit);
  };
  for (const file of src.files) visit(file);
  return { fails, throws };
}

/** A pattern as a regular expression over a real message (each `…` stands for any text). */
export function patternRegExp(pattern: string): RegExp {
  const parts = pattern.split(HOLE).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('.*')}$`, 's');
}
