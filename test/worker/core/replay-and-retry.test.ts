import { describe, expect, it } from 'vitest';
import { isReplay, pruneSeen } from '../../../worker/core/replay.ts';
import { nextAttemptAt } from '../../../worker/core/retry-schedule.ts';

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
  it('backs off exponentially with full jitter, capped at an hour', () => {
    expect(nextAttemptAt(0, T0, 0.999, null) - T0).toBeLessThan(5_000);
    expect(nextAttemptAt(3, T0, 0.999, null) - T0).toBeLessThan(40_000);
    expect(nextAttemptAt(30, T0, 0.999, null) - T0).toBeLessThan(3_600_000);
    expect(nextAttemptAt(0, T0, 0, null) - T0).toBe(1_000);
  });

  it('never retries sooner than Retry-After', () => {
    expect(nextAttemptAt(0, T0, 0.5, 30) - T0).toBe(30_000);
  });
});
