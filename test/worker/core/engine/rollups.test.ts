import { describe, expect, it } from 'vitest';
import {
  accrue,
  BUCKET_MS,
  DAY_MS,
  emptyRollup,
  FLUSH_SPREAD_MS,
  flushDue,
  flushSpreadMs,
  nextFlushAt,
  recordSignal,
  takeComplete,
} from '../../../../worker/core/rollup.ts';
import { at, config, Scenario, sig, T0 } from './scenario.ts';

describe('rollups', () => {
  it('splits time at 5-minute boundaries', () => {
    const acc = emptyRollup();
    accrue(acc, 'm', 'good', T0 + 240_000, T0 + 420_000);
    expect(acc.buckets[T0]?.m?.good).toBe(60);
    expect(acc.buckets[T0 + BUCKET_MS]?.m?.good).toBe(120);
  });

  it('counts each monitor in the state that held: 10 s good, then degraded until recovery', () => {
    const s = new Scenario(config('{}'))
      .every(0, 5, () => [sig('q.age', 'queue_age', 1)])
      .every(10, 20, () => [sig('q.age', 'queue_age', 100)])
      .every(25, 95, () => [sig('q.age', 'queue_age', 1)]);
    const seconds = s.live!.rollup.buckets[T0]!['auto:q.age']!;
    // Degraded from the window's confirmation (15 s) until the recovery completed (85 s).
    expect(seconds).toEqual({ good: 15 + 10, degraded: 70, blind: 0, unknown: 0, paused: 0 });
    expect(s.live!.rollup.buckets[T0]!.agent!.good).toBe(95);
  });

  it('a silent agent counts blind for itself and unknown for what it measures', () => {
    const s = new Scenario(config('{}')).heartbeat(0, [sig('m.f', 'freshness', 1)]);
    s.alarm(10).alarm(70);
    const b = s.live!.rollup.buckets[T0]!;
    expect(b.agent).toMatchObject({ good: 10, blind: 60 });
    expect(b['auto:m.f']).toMatchObject({ good: 10, unknown: 60 });
  });

  it('keeps last/min/max per signal per UTC day, and unknowns apart', () => {
    const acc = emptyRollup();
    for (const [i, v] of [3, 9, null, 1].entries()) recordSignal(acc, 'k', 'm.f', v, at(i));
    const day = Math.floor(T0 / DAY_MS) * DAY_MS;
    expect(Object.keys(acc.signals)).toEqual([String(day)]);
    expect(acc.signals[day]?.k).toEqual({ name: 'm.f', last: 1, min: 1, max: 9, samples: 3, unknown: 1 });
    recordSignal(acc, 'k', 'm.f', 4, day + DAY_MS);
    expect(acc.signals[day + DAY_MS]?.k).toEqual({ name: 'm.f', last: 4, min: 4, max: 4, samples: 1, unknown: 0 });
  });

  it('flushes complete buckets at most once a minute, keeping the current one', () => {
    const acc = emptyRollup();
    accrue(acc, 'm', 'good', T0, T0 + BUCKET_MS + 1000);
    expect(flushDue(acc, T0 + BUCKET_MS - 30_000, T0 + BUCKET_MS + 1000)).toBe(false);
    expect(flushDue(acc, T0, T0 + BUCKET_MS + 1000)).toBe(true);
    const { flush, rest } = takeComplete(acc, T0 + BUCKET_MS + 1000);
    expect(Object.keys(flush.buckets)).toEqual([String(T0)]);
    expect(Object.keys(rest.buckets)).toEqual([String(T0 + BUCKET_MS)]);
    // Stamped with the time it was taken: D1 adds each stamp to a day row once.
    expect(flush.takenAt).toBe(T0 + BUCKET_MS + 1000);
    expect(nextFlushAt(rest, T0 + BUCKET_MS + 1000)).toBe(T0 + 2 * BUCKET_MS);
  });

  it("spreads each agent's write over the minute after a bucket ends, the same place every time", () => {
    const acc = emptyRollup();
    accrue(acc, 'm', 'good', T0, T0 + BUCKET_MS + 1000);
    const spread = flushSpreadMs('agent-7');
    expect(spread).toBe(flushSpreadMs('agent-7'));
    expect(flushDue(acc, T0, T0 + BUCKET_MS + spread - 1, spread)).toBe(false);
    expect(flushDue(acc, T0, T0 + BUCKET_MS + spread, spread)).toBe(true);
    expect(nextFlushAt(acc, T0, spread)).toBe(T0 + BUCKET_MS + spread);
    // 1000 agents land all over the minute, not on one instant: no tenth of it holds more than 15 %.
    const tenths = new Array<number>(10).fill(0);
    for (let i = 0; i < 1000; i++) tenths[Math.floor(flushSpreadMs(`load-${String(i).padStart(4, '0')}`) / (FLUSH_SPREAD_MS / 10))]! += 1;
    expect(Math.max(...tenths)).toBeLessThanOrEqual(150);
    expect(Math.min(...tenths)).toBeGreaterThanOrEqual(50);
  });
});
