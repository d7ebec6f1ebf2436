// Coverage and SLO arithmetic on hand-computed cases: every figure below is worked out by hand in the
// comment beside it, not read back from the code.
import { describe, expect, it } from 'vitest';
import { coverageOf, overallTimeline, type ComponentTimeline } from '../../../../worker/core/coverage.ts';
import { intersect, subtract, union } from '../../../../worker/core/intervals.ts';

const H = 3_600_000;
const MIN = 60_000;
const T = Date.UTC(2026, 10, 22, 10, 0, 0); // 10:00Z
const at = (h: number, m = 0) => T + (h - 10) * H + m * MIN;
const span = (a: number, b: number) => ({ start: a, end: b });

describe('interval arithmetic', () => {
  it('merges overlapping and touching intervals and drops empty ones', () => {
    expect(union([span(5, 7), span(1, 3), span(3, 4), span(6, 9), span(8, 8)])).toEqual([span(1, 4), span(5, 9)]);
  });
  it('subtracts and intersects sets', () => {
    const a = [span(0, 10), span(20, 30)];
    const b = [span(5, 22), span(25, 26)];
    expect(subtract(a, b)).toEqual([span(0, 5), span(22, 25), span(26, 30)]);
    expect(intersect(a, b)).toEqual([span(5, 10), span(20, 22), span(25, 26)]);
  });
});

describe('coverage of one pipeline', () => {
  // Range 10:00–12:00 (7200 s). Blind 10:10–10:20 (600 s); degraded 10:30–10:40; the watchdog not
  // evaluating 11:00–11:05 (300 s); maintenance 11:30–11:50 (1200 s); blind again 11:40–12:00, of
  // which 11:40–11:50 falls in the maintenance, so 600 s count.
  const timeline: ComponentTimeline = {
    id: 'metrics',
    name: 'Metrics pipeline',
    firstSeenAt: at(10) - 86_400_000,
    blind: [span(at(10, 10), at(10, 20)), span(at(11, 40), at(12))],
    degraded: [span(at(10, 30), at(10, 40))],
    paused: [span(at(11, 30), at(11, 50))],
    linkOnly: [],
  };
  const gaps = [span(at(11), at(11, 5))];
  const c = coverageOf(timeline, span(at(10), at(12)), gaps, 0.9);

  it('splits the range into paused, unverified, blind and observable time', () => {
    expect(c.rangeMs).toBe(7200_000);
    expect(c.noDataMs).toBe(0);
    expect(c.pausedMs).toBe(1200_000);
    expect(c.unverifiedMs).toBe(300_000);
    expect(c.blindMs).toBe(1200_000);
    expect(c.degradedMs).toBe(600_000);
    // 7200 − 1200 paused = 6000 counted; 6000 − 300 − 1200 = 4500 observable.
    expect(c.observableMs).toBe(4500_000);
    expect(c.coverage).toBe(0.75);
  });

  it('gives the error budget in time, what was spent, and what is left', () => {
    // 10 % of 6000 s = 600 s; spent 300 + 1200 = 1500 s; left −900 s, i.e. −1.5 budgets.
    expect(c.budgetMs).toBeCloseTo(600_000, 6);
    expect(c.budgetSpentMs).toBe(1500_000);
    expect(c.budgetLeftMs).toBeCloseTo(-900_000, 6);
    expect(c.budgetLeftRatio).toBeCloseTo(-1.5, 9);
  });

  it('computes burn rates over 1 h, 6 h and 3 d before the end', () => {
    // 11:00–12:00: 1200 s paused, 300 s unverified, 600 s blind (11:50–12:00): 900 / 2400 = 0.375 → ÷ 0.1 = 3.75.
    expect(c.burnRates['1h']).toBeCloseTo(3.75, 9);
    // 06:00–12:00: 21600 − 1200 = 20400 counted, 1500 bad: 1500 / 20400 / 0.1.
    expect(c.burnRates['6h']).toBeCloseTo(1500 / 20400 / 0.1, 9);
    // The pipeline was first seen 26 h before 12:00: 93600 − 1200 = 92400 counted.
    expect(c.burnRates['3d']).toBeCloseTo(1500 / 92400 / 0.1, 9);
  });

  it('counts time before anything fed the pipeline as no data, not as observable', () => {
    const late = coverageOf({ ...timeline, firstSeenAt: at(11) }, span(at(10), at(12)), gaps, 0.9);
    // 10:00–11:00 is no data; of 11:00–12:00: 1200 paused, 300 unverified, 600 blind → 1500 observable of 2400.
    expect(late.noDataMs).toBe(3600_000);
    expect(late.observableMs).toBe(1500_000);
    expect(late.coverage).toBeCloseTo(1500 / 2400, 12);
  });

  it('has no coverage, and no burn rate, when nothing ever fed the pipeline', () => {
    const none = coverageOf({ ...timeline, firstSeenAt: null }, span(at(10), at(12)), gaps, 0.9);
    expect(none.coverage).toBeNull();
    expect(none.noDataMs).toBe(7200_000);
    expect(none.burnRates).toEqual({ '1h': null, '6h': null, '3d': null });
  });
});

describe('coverage of all pipelines together', () => {
  const base = { firstSeenAt: at(9), degraded: [], linkOnly: [] };
  const a: ComponentTimeline = { ...base, id: 'a', name: 'A', blind: [span(at(10, 0), at(10, 30))], paused: [span(at(11), at(12))] };
  const b: ComponentTimeline = {
    ...base,
    id: 'b',
    name: 'B',
    blind: [span(at(10, 20), at(10, 40)), span(at(11, 10), at(11, 20))],
    paused: [span(at(11, 30), at(12))],
  };

  it('is blind when any pipeline that is not paused is blind, and paused only when all are', () => {
    const all = overallTimeline([a, b]);
    // Blind: A 10:00–10:30 ∪ B 10:20–10:40 = 10:00–10:40; B 11:10–11:20 (A is paused then, B is not).
    expect(all.blind).toEqual([span(at(10), at(10, 40)), span(at(11, 10), at(11, 20))]);
    // Both paused only 11:30–12:00.
    expect(all.paused).toEqual([span(at(11, 30), at(12))]);
    const c = coverageOf(all, span(at(10), at(12)), [], 0.99);
    // 7200 − 1800 paused = 5400 counted; blind 2400 + 600 = 3000; observable 2400.
    expect(c.observableMs).toBe(2400_000);
    expect(c.coverage).toBeCloseTo(2400 / 5400, 12);
  });
});
