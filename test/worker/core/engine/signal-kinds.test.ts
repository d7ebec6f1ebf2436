import { describe, expect, it } from 'vitest';
import { at, config, Scenario, sig } from './scenario.ts';

const empty = config('{}');

describe('freshness', () => {
  it('opens a degraded window after two stale heartbeats, started at the first, and escalates to blind', () => {
    const s = new Scenario(empty)
      .heartbeat(0, [sig('metrics.freshness', 'freshness', 10)])
      .heartbeat(5, [sig('metrics.freshness', 'freshness', 130)])
      .heartbeat(10, [sig('metrics.freshness', 'freshness', 140)])
      .heartbeat(15, [sig('metrics.freshness', 'freshness', 700)]);
    expect(s.windows('window_opened')).toEqual([
      expect.objectContaining({
        at: 10,
        monitor: 'auto:metrics.freshness',
        cause: 'stale',
        level: 'degraded',
        startedAt: at(5),
        confirmedAt: at(10),
        peakValue: 140,
        paged: true,
      }),
    ]);
    expect(s.windows('window_escalated')).toEqual([expect.objectContaining({ at: 15, level: 'blind', peakValue: 700 })]);
    expect(s.monitor('auto:metrics.freshness').level).toBe('blind');
  });

  it('one stale heartbeat between fresh ones opens nothing', () => {
    const s = new Scenario(empty).every(0, 60, (_, i) => [sig('metrics.freshness', 'freshness', i === 3 ? 900 : 5)]);
    expect(s.changes.filter((c) => c.type !== 'first_seen')).toEqual([]);
  });
});

describe('sampling', () => {
  it('is blind below min_ratio', () => {
    const s = new Scenario(empty).every(0, 10, () => [sig('traces.sampling', 'sampling', 0.0001)]);
    expect(s.windows('window_opened')).toEqual([
      expect.objectContaining({ cause: 'sampling_low', level: 'blind', startedAt: at(0), confirmedAt: at(5) }),
    ]);
  });

  it('is degraded on a sudden drop to under a quarter of its own last-hour median', () => {
    const s = new Scenario(empty).every(0, 600, () => [sig('traces.sampling', 'sampling', 0.1)]);
    s.heartbeat(605, [sig('traces.sampling', 'sampling', 0.02)]).heartbeat(610, [sig('traces.sampling', 'sampling', 0.02)]);
    expect(s.windows('window_opened')).toEqual([
      expect.objectContaining({ cause: 'sampling_drop', level: 'degraded', startedAt: at(605), peakValue: 0.02 }),
    ]);
  });

  it('does not judge a drop before it has five minutes of baseline', () => {
    const s = new Scenario(empty).every(0, 120, (sec) => [sig('traces.sampling', 'sampling', sec < 60 ? 0.1 : 0.02)]);
    expect(s.windows('window_opened')).toEqual([]);
  });
});

describe('dropped', () => {
  it('any dropped alert is blind by default, on its own heartbeat when for is one heartbeat', () => {
    const cfg = config('monitors: [{ id: alerts, signal: "alerts.*", kind: dropped, for: { heartbeats: 1 } }]');
    const s = new Scenario(cfg).heartbeat(0, [sig('alerts.dropped', 'dropped', 0)]).heartbeat(5, [sig('alerts.dropped', 'dropped', 1)]);
    expect(s.windows('window_opened')).toEqual([
      expect.objectContaining({ at: 5, monitor: 'alerts', cause: 'dropped', level: 'blind', peakValue: 1 }),
    ]);
  });

  it('dropped spans are degraded above 0 and blind above 100', () => {
    const s = new Scenario(empty).every(0, 10, () => [sig('spans.dropped', 'dropped', 5)]);
    expect(s.windows('window_opened')).toEqual([expect.objectContaining({ level: 'degraded' })]);
    const t = new Scenario(empty).every(0, 10, () => [sig('spans.dropped', 'dropped', 500)]);
    expect(t.windows('window_opened')).toEqual([expect.objectContaining({ level: 'blind' })]);
  });
});

describe('queue_age', () => {
  it('uses max_age_s from the monitor over the kind default', () => {
    const cfg = config('monitors: [{ id: queue, kind: queue_age, degraded: { max_age_s: 10 }, blind: { max_age_s: 20 } }]');
    const s = new Scenario(cfg).every(0, 10, () => [sig('export.queue_age', 'queue_age', 15)]);
    expect(s.windows('window_opened')).toEqual([expect.objectContaining({ monitor: 'queue', cause: 'queue_backlog', level: 'degraded' })]);
  });
});

describe('saturation', () => {
  it('a queue filling past half its capacity is degraded, past 95 % blind, by the kind defaults', () => {
    const s = new Scenario(empty).every(0, 60, (_, i) => [sig('notifications.queue_fill', 'saturation', i < 4 ? 0.1 : i < 8 ? 0.6 : 1)]);
    expect(s.windows('window_opened')).toEqual([
      expect.objectContaining({ monitor: 'auto:notifications.queue_fill', cause: 'queue_full', level: 'degraded', startedAt: at(20) }),
    ]);
    expect(s.windows('window_escalated')).toEqual([expect.objectContaining({ level: 'blind', peakValue: 1 })]);
  });

  it('uses max_ratio from the monitor, and refuses keys of other kinds', () => {
    const cfg = config('monitors: [{ id: fill, kind: saturation, degraded: { max_ratio: 0.2 } }]');
    const s = new Scenario(cfg).every(0, 10, () => [sig('exporter.queue_fill', 'saturation', 0.3)]);
    expect(s.windows('window_opened')).toEqual([expect.objectContaining({ monitor: 'fill', cause: 'queue_full', level: 'degraded' })]);
    expect(() => config('monitors: [{ id: fill, kind: saturation, degraded: { max_age_s: 3 } }]')).toThrow(
      /a saturation monitor takes max_ratio; remove max_age_s/,
    );
  });
});

describe('unknown', () => {
  it('a null value is unknown, and counts as blind once it has held for its for', () => {
    const s = new Scenario(empty)
      .heartbeat(0, [sig('metrics.freshness', 'freshness', null)])
      .heartbeat(5, [sig('metrics.freshness', 'freshness', null)]);
    expect(s.windows('window_opened')).toEqual([expect.objectContaining({ cause: 'unknown', level: 'unknown', peakValue: null })]);
  });

  it('a configured monitor whose signal vanishes from the heartbeats is unknown, not fine', () => {
    const cfg = config('monitors: [{ id: fresh, signal: "metrics.*", kind: freshness }]');
    const s = new Scenario(cfg)
      .heartbeat(0, [sig('metrics.freshness', 'freshness', 3)])
      .heartbeat(5, [])
      .heartbeat(10, []);
    expect(s.windows('window_opened')).toEqual([
      expect.objectContaining({ monitor: 'fresh', cause: 'missing_signal', level: 'unknown', startedAt: at(5) }),
    ]);
  });

  it('after a restart, monitors of signals the agent no longer sends are retired', () => {
    const s = new Scenario(empty).every(0, 10, () => [sig('old.freshness', 'freshness', null)]);
    expect(s.windows('window_opened')).toHaveLength(1);
    s.heartbeat(15, [sig('new.freshness', 'freshness', 1)], { boot: 'b2' });
    expect(s.windows('window_closed')).toEqual([expect.objectContaining({ monitor: 'auto:old.freshness', endedAt: at(15) })]);
    expect(Object.keys(s.live!.monitors).sort()).toEqual(['auto:new.freshness', 'clock_skew']);
  });
});

describe('several signals in one monitor', () => {
  it('is as bad as its worst signal, and names it', () => {
    const cfg = config('monitors: [{ id: fresh, signal: "metrics.*", kind: freshness }]');
    const s = new Scenario(cfg).every(0, 5, () => [
      sig('metrics.a', 'freshness', 5),
      sig('metrics.b', 'freshness', 900),
      sig('metrics.c', 'freshness', 200),
    ]);
    expect(s.windows('window_opened')).toEqual([
      expect.objectContaining({ monitor: 'fresh', signal: 'metrics.b', level: 'blind', peakValue: 900 }),
    ]);
  });
});
