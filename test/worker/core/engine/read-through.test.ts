// One cause, one page: signals a probe reads through Prometheus carry `via: prometheus.up`. While
// Prometheus itself is judged bad, their trouble is recorded as suppressed by its monitor, with no
// hand-written depends_on; a bad signal read through nothing still pages.
import { describe, expect, it } from 'vitest';
import type { Signal } from '../../../../protocol/heartbeat.ts';
import { config, Scenario, sig } from './scenario.ts';

const cfg = config(`
components: [{ id: metrics, name: Metrics }, { id: alerting, name: Alert path }]
defaults: { component: metrics, for: { heartbeats: 2 } }
monitors:
  - { id: notifications-lost, component: alerting, signal: "*notifications.*", kind: dropped, blind: { max: 0 } }
  - { id: rules-can-fire, component: alerting, signal: "*rules.unfireable*", kind: dropped, blind: { max: 0 } }
  - { id: prometheus-up, signal: "prometheus.up", kind: freshness, blind: { max_age_s: 60 } }
`);

const via = (s: Signal, name = 'prometheus.up'): Signal => ({ ...s, via: name });
const healthy = () => [
  sig('prometheus.up', 'freshness', 2),
  via(sig('prometheus.notifications.dropped', 'dropped', 0)),
  via(sig('prometheus.rules.unfireable', 'dropped', 0)),
];
const prometheusDown = () => [
  sig('prometheus.up', 'freshness', null),
  via(sig('prometheus.notifications.dropped', 'dropped', null)),
  via(sig('prometheus.rules.unfireable', 'dropped', null)),
];

const paged = (s: Scenario) => s.windows('window_opened').filter((w) => w.paged);
const quiet = (s: Scenario) => s.windows('window_opened').filter((w) => !w.paged);

describe('signals read through Prometheus', () => {
  it('page once when Prometheus is down: its own window; the rest recorded as suppressed by it', () => {
    // The monitor of prometheus.up comes last in the configuration: it is judged first all the same.
    const s = new Scenario(cfg, 'a', 5).every(0, 20, healthy).every(25, 60, prometheusDown);
    expect(paged(s).map((w) => w.monitor)).toEqual(['prometheus-up']);
    expect(
      quiet(s)
        .map((w) => [w.monitor, w.suppressedBy])
        .sort(),
    ).toEqual([
      ['notifications-lost', 'depends_on:prometheus-up'],
      ['rules-can-fire', 'depends_on:prometheus-up'],
    ]);
  });

  it('pages a signal read through Prometheus that is bad while Prometheus is fine', () => {
    const s = new Scenario(cfg, 'b', 5)
      .every(0, 20, healthy)
      .every(25, 40, () => [
        sig('prometheus.up', 'freshness', 2),
        via(sig('prometheus.notifications.dropped', 'dropped', 3)),
        via(sig('prometheus.rules.unfireable', 'dropped', 0)),
      ]);
    expect(paged(s).map((w) => w.monitor)).toEqual(['notifications-lost']);
  });

  it('pages a bad signal read through nothing, even while Prometheus is down', () => {
    const s = new Scenario(cfg, 'c', 5)
      .every(0, 20, healthy)
      .every(25, 60, () => [...prometheusDown(), sig('alertmanager.notifications.failed', 'dropped', 2)]);
    expect(
      paged(s)
        .map((w) => w.monitor)
        .sort(),
    ).toEqual(['notifications-lost', 'prometheus-up']);
  });

  it('pages what stays bad once Prometheus is back (the suppression lifts)', () => {
    const s = new Scenario(cfg, 'd', 5)
      .every(0, 20, healthy)
      .every(25, 60, prometheusDown)
      .every(65, 200, () => [
        sig('prometheus.up', 'freshness', 2),
        via(sig('prometheus.notifications.dropped', 'dropped', 0)),
        via(sig('prometheus.rules.unfireable', 'dropped', 1)),
      ]);
    s.alarmsUntil(200);
    const rules = s.windows('window_opened', 'rules-can-fire');
    expect(rules).toHaveLength(1);
    expect(rules[0]?.suppressedBy).toBe('depends_on:prometheus-up');
    // Still open after Prometheus recovered: it pages now.
    expect(s.windows('window_paged', 'rules-can-fire')).toHaveLength(1);
    expect(s.windows('window_closed', 'rules-can-fire')).toHaveLength(0);
  });

  it('refuses a via that is not a signal name', async () => {
    const { parseHeartbeat } = await import('../../../../protocol/heartbeat.ts');
    const r = parseHeartbeat({
      v: 1,
      seq: 1,
      boot: 'b',
      sent_at: new Date().toISOString(),
      interval_s: 15,
      signals: [{ name: 'x', kind: 'dropped', value: 0, error: null, via: 'not a name!' }],
    });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(/via names the signal this one is read through/);
  });
});
