import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'blindspot-summary-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs scripts/test-summary.js over one report of vitest's JSON shape. */
function summarise(report: object): { status: number | null; out: string; err: string } {
  const file = join(dir, `${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(report));
  const r = spawnSync(process.execPath, ['scripts/test-summary.js', file], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

const passing = {
  success: true,
  numPassedTests: 3,
  numFailedTests: 0,
  numPendingTests: 0,
  testResults: [{ name: 'a.test.ts', status: 'passed' }],
};

describe('the test summary', () => {
  it('passes when every file and test passed', () => {
    expect(summarise(passing)).toMatchObject({ status: 0, out: '3 passed, 0 failed, 0 skipped\n' });
  });

  it('fails when a file failed in its setup, though its tests were only skipped', () => {
    const r = summarise({
      numPassedTests: 3,
      numFailedTests: 0,
      numPendingTests: 1,
      testResults: [...passing.testResults, { name: 'b.test.ts', status: 'failed', message: 'wrangler dev ended (exit code 1)\nmore' }],
    });
    expect(r.status).toBe(1);
    expect(r.err).toContain('1 test file(s) failed');
    expect(r.err).toContain('b.test.ts: wrangler dev ended (exit code 1)');
  });

  it('fails when a test failed, when no test ran, and when a report is missing', () => {
    expect(summarise({ ...passing, numFailedTests: 1 }).status).toBe(1);
    expect(summarise({ ...passing, success: false }).status).toBe(1);
    expect(summarise({ numPassedTests: 0, numFailedTests: 0, testResults: [] }).status).toBe(1);
    expect(spawnSync(process.execPath, ['scripts/test-summary.js', join(dir, 'none.json')]).status).toBe(1);
  });
});
