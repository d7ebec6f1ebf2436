// Which series an alerting rule needs to be able to fire: the vector selectors of its expression,
// read with Prometheus's own PromQL grammar (@prometheus-io/lezer-promql). A selector is left out
// where its absence cannot stop the rule: inside absent() / absent_over_time() (the rule fires
// *because* it is missing), on the right of `unless`, and on either side of `or`. Pure.
import type { SyntaxNode } from '@lezer/common';
import { parser } from '@prometheus-io/lezer-promql';

export type Inputs = { ok: true; selectors: string[] } | { ok: false; error: string };

const ABSENT = new Set(['Absent', 'AbsentOverTime']);
/** Anything longer is not a rule a person wrote; it is not parsed. */
const MAX_EXPR = 20_000;

export function requiredSelectors(expr: string): Inputs {
  if (expr.length > MAX_EXPR) return { ok: false, error: `the expression is ${expr.length} characters; at most ${MAX_EXPR} are read` };
  const tree = parser.parse(expr);
  let broken: SyntaxNode | null = null;
  tree.iterate({
    enter: (n) => {
      if (n.type.isError && broken === null) broken = n.node;
    },
  });
  if (broken !== null) {
    const at = (broken as SyntaxNode).from;
    return { ok: false, error: `the expression does not parse as PromQL near character ${at}: ${JSON.stringify(expr.slice(at, at + 40))}` };
  }
  const out = new Set<string>();
  walk(tree.topNode, false, expr, out);
  return { ok: true, selectors: [...out] };
}

function walk(node: SyntaxNode, optional: boolean, expr: string, out: Set<string>): void {
  if (node.name === 'VectorSelector') {
    if (!optional) out.add(expr.slice(node.from, node.to).trim());
    return;
  }
  if (node.name === 'FunctionCall') {
    const fn = node.getChild('FunctionIdentifier')?.firstChild?.name;
    if (fn !== undefined && ABSENT.has(fn)) return;
  }
  const kids = children(node);
  if (node.name === 'BinaryExpr') {
    const op = kids.find((k) => k.name === 'Or' || k.name === 'Unless')?.name;
    if (op === 'Or') {
      for (const k of kids) walk(k, true, expr, out);
      return;
    }
    if (op === 'Unless') {
      // The left side must exist; the right only ever stops the alert.
      const [left, ...rest] = kids;
      if (left !== undefined) walk(left, optional, expr, out);
      for (const k of rest) walk(k, true, expr, out);
      return;
    }
  }
  for (const k of kids) walk(k, optional, expr, out);
}

function children(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let c = node.firstChild; c !== null; c = c.nextSibling) out.push(c);
  return out;
}
