// Retiring an agent (an operator revoked it) ends what it has open and leaves nothing to fire.
import { describe, expect, it } from 'vitest';
import { evaluateHeartbeat, evaluateTimers, nextDueAt } from '../../../../worker/core/evaluate.ts';
import { CACHE_MS } from '../../../../worker/durable/credentials.ts';
import { readmitSubject, RETIRED_REFUSE_MS, refusedAsRetired, retireSubject } from '../../../../worker/core/retire.ts';
import { BUCKET_MS } from '../../../../worker/core/rollup.ts';
import { at, config, Scenario, sig } from './scenario.ts';

const cfg = config(`
components: [{ id: metrics, name: Metrics }]
defaults: { component: metrics }
monitors:
  - { id: metrics-fresh, signal: "metrics.freshness", kind: freshness, blind: { max_age_s: 60 }, for: { heartbeats: 1 } }
`);
const subject = { kind: 'agent' as const, id: 'a', component: 'metrics' };

describe('a retired agent', () => {
  it('has every open window ended at the retirement, and never pages its silence', () => {
    const s = new Scenario(cfg, 'a', 5).every(0, 30, (t) => [sig('metrics.freshness', 'freshness', t >= 10 ? 900 : 5)]);
    expect(s.windows('window_opened', 'metrics-fresh')).toHaveLength(1);
    const retired = retireSubject(s.live!, cfg, at(40));
    expect(retired.changes).toEqual([
      { type: 'window_closed', window: expect.objectContaining({ monitor: 'metrics-fresh', endedAt: at(40) }) },
    ]);
    expect(retired.next).toMatchObject({ state: 'stopped', retiredAt: at(40), monitors: {}, silence: null });
    // A day later: no deadline is due, and an alarm anyway changes nothing.
    expect(nextDueAt(retired.next, subject, cfg, at(86_400))).not.toBe(retired.next.deadlineAt);
    expect(evaluateTimers(retired.next, subject, cfg, at(86_400)).changes).toEqual([]);
  });

  it('is an agent like any other again once it is heard', () => {
    const s = new Scenario(cfg, 'a', 5).every(0, 10, () => [sig('metrics.freshness', 'freshness', 5)]);
    s.live = retireSubject(s.live!, cfg, at(12)).next;
    s.heartbeat(86_400, [sig('metrics.freshness', 'freshness', 5)], { boot: 'b2' });
    expect(s.live?.retiredAt).toBeUndefined();
    expect(s.live?.state).toBe('up');
    // And silent again, it is paged as usual.
    s.alarmsUntil(86_600);
    expect(s.windows('window_opened', 'agent').map((w) => w.cause)).toEqual(['agent_silent']);
  });

  it('has the time it was retired accounted to nothing when heard again', () => {
    const s = new Scenario(cfg, 'a', 5).every(0, 10, () => [sig('metrics.freshness', 'freshness', 5)]);
    const retired = retireSubject(s.live!, cfg, at(12)).next;
    const facts = { boot: 'b2', seq: 1, intervalS: 5, graceS: 5, sentAt: at(86_400), stopping: false, signals: [] };
    const back = evaluateHeartbeat(retired, subject, facts, cfg, at(86_400)).next;
    // Neither paused nor blind: no rollup bucket spans the day it was retired.
    const buckets = Object.keys(back.rollup.buckets).map(Number);
    expect(buckets.filter((b) => b >= at(12) + BUCKET_MS && b < at(86_400) - BUCKET_MS)).toEqual([]);
  });

  it('refuses heartbeats for a while after retirement, longer than an isolate may trust the revoked secret; being added again lifts that at once', () => {
    expect(RETIRED_REFUSE_MS).toBeGreaterThan(CACHE_MS);
    const s = new Scenario(cfg, 'a', 5).every(0, 10, () => [sig('metrics.freshness', 'freshness', 5)]);
    expect(refusedAsRetired(s.live, at(11))).toBe(false);
    const retired = retireSubject(s.live!, cfg, at(20)).next;
    expect(refusedAsRetired(retired, at(20))).toBe(true);
    expect(refusedAsRetired(retired, at(20) + RETIRED_REFUSE_MS - 1)).toBe(true);
    expect(refusedAsRetired(retired, at(20) + RETIRED_REFUSE_MS)).toBe(false);
    expect(readmitSubject(null, at(21))).toBeNull();
    expect(readmitSubject(retired, at(20) + RETIRED_REFUSE_MS)).toBeNull();
    const readmitted = readmitSubject(retired, at(21));
    expect(readmitted?.changes).toEqual([]);
    expect(refusedAsRetired(readmitted?.next ?? null, at(21))).toBe(false);
  });
});
