// npm run config-schema: the JSON Schemas of both configuration files, and the field reference in
// docs/configuration.md generated from them.
import { readFileSync, writeFileSync } from 'node:fs';
import { agentJsonSchema, configJsonSchema, withFieldReference } from './json-schema.ts';

for (const [file, text] of [
  ['blindspot.config.schema.json', configJsonSchema()],
  ['blindspot-agent.schema.json', agentJsonSchema()],
] as const) {
  writeFileSync(new URL(`./${file}`, import.meta.url), text);
  console.log(`wrote config/${file}`);
}
const docs = new URL('../docs/configuration.md', import.meta.url);
writeFileSync(docs, withFieldReference(readFileSync(docs, 'utf8')));
console.log('wrote the field reference in docs/configuration.md');
