import { describe, expect, it } from 'vitest';
import { acceptAgentHeartbeat, missDeadline } from '../../../worker/core/agent-state.ts';
import { viewAgent } from '../../../worker/core/agent-view.ts';

const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);
const up = acceptAgentHeartbeat(
  null,
  'agent',
  'a',
  { boot: 'b', seq: 1, intervalS: 5, graceS: 5, sentAt: T0, stopping: false, signals: [] },
  T0,
).next;
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

  it('no data for an agent never heard from', () => {
    expect(viewAgent('a', null, T0)).toMatchObject({ state: 'no_data', verifiedAt: null });
  });
});
