// The rule file that lets the primary stack alert on the watchdog: promtool checks it, and its unit
// tests (examples/prometheus-rules.test.yml) fire when the watchdog stops answering or its sweep stops.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { requireBinary } from '../support/requirement.ts';

const PROMTOOL_BIN = '/usr/bin/promtool';
const promtool = requireBinary(PROMTOOL_BIN, 'prometheus');
const run = (...args: string[]) => spawnSync(PROMTOOL_BIN, args, { cwd: 'examples', encoding: 'utf8' });

describe.skipIf(!promtool.available)(`examples/prometheus-rules.yml${promtool.available ? '' : ` (skipped: ${promtool.reason})`}`, () => {
  it('passes promtool check rules', () => {
    const r = run('check', 'rules', 'prometheus-rules.yml');
    expect(r.stdout).toMatch(/SUCCESS: 6 rules found/);
    expect(r.status).toBe(0);
  });

  it('passes its promtool unit tests: the watchdog silent or stalled fires', () => {
    const r = run('test', 'rules', 'prometheus-rules.test.yml');
    expect(r.stdout + r.stderr).toMatch(/SUCCESS/);
    expect(r.status).toBe(0);
  });
});
