import { describe, expect, it } from 'vitest';
import { isReplay, pruneSeen } from '../../../worker/core/replay.ts';
import { nextAttemptAt, outcomeOf, parseRetryAfter, retryCeilingMs } from '../../../worker/core/retry-schedule.ts';

const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);

describe('replay memory', () => {
  it('remembers a webhook-id for 10 minutes, then forgets it', () => {
    const seen = { a: T0 };
    expect(isReplay(seen, 'a', T0 + 599_999)).toBe(true);
    expect(isReplay(seen, 'a', T0 + 600_000)).toBe(false);
    expect(isReplay(seen, 'b', T0)).toBe(false);
    expect(pruneSeen({ a: T0, b: T0 + 60_000 }, T0 + 600_000)).toEqual({ b: T0 + 60_000 });
  });
});

describe('notification retry schedule', () => {
  it('fits three tries in the first minute, then backs off exponentially with full jitter up to five minutes', () => {
    // attempts = tries made so far; the delay is random in [1 s, ceiling].
    expect([1, 2, 3, 4, 5, 8, 30].map(retryCeilingMs)).toEqual([8_000, 16_000, 60_000, 120_000, 240_000, 300_000, 300_000]);
    expect(nextAttemptAt(1, T0, 0.999, null) - T0).toBe(7_992);
    expect(nextAttemptAt(2, T0, 0.5, null) - T0).toBe(8_000);
    expect(nextAttemptAt(1, T0, 0, null) - T0).toBe(1_000);
    expect(nextAttemptAt(40, T0, 0.999, null) - T0).toBe(299_700);
    // Worst case of the first two retries: both within 24 s of the first try.
    expect(nextAttemptAt(1, T0, 0.999999, null) + nextAttemptAt(2, T0, 0.999999, null) - 2 * T0).toBeLessThan(24_000);
  });

  it('never retries sooner than Retry-After', () => {
    expect(nextAttemptAt(1, T0, 0.5, 30) - T0).toBe(30_000);
    expect(nextAttemptAt(1, T0, 0.5, 1) - T0).toBe(4_000);
  });

  it('reads Retry-After as seconds or an HTTP date, bounded to a day', () => {
    expect(parseRetryAfter('30', T0)).toBe(30);
    expect(parseRetryAfter(' 7 ', T0)).toBe(7);
    expect(parseRetryAfter(new Date(T0 + 90_500).toUTCString(), T0)).toBe(90);
    expect(parseRetryAfter('9999999', T0)).toBe(86_400);
    expect(parseRetryAfter('soon', T0)).toBeNull();
    expect(parseRetryAfter(null, T0)).toBeNull();
  });

  it('classifies answers: 2xx delivered, 410 gone, a refused request rejected, everything a fix or a wait can cure retried', () => {
    const cases: [number | null, string][] = [
      [200, 'delivered'],
      [202, 'delivered'],
      [204, 'delivered'],
      [410, 'gone'],
      [400, 'rejected'],
      [413, 'rejected'],
      [415, 'rejected'],
      [422, 'rejected'],
      [null, 'retry'],
      [301, 'retry'],
      [302, 'retry'],
      [307, 'retry'],
      [401, 'retry'],
      [403, 'retry'],
      [404, 'retry'],
      [408, 'retry'],
      [425, 'retry'],
      [429, 'retry'],
      [500, 'retry'],
      [503, 'retry'],
    ];
    expect(cases.map(([status]) => outcomeOf(status))).toEqual(cases.map(([, outcome]) => outcome));
  });
});
