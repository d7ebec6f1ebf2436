// Known blind windows injected into a simulated agent and judged by the real engine; the gap report
// must find every one, with start and end within one heartbeat interval of the injected truth, and
// say what each was.
import { describe, expect, it } from 'vitest';
import type { Signal } from '../../../../protocol/heartbeat.ts';
import type { Change } from '../../../../worker/core/agent-state.ts';
import { gapReport, type GapRow, type WindowRecord } from '../../../../worker/core/gap-report.ts';
import type { BackfilledHeartbeat } from '../../../../worker/core/link-outages.ts';
import { at, config, Scenario, sig } from '../engine/scenario.ts';

const INTERVAL_S = 5;
const iso = (s: number) => new Date(at(s)).toISOString();

const cfg = config(`
components:
  - { id: metrics, name: Metrics pipeline }
  - { id: alerting, name: Alert path }
  - { id: tracing, name: Tracing }
defaults: { component: metrics }
monitors:
  - { id: fresh, signal: metrics.freshness, kind: freshness, blind: { max_age_s: 60 } }
  - { id: drops, signal: alerts.dropped, kind: dropped, component: alerting }
  - { id: queue, signal: alerts.queue_age, kind: queue_age, component: alerting, blind: { max_age_s: 120 } }
  - { id: sampling, signal: traces.sampling, kind: sampling, component: tracing }
maintenance:
  - { id: upgrade, starts_at: "${iso(3850)}", ends_at: "${iso(4100)}", monitors: [fresh] }
`);

/** The truth: what was injected, second by second. */
const TRUTH = {
  stale: { monitor: 'fresh', from: 600, to: 700 },
  dropped: { monitor: 'drops', from: 900, to: 960 },
  queue: { monitor: 'queue', from: 1200, to: 1320 },
  samplingDrop: { monitor: 'sampling', from: 1500, to: 1620 },
  unknown: { monitor: 'fresh', from: 1800, to: 1860 },
  silence: { monitor: 'agent', from: 2100, to: 2400 },
  linkOutage: { monitor: 'agent', from: 2700, to: 3000 },
  staleDuringOutage: { monitor: 'fresh', from: 2800, to: 2900 },
  lateSilence: { monitor: 'agent', from: 3300, to: 3600 },
  watchdogGap: { monitor: 'watchdog', from: 3300, to: 3480 },
  maintenance: { monitor: 'fresh', from: 3900, to: 4000 },
} as const;
const END = 4500;

const within = (s: number, t: { from: number; to: number }) => s >= t.from && s < t.to;

function signalsAt(s: number): Signal[] {
  const stale = within(s, TRUTH.stale) || within(s, TRUTH.maintenance) || within(s, TRUTH.staleDuringOutage);
  return [
    within(s, TRUTH.unknown) ? sig('metrics.freshness', 'freshness', null) : sig('metrics.freshness', 'freshness', stale ? 300 : 5),
    sig('alerts.dropped', 'dropped', within(s, TRUTH.dropped) ? 3 : 0),
    sig('alerts.queue_age', 'queue_age', within(s, TRUTH.queue) ? 500 : 1),
    sig('traces.sampling', 'sampling', within(s, TRUTH.samplingDrop) ? 0.05 : 0.5),
  ];
}

/** The live side: heartbeats reach the watchdog except while silent or cut off; alarms run on time, except in the watchdog's gap. */
function run(forge?: (hb: BackfilledHeartbeat) => BackfilledHeartbeat) {
  const s = new Scenario(cfg, 'edge-1', INTERVAL_S);
  const backfill: BackfilledHeartbeat[] = [];
  for (let t = 0; t <= END; t += INTERVAL_S) {
    // The watchdog is not evaluating in its gap: the first alarm to see the late silence runs as the gap ends.
    if (t === TRUTH.watchdogGap.to) s.alarm(t);
    if (within(t, TRUTH.silence) || within(t, TRUTH.lateSilence)) continue;
    if (within(t, TRUTH.linkOutage)) {
      const hb = { agentId: 'edge-1', ...s.spooled(), sentAt: at(t), intervalS: INTERVAL_S, signals: signalsAt(t) };
      backfill.push(forge === undefined ? hb : forge(hb));
      continue;
    }
    s.alarmsUntil(t - 1);
    s.heartbeat(t, signalsAt(t));
  }
  s.alarmsUntil(END);
  return { windows: windowsOf(s.changes), backfill };
}

/** What D1 would hold: the last version of every window the engine reported. */
function windowsOf(changes: readonly Change[]): WindowRecord[] {
  const byId = new Map<string, WindowRecord>();
  for (const c of changes) {
    if (!('window' in c)) continue;
    const w = c.window;
    byId.set(w.id, {
      id: w.id,
      agentId: w.agentId,
      monitor: w.monitor,
      component: w.component,
      cause: w.cause,
      level: w.level,
      signal: w.signal,
      startedAt: w.startedAt,
      confirmedAt: w.confirmedAt,
      notifiedAt: null,
      endedAt: w.endedAt,
      peakValue: w.peakValue,
      suppressedBy: w.suppressedBy,
      anchors: w.anchors ?? null,
      source: 'engine',
    });
  }
  return [...byId.values()];
}

const gapWindow: WindowRecord = {
  id: 'watchdog:gap',
  agentId: '*',
  monitor: 'watchdog',
  component: 'monitoring',
  cause: 'watchdog_gap',
  level: 'unknown',
  signal: null,
  startedAt: at(TRUTH.watchdogGap.from),
  confirmedAt: at(TRUTH.watchdogGap.to),
  notifiedAt: null,
  endedAt: at(TRUTH.watchdogGap.to),
  peakValue: null,
  suppressedBy: null,
  source: 'watchdog',
};

function report(forge?: (hb: BackfilledHeartbeat) => BackfilledHeartbeat) {
  const { windows, backfill } = run(forge);
  return gapReport({
    config: cfg,
    range: { start: at(0), end: at(END) },
    objective: 0.99,
    filters: { agents: [], components: [], monitors: [], causes: [] },
    windows: [...windows, gapWindow],
    backfill,
    agents: [{ id: 'edge-1', firstSeenAt: at(0) }],
    feeds: ['fresh', 'drops', 'queue', 'sampling'].map((monitor) => ({ agentId: 'edge-1', monitor })),
  });
}

function found(rows: readonly GapRow[], truth: { monitor: string; from: number; to: number }, source?: GapRow['source']): GapRow {
  const near = rows.filter(
    (r) =>
      r.monitor === truth.monitor &&
      (source === undefined || r.source === source) &&
      Math.abs(r.startedAt - at(truth.from)) <= INTERVAL_S * 1000,
  );
  expect(near, `a ${truth.monitor} window starting at ${truth.from} s`).toHaveLength(1);
  const row = near[0]!;
  expect(Math.abs(row.startedAt - at(truth.from))).toBeLessThanOrEqual(INTERVAL_S * 1000);
  expect(row.endedAt).not.toBeNull();
  expect(Math.abs((row.endedAt as number) - at(truth.to))).toBeLessThanOrEqual(INTERVAL_S * 1000);
  return row;
}

describe('gap report on a simulated agent with injected blind windows', () => {
  const r = report();

  it('finds stale freshness, dropped alerts, queue age and unknown as blind, and pages them', () => {
    for (const [truth, cause] of [
      [TRUTH.stale, 'stale'],
      [TRUTH.dropped, 'dropped'],
      [TRUTH.queue, 'queue_backlog'],
      [TRUTH.unknown, 'unknown'],
    ] as const) {
      const row = found(r.rows, truth, 'engine');
      expect(row.cause).toBe(cause);
      expect(row.verdict).toBe('blind');
      expect(row.paged).toBe(true);
    }
  });

  it('finds the sampling drop against its baseline as degraded', () => {
    const row = found(r.rows, TRUTH.samplingDrop, 'engine');
    expect(row.cause).toBe('sampling_drop');
    expect(row.verdict).toBe('degraded');
  });

  it('finds the silence as blind, starting when the missing heartbeat was due', () => {
    const row = found(r.rows, TRUTH.silence, 'engine');
    expect(row.cause).toBe('agent_silent');
    expect(row.verdict).toBe('blind');
    expect(row.linkOutageMs).toBe(0);
  });

  it('says the link outage was only the link, and finds the blindness the backfill shows inside it', () => {
    const silence = found(r.rows, TRUTH.linkOutage, 'engine');
    expect(silence.verdict).toBe('link_outage');
    expect(silence.linkOutageMs).toBeGreaterThanOrEqual((TRUTH.linkOutage.to - TRUTH.linkOutage.from - INTERVAL_S) * 1000);
    expect(silence.blindDuringOutage).toBe(1);
    const inside = found(r.rows, TRUTH.staleDuringOutage, 'backfill');
    expect(inside.cause).toBe('stale');
    expect(inside.paged).toBe(false);
    expect(r.linkOutages).toHaveLength(1);
    expect(r.linkOutages[0]!.start).toBe(at(TRUTH.linkOutage.from));
    expect(Math.abs(r.linkOutages[0]!.end - at(TRUTH.linkOutage.to))).toBeLessThanOrEqual(INTERVAL_S * 1000);
  });

  it('marks the silence the watchdog noticed late, and lists the watchdog gap itself', () => {
    const late = found(r.rows, TRUTH.lateSilence, 'engine');
    expect(late.suppressedBy).toBe('watchdog_gap');
    expect(late.watchdogGapMs).toBe((TRUTH.watchdogGap.to - TRUTH.watchdogGap.from) * 1000);
    const gap = found(r.rows, TRUTH.watchdogGap, 'watchdog');
    expect(gap.verdict).toBe('watchdog_gap');
  });

  it('calls the window in maintenance expected and does not page it', () => {
    const row = found(r.rows, TRUTH.maintenance, 'engine');
    expect(row.verdict).toBe('expected');
    expect(row.inMaintenance).toBe(true);
    expect(row.paged).toBe(false);
  });

  it('reports nothing that was not injected', () => {
    // One row per truth (the stale window inside the link outage is the backfill row), nothing else.
    const rows = r.rows.map((x) => `${x.monitor}@${Math.round((x.startedAt - at(0)) / 1000 / INTERVAL_S) * INTERVAL_S}`);
    expect(rows.sort()).toEqual(
      Object.values(TRUTH)
        .map((t) => `${t.monitor}@${t.from}`)
        .sort(),
    );
  });

  it('counts coverage from the injected windows exactly', () => {
    const metrics = r.coverage.components.find((c) => c.id === 'metrics')!;
    const s = (from: number, to: number) => (to - from) * 1000;
    // Metrics is blind in: stale, unknown, the plain silence, the stale inside the outage (from the
    // backfill; the rest of the outage was seen), and the late silence outside the watchdog's gap.
    // The silence windows blind every pipeline the agent feeds.
    const unverified = s(TRUTH.watchdogGap.from, TRUTH.watchdogGap.to);
    const lateSilenceSeen = s(TRUTH.watchdogGap.to, TRUTH.lateSilence.to);
    const blind =
      [TRUTH.stale, TRUTH.unknown, TRUTH.silence, TRUTH.staleDuringOutage].reduce((sum, t) => sum + s(t.from, t.to), 0) + lateSilenceSeen;
    const paused = s(3850, 4100);
    expect(metrics.unverifiedMs).toBe(unverified);
    expect(metrics.pausedMs).toBe(paused);
    expect(metrics.blindMs).toBe(blind);
    expect(metrics.coverage).toBeCloseTo((s(0, END) - paused - unverified - blind) / (s(0, END) - paused), 12);
    expect(metrics.linkOnlyMs).toBe(
      s(TRUTH.linkOutage.from, TRUTH.linkOutage.to) - s(TRUTH.staleDuringOutage.from, TRUTH.staleDuringOutage.to),
    );
  });
});

describe('backfill that does not continue the sequence heard around the silence', () => {
  // The agent key backfills the silence with heartbeats the agent never made: the verdict stays blind.
  const forgeries: [string, (hb: BackfilledHeartbeat) => BackfilledHeartbeat][] = [
    ['an invented boot', (hb) => ({ ...hb, boot: 'forged' })],
    ['seqs from before the silence', (hb) => ({ ...hb, seq: hb.seq - 1000 })],
    ['seqs past the heartbeat that ended it', (hb) => ({ ...hb, seq: hb.seq + 1_000_000 })],
  ];
  for (const [what, forge] of forgeries)
    it(`keeps the silence blind for ${what}, and does not take the time off the blind total`, () => {
      const r = report(forge);
      const silence = found(r.rows, TRUTH.linkOutage, 'engine');
      expect(silence.verdict).toBe('blind');
      expect(silence.linkOutageMs).toBe(0);
      const metrics = r.coverage.components.find((c) => c.id === 'metrics')!;
      const honest = report().coverage.components.find((c) => c.id === 'metrics')!;
      // The forged run's time counts as blind: the whole outage instead of only its stale part.
      expect(metrics.blindMs - honest.blindMs).toBe((TRUTH.linkOutage.to - TRUTH.linkOutage.from - 100) * 1000);
    });

  it('still takes a run that continues the boot heard before the silence', () => {
    expect(found(report().rows, TRUTH.linkOutage, 'engine').verdict).toBe('link_outage');
  });
});

describe('a silence the backfill covers only in part', () => {
  // The agent spooled a minute of heartbeats, then died: 60 s were only the link, the other 540 s were blind.
  const silence: WindowRecord = {
    id: 'edge-2:agent:0',
    agentId: 'edge-2',
    monitor: 'agent',
    component: 'metrics',
    cause: 'agent_silent',
    level: 'blind',
    signal: null,
    startedAt: at(0),
    confirmedAt: at(10),
    notifiedAt: null,
    endedAt: at(600),
    peakValue: null,
    suppressedBy: null,
    anchors: { before: { boot: 'b', seq: 0 }, after: null },
    source: 'engine',
  };
  const backfill: BackfilledHeartbeat[] = Array.from({ length: 12 }, (_, i) => ({
    agentId: 'edge-2',
    boot: 'b',
    seq: i + 1,
    sentAt: at(i * 5),
    intervalS: 5,
    signals: [sig('metrics.freshness', 'freshness', 5)],
  }));
  const r = gapReport({
    config: cfg,
    range: { start: at(0), end: at(600) },
    objective: 0.99,
    filters: { agents: [], components: [], monitors: [], causes: [] },
    windows: [silence],
    backfill,
    agents: [{ id: 'edge-2', firstSeenAt: at(-3600) }],
    feeds: [{ agentId: 'edge-2', monitor: 'fresh' }],
  });

  it('stays blind, and says how much of it was only the link', () => {
    expect(r.rows).toHaveLength(1);
    expect(r.rows[0]).toMatchObject({ verdict: 'blind', linkOutageMs: 60_000 });
    const metrics = r.coverage.components.find((c) => c.id === 'metrics')!;
    expect(metrics.blindMs).toBe(540_000);
    expect(metrics.linkOnlyMs).toBe(60_000);
  });
});
