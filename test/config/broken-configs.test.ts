// Each broken configuration in corpus/ (missing key, wrong type, bad duration, YAML syntax error,
// unset variable, unknown key; for the agent's file and the watchdog's) fed to its offline validator:
// the message names file:line:col, the key path and the fix. The first line of each file says what:
//   # expect: LINE:COL KEY-PATH | FIX       (KEY-PATH "-" when the error is not about one key)
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, ConfigError } from '../../agent/config.ts';
import { checkWatchConfigFile } from '../../config/check-file.ts';
import { runBin } from '../support/child.ts';

const DIR = 'test/config/corpus';
const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));
const ENV = {}; // no variable set: the corpus's ${...} are unset on purpose

function expectation(file: string) {
  const first = readFileSync(join(DIR, file), 'utf8').split('\n')[0] as string;
  const m = /^# expect: (\d+):(\d+) (\S+) \| (.+)$/.exec(first);
  if (m === null) throw new Error(`${file}: the first line must be "# expect: LINE:COL KEY-PATH | FIX"`);
  return { line: m[1], col: m[2], path: m[3] as string, fix: m[4] as string };
}

function agentMessage(path: string): string {
  try {
    loadConfig(path, ENV);
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  throw new Error(`${path} was taken as valid`);
}

function watchdogMessage(path: string): string {
  const r = checkWatchConfigFile(path, ENV);
  expect(r.code).toBe(1);
  return r.text;
}

describe('broken configurations, each named where it breaks', () => {
  it('has every kind of breakage for both files', () => {
    for (const kind of ['missing-key', 'wrong-type', 'bad-duration', 'yaml-syntax', 'unset-variable', 'unknown-key'])
      for (const which of ['agent', 'watchdog']) expect(files).toContain(`${which}-${kind}.yaml`);
  });

  for (const file of files)
    it(file, () => {
      const path = join(DIR, file);
      const want = expectation(file);
      const message = file.startsWith('agent-') ? agentMessage(path) : watchdogMessage(path);
      const where = `${path}:${want.line}:${want.col}: `;
      expect(message).toContain(want.path === '-' ? where : `${where}${want.path}: `);
      expect(message).toContain(want.fix);
    });
});

describe('the validators as commands', () => {
  it('blindspot-agent validate: exit 1 and every error on stderr for a broken file, 0 for a good one', async () => {
    const bad = await runBin('bin/blindspot-agent.js', ['validate', join(DIR, 'agent-unknown-key.yaml')], {});
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`${join(DIR, 'agent-unknown-key.yaml')}:5:1: intervall_s: unknown key`);
    const good = await runBin('bin/blindspot-agent.js', ['validate', 'examples/demo-agent.yaml'], {});
    expect(good.stderr).toBe('');
    expect(good).toMatchObject({ code: 0 });
    expect(good.stdout).toMatch(/^examples\/demo-agent\.yaml is valid: agent \S+, \d+ probe\(s\)/);
  });

  it('blindspot check-config: exit 1 for a broken file, 0 for the bundled one', async () => {
    const bad = await runBin('bin/blindspot.js', ['check-config', join(DIR, 'watchdog-bad-duration.yaml')], {});
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`${join(DIR, 'watchdog-bad-duration.yaml')}:6:5: monitors[0].for:`);
    const good = await runBin('bin/blindspot.js', ['check-config', 'blindspot.config.yaml'], {});
    expect(good).toMatchObject({ code: 0, stderr: '' });
    expect(good.stdout).toMatch(/^blindspot\.config\.yaml is valid: /);
  });
});
