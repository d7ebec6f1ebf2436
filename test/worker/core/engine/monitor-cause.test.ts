// A monitor may name what its breaches mean (`cause`): a rule that can no longer fire is not
// "notifications lost", though both are counts of the dropped kind.
import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../../../../config/load.ts';
import { config, Scenario, sig } from './scenario.ts';

const cfg = config(`
components: [{ id: alerting, name: Alert path }]
defaults: { component: alerting }
monitors:
  - { id: rules-can-fire, signal: "*rules.unfireable*", kind: dropped, blind: { max: 0 }, cause: alert_rules_silent, for: { heartbeats: 1 } }
  - { id: notifications-lost, signal: "*notifications.*", kind: dropped, blind: { max: 0 }, for: { heartbeats: 1 } }
`);

describe("a monitor's cause", () => {
  it('names the windows its breaches open; a monitor without one keeps the kind’s cause', () => {
    const s = new Scenario(cfg, 'a', 5).every(0, 20, (t) => [
      sig('prometheus.rules.unfireable', 'dropped', t >= 10 ? 2 : 0),
      sig('prometheus.notifications.dropped', 'dropped', t >= 10 ? 3 : 0),
    ]);
    const opened = s.windows('window_opened');
    expect(opened.map((w) => [w.monitor, w.cause]).sort()).toEqual([
      ['notifications-lost', 'dropped'],
      ['rules-can-fire', 'alert_rules_silent'],
    ]);
  });

  it('does not rename a measurement that failed: that stays unknown', () => {
    const s = new Scenario(cfg, 'b', 5).every(0, 60, () => [
      sig('prometheus.rules.unfireable', 'dropped', null),
      sig('prometheus.notifications.dropped', 'dropped', 0),
    ]);
    expect(s.windows('window_opened', 'rules-can-fire').map((w) => w.cause)).toEqual(['unknown']);
  });

  it('is refused when it is not one the watchdog knows, naming the ones it does', () => {
    const r = loadConfigText('monitors: [{ id: m, kind: dropped, cause: everything_fine }]');
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.errors.join('\n')).toMatch(
        /cause is one of alert_rules_silent, rules_behind, config_reload_failed, targets_missing, alerts_silenced/,
      );
  });
});

describe('the signal a window names', () => {
  it('carries the signal’s labels, so a page says which silence, pod or instance it was', () => {
    const silenceCfg = config(`
components: [{ id: alerting, name: Alert path }]
defaults: { component: alerting }
monitors:
  - { id: alerts-not-silenced, signal: "alertmanager.silences.broad:*", kind: dropped, blind: { max: 0 }, cause: alerts_silenced, for: { heartbeats: 1 } }
`);
    const labels = { created_by: 'sam', matchers: '{severity=~"critical|warning"}', ends_at: '2026-12-02T01:00:00.000Z' };
    const s = new Scenario(silenceCfg, 'c', 5).every(0, 20, (t) =>
      t >= 10 ? [sig('alertmanager.silences.broad:4f1c', 'dropped', 1, labels)] : [],
    );
    const [opened] = s.windows('window_opened');
    expect(opened?.signal).toBe(
      'alertmanager.silences.broad:4f1c{created_by="sam", ends_at="2026-12-02T01:00:00.000Z", matchers="{severity=~\\"critical|warning\\"}"}',
    );
  });

  it('is cut at its bound whatever the labels hold', () => {
    const s = new Scenario(cfg, 'd', 5).every(0, 20, () => [
      sig('prometheus.notifications.dropped', 'dropped', 3, { pod: 'x'.repeat(2000) }),
    ]);
    const [opened] = s.windows('window_opened');
    expect(opened?.signal?.length).toBe(512);
    expect(opened?.signal?.startsWith('prometheus.notifications.dropped{pod="xxx')).toBe(true);
  });
});
