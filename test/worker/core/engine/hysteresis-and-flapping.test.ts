import { describe, expect, it } from 'vitest';
import { at, config, Scenario, sig } from './scenario.ts';

const empty = config('{}');
const fresh = (v: number | null) => [sig('metrics.freshness', 'freshness', v)];

describe('recovery is a phase', () => {
  it('closes only after three good heartbeats and 60 s, ending at the first good one', () => {
    const s = new Scenario(empty).every(0, 10, () => fresh(900)).every(15, 70, () => fresh(5));
    expect(s.windows('window_closed')).toEqual([]);
    s.heartbeat(75, fresh(5));
    expect(s.windows('window_closed')).toEqual([expect.objectContaining({ at: 75, startedAt: at(0), endedAt: at(15) })]);
  });

  it('a bad heartbeat during recovery starts recovery over', () => {
    const s = new Scenario(empty)
      .every(0, 10, () => fresh(900))
      .every(15, 40, () => fresh(5))
      .heartbeat(45, fresh(900))
      .every(50, 120, () => fresh(5));
    expect(s.windows('window_closed')).toEqual([expect.objectContaining({ endedAt: at(50), at: 110 })]);
  });

  it('the alarm closes the window when only the 60 s remain, without waiting for a heartbeat', () => {
    const slow = config('defaults: { recover_for: { heartbeats: 2, seconds: 60 } }');
    const s = new Scenario(slow, 'a', 30)
      .heartbeat(0, fresh(900))
      .heartbeat(30, fresh(900))
      .heartbeat(60, fresh(5))
      .heartbeat(90, fresh(5));
    expect(s.windows('window_closed')).toEqual([]);
    s.alarmsUntil(120);
    expect(s.windows('window_closed')).toEqual([expect.objectContaining({ at: 120, endedAt: at(60) })]);
  });

  it('for in seconds: the window opens by alarm once the bad run has lasted long enough', () => {
    const cfg = config('defaults: { for: { heartbeats: 1, seconds: 12 } }');
    const s = new Scenario(cfg).heartbeat(0, fresh(900)).heartbeat(5, fresh(900)).heartbeat(10, fresh(900));
    expect(s.windows('window_opened')).toEqual([]);
    s.alarmsUntil(12);
    expect(s.windows('window_opened')).toEqual([expect.objectContaining({ at: 12, startedAt: at(0), confirmedAt: at(12) })]);
  });
});

describe('flapping', () => {
  it('a signal alternating every heartbeat for 10 minutes pages exactly once', () => {
    const s = new Scenario(empty).every(0, 600, (_, i) => fresh(i % 2 === 0 ? 900 : 5));
    expect(s.notifications()).toHaveLength(1);
    expect(s.windows('window_opened')).toEqual([expect.objectContaining({ cause: 'flapping', startedAt: at(0), paged: true })]);
    expect(s.monitor('auto:metrics.freshness').flapping).toBe(true);
  });

  it('ends when stable again: a good run closes the window at its first good observation', () => {
    const s = new Scenario(empty).every(0, 60, (_, i) => fresh(i % 2 === 0 ? 900 : 5)).every(65, 700, () => fresh(5));
    expect(s.windows('window_closed')).toEqual([expect.objectContaining({ cause: 'flapping', endedAt: at(65), at: 665 })]);
    expect(s.monitor('auto:metrics.freshness')).toMatchObject({ flapping: false, level: 'up' });
    expect(s.notifications()).toHaveLength(2);
  });

  it('ends stably bad: the window stays open and nothing more is sent', () => {
    const s = new Scenario(empty).every(0, 60, (_, i) => fresh(i % 2 === 0 ? 900 : 5)).every(65, 700, () => fresh(900));
    expect(s.windows('window_closed')).toEqual([]);
    expect(s.monitor('auto:metrics.freshness')).toMatchObject({ flapping: false, level: 'blind' });
    expect(s.notifications()).toHaveLength(1);
  });

  it('the threshold is configurable: 4 transitions within 60 s', () => {
    const cfg = config('defaults: { flapping: { transitions: 4, within_s: 60 } }');
    const s = new Scenario(cfg).every(0, 20, (_, i) => fresh(i % 2 === 0 ? 900 : 5));
    expect(s.windows('window_opened')).toEqual([expect.objectContaining({ cause: 'flapping', at: 15, startedAt: at(0) })]);
  });

  it('after three real incidents in half an hour the monitor is flapping, and a fourth pages nobody', () => {
    // Each incident is two bad heartbeats then a good run: two flips each, six after the third.
    const s = new Scenario(empty);
    for (const start of [0, 100, 200, 300]) s.every(start, start + 5, () => fresh(900)).every(start + 10, start + 95, () => fresh(5));
    expect(s.windows('window_opened').map((w) => w.cause)).toEqual(['stale', 'stale', 'stale']);
    expect(s.windows('window_closed')).toHaveLength(2);
    expect(s.monitor('auto:metrics.freshness').flapping).toBe(true);
    expect(s.notifications()).toHaveLength(5);
  });
});

describe('clock skew', () => {
  it('an agent clock 45 s off for 10 s opens a degraded clock_skew window of its own, from the first heartbeat off', () => {
    const s = new Scenario(empty)
      .every(0, 10, () => [])
      .heartbeat(15, [], { sentAtOffsetS: 45 })
      .heartbeat(20, [], { sentAtOffsetS: -45 });
    expect(s.windows('window_opened')).toEqual([]);
    s.heartbeat(25, [], { sentAtOffsetS: -45 });
    expect(s.windows('window_opened')).toEqual([
      expect.objectContaining({
        monitor: 'clock_skew',
        cause: 'clock_skew',
        level: 'degraded',
        severity: 'warning',
        peakValue: 45,
        startedAt: at(15),
      }),
    ]);
  });

  it('heartbeats held on their way and delivered together (a stalled Worker draining its queue) are not a skewed clock', () => {
    // The Worker stalls for 2 minutes from second 10; the agent's heartbeats of that time wait in its
    // queue and are taken within a second once it runs again, each "behind" by the time it waited.
    const s = new Scenario(empty).every(0, 10, () => []);
    for (let i = 0; i < 24; i++) s.heartbeat(130 + i * 0.04, [], { sentAtOffsetS: -(120 - i * 5) });
    s.every(135, 240, () => []);
    expect(s.windows('window_opened').filter((w) => w.monitor === 'clock_skew')).toEqual([]);
  });

  it('nor are three such stalls in half an hour: the held heartbeats say nothing of the clock, so it does not flap either', () => {
    const s = new Scenario(empty).every(0, 10, () => []);
    for (const stall of [0, 600, 1200]) {
      for (let i = 0; i < 24; i++) s.heartbeat(stall + 130 + i * 0.04, [], { sentAtOffsetS: -(120 - i * 5) });
      s.every(stall + 135, stall + 600, () => []);
    }
    expect(s.windows('window_opened').filter((w) => w.monitor === 'clock_skew')).toEqual([]);
    expect(s.live?.monitors.clock_skew).toMatchObject({ level: 'up' });
  });

  it('a clock really behind is still found when its heartbeats come in rhythm again after a silence', () => {
    const s = new Scenario(empty).every(0, 10, () => []);
    // Silent from 10 s to 100 s, then back with a clock 60 s behind: the first heartbeat may have
    // waited on its way and says nothing; those after it, in rhythm, say the clock is off.
    s.heartbeat(100, [], { sentAtOffsetS: -60 });
    expect(s.windows('window_opened').filter((w) => w.monitor === 'clock_skew')).toEqual([]);
    for (let t = 105; t <= 140; t += 5) s.heartbeat(t, [], { sentAtOffsetS: -60 });
    expect(s.windows('window_opened').filter((w) => w.monitor === 'clock_skew')).toEqual([
      expect.objectContaining({ cause: 'clock_skew', startedAt: at(105), peakValue: 60 }),
    ]);
  });

  it('10 s of skew is fine', () => {
    const s = new Scenario(empty).every(0, 30, () => []);
    s.heartbeat(35, [], { sentAtOffsetS: 10 }).heartbeat(40, [], { sentAtOffsetS: 10 });
    expect(s.windows('window_opened')).toEqual([]);
  });
});
