// The postmortem gap report: every window in a range, each said for what it was (the monitoring
// blind, only the link to the watchdog down, expected, or the watchdog's own gap), and the coverage
// of each pipeline against its objective. Pure: the caller reads the rows, this decides.
import type { Maintenance, WatchConfig } from '../../config/resolve.ts';
import { SILENCE_MONITOR } from './agent-state.ts';
import { type Coverage, coverageOf, overallTimeline, type ComponentTimeline, BURN_WINDOWS } from './coverage.ts';
import { matchesGlob } from './glob.ts';
import { intersect, type Interval, overlapMs, subtract, union } from './intervals.ts';
import { type BackfilledHeartbeat, continuesSequence, type LinkOutage, linkOutages, outageSpans } from './link-outages.ts';
import type { RecordedCause, SeqAnchors } from './blind-window.ts';
import { defOf } from './monitor-defs.ts';

export type WindowSource = 'engine' | 'backfill' | 'watchdog';

export interface WindowRecord {
  id: string;
  agentId: string;
  monitor: string;
  component: string;
  cause: RecordedCause;
  level: string;
  signal: string | null;
  startedAt: number;
  confirmedAt: number | null;
  notifiedAt: number | null;
  endedAt: number | null;
  peakValue: number | null;
  suppressedBy: string | null;
  /** Silence windows: the heartbeats heard either side (null for windows stored without them). */
  anchors?: SeqAnchors | null;
  source: WindowSource;
}

/** What a window was, for a postmortem. */
export type Verdict = 'blind' | 'degraded' | 'link_outage' | 'expected' | 'watchdog_gap';

export interface GapRow extends WindowRecord {
  /** To its end, or to the end of the range while it is still open. */
  durationMs: number;
  paged: boolean;
  inMaintenance: boolean;
  /** Paging was silenced for it (a silence, not a maintenance). */
  silenced: boolean;
  /** The agent said it was stopping. */
  expectedSilence: boolean;
  /** How much of it the watchdog itself was not evaluating. */
  watchdogGapMs: number;
  /** How much of it the agent was running but could not reach the watchdog (backfilled). */
  linkOutageMs: number;
  /** Backfilled windows inside it: the monitoring's own blindness while the link was down. */
  blindDuringOutage: number;
  verdict: Verdict;
}

export interface GapFilters {
  agents: readonly string[];
  components: readonly string[];
  monitors: readonly string[];
  causes: readonly string[];
}

export interface GapInput {
  /** With the admin API's maintenance and silences merged into `maintenance`, as the engine sees them. */
  config: WatchConfig;
  /** end ≤ now: a report never counts the future. */
  range: Interval;
  objective: number;
  filters: GapFilters;
  /** Windows touching [range.end − 3 d (or range.start, if earlier), range.end]; the watchdog's own as source "watchdog". */
  windows: readonly WindowRecord[];
  backfill: readonly BackfilledHeartbeat[];
  agents: readonly { id: string; firstSeenAt: number }[];
  /** Which agent fed which monitor around the range (from the rollups). */
  feeds: readonly { agentId: string; monitor: string }[];
}

export interface GapReport {
  rows: GapRow[];
  linkOutages: LinkOutage[];
  coverage: { overall: Coverage; components: Coverage[] };
}

/** How far back the widest burn-rate window reaches before a range's end. */
export const LOOKBACK_MS = BURN_WINDOWS['3d'];

/** The share of a silence its backfill must cover for the verdict to be "only the link was down". */
export const LINK_OUTAGE_SHARE = 0.9;

const SILENCE_MONITORS = new Set<string>(Object.values(SILENCE_MONITOR));
const isSilence = (w: Pick<WindowRecord, 'monitor'>) => SILENCE_MONITORS.has(w.monitor);
const isBlind = (w: Pick<WindowRecord, 'level'>) => w.level === 'blind' || w.level === 'unknown';

export function gapReport(input: GapInput): GapReport {
  const { config, range, filters } = input;
  const outages = linkOutages(input.backfill, config).filter((o) => matchesAny(filters.agents, o.agentId));
  const backfilled: WindowRecord[] = outages.flatMap((o) => o.windows.map((w) => ({ ...recordOf(w), source: 'backfill' as const })));
  const feeders = feedersByComponent(input, [...input.windows, ...backfilled]);
  // An agent's silence blinds every component it feeds, whichever component its window names.
  const feedsSelected = (agentId: string) => [...feeders].some(([c, agents]) => matchesAny(filters.components, c) && agents.has(agentId));
  const all = [...input.windows, ...backfilled].filter(
    (w) =>
      selected(w, filters) &&
      (matchesAny(filters.components, w.component) || w.source === 'watchdog' || (isSilence(w) && feedsSelected(w.agentId))),
  );
  const gaps = union(all.filter((w) => w.source === 'watchdog').map((w) => spanOf(w, range.end)));
  // Time the agent was seen to run on behind a dead link: only backfill that continues the sequence
  // heard around one of its silences counts, so no invented boot or seq can turn blindness into a link outage.
  const proven = outageSpans(continuing(input.backfill, input.windows, range.end));
  const outagesOf = (agentId: string) => union(proven.filter((o) => o.agentId === agentId));
  const reportedOf = (agentId: string) => union(outages.filter((o) => o.agentId === agentId).map((o) => ({ start: o.start, end: o.end })));
  const pauses = config.maintenance.filter((m) => !m.id.startsWith('silence:'));

  const rows = all
    .filter((w) => w.startedAt < range.end && (w.endedAt === null || w.endedAt > range.start))
    .map((w) => annotate(w, { range, gaps, outages: outagesOf(w.agentId), pauses, backfilled }))
    .sort((a, b) => a.startedAt - b.startedAt || a.id.localeCompare(b.id));

  const timelines = config.components
    .filter((c) => matchesAny(filters.components, c.id))
    .map((c) => timelineOf(c, all, { input, pauses, outagesOf, reportedOf, feeders: feeders.get(c.id) ?? new Set() }));
  return {
    rows,
    linkOutages: outages.filter((o) => o.start < range.end && o.end > range.start),
    coverage: {
      overall: coverageOf(overallTimeline(timelines), range, gaps, input.objective),
      components: timelines.map((t) => coverageOf(t, range, gaps, input.objective)),
    },
  };
}

function annotate(
  w: WindowRecord,
  at: { range: Interval; gaps: Interval[]; outages: Interval[]; pauses: readonly Maintenance[]; backfilled: readonly WindowRecord[] },
): GapRow {
  const span = spanOf(w, at.range.end);
  const maintenance = union(pausesFor(at.pauses, w.agentId, [w.monitor]));
  const linkOutageMs = w.source === 'engine' && isSilence(w) ? overlapMs(span, at.outages) : 0;
  const blindDuringOutage =
    linkOutageMs === 0
      ? 0
      : at.backfilled.filter((b) => b.agentId === w.agentId && isBlind(b) && b.startedAt < span.end && (b.endedAt ?? span.end) > span.start)
          .length;
  const inMaintenance =
    (w.suppressedBy?.startsWith('maintenance:') === true && !w.suppressedBy.startsWith('maintenance:silence:')) ||
    overlapMs(span, maintenance) > 0;
  const expectedSilence = w.cause === 'agent_stopped' || w.suppressedBy === 'agent_stopped';
  const row = {
    ...w,
    durationMs: span.end - span.start,
    paged: w.source === 'engine' && w.suppressedBy === null,
    inMaintenance,
    silenced: w.suppressedBy?.startsWith('maintenance:silence:') === true,
    expectedSilence,
    watchdogGapMs: w.source === 'watchdog' ? span.end - span.start : overlapMs(span, at.gaps),
    linkOutageMs,
    blindDuringOutage,
  };
  return { ...row, verdict: verdictOf(row) };
}

function verdictOf(r: Omit<GapRow, 'verdict'>): Verdict {
  if (r.source === 'watchdog') return 'watchdog_gap';
  if (r.expectedSilence || r.inMaintenance) return 'expected';
  // Mostly covered by backfill: the agent was running and only the link was down. A silence the
  // backfill covers only in part (the agent spooled a little, then died) stays blind.
  if (r.linkOutageMs >= LINK_OUTAGE_SHARE * r.durationMs && r.durationMs > 0) return 'link_outage';
  return isBlind(r) ? 'blind' : 'degraded';
}

/** The backfilled heartbeats that continue the sequence heard around a silence of their agent, in its time. */
function continuing(backfill: readonly BackfilledHeartbeat[], windows: readonly WindowRecord[], end: number): BackfilledHeartbeat[] {
  const silences = new Map<string, { start: number; end: number; anchors: SeqAnchors }[]>();
  for (const w of windows) {
    if (w.source !== 'engine' || !isSilence(w) || w.anchors == null) continue;
    const list = silences.get(w.agentId) ?? [];
    list.push({ start: w.startedAt, end: w.endedAt ?? end, anchors: w.anchors });
    silences.set(w.agentId, list);
  }
  return backfill.filter((hb) =>
    (silences.get(hb.agentId) ?? []).some(
      (s) =>
        hb.sentAt >= s.start - CONTINUE_SLACK_INTERVALS * hb.intervalS * 1000 && hb.sentAt <= s.end && continuesSequence(s.anchors, hb),
    ),
  );
}

/** The first heartbeat the agent spooled was due about when the silence began; allow it this many intervals early. */
const CONTINUE_SLACK_INTERVALS = 3;

interface TimelineContext {
  input: GapInput;
  pauses: readonly Maintenance[];
  /** Proven link outages: what a silence's blindness is reduced by. */
  outagesOf: (agentId: string) => Interval[];
  /** Every span the backfill reports: observable, but seen late. */
  reportedOf: (agentId: string) => Interval[];
  /** The agents that fed this component around the range. */
  feeders: ReadonlySet<string>;
}

/** What one component's feeders went through: the raw sets coverageOf() splits. */
function timelineOf(component: { id: string; name: string }, windows: readonly WindowRecord[], ctx: TimelineContext): ComponentTimeline {
  const { input, pauses, outagesOf } = ctx;
  const end = input.range.end;
  const feeders = ctx.feeders;
  const monitors = new Set(input.config.monitors.filter((m) => m.component === component.id).map((m) => m.id));
  for (const f of input.feeds) if (defOf(input.config, f.monitor)?.component === component.id) monitors.add(f.monitor);
  for (const w of windows) if (w.source !== 'watchdog' && w.component === component.id) monitors.add(w.monitor);

  const mine = windows.filter((w) => w.source !== 'watchdog' && (w.component === component.id || (isSilence(w) && feeders.has(w.agentId))));
  const bad = (level: (w: WindowRecord) => boolean) =>
    union(
      mine
        .filter((w) => level(w) && w.cause !== 'agent_stopped' && w.suppressedBy !== 'agent_stopped')
        .flatMap((w) => {
          let span = [spanOf(w, end)];
          // The engine could not judge an agent it did not hear; where backfill shows it was running, its replay says instead.
          if (w.source === 'engine' && isSilence(w)) span = subtract(span, outagesOf(w.agentId));
          return subtract(span, union(pausesFor(pauses, w.agentId, [w.monitor])));
        }),
    );

  // A component pauses only while every agent feeding it is paused (maintenance, or stopped on purpose).
  const pausedPerFeeder = [...feeders].map((agentId) =>
    union([
      ...pausesFor(pauses, agentId, [...monitors]),
      ...mine
        .filter((w) => w.agentId === agentId && (w.cause === 'agent_stopped' || w.suppressedBy === 'agent_stopped'))
        .map((w) => spanOf(w, end)),
    ]),
  );
  const firstSeen = input.agents.filter((a) => feeders.has(a.id)).map((a) => a.firstSeenAt);
  return {
    id: component.id,
    name: component.name,
    firstSeenAt: firstSeen.length === 0 ? null : Math.min(...firstSeen),
    blind: bad(isBlind),
    degraded: bad((w) => w.level === 'degraded'),
    paused: pausedPerFeeder.length === 0 ? [] : pausedPerFeeder.reduce((acc, p) => intersect(acc, p)),
    linkOnly: union([...feeders].flatMap(ctx.reportedOf)),
  };
}

/** Per component, the agents (and Alertmanager sources) that fed it: by the rollups, the windows, the configuration. */
function feedersByComponent(input: GapInput, windows: readonly WindowRecord[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const add = (component: string | undefined, agentId: string) => {
    if (component === undefined || !matchesAny(input.filters.agents, agentId)) return;
    out.set(component, (out.get(component) ?? new Set()).add(agentId));
  };
  for (const f of input.feeds) add(defOf(input.config, f.monitor)?.component, f.agentId);
  for (const w of windows) if (w.source !== 'watchdog') add(w.component, w.agentId);
  for (const s of input.config.alertSources) add(s.component, s.id);
  return out;
}

/** Maintenance spans that cover this agent and one of these monitors. */
function pausesFor(pauses: readonly Maintenance[], agentId: string, monitors: readonly string[]): Interval[] {
  return pauses
    .filter((m) => m.agents.some((g) => matchesGlob(g, agentId)) && m.monitors.some((g) => monitors.some((id) => matchesGlob(g, id))))
    .map((m) => ({ start: m.startsAt, end: m.endsAt }));
}

const spanOf = (w: Pick<WindowRecord, 'startedAt' | 'endedAt'>, end: number): Interval => ({
  start: w.startedAt,
  end: Math.max(w.startedAt, w.endedAt ?? end),
});

const matchesAny = (globs: readonly string[], value: string) => globs.length === 0 || globs.some((g) => matchesGlob(g, value));

/** Filters narrow the rows and what coverage counts; the watchdog's own gaps concern every agent and component. */
function selected(w: WindowRecord, f: GapFilters): boolean {
  if (f.causes.length > 0 && !f.causes.includes(w.cause)) return false;
  if (w.source === 'watchdog') return true;
  return matchesAny(f.agents, w.agentId) && matchesAny(f.components, w.component) && matchesAny(f.monitors, w.monitor);
}

function recordOf(w: LinkOutage['windows'][number]): Omit<WindowRecord, 'source'> {
  return {
    id: w.id,
    agentId: w.agentId,
    monitor: w.monitor,
    component: w.component,
    cause: w.cause,
    level: w.level,
    signal: w.signal,
    startedAt: w.startedAt,
    confirmedAt: null,
    notifiedAt: null,
    endedAt: w.endedAt,
    peakValue: w.peakValue,
    suppressedBy: w.suppressedBy,
  };
}
