// The gap report as it leaves the Worker: snake_case, times in RFC 3339 in the zone asked for,
// durations in seconds, and a sentence per window that says what it was. CSV, Markdown and the page
// are all drawn from this one shape.
import type { BurnWindow, Coverage } from '../core/coverage.ts';
import type { GapReport, GapRow } from '../core/gap-report.ts';
import type { LinkOutage } from '../core/link-outages.ts';
import { type MaintenanceRow, maintenanceEnd } from '../core/notices.ts';
import { formatInZone, type Zone } from '../core/time-zone.ts';
import type { Maintenance } from '../../config/resolve.ts';
import { causeText, formatValue, humanDuration } from '../notify/render.ts';
import type { IncidentsTable } from '../store/schema.ts';

export interface WindowShape {
  id: string;
  source: GapRow['source'];
  agent: string;
  monitor: string;
  component: string;
  cause: string;
  level: string;
  signal: string | null;
  started_at: string;
  confirmed_at: string | null;
  notified_at: string | null;
  ended_at: string | null;
  duration_s: number;
  peak_value: number | null;
  paged: boolean;
  in_maintenance: boolean;
  silenced: boolean;
  expected_silence: boolean;
  watchdog_gap_s: number;
  link_outage_s: number;
  verdict: GapRow['verdict'];
  explanation: string;
}

export interface CoverageShape {
  component: string;
  name: string;
  range_s: number;
  no_data_s: number;
  paused_s: number;
  unverified_s: number;
  blind_s: number;
  observable_s: number;
  degraded_s: number;
  link_outage_s: number;
  coverage: number | null;
  objective: number;
  met: boolean | null;
  budget_s: number;
  budget_spent_s: number;
  budget_left_s: number;
  budget_left_ratio: number | null;
  burn_rate: Record<BurnWindow, number | null>;
}

export interface GapReportShape {
  generated_at: string;
  range: { from: string; to: string; time_zone: string; to_clamped_to_now: boolean };
  filters: { agent: string[]; component: string[]; monitor: string[]; cause: string[] };
  objective: number;
  summary: { windows: number; blind: number; link_outage: number; expected: number; watchdog_gaps: number; paged: number; verdict: string };
  coverage: { overall: CoverageShape; components: CoverageShape[] };
  windows: WindowShape[];
  link_outages: {
    agent: string;
    started_at: string;
    ended_at: string;
    duration_s: number;
    heartbeats: number;
    monitoring: 'fine' | 'blind' | 'degraded';
  }[];
  incidents: { id: string; name: string; impact: string; status: string; started_at: string; resolved_at: string | null }[];
  maintenances: { id: string; kind: string; name: string; starts_at: string; ends_at: string }[];
  page: { limit: number; returned: number; total: number; next_cursor: string | null };
}

const seconds = (ms: number) => Math.round(ms / 1000);
const ratio = (x: number | null) => (x === null ? null : Math.round(x * 1e6) / 1e6);

/** A signal as a public report names it: its name without its labels, which can name people and silences. */
export const publicSignal = (signal: string | null): string | null => (signal === null ? null : (signal.split('{')[0] ?? signal));

export function windowShape(r: GapRow, zone: Zone, publicView = false): WindowShape {
  const t = (ms: number | null) => (ms === null ? null : formatInZone(ms, zone));
  return {
    id: r.id,
    source: r.source,
    agent: r.agentId,
    monitor: r.monitor,
    component: r.component,
    cause: r.cause,
    level: r.level,
    signal: publicView ? publicSignal(r.signal) : r.signal,
    started_at: formatInZone(r.startedAt, zone),
    confirmed_at: t(r.confirmedAt),
    notified_at: t(r.notifiedAt),
    ended_at: t(r.endedAt),
    duration_s: seconds(r.durationMs),
    peak_value: r.peakValue,
    paged: r.paged,
    in_maintenance: r.inMaintenance,
    silenced: r.silenced,
    expected_silence: r.expectedSilence,
    watchdog_gap_s: seconds(r.watchdogGapMs),
    link_outage_s: seconds(r.linkOutageMs),
    verdict: r.verdict,
    explanation: explain(r),
  };
}

/** One sentence a reviewer can paste: what it was, and what qualifies it. */
export function explain(r: GapRow): string {
  const lasted = humanDuration(r.durationMs / 1000);
  const parts: string[] = [];
  const peak = r.peakValue === null ? '' : ` (peak ${formatValue(r.peakValue)})`;
  if (r.verdict === 'watchdog_gap')
    parts.push(`The watchdog itself was not evaluating for ${lasted}: nothing was verified then, and windows in it were recorded late.`);
  else if (r.verdict === 'link_outage') {
    const link = `only the link from ${r.agentId} to the watchdog was down (backfilled heartbeats cover ${humanDuration(r.linkOutageMs / 1000)} of ${lasted})`;
    parts.push(
      r.blindDuringOutage === 0
        ? `Monitoring was fine; ${link}.`
        : `The link from ${r.agentId} to the watchdog was down, and its backfilled heartbeats show the monitoring blind too: see the ${r.blindDuringOutage} backfill row(s).`,
    );
  } else if (r.expectedSilence) parts.push(`Expected: ${r.agentId} said it was stopping (${lasted}).`);
  else if (r.inMaintenance) parts.push(`Expected: in maintenance, ${causeText(r.cause)}${peak} for ${lasted}.`);
  else {
    const what = r.monitor === 'agent' || r.monitor === 'alert_path' ? r.agentId : `${r.monitor} on ${r.agentId}`;
    const word = r.verdict === 'blind' ? 'Monitoring was blind' : 'Monitoring was degraded';
    parts.push(`${word}: ${what}, ${causeText(r.cause)}${peak}, for ${lasted}${r.endedAt === null ? ' and still is' : ''}.`);
  }
  if (r.verdict !== 'link_outage' && r.linkOutageMs > 0)
    parts.push(
      `Backfilled heartbeats show ${r.agentId} running for ${humanDuration(r.linkOutageMs / 1000)} of it; that part was only the link.`,
    );
  if (r.source === 'backfill')
    parts.push('Found in backfilled heartbeats: the watchdog saw it only after the link came back; it never paged.');
  if (r.verdict !== 'watchdog_gap' && r.watchdogGapMs > 0)
    parts.push(`The watchdog itself was not evaluating for ${humanDuration(r.watchdogGapMs / 1000)} of it.`);
  if (r.silenced) parts.push('Paging was silenced.');
  return parts.join(' ');
}

export function coverageShape(c: Coverage, objective: number): CoverageShape {
  return {
    component: c.id,
    name: c.name,
    range_s: seconds(c.rangeMs),
    no_data_s: seconds(c.noDataMs),
    paused_s: seconds(c.pausedMs),
    unverified_s: seconds(c.unverifiedMs),
    blind_s: seconds(c.blindMs),
    observable_s: seconds(c.observableMs),
    degraded_s: seconds(c.degradedMs),
    link_outage_s: seconds(c.linkOnlyMs),
    coverage: ratio(c.coverage),
    objective,
    met: c.coverage === null ? null : c.coverage >= objective,
    budget_s: seconds(c.budgetMs),
    budget_spent_s: seconds(c.budgetSpentMs),
    budget_left_s: seconds(c.budgetLeftMs),
    budget_left_ratio: ratio(c.budgetLeftRatio),
    burn_rate: { '1h': ratio(c.burnRates['1h']), '6h': ratio(c.burnRates['6h']), '3d': ratio(c.burnRates['3d']) },
  };
}

function outageShape(o: LinkOutage, zone: Zone): GapReportShape['link_outages'][number] {
  const levels = new Set(o.windows.map((w) => w.level));
  return {
    agent: o.agentId,
    started_at: formatInZone(o.start, zone),
    ended_at: formatInZone(o.end, zone),
    duration_s: seconds(o.end - o.start),
    heartbeats: o.heartbeats,
    monitoring: levels.has('blind') || levels.has('unknown') ? 'blind' : levels.has('degraded') ? 'degraded' : 'fine',
  };
}

/** The headline: the one thing a reviewer should take away. */
function verdictLine(rows: readonly GapRow[], overall: Coverage): string {
  const blind = rows.filter((r) => r.verdict === 'blind');
  const link = rows.filter((r) => r.verdict === 'link_outage');
  const gaps = rows.filter((r) => r.verdict === 'watchdog_gap');
  const said: string[] = [];
  if (blind.length > 0) said.push(`monitoring was blind ${humanDuration(overall.blindMs / 1000)} in ${blind.length} window(s)`);
  else if (link.length > 0) said.push('monitoring was fine; only the link to the watchdog was down');
  else said.push('monitoring was not blind');
  if (blind.length > 0 && link.length > 0) said.push(`the link to the watchdog was also down ${link.length} time(s)`);
  if (gaps.length > 0) said.push(`the watchdog itself was not evaluating for ${humanDuration(overall.unverifiedMs / 1000)}`);
  const line = said.join('; ');
  return `${line.charAt(0).toUpperCase()}${line.slice(1)}.`;
}

export interface ShapeInput {
  report: GapReport;
  page: GapRow[];
  total: number;
  nextCursor: string | null;
  range: { from: number; to: number; clamped: boolean };
  zone: Zone;
  filters: GapReportShape['filters'];
  objective: number;
  limit: number;
  /** From the admin API and from the configuration file, overlapping the range. */
  maintenances: readonly { id: string; kind: 'maintenance' | 'silence'; name: string; startsAt: number; endsAt: number }[];
  incidents: readonly IncidentsTable[];
  now: number;
  /** Served to anyone (gap_report.public): windows name their signals without labels. */
  publicView: boolean;
}

/** Admin maintenance and silences (D1) and the configuration's maintenance, as the report lists them. */
export function noticesOf(
  rows: readonly MaintenanceRow[],
  fromConfig: readonly Maintenance[],
  range: { from: number; to: number },
): ShapeInput['maintenances'] {
  const listed = [
    ...rows.map((m) => ({ id: m.id, kind: m.kind, name: m.name, startsAt: m.scheduled_for, endsAt: maintenanceEnd(m) })),
    ...fromConfig.map((m) => ({ id: m.id, kind: 'maintenance' as const, name: m.reason ?? m.id, startsAt: m.startsAt, endsAt: m.endsAt })),
  ];
  return listed
    .filter((m) => m.startsAt < range.to && m.endsAt > range.from && m.endsAt > m.startsAt)
    .sort((a, b) => a.startsAt - b.startsAt);
}

export function gapReportShape(s: ShapeInput): GapReportShape {
  const { report, zone } = s;
  const t = (ms: number) => formatInZone(ms, zone);
  const rows = report.rows;
  return {
    generated_at: t(s.now),
    range: { from: t(s.range.from), to: t(s.range.to), time_zone: zone.name, to_clamped_to_now: s.range.clamped },
    filters: s.filters,
    objective: s.objective,
    summary: {
      windows: rows.length,
      blind: rows.filter((r) => r.verdict === 'blind').length,
      link_outage: rows.filter((r) => r.verdict === 'link_outage').length,
      expected: rows.filter((r) => r.verdict === 'expected').length,
      watchdog_gaps: rows.filter((r) => r.verdict === 'watchdog_gap').length,
      paged: rows.filter((r) => r.paged).length,
      verdict: verdictLine(rows, report.coverage.overall),
    },
    coverage: {
      overall: coverageShape(report.coverage.overall, s.objective),
      components: report.coverage.components.map((c) => coverageShape(c, s.objective)),
    },
    windows: s.page.map((r) => windowShape(r, zone, s.publicView)),
    link_outages: report.linkOutages.map((o) => outageShape(o, zone)),
    incidents: s.incidents.map((i) => ({
      id: i.id,
      name: i.name,
      impact: i.impact,
      status: i.status,
      started_at: t(i.started_at),
      resolved_at: i.resolved_at === null ? null : t(i.resolved_at),
    })),
    maintenances: s.maintenances.map((m) => ({ id: m.id, kind: m.kind, name: m.name, starts_at: t(m.startsAt), ends_at: t(m.endsAt) })),
    page: { limit: s.limit, returned: s.page.length, total: s.total, next_cursor: s.nextCursor },
  };
}
