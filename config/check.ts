// npm run check-config [-- file]: validates a watchdog configuration the way the Worker will,
// and prints every error with the field and the fix. Exit 0 when valid, 1 when not, 2 on usage.
import { readFileSync } from 'node:fs';
import { loadConfigText } from './load.ts';

const file = process.argv[2] ?? 'blindspot.config.yaml';
let text: string;
try {
  text = readFileSync(file, 'utf8');
} catch (e: unknown) {
  console.error(`cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(2);
}
const result = loadConfigText(text);
if (!result.ok) {
  console.error(`${file} is invalid:`);
  for (const error of result.errors) console.error(`  - ${error}`);
  process.exit(1);
}
const c = result.config;
console.log(
  `${file} is valid: ${c.components.length} component(s), ${c.monitors.length} monitor(s), ${c.alertSources.length} Alertmanager source(s), ${c.maintenance.length} maintenance window(s).`,
);
