// Where in a configuration file something is: both configuration files (the agent's and the
// watchdog's) are read through here, so every error names file:line:col, using the YAML library's own
// positions and code frames for syntax errors and the valibot issue's path for everything else.
import type * as v from 'valibot';
import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument, visit } from 'yaml';

/** Errors reported at most, per file. */
export const MAX_ERRORS = 20;

export type Segment = string | number;

export type YamlRead = { ok: true; value: unknown; locate: (path: readonly Segment[]) => string } | { ok: false; errors: string[] };

/**
 * Parses YAML (or JSON) text. A syntax error keeps the library's whole message: what is wrong, at
 * which line and column, and the code frame under it.
 */
/** Why a variable may not be read (a secret of the Worker), or null when it may. */
export type RefuseVariable = (name: string) => string | null;

export function readYaml(
  text: string,
  file: string,
  env?: Readonly<Record<string, string | undefined>>,
  refuse: RefuseVariable = () => null,
): YamlRead {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0)
    return {
      ok: false,
      errors: doc.errors.slice(0, MAX_ERRORS).map((e) => {
        const at = e.linePos === undefined ? '' : `:${e.linePos[0].line}:${e.linePos[0].col}`;
        return `${file}${at}: not valid YAML: ${e.message.trimEnd()}`;
      }),
    };
  const at = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  const locate = (path: readonly Segment[]): string => at(offsetOf(doc.contents, path));
  if (env !== undefined) {
    const errors = expandScalars(doc, text, env, at, refuse);
    if (errors.length > 0) return { ok: false, errors: errors.slice(0, MAX_ERRORS) };
  }
  return { ok: true, value: doc.toJS() ?? {}, locate };
}

/** ${VAR} or ${env:VAR}; $$ is a literal $. */
const REFERENCE = /\$\$|\$\{(?:env:)?([^}]*)\}/g;
const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Expands ${VAR} and ${env:VAR} in every string value (as the OpenTelemetry Collector does), after
 * parsing, so a variable's value can never change the file's structure; `$$` writes a `$`. Keys are
 * left as written. A variable that is not set is an error at the line and column where it is used.
 */
function expandScalars(
  doc: ReturnType<typeof parseDocument>,
  text: string,
  env: Readonly<Record<string, string | undefined>>,
  at: (offset: number) => string,
  refuse: RefuseVariable,
) {
  const errors: string[] = [];
  visit(doc, {
    Scalar(key, node, ancestors) {
      if (key === 'key' || typeof node.value !== 'string' || !node.value.includes('$')) return;
      const [start, end] = node.range ?? [0, text.length];
      const path = keyPath([...ancestors, node]);
      let from = start;
      node.value = node.value.replace(REFERENCE, (whole: string, name: string | undefined) => {
        if (whole === '$$') return '$';
        // The reference as written in the file, for its line and column.
        const found = text.slice(from, end).indexOf(whole);
        const offset = found < 0 ? start : from + found;
        from = offset + whole.length;
        const where = `${at(offset)}: ${path === '' ? '' : `${path}: `}`;
        if (name === undefined || !VARIABLE.test(name)) {
          errors.push(
            `${where}${whole} is not a variable reference: write \${NAME} or \${env:NAME} (letters, digits, _), or $$ for a literal $`,
          );
          return whole;
        }
        const refused = refuse(name);
        if (refused !== null) {
          errors.push(`${where}${whole}: ${refused}`);
          return whole;
        }
        const value = env[name];
        if (value === undefined) {
          errors.push(
            `${where}${whole} is used, but the environment variable ${name} is not set: set it, or write $${whole} for the literal text`,
          );
          return whole;
        }
        return value;
      });
    },
  });
  return errors;
}

/**
 * The offset of what `path` names: a mapping entry's key (for an unknown or misspelt key the key is
 * what to fix; for a bad value it is on the same line), a list item. Where the path leaves the file
 * (a required key that is missing), the nearest enclosing entry: where the key belongs.
 */
function offsetOf(root: unknown, path: readonly Segment[]): number {
  let node = root as Node | null;
  let offset = node?.range?.[0] ?? 0;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === String(segment));
      if (pair === undefined) break;
      offset = (pair.key as Node | null)?.range?.[0] ?? offset;
      node = pair.value as Node | null;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment] as Node | undefined;
      if (item === undefined) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else break;
  }
  return offset;
}

/** `a.b[2].c` for a path of keys and indexes. */
export function dotted(path: readonly Segment[]): string {
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

/** The key path of a node from its ancestors (as yaml's visit gives them, the node last). */
function keyPath(chain: readonly unknown[]): string {
  const path: Segment[] = [];
  chain.forEach((n, i) => {
    if (isPair(n)) path.push(String(isScalar(n.key) ? n.key.value : n.key));
    else if (isSeq(n)) path.push(n.items.indexOf(chain[i + 1] as never));
  });
  return dotted(path);
}

/** valibot's own words for a type, as a person would say what to write instead. */
const TYPE_WORDS: Record<string, string> = {
  Array: 'a list (lines starting "- ", or [a, b])',
  Object: 'a mapping (key: value lines, or { key: value })',
  string: 'text',
  number: 'a number',
  boolean: 'true or false',
};

/** valibot's default "Invalid type: Expected Array but received "api"" said as what to write. */
function plainMessage(message: string): string {
  const m = /^Invalid type: Expected (\w+) but received (.*)$/.exec(message);
  if (m === null) return message;
  return `expected ${TYPE_WORDS[m[1] as string] ?? m[1]}, not ${m[2]}`;
}

/** The path of a valibot issue as keys and indexes. */
export function issuePath(issue: v.BaseIssue<unknown>): Segment[] {
  return (issue.path ?? []).map((item) => item.key as Segment);
}

/** `file:line:col: a.b[2].c: message` for each issue. */
export function locateIssues(issues: readonly v.BaseIssue<unknown>[], locate: (path: readonly Segment[]) => string): string[] {
  return issues.slice(0, MAX_ERRORS).map((issue) => {
    const path = issuePath(issue);
    const keys = dotted(path);
    return `${locate(path)}: ${keys === '' ? '' : `${keys}: `}${plainMessage(issue.message)}`;
  });
}
