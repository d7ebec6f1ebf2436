import { describe, expect, it } from 'vitest';
import type { LiveState } from '../../../../worker/core/agent-state.ts';
import {
  type Contribution,
  cacheSecondsFor,
  indicatorOf,
  reloadSecondsFor,
  statusOf,
  viewComponents,
} from '../../../../worker/core/component-view.ts';
import { at, config, Scenario, sig } from './scenario.ts';

const cfg = config(`
components:
  - { id: metrics, name: Metrics pipeline, group: Observability }
  - { id: alerting, name: Alert path, group: Observability }
  - { id: tracing, name: Tracing }
defaults: { component: metrics }
monitors:
  - { id: fresh, signal: "metrics.freshness", kind: freshness }
  - { id: lost, component: alerting, signal: "*notifications*", kind: dropped, blind: { max: 0 }, for: { heartbeats: 1 } }
maintenance:
  - { id: upgrade, starts_at: "2026-11-22T10:00:00Z", ends_at: "2026-11-22T11:00:00Z", agents: ["maint-*"], reason: upgrade }
`);

const healthy = () => [sig('metrics.freshness', 'freshness', 5), sig('prometheus.notifications.dropped', 'dropped', 0)];
const agent = (id: string, to: number, signals: (s: number) => ReturnType<typeof healthy> = () => healthy()) =>
  new Scenario(cfg, id).every(0, to, (s) => signals(s)).live;
const status = (views: ReturnType<typeof viewComponents>) => Object.fromEntries(views.map((v) => [v.id, v.status]));
const c = (level: Contribution['level'], maintenance: boolean, over: Partial<Contribution> = {}): Contribution => ({
  agentId: 'a',
  monitor: 'm',
  level,
  evidence: 'verified',
  observedAt: at(0),
  measures: true,
  maintenance,
  ...over,
});

describe('component view', () => {
  it('is operational only when every agent feeding a component is verified and up', () => {
    const views = viewComponents(
      cfg,
      [
        { id: 'a', live: agent('a', 60) },
        { id: 'b', live: agent('b', 60) },
      ],
      at(62),
      false,
    );
    expect(status(views)).toEqual({ metrics: 'operational', alerting: 'operational', tracing: 'unverified' });
    expect(views[0]).toMatchObject({ name: 'Metrics pipeline', group: 'Observability', verifiedAt: at(60) });
  });

  it('shows a component no monitor feeds as unverified, never as operational', () => {
    expect(status(viewComponents(cfg, [], at(0), false))).toEqual({ metrics: 'unverified', alerting: 'unverified', tracing: 'unverified' });
  });

  it('greys out what an agent past its deadline last said, and what a silent agent last said', () => {
    const late = viewComponents(cfg, [{ id: 'a', live: agent('a', 60) }], at(60 + 5 + 10 + 1), false);
    expect(status(late).metrics).toBe('unverified');
    const silent = new Scenario(cfg, 'a').every(0, 60, () => healthy()).alarmsUntil(80).live;
    expect(silent?.state).toBe('blind');
    expect(
      status(
        viewComponents(
          cfg,
          [
            { id: 'a', live: silent },
            { id: 'b', live: agent('b', 80) },
          ],
          at(81),
          false,
        ),
      ).metrics,
    ).toBe('unverified');
  });

  it('says outage from verified data even while another agent is silent: partial when some feeds are fine, major when all are down', () => {
    const dropping = agent('a', 60, (s) => [
      sig('metrics.freshness', 'freshness', 5),
      sig('prometheus.notifications.dropped', 'dropped', s > 30 ? 3 : 0),
    ]);
    const fine = agent('b', 60);
    expect(
      status(
        viewComponents(
          cfg,
          [
            { id: 'a', live: dropping },
            { id: 'b', live: fine },
          ],
          at(61),
          false,
        ),
      ).alerting,
    ).toBe('partial_outage');
    expect(status(viewComponents(cfg, [{ id: 'a', live: dropping }], at(61), false)).alerting).toBe('major_outage');
  });

  it('is degraded_performance for a degraded monitor, and under_maintenance when every feed is in maintenance', () => {
    const slow = agent('a', 60, () => [sig('metrics.freshness', 'freshness', 200), sig('prometheus.notifications.dropped', 'dropped', 0)]);
    expect(status(viewComponents(cfg, [{ id: 'a', live: slow }], at(61), false)).metrics).toBe('degraded_performance');
    const start = Date.parse('2026-11-22T10:00:00Z');
    const inMaintenance = agent('maint-1', 60);
    // A maintenance window for the agent covers every component it feeds, while it lasts.
    expect(status(viewComponents(cfg, [{ id: 'maint-1', live: inMaintenance }], start + 1000, false))).toMatchObject({
      metrics: 'under_maintenance',
      alerting: 'under_maintenance',
    });
    expect(status(viewComponents(cfg, [{ id: 'maint-1', live: inMaintenance }], start + 3_600_001, false)).alerting).not.toBe(
      'under_maintenance',
    );
    expect(statusOf([c('blind', true)])).toBe('under_maintenance');
  });

  it("greys out everything when the watchdog's own evaluation has stalled", () => {
    expect(new Set(Object.values(status(viewComponents(cfg, [{ id: 'a', live: agent('a', 60) }], at(61), true))))).toEqual(
      new Set(['unverified']),
    );
  });

  it('ignores agents it could not read or never heard from, which leaves their components unverified', () => {
    expect(
      status(
        viewComponents(
          cfg,
          [
            { id: 'x', live: undefined },
            { id: 'y', live: null },
          ],
          at(1),
          false,
        ),
      ).metrics,
    ).toBe('unverified');
  });

  it.each([
    [['operational', 'operational'], 'none'],
    [['operational', 'degraded_performance'], 'minor'],
    [['degraded_performance', 'unverified'], 'unverified'],
    [['unverified', 'partial_outage'], 'major'],
    [['partial_outage', 'major_outage'], 'critical'],
    [['operational', 'stopped'], 'stopped'],
    [['stopped', 'unverified'], 'unverified'],
    [['operational', 'under_maintenance'], 'maintenance'],
    [['degraded_performance', 'under_maintenance'], 'minor'],
    [['under_maintenance', 'stopped'], 'stopped'],
    [[], 'unverified'],
  ] as const)('indicator of %j is %s', (statuses, indicator) => {
    expect(indicatorOf(statuses)).toBe(indicator);
  });

  it('keeps maintenance out of the verdict while other feeds are live', () => {
    expect(statusOf([c('blind', true), c('up', false)])).toBe('operational');
  });
});

// What a component may claim, case by case: each of these was once shown as "operational".
describe('never operational without proof', () => {
  const metricsOf = (live: LiveState | null, now: number) => viewComponents(cfg, [{ id: 'a', live }], now, false)[0]!;

  it('an agent stopped on purpose leaves its components "stopped", with when it stopped, never operational or maintenance', () => {
    const s = new Scenario(cfg, 'a')
      .every(0, 60, () => healthy())
      .heartbeat(62, healthy(), { stopping: true })
      .alarmsUntil(200);
    expect(s.live?.state).toBe('stopped');
    const view = metricsOf(s.live, at(200));
    expect(view.status).toBe('stopped');
    expect(view.stoppedSince).toBe(s.live?.stateSince);
    expect(indicatorOf(viewComponents(cfg, [{ id: 'a', live: s.live }], at(200), false).map((v) => v.status))).toBe('unverified');
  });

  it('is "stopped" from the goodbye itself, not only once its deadline passed', () => {
    const s = new Scenario(cfg, 'a').every(0, 60, () => healthy()).heartbeat(62, healthy(), { stopping: true });
    expect(s.live?.state).toBe('up');
    expect(metricsOf(s.live, at(63))).toMatchObject({ status: 'stopped', stoppedSince: at(62) });
  });

  it('a probe that could not measure greys the component at once, even on the first heartbeat, before `for` confirms it', () => {
    const first = new Scenario(cfg, 'a').heartbeat(0, [
      sig('metrics.freshness', 'freshness', null),
      sig('prometheus.notifications.dropped', 'dropped', 0),
    ]);
    expect(first.monitor('fresh')).toMatchObject({ level: 'up', raw: 'unknown' });
    expect(metricsOf(first.live, at(1)).status).toBe('unverified');
    const later = new Scenario(cfg, 'a')
      .every(0, 60, () => healthy())
      .heartbeat(65, [sig('metrics.freshness', 'freshness', null), sig('prometheus.notifications.dropped', 'dropped', 0)]);
    expect(metricsOf(later.live, at(66)).status).toBe('unverified');
  });

  it('a bad observation not yet confirmed is unverified, not operational; once confirmed it is an outage', () => {
    const s = new Scenario(cfg, 'a').every(0, 60, () => healthy()).heartbeat(65, [sig('metrics.freshness', 'freshness', 100_000)]);
    expect(s.monitor('fresh')).toMatchObject({ level: 'up', raw: 'blind' });
    expect(metricsOf(s.live, at(66)).status).toBe('unverified');
  });

  it('a component whose probe is gone after a restart, or an agent with no probes, rests on liveness alone: unverified', () => {
    const restarted = new Scenario(cfg, 'a').every(0, 60, () => healthy()).heartbeat(65, [], { boot: 'b2' });
    expect(Object.keys(restarted.live?.monitors ?? {})).toEqual(['clock_skew']);
    expect(metricsOf(restarted.live, at(66)).status).toBe('unverified');
    const bare = new Scenario(cfg, 'a').heartbeat(0, []);
    expect(metricsOf(bare.live, at(1)).status).toBe('unverified');
  });

  it('a monitor the newest heartbeat did not measure is unverified', () => {
    const s = new Scenario(cfg, 'a').every(0, 60, () => healthy());
    const live = s.live as LiveState;
    const stale: LiveState = {
      ...live,
      monitors: { ...live.monitors, fresh: { ...live.monitors.fresh!, observedAt: live.lastHeartbeatAt - 5000 } },
    };
    expect(metricsOf(stale, at(61)).status).toBe('unverified');
  });

  it('a flapping monitor is at best degraded', () => {
    const s = new Scenario(cfg, 'a').every(0, 60, () => healthy());
    const live = s.live as LiveState;
    const flapping: LiveState = { ...live, monitors: { ...live.monitors, fresh: { ...live.monitors.fresh!, flapping: true } } };
    expect(metricsOf(flapping, at(61)).status).toBe('degraded_performance');
  });

  it('the positive control: fresh, good, measured evidence is operational, resting on the oldest observation', () => {
    const s = new Scenario(cfg, 'a').every(0, 60, () => healthy());
    expect(metricsOf(s.live, at(61))).toMatchObject({ status: 'operational', verifiedAt: at(60), stoppedSince: null });
  });

  it('caches a claim no longer than the soonest deadline behind it, within 2 to 10 s', () => {
    const s = new Scenario(cfg, 'a').every(0, 60, () => healthy());
    const deadline = (s.live as LiveState).deadlineAt;
    expect(cacheSecondsFor([{ id: 'a', live: s.live }], deadline - 6_500)).toBe(6);
    expect(cacheSecondsFor([{ id: 'a', live: s.live }], deadline - 60_000)).toBe(10);
    // The last second before a deadline is not cached at all: no cache may serve green past it.
    expect(cacheSecondsFor([{ id: 'a', live: s.live }], deadline - 500)).toBe(0);
    expect(cacheSecondsFor([{ id: 'a', live: s.live }], deadline - 1_500)).toBe(1);
    expect(cacheSecondsFor([{ id: 'a', live: s.live }], deadline + 1)).toBe(10);
  });

  it('reloads an open page a second after the soonest deadline behind a verified claim, within 2 to 30 s', () => {
    const s = new Scenario(cfg, 'a').every(0, 60, () => healthy());
    const deadline = (s.live as LiveState).deadlineAt;
    const reload = (now: number) => reloadSecondsFor([{ id: 'a', live: s.live }], now);
    // 6.5 s left: reloaded at 8 s, when the claim has already turned grey (past the deadline, not at it).
    expect(reload(deadline - 6_500)).toBe(8);
    expect(reload(deadline - 6_000)).toBe(7);
    expect(reload(deadline - 100_000)).toBe(30);
    expect(reload(deadline - 200)).toBe(2);
    // Past the deadline nothing green is left to run out: the slow reload.
    expect(reload(deadline + 1)).toBe(30);
    expect(reloadSecondsFor([], deadline)).toBe(30);
  });
});
