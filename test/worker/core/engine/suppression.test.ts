import { describe, expect, it } from 'vitest';
import { nextDueAt } from '../../../../worker/core/evaluate.ts';
import { at, config, Scenario, sig } from './scenario.ts';

const deps = config(`
monitors:
  - { id: prometheus-up, signal: prometheus.up, kind: freshness, blind: { max_age_s: 60 } }
  - { id: metrics-fresh, signal: "metrics.*", kind: freshness, depends_on: [prometheus-up] }
`);
const stack = (prom: number | null, metrics: number | null) => [
  sig('prometheus.up', 'freshness', prom),
  sig('metrics.freshness', 'freshness', metrics),
];

describe('dependencies', () => {
  it('while Prometheus is down, the freshness monitor behind it is recorded but does not page', () => {
    const s = new Scenario(deps).every(0, 10, () => stack(900, 900));
    expect(s.windows('window_opened')).toEqual([
      expect.objectContaining({ monitor: 'prometheus-up', paged: true, suppressedBy: null }),
      expect.objectContaining({ monitor: 'metrics-fresh', paged: false, suppressedBy: 'depends_on:prometheus-up' }),
    ]);
    expect(s.notifications()).toHaveLength(1);
  });

  it('when Prometheus recovers but metrics stay stale, the suppressed window pages then', () => {
    const s = new Scenario(deps).every(0, 10, () => stack(900, 900)).every(15, 70, () => stack(1, 900));
    // Prometheus is "recovering" until its good run has held 3 heartbeats and 60 s.
    expect(s.windows('window_paged')).toEqual([]);
    s.heartbeat(75, stack(1, 900));
    expect(s.windows('window_closed')).toEqual([expect.objectContaining({ monitor: 'prometheus-up', endedAt: at(15) })]);
    expect(s.windows('window_paged')).toEqual([
      expect.objectContaining({ at: 75, monitor: 'metrics-fresh', startedAt: at(0), paged: true, suppressedBy: null }),
    ]);
  });

  it('a configuration with a cycle or an unknown dependency is refused', () => {
    expect(() => config('monitors: [{ id: x, kind: freshness, depends_on: [y] }, { id: y, kind: freshness, depends_on: [x] }]')).toThrow(
      /cycle \(x → y → x\)/,
    );
    expect(() => config('monitors: [{ id: x, kind: freshness, depends_on: [nope] }]')).toThrow(/no monitor has the id "nope"/);
  });
});

describe('maintenance', () => {
  const cfg = config(`
maintenance:
  - { id: upgrade, starts_at: "2026-11-22T12:00:00Z", ends_at: "2026-11-22T12:01:00Z", agents: ["a"], reason: Prometheus upgrade }
`);

  it('a window during maintenance is recorded as expected, and pages if it outlasts the maintenance', () => {
    const s = new Scenario(cfg).every(0, 55, () => [sig('metrics.freshness', 'freshness', 900)]);
    expect(s.windows('window_opened')).toEqual([expect.objectContaining({ suppressedBy: 'maintenance:upgrade', paged: false })]);
    s.alarmsUntil(61);
    expect(s.windows('window_paged')).toEqual([expect.objectContaining({ at: 60, startedAt: at(0) })]);
  });

  it('a window that ends within the maintenance never pages, and its close is silent too', () => {
    const quick = config(`
defaults: { recover_for: { heartbeats: 3, seconds: 0 } }
maintenance: [{ id: upgrade, starts_at: "2026-11-22T12:00:00Z", ends_at: "2026-11-22T12:01:00Z" }]
`);
    const s = new Scenario(quick)
      .every(0, 5, () => [sig('metrics.freshness', 'freshness', 900)])
      .every(10, 59, () => [sig('metrics.freshness', 'freshness', 1)]);
    s.alarmsUntil(59);
    expect(s.windows('window_closed')).toHaveLength(1);
    expect(s.notifications()).toEqual([]);
  });

  it('maintenance for other agents changes nothing here', () => {
    const other = config(
      'maintenance: [{ id: m, starts_at: "2026-11-22T11:00:00Z", ends_at: "2026-11-22T13:00:00Z", agents: ["prod-*"] }]',
    );
    const s = new Scenario(other).every(0, 10, () => [sig('metrics.freshness', 'freshness', 900)]);
    expect(s.windows('window_opened')).toEqual([expect.objectContaining({ paged: true })]);
  });
});

describe('agent silence', () => {
  it('no signal window opens while the agent is silent, even one whose for was counting down', () => {
    const cfg = config('defaults: { for: { heartbeats: 1, seconds: 30 } }');
    const s = new Scenario(cfg).heartbeat(0, [sig('metrics.freshness', 'freshness', 900)]);
    s.alarmsUntil(60);
    expect(s.windows('window_opened')).toEqual([
      expect.objectContaining({ monitor: 'agent', cause: 'agent_silent', startedAt: at(5), confirmedAt: at(10) }),
    ]);
  });

  it('the silence window closes after two heartbeats back, ended at the first; its opened and closed both reach on-call', () => {
    const s = new Scenario(config('{}')).heartbeat(0, []);
    s.alarmsUntil(30);
    s.heartbeat(30, []);
    expect(s.notifications().map((c) => c.type)).toEqual(['window_opened']);
    s.heartbeat(35, []);
    expect(s.notifications().map((c) => c.type)).toEqual(['window_opened', 'window_closed']);
    expect(s.windows('window_closed', 'agent')[0]).toMatchObject({ startedAt: at(5), endedAt: at(30) });
  });

  describe('under an operator silence', () => {
    const silenced = config(
      'maintenance: [{ id: s1, starts_at: "2026-11-22T12:00:00Z", ends_at: "2026-11-22T12:03:20Z", agents: ["a"], reason: rebuilding }]',
    );
    const subject = { kind: 'agent' as const, component: 'monitoring' };

    it('a silence window kept open past the silence and missed again late is relabelled noticed late, so the summary reports it', () => {
      const s = new Scenario(silenced).heartbeat(0, []);
      s.alarm(10).alarm(11);
      expect(s.windows('window_opened', 'agent')).toEqual([expect.objectContaining({ suppressedBy: 'maintenance:s1', paged: false })]);
      // Back once (recover_for is two), the silence ends, then nothing until the watchdog itself is back, late.
      s.heartbeat(195, []);
      s.alarm(200);
      s.alarm(400);
      expect(s.windows('window_updated', 'agent')).toEqual([
        expect.objectContaining({ at: 400, suppressedBy: 'watchdog_gap', paged: false }),
      ]);
      expect(s.notifications()).toEqual([]);
      // On time again and the agent still away: it pages.
      s.alarm(430);
      expect(s.windows('window_paged', 'agent')).toEqual([expect.objectContaining({ at: 430, startedAt: at(5) })]);
    });

    it('a silence window noticed late under a silence is looked at again when the silence ends, not only at its next re-check', () => {
      const s = new Scenario(silenced).heartbeat(0, []);
      s.alarm(150);
      expect(s.windows('window_opened', 'agent')).toEqual([expect.objectContaining({ suppressedBy: 'watchdog_gap', paged: false })]);
      s.alarm(180);
      expect(s.notifications()).toEqual([]);
      expect(nextDueAt(s.live!, subject, silenced, at(180))).toBe(at(200));
      s.alarm(200);
      expect(s.windows('window_paged', 'agent')).toEqual([expect.objectContaining({ at: 200 })]);
    });

    it('a silence window kept quiet by a silence still pages when the alarm at its end was lost: the next sweep finds it due', () => {
      const s = new Scenario(silenced).heartbeat(0, []);
      s.alarm(10).alarm(11);
      expect(s.windows('window_opened', 'agent')).toEqual([expect.objectContaining({ suppressedBy: 'maintenance:s1', paged: false })]);
      expect(nextDueAt(s.live!, subject, silenced, at(150))).toBe(at(200));
      // The alarm set for the silence's end (200) is lost; the minute sweep comes at 240 and asks what is due.
      expect(nextDueAt(s.live!, subject, silenced, at(240))).toBe(at(200));
      s.alarm(240);
      expect(s.windows('window_paged', 'agent')).toEqual([expect.objectContaining({ at: 240, startedAt: at(5), suppressedBy: null })]);
      expect(s.notifications().map((c) => c.type)).toEqual(['window_paged']);
      expect(nextDueAt(s.live!, subject, silenced, at(240))).not.toBe(at(200));
    });

    it("one kept quiet by a second silence after the first is due at the second one's end, not counted late from the first", () => {
      const two = config(`maintenance:
  - { id: s1, starts_at: "2026-11-22T12:00:00Z", ends_at: "2026-11-22T12:03:20Z", agents: ["a"] }
  - { id: s2, starts_at: "2026-11-22T12:03:00Z", ends_at: "2026-11-22T12:10:00Z", agents: ["a"] }`);
      const s = new Scenario(two).heartbeat(0, []);
      s.alarm(10).alarm(11);
      expect(s.windows('window_opened', 'agent')).toEqual([expect.objectContaining({ suppressedBy: 'maintenance:s1', paged: false })]);
      // Every alarm runs on time until the second one's end (600): at the first one's end, nothing pages.
      s.alarmsUntil(599);
      expect(s.windows('window_paged', 'agent')).toEqual([]);
      // The alarm at the second one's end is lost; the sweep at 615 pages it, on time.
      expect(nextDueAt(s.live!, subject, two, at(615))).toBe(at(600));
      s.alarm(615);
      expect(s.windows('window_paged', 'agent')).toEqual([expect.objectContaining({ at: 615, suppressedBy: null })]);
    });

    it('one whose silence is no longer listed (expired early, then read again) is due at once, not counted late', () => {
      const s = new Scenario(silenced).heartbeat(0, []);
      s.alarm(10).alarm(11);
      const unsilenced = config('{}');
      expect(nextDueAt(s.live!, subject, unsilenced, at(100))).toBe(at(100));
      // Still listed and not over: nothing is due for it.
      expect(nextDueAt(s.live!, subject, silenced, at(100))).toBe(at(200));
    });

    it('a sweep that finds the silence over long after (the watchdog away) records the window as noticed late first', () => {
      const s = new Scenario(silenced).heartbeat(0, []);
      s.alarm(10).alarm(11);
      s.alarm(400);
      expect(s.windows('window_updated', 'agent')).toEqual([
        expect.objectContaining({ at: 400, suppressedBy: 'watchdog_gap', paged: false }),
      ]);
      expect(s.notifications()).toEqual([]);
      // Looked at again on time, the agent still away: it pages.
      expect(nextDueAt(s.live!, subject, silenced, at(400))).toBe(at(430));
      s.alarm(430);
      expect(s.windows('window_paged', 'agent')).toEqual([expect.objectContaining({ at: 430, startedAt: at(5) })]);
    });
  });
});
