// The JSON Schemas editors use for completion, checks and hover text of both configuration files
// (each file's first line points yaml-language-server at its schema). Generated from the valibot
// schemas, with config/descriptions.ts on every field:
//   npm run config-schema   writes config/blindspot.config.schema.json and config/blindspot-agent.schema.json
// A test fails when a committed file is out of date, or a field has no description.
import { toJsonSchema } from '@valibot/to-json-schema';
import type * as v from 'valibot';
import { ConfigSchema as AgentConfigSchema } from '../agent/config.ts';
import { AGENT_DESCRIPTIONS, describe, WATCHDOG_DESCRIPTIONS } from './descriptions.ts';
import { ConfigFileSchema } from './schema.ts';

type Json = { [k: string]: unknown };

/** Every field of a JSON Schema, by path (`monitors[].for.seconds`), with the node that defines it. */
export function fieldsOf(schema: unknown, path = '', out: { path: string; node: Json }[] = []): { path: string; node: Json }[] {
  if (schema === null || typeof schema !== 'object') return out;
  const s = schema as Json;
  for (const [k, child] of Object.entries((s.properties as Record<string, Json> | undefined) ?? {})) {
    const p = path === '' ? k : `${path}.${k}`;
    out.push({ path: p, node: child });
    fieldsOf(child, p, out);
  }
  if (s.items) fieldsOf(s.items, `${path}[]`, out);
  for (const key of ['anyOf', 'oneOf', 'allOf']) for (const x of (s[key] as unknown[] | undefined) ?? []) fieldsOf(x, path, out);
  return out;
}

function withDescriptions(schema: Json, descriptions: Record<string, string>): Json {
  for (const { path, node } of fieldsOf(schema)) {
    const d = describe(descriptions, path);
    if (d !== undefined) node.description = d;
  }
  return schema;
}

const generate = (schema: v.GenericSchema, descriptions: Record<string, string>, title: string, description: string) =>
  `${JSON.stringify({ ...withDescriptions(toJsonSchema(schema, { errorMode: 'ignore' }) as Json, descriptions), title, description }, null, 2)}\n`;

export function configJsonSchema(): string {
  // Cross-field checks (ends_at after starts_at, a monitor selects something) are the validator's job; the schema covers shapes.
  return generate(
    ConfigFileSchema,
    WATCHDOG_DESCRIPTIONS,
    'Blindspot watchdog configuration',
    'Components, monitors, Alertmanager sources and maintenance windows. See docs/configuration.md, "Watchdog configuration".',
  );
}

export function agentJsonSchema(): string {
  return generate(
    AgentConfigSchema as unknown as v.GenericSchema,
    AGENT_DESCRIPTIONS,
    'Blindspot agent configuration',
    'What the agent measures and where it sends its heartbeats. See docs/configuration.md, "Agent configuration".',
  );
}

/** What a field takes, in a few words, from its schema node. */
function typeOf(node: Json): string {
  const alternatives = (node.anyOf ?? node.oneOf) as Json[] | undefined;
  if (alternatives !== undefined) return [...new Set(alternatives.map(typeOf))].join(' or ');
  if (node.const !== undefined) return JSON.stringify(node.const);
  if (Array.isArray(node.enum)) return node.enum.map((e) => JSON.stringify(e)).join(', ');
  if (node.type === 'array') return 'list';
  if (node.type === 'object') return 'mapping';
  if (node.type === 'string' && typeof node.pattern === 'string' && node.pattern.includes('\\d{1,6}w')) return 'duration';
  return String(node.type ?? 'any');
}

/** The field reference of one schema as a Markdown table (docs/configuration.md embeds both). */
export function fieldTable(schemaText: string): string {
  // A field several probe types share (type, url, ...) is one row: what each of them takes, joined.
  const rows = new Map<string, { takes: Set<string>; description: string }>();
  for (const { path, node } of fieldsOf(JSON.parse(schemaText))) {
    if (path === '$schema') continue;
    const row = rows.get(path) ?? { takes: new Set<string>(), description: String(node.description ?? '') };
    for (const t of typeOf(node).split(/ or |, /)) row.takes.add(t);
    rows.set(path, row);
  }
  const cell = (s: string) => s.replaceAll('|', '\\|');
  return [
    '| field | takes | meaning |',
    '|---|---|---|',
    ...[...rows].map(([path, r]) => `| \`${path}\` | ${cell([...r.takes].join(', '))} | ${cell(r.description)} |`),
  ].join('\n');
}

const BEGIN = (name: string) => `<!-- generated: ${name} field reference (npm run config-schema) -->`;
const END = '<!-- end of generated reference -->';

/** docs/configuration.md with its two generated tables replaced by the current ones. */
export function withFieldReference(doc: string): string {
  let out = doc;
  for (const [name, text] of [
    ['watchdog', configJsonSchema()],
    ['agent', agentJsonSchema()],
  ] as const) {
    const begin = out.indexOf(BEGIN(name));
    const end = out.indexOf(END, begin);
    if (begin < 0 || end < 0) throw new Error(`docs/configuration.md has no "${BEGIN(name)}" ... "${END}" block`);
    out = `${out.slice(0, begin)}${BEGIN(name)}\n\n${fieldTable(text)}\n\n${out.slice(end)}`;
  }
  return out;
}
