// Finds what an expression refers to: every traversal (var.x, module.m.out,
// aws_instance.web[0].id, ...) with the names a `for` expression binds left
// out, and every templatefile() call with the variables it passes.
import type { AstNode } from './hcl';

export interface Traversal {
  /** Name segments, with each index segment as null: module.m["k"].out is ["module", "m", null, "out"]. */
  segments: Array<string | null>;
  text: string;
}

export interface TemplateCall {
  /** The path argument when it is "${path.module}/FILE": FILE; otherwise undefined. */
  moduleRelativePath?: string;
  /** The keys of the variables object, when it is an object literal. */
  keys?: string[];
}

export interface ExpressionRefs {
  traversals: Traversal[];
  templateCalls: TemplateCall[];
}

export function collectRefs(ast: AstNode | null, bound: ReadonlySet<string> = new Set()): ExpressionRefs {
  const out: ExpressionRefs = { traversals: [], templateCalls: [] };
  if (ast) walk(ast, bound, out);
  return out;
}

function walk(node: AstNode, bound: ReadonlySet<string>, out: ExpressionRefs): void {
  if (node.type === 'scopeTraversal' && node.meta?.traversal) {
    const segments = node.meta.traversal.map((t) => (t.type === 'nameTraversal' ? t.segment : null));
    if (segments[0] !== null && segments[0] !== undefined && !bound.has(segments[0])) {
      out.traversals.push({ segments, text: node.meta.value ?? segments.join('.') });
    }
    return;
  }
  if (node.type === 'for') {
    // The key and value names exist only inside the expression.
    const inner = new Set(bound);
    for (const name of [node.meta?.keyVar, node.meta?.valVar]) if (name) inner.add(name);
    for (const child of node.children) walk(child, inner, out);
    return;
  }
  if (node.type === 'function' && node.meta?.name === 'templatefile') out.templateCalls.push(templateCall(node));
  for (const child of node.children) walk(child, bound, out);
}

function templateCall(node: AstNode): TemplateCall {
  const [pathArg, varsArg] = node.children;
  const call: TemplateCall = {};
  // "${path.module}/user-data.sh.tftpl": a template of path.module then a literal.
  if (pathArg?.type === 'template' && pathArg.children.length === 2) {
    const [first, rest] = pathArg.children;
    const isPathModule = first?.type === 'scopeTraversal' && first.meta?.value === 'path.module';
    if (isPathModule && rest?.type === 'literalValue' && rest.meta?.value?.startsWith('/')) call.moduleRelativePath = rest.meta.value.slice(1);
  }
  if (varsArg?.type === 'object' && varsArg.meta?.items) {
    call.keys = Object.keys(varsArg.meta.items).map((k) => k.replace(/^"(.*)"$/, '$1'));
  }
  return call;
}

/** The root names a template file uses: every traversal's first segment. */
export function templateVariables(ast: AstNode | null): Set<string> {
  return new Set(collectRefs(ast).traversals.map((t) => t.segments[0]!));
}
