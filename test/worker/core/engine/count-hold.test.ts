// A count of dropped items covers the time since the previous heartbeat. Losses come in bursts (a send
// that times out every 10 s, a retry with backoff), so at short heartbeats a steady fault reads loss,
// none, none, loss: the count holds for COUNT_HOLD_MS from the start of what it covers, and the fault
// is one window of cause `dropped`, not `flapping`. At 15 s heartbeats nothing changes.
import { describe, expect, it } from 'vitest';
import { config, Scenario, sig } from './scenario.ts';

const cfg = config(`
components: [{ id: alerting, name: Alert path }]
defaults: { component: alerting }
monitors:
  - id: notifications-lost
    signal: "*notifications.*"
    kind: dropped
    blind: { max: 0 }
    for: { heartbeats: 2, seconds: 30 }
  - { id: prometheus-up, signal: "*prometheus.up*", kind: freshness, blind: { max_age_s: 60 } }
`);
const lost = (n: number | null) => sig('prometheus.notifications.errors', 'dropped', n);

describe('a count of dropped items', () => {
  it('at 3 s heartbeats, failures every 10 s are one steady window of cause dropped, which closes after the repair', () => {
    const s = new Scenario(cfg, 'a', 3)
      .every(0, 30, () => [lost(0)])
      .every(33, 180, (t) => [lost(t % 10 < 3 ? 1 : 0)])
      .every(183, 360, () => [lost(0)]);
    s.alarmsUntil(360);
    const opened = s.windows('window_opened', 'notifications-lost');
    expect(opened.map((w) => w.cause)).toEqual(['dropped']);
    expect(opened[0]?.signal).toBe('prometheus.notifications.errors');
    expect(s.windows('window_closed', 'notifications-lost')).toHaveLength(1);
    expect(s.monitor('notifications-lost').flapping).toBe(false);
  });

  it('at 3 s heartbeats, a single burst (a restart) stays under the 30 s of for and pages nobody', () => {
    const s = new Scenario(cfg, 'b', 3).every(0, 300, (t) => [lost(t === 60 ? 5 : 0)]);
    s.alarmsUntil(300);
    expect(s.windows('window_opened', 'notifications-lost')).toEqual([]);
  });

  it('counts a held count as no new heartbeat: a single burst at 3 s heartbeats stays under a for of two heartbeats, as at 15 s', () => {
    const twoBeats = config(`
components: [{ id: alerting, name: Alert path }]
defaults: { component: alerting }
monitors:
  - { id: notifications-lost, signal: "*notifications.*", kind: dropped, blind: { max: 0 }, for: { heartbeats: 2 } }
`);
    const s = new Scenario(twoBeats, 'h', 3).every(0, 120, (t) => [lost(t === 60 ? 5 : 0)]);
    s.alarmsUntil(120);
    expect(s.windows('window_opened', 'notifications-lost')).toEqual([]);
    // Two bursts in a row are two heartbeats of evidence: that opens.
    const t = new Scenario(twoBeats, 'i', 3).every(0, 120, (x) => [lost(x === 60 || x === 63 ? 5 : 0)]);
    t.alarmsUntil(120);
    expect(t.windows('window_opened', 'notifications-lost').map((w) => w.cause)).toEqual(['dropped']);
  });

  it('at 15 s heartbeats a count speaks for its own heartbeat only, even when the next one comes early', () => {
    const s = new Scenario(cfg, 'c', 15).every(0, 45, () => [lost(0)]);
    s.heartbeat(60, [lost(3)]).heartbeat(74.5, [lost(0)]);
    expect(s.monitor('notifications-lost')).toMatchObject({ raw: 'up', pending: null });
  });

  it('at 3 s heartbeats the next heartbeats still see the count, until 15 s from the start of what it covered', () => {
    const s = new Scenario(cfg, 'f', 3).every(0, 57, () => [lost(0)]);
    s.heartbeat(60, [lost(3)])
      .heartbeat(63, [lost(0)])
      .heartbeat(66, [lost(0)])
      .heartbeat(69, [lost(0)]);
    expect(s.monitor('notifications-lost')).toMatchObject({ raw: 'blind', value: 3 });
    s.heartbeat(72, [lost(0)]);
    expect(s.monitor('notifications-lost')).toMatchObject({ raw: 'up', pending: null });
  });

  it('does not outlast a measurement that failed: unknown is told as unknown', () => {
    const s = new Scenario(cfg, 'd', 3).every(0, 30, () => [lost(0)]);
    s.heartbeat(33, [lost(4)]).heartbeat(36, [lost(null)]);
    expect(s.monitor('notifications-lost')).toMatchObject({ raw: 'unknown' });
    expect(s.monitor('notifications-lost').countHold).toBeUndefined();
  });

  it('keeps a held count read through Prometheus explained by Prometheus', () => {
    const s = new Scenario(cfg, 'e', 3).every(0, 30, () => [lost(0)]);
    s.heartbeat(33, [{ ...lost(4), via: 'prometheus.up' }]);
    expect(s.monitor('notifications-lost').countHold).toMatchObject({ via: 'prometheus.up', until: expect.any(Number) });
  });
});

describe('a count of what is missing now', () => {
  it('is judged heartbeat by heartbeat: a one-heartbeat blip of Alertmanagers missing is not stretched', () => {
    const gauges = config(`
components: [{ id: alerting, name: Alert path }]
defaults: { component: alerting }
monitors:
  - { id: alertmanager-known, signal: "*alertmanagers.missing*", kind: dropped, blind: { max: 0 }, for: { heartbeats: 2, seconds: 10 } }
`);
    const s = new Scenario(gauges, 'g', 3).every(0, 120, (t) => [sig('prometheus.alertmanagers.missing', 'dropped', t === 60 ? 1 : 0)]);
    s.alarmsUntil(120);
    expect(s.windows('window_opened')).toEqual([]);
    expect(s.monitor('alertmanager-known').countHold).toBeUndefined();
  });
});
