import { describe, expect, it } from 'vitest';
import { acceptAgentHeartbeat, missDeadline } from '../../../worker/core/agent-state.ts';
import { viewAgent } from '../../../worker/core/agent-view.ts';
import { newInstance } from '../../../worker/core/monitor-instance.ts';

const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);
const up = acceptAgentHeartbeat(
  null,
  'agent',
  'a',
  { boot: 'b', seq: 1, intervalS: 5, graceS: 5, sentAt: T0, stopping: false, signals: [] },
  T0,
).next;
// One probe measured by that heartbeat: without one, the agent measures nothing and is never operational.
up.monitors.fresh = newInstance('fresh', T0);
const expireDeadline = (live: typeof up, now: number) => missDeadline(live, now);

describe('what the public is told about an agent', () => {
  it('operational only before its deadline', () => {
    expect(viewAgent('a', up, T0 + 10_000).state).toBe('operational');
    expect(viewAgent('a', up, T0 + 10_001).state).toBe('unverified');
  });

  it('blind once judged silent, with when it started', () => {
    const blind = expireDeadline(up, T0 + 10_000)!.next;
    expect(viewAgent('a', blind, T0 + 60_000)).toMatchObject({ state: 'blind', blindSince: T0 + 5_000, verifiedAt: T0 });
  });

  it('unverified while alive but measuring nothing, or while the watchdog is stalled', () => {
    expect(viewAgent('a', { ...up, monitors: {} }, T0 + 1000)).toMatchObject({
      state: 'unverified',
      why: 'alive, but its heartbeats measure nothing',
    });
    expect(viewAgent('a', up, T0 + 1000, true)).toMatchObject({ state: 'unverified', why: 'the watchdog is not evaluating' });
  });

  it('unverified while a probe could not measure, before `for` confirms it', () => {
    const unknown = { ...up, monitors: { fresh: { ...newInstance('fresh', T0), raw: 'unknown' as const } } };
    expect(viewAgent('a', unknown, T0 + 1000)).toMatchObject({ state: 'unverified', why: 'fresh: the probe could not measure' });
  });

  it('no data for an agent never heard from', () => {
    expect(viewAgent('a', null, T0)).toMatchObject({ state: 'no_data', verifiedAt: null });
  });
});
