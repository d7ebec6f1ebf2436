// blindspot check-config FILE (and npm run check-config): validates a watchdog configuration offline,
// the way the Worker will read it, and says every error with file:line:col, the key path and the fix.
// Exit codes as promtool's check commands: 0 valid, 1 invalid or unreadable.
import { readFileSync } from 'node:fs';
import { loadConfigText } from './load.ts';

export interface CheckResult {
  code: 0 | 1;
  /** For stdout when valid, stderr when not. */
  text: string;
}

export function checkWatchConfigFile(file: string, env: Readonly<Record<string, string | undefined>> = process.env): CheckResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e: unknown) {
    return { code: 1, text: `${file}: cannot read it: ${(e as NodeJS.ErrnoException).code ?? String(e)}` };
  }
  const result = loadConfigText(text, { file, env });
  if (!result.ok) return { code: 1, text: `${file} is invalid:\n${result.errors.map((e) => `  ${e}`).join('\n')}` };
  const c = result.config;
  return {
    code: 0,
    text: `${file} is valid: ${c.components.length} component(s), ${c.monitors.length} monitor(s), ${c.alertSources.length} Alertmanager source(s), ${c.maintenance.length} maintenance window(s).`,
  };
}
