// The soak's checks (scripts/soak.ts --check), on small records made by hand: one that holds, and
// one with each kind of problem planted, so a change to the checks cannot quietly stop them from
// failing. The soak itself runs the real stack for minutes and is not part of the tests.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'blindspot-soak-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function check(contents: string): { status: number | null; out: string; err: string } {
  const file = join(dir, `${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, contents);
  const r = spawnSync(process.execPath, ['node_modules/tsx/dist/cli.mjs', 'scripts/soak.ts', '--check', file], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

/** Agent `a`'s heartbeats every 2 s from `from` (ms) to `to`, each taken with a deadline 6 s on. */
const beats = (from: number, to: number, over: { fresh?: boolean; seq?: number } = {}) =>
  Array.from({ length: Math.floor((to - from) / 2000) + 1 }, (_, i) => ({
    agent: 'a',
    seq: (over.seq ?? 1) + i,
    boot: 'b1',
    start: from + i * 2000,
    end: from + i * 2000 + 10,
    status: 202,
    deadlineAt: from + i * 2000 + 10 + 6000,
    stopping: false,
    fresh: over.fresh ?? true,
  }));
const record = (parts: Record<string, unknown>) =>
  JSON.stringify({ t0: 0, sent: beats(0, 60_000), events: [], faults: [], claims: [], pauses: [], ...parts });
const claim = (from: number) => ({ surface: '/api/v2/components.json', agent: 'a', from, to: from + 10 });

describe('the soak check', () => {
  it('passes a record where every claim stands on a fresh heartbeat and nothing went silent', () => {
    const r = check(record({ claims: [claim(5000), claim(59_000)] }));
    expect(r.out).toMatch(/passes/);
    expect(r.status).toBe(0);
  });

  it('fails an operational claim past the last deadline, and one after a stale heartbeat was taken', () => {
    // Fresh until 10 s (its deadline 16 s), then stale from 12 s: a claim at 15 s stands on a deadline
    // not yet passed, but 3 s after the stale heartbeat was taken.
    const sent = [...beats(0, 10_000), ...beats(12_000, 14_000, { fresh: false, seq: 7 })];
    const r = check(record({ sent, claims: [claim(30_000), { ...claim(15_000), surface: 'its badge' }] }));
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/a: \/api\/v2\/components.json said operational at \+30\.0 s\.\.\+30\.0 s, with no fresh heartbeat/);
    expect(r.out).toMatch(
      /a: its badge said operational at \+15\.0 s\.\.\+15\.0 s, though a stale heartbeat \(seq 7\) was taken at \+12\.0 s/,
    );
    expect(r.out).not.toMatch(/its badge said operational .* with no fresh heartbeat/);
  });

  it('fails a silence past a deadline with no window paged or told, unless an operator silenced it first', () => {
    const sent = [...beats(0, 10_000), ...beats(30_000, 60_000, { seq: 7 })];
    const silent = check(record({ sent }));
    expect(silent.status).toBe(1);
    expect(silent.out).toMatch(/a: silent from the deadline \+16\.0 s until \+30\.0 s, and no window over it paged or told/);
    const pause = { id: 's1', agents: ['a'], from: 14_000, madeAt: 14_100, endFrom: 40_000, endTo: 40_000, sure: true };
    expect(check(record({ sent, pauses: [pause] })).status).toBe(0);
    const told = { id: 'w1', type: 'watchdog.summary', window: 'a:agent:12000', agent: 'a', cause: 'agent_silent' };
    expect(check(record({ sent, events: [{ ...told, startedAt: 12_000, endedAt: 30_000, at: 60_000 }] })).status).toBe(0);
  });

  it('fails stale heartbeats never paged, a stale window where none was sent, and a page under a silence', () => {
    const sent = [...beats(0, 10_000), ...beats(12_000, 16_000, { fresh: false, seq: 7 }), ...beats(18_000, 60_000, { seq: 10 })];
    expect(check(record({ sent })).out).toMatch(/a: 3 stale heartbeats taken from \+12\.0 s to \+16\.0 s, and no stale window paged/);
    const opened = { id: 'e1', type: 'window.opened', agent: 'a', cause: 'stale', endedAt: null };
    const where = check(record({ events: [{ ...opened, window: 'a:fresh:40000', startedAt: 40_000, at: 42_000 }] }));
    expect(where.out).toMatch(/a:fresh:40000: a stale window paged from \+40\.0 s, where a sent no stale heartbeat/);
    const pause = { id: 's1', agents: ['a'], from: 10_000, madeAt: 10_100, endFrom: 50_000, endTo: 50_000, sure: true };
    const under = check(record({ sent, pauses: [pause], events: [{ ...opened, window: 'a:fresh:12010', startedAt: 12_010, at: 15_000 }] }));
    expect(under.out).toMatch(/a:fresh:12010: began \+12\.0 s under an operator's silence/);
  });

  it('refuses a file that is not a soak record with a clear message and exit 2', () => {
    const r = check('{"hello": 1}');
    expect(r.status).toBe(2);
    expect(r.err).toMatch(/not a soak record; give the test-artifacts\/soak-<seed>\.json a run wrote/);
    const pauses = check(record({ pauses: 'none' }));
    expect(pauses.status).toBe(2);
    expect(pauses.err).toMatch(/not a soak record: pauses is not a list/);
  });
});
