import { describe, expect, it } from 'vitest';
import { acceptAgentHeartbeat, type HeartbeatFacts, isOutOfOrder, type LiveState, SETTLE_MS } from '../../../worker/core/agent-state.ts';
import { evaluateTimers } from '../../../worker/core/evaluate.ts';
import { config } from './engine/scenario.ts';

const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);
const facts = (over: Partial<HeartbeatFacts> = {}): HeartbeatFacts => ({
  boot: 'b1',
  seq: 1,
  intervalS: 5,
  graceS: 5,
  sentAt: T0,
  stopping: false,
  signals: [],
  ...over,
});
const accept = (prev: LiveState | null, f: HeartbeatFacts, now: number) => acceptAgentHeartbeat(prev, 'agent', 'a', f, now);
const defaults = config('{}');
const subject = { kind: 'agent', id: 'a', component: 'monitoring' } as const;
/**
 * The alarm at `now`, and the one SETTLE_MS later if it began a wait for heartbeats queued behind it
 * (it found the deadline just passed): null when they changed nothing.
 */
const expire = (live: LiveState, now: number) => {
  const first = evaluateTimers(live, subject, defaults, now);
  const waited = first.changes.length === 0 && first.next.lastCheckAt === now && now >= live.deadlineAt && first.next.state === 'up';
  const t = waited ? evaluateTimers(first.next, subject, defaults, now + SETTLE_MS) : first;
  return t.next.state === live.state && t.changes.length === 0 ? null : t;
};

describe('agent state transitions', () => {
  it('a first heartbeat makes the agent up with an absolute deadline and records first_seen', () => {
    const { next, changes } = accept(null, facts(), T0);
    expect(next).toMatchObject({
      state: 'up',
      stateSince: T0,
      lastHeartbeatAt: T0,
      deadlineAt: T0 + 10_000,
      firstSeenAt: T0,
      silence: null,
    });
    expect(changes).toEqual([{ type: 'first_seen' }]);
  });

  it('a steady heartbeat moves the deadline and changes nothing that needs D1', () => {
    const first = accept(null, facts(), T0).next;
    const { next, changes } = accept(first, facts({ seq: 2 }), T0 + 5_000);
    expect(next.deadlineAt).toBe(T0 + 15_000);
    expect(next.stateSince).toBe(T0);
    expect(changes).toEqual([]);
  });

  it("the deadline is measured from receipt, not from the agent's clock", () => {
    const { next } = accept(null, facts({ sentAt: T0 - 3_600_000 }), T0);
    expect(next.deadlineAt).toBe(T0 + 10_000);
    expect(next.lastSentAt).toBe(T0 - 3_600_000);
  });

  it('nothing expires before the deadline', () => {
    const live = accept(null, facts(), T0).next;
    expect(expire(live, T0 + 9_999)).toBeNull();
  });

  it('at the deadline, a paged window opens that started when the heartbeat was due', () => {
    const live = accept(null, facts(), T0).next;
    const transition = expire(live, T0 + 10_000);
    expect(transition?.next).toMatchObject({ state: 'blind', stateSince: T0 + 5_000 });
    expect(transition?.changes).toEqual([
      {
        type: 'window_opened',
        window: expect.objectContaining({
          id: `a:agent:${T0 + 5_000}`,
          agentId: 'a',
          monitor: 'agent',
          cause: 'agent_silent',
          startedAt: T0 + 5_000,
          confirmedAt: T0 + 10_000,
          endedAt: null,
          suppressedBy: null,
          paged: true,
        }),
      },
    ]);
  });

  it('a late alarm still confirms at the deadline, records the window as noticed late, and a blind agent does not expire twice', () => {
    const live = accept(null, facts(), T0).next;
    const blind = expire(live, T0 + 600_000);
    expect(blind?.changes[0]).toMatchObject({ window: { confirmedAt: T0 + 10_000, suppressedBy: 'watchdog_gap', paged: false } });
    expect(blind?.changes).toHaveLength(1);
    expect(blind!.next.state).toBe('blind');
  });

  it('the next heartbeat makes the agent up again at its own arrival', () => {
    const live = accept(null, facts(), T0).next;
    const blind = expire(live, T0 + 10_000)!.next;
    const { next, changes } = accept(blind, facts({ seq: 2 }), T0 + 42_000);
    expect(next).toMatchObject({ state: 'up', stateSince: T0 + 42_000 });
    expect(changes).toEqual([]);
  });

  it('a heartbeat saying stopping makes the silence after it expected: recorded, not paged', () => {
    const live = accept(null, facts({ stopping: true }), T0);
    expect(live.changes).toContainEqual({ type: 'stopping' });
    const stopped = expire(live.next, T0 + 10_000)!;
    expect(stopped.next.state).toBe('stopped');
    expect(stopped.changes[0]).toMatchObject({ window: { cause: 'agent_stopped', suppressedBy: 'agent_stopped', paged: false } });
  });

  it('a new boot is a restart, and seq may start again', () => {
    const live = accept(null, facts({ seq: 9 }), T0).next;
    expect(isOutOfOrder(live, { boot: 'b1', seq: 9 })).toBe(true);
    expect(isOutOfOrder(live, { boot: 'b2', seq: 1 })).toBe(false);
    expect(accept(live, facts({ boot: 'b2', seq: 1 }), T0 + 1000).changes).toEqual([{ type: 'restarted', previousBoot: 'b1' }]);
  });

  it('grace defaults to max(interval, 10 s)', () => {
    const deadline = (intervalS: number) => accept(null, facts({ intervalS, graceS: undefined }), T0).next.deadlineAt - T0;
    expect(deadline(3)).toBe(13_000);
    expect(deadline(15)).toBe(30_000);
  });
});
