// What the gap report reads: windows, backfilled heartbeats, agents, which agent fed which monitor,
// maintenance and incidents, all around one time span. Bounded: a span holding more than the report
// can carry is refused with the count, so the caller can say "narrow the range".
import { type SqlBool, sql } from 'kysely';
import type { RecordedCause, SeqAnchor, SeqAnchors } from '../core/blind-window.ts';
import type { WindowRecord } from '../core/gap-report.ts';
import type { Interval } from '../core/intervals.ts';
import type { BackfilledHeartbeat } from '../core/link-outages.ts';
import type { MaintenanceRow } from '../core/notices.ts';
import { DAY_MS } from '../core/rollup.ts';
import type { Signal } from '../../protocol/heartbeat.ts';
import type { Db } from './db.ts';
import type { IncidentsTable } from './schema.ts';

export const MAX_REPORT_WINDOWS = 20_000;
export const MAX_REPORT_BACKFILL = 20_000;
const MAX_NOTICES = 1000;
/** Backfilled heartbeats this long before the span still tell whether an outage began before it. */
const BACKFILL_LEAD_MS = 60 * 60_000;

export interface GapData {
  windows: WindowRecord[];
  backfill: BackfilledHeartbeat[];
  agents: { id: string; firstSeenAt: number }[];
  feeds: { agentId: string; monitor: string }[];
  maintenances: MaintenanceRow[];
  incidents: IncidentsTable[];
}

export type GapRead = { ok: true; data: GapData } | { ok: false; what: 'windows' | 'backfilled heartbeats'; limit: number };

/**
 * `agents`: the request's agent filter (names or globs; empty for all). It is applied in SQL too (the
 * core applies it again, exactly), with SQLite's GLOB (case-sensitive, `*` and `?`, as ours; our globs
 * hold no `[`), so a report on one agent is not refused because other agents were busy in the range.
 */
export async function readGapData(db: Db, span: Interval, agents: readonly string[] = []): Promise<GapRead> {
  // The watchdog's own gaps (agent "*") cover every agent, so they are kept whatever the filter.
  const ofAgents =
    agents.length === 0
      ? sql<SqlBool>`1 = 1`
      : sql<SqlBool>`(agent_id = '*' OR ${sql.join(
          agents.map((g) => sql`agent_id GLOB ${g}`),
          sql` OR `,
        )})`;
  const [windows, backfill, agentRows, feeds, maintenances, incidents] = await Promise.all([
    db
      .selectFrom('windows')
      .selectAll()
      .where(ofAgents)
      .where('started_at', '<', span.end)
      .where((eb) => eb.or([eb('ended_at', 'is', null), eb('ended_at', '>', span.start)]))
      .orderBy('started_at')
      .limit(MAX_REPORT_WINDOWS + 1)
      .execute(),
    db
      .selectFrom('backfilled_heartbeats')
      .select(['agent_id', 'boot', 'seq', 'sent_at', 'interval_s', 'signals'])
      .where(ofAgents)
      .where('sent_at', '>=', span.start - BACKFILL_LEAD_MS)
      .where('sent_at', '<', span.end)
      .orderBy('sent_at')
      .limit(MAX_REPORT_BACKFILL + 1)
      .execute(),
    db.selectFrom('agents').select(['id', 'first_seen_at']).execute(),
    // Which monitors each agent fed on the days the span touches, from its day rows.
    sql<{
      agent_id: string;
      monitor: string;
    }>`SELECT DISTINCT d.agent_id AS agent_id, m.key AS monitor FROM agent_days d, json_each(d.monitors) m
      WHERE d.day > ${span.start - DAY_MS} AND d.day < ${span.end}`
      .execute(db)
      .then((r) => r.rows),
    db
      .selectFrom('maintenances')
      .selectAll()
      .where('scheduled_for', '<', span.end)
      .where('scheduled_until', '>', span.start)
      .orderBy('scheduled_for')
      .limit(MAX_NOTICES)
      .execute(),
    db
      .selectFrom('incidents')
      .selectAll()
      .where('started_at', '<', span.end)
      .where((eb) => eb.or([eb('resolved_at', 'is', null), eb('resolved_at', '>', span.start)]))
      .orderBy('started_at')
      .limit(MAX_NOTICES)
      .execute(),
  ]);
  if (windows.length > MAX_REPORT_WINDOWS) return { ok: false, what: 'windows', limit: MAX_REPORT_WINDOWS };
  if (backfill.length > MAX_REPORT_BACKFILL) return { ok: false, what: 'backfilled heartbeats', limit: MAX_REPORT_BACKFILL };
  return {
    ok: true,
    data: {
      windows: windows.map((r) => ({
        id: r.id,
        agentId: r.agent_id,
        monitor: r.monitor,
        component: r.component,
        // What D1 holds was written from the one list (blind-window.ts); a stranger row still reads.
        cause: r.cause as RecordedCause,
        level: r.level,
        signal: r.signal,
        startedAt: r.started_at,
        confirmedAt: r.confirmed_at,
        notifiedAt: r.notified_at,
        endedAt: r.ended_at,
        peakValue: r.peak_value,
        suppressedBy: r.suppressed_by,
        anchors: parseAnchors(r.anchors),
        source: r.cause === 'watchdog_gap' ? ('watchdog' as const) : ('engine' as const),
      })),
      backfill: backfill.flatMap((r) => {
        const signals = parseSignals(r.signals);
        return signals === null
          ? []
          : [{ agentId: r.agent_id, boot: r.boot, seq: r.seq, sentAt: r.sent_at, intervalS: r.interval_s, signals }];
      }),
      agents: agentRows.map((a) => ({ id: a.id, firstSeenAt: a.first_seen_at })),
      feeds: feeds.map((f) => ({ agentId: f.agent_id, monitor: f.monitor })),
      maintenances,
      incidents,
    },
  };
}

/** Written by the engine; anything else reads as "no anchors", which proves no link outage. */
function parseAnchors(json: string | null): SeqAnchors | null {
  if (json === null) return null;
  try {
    const value = JSON.parse(json) as Partial<SeqAnchors> | null;
    const anchor = (a: unknown): SeqAnchor | null =>
      typeof a === 'object' && a !== null && typeof (a as SeqAnchor).boot === 'string' && Number.isInteger((a as SeqAnchor).seq)
        ? { boot: (a as SeqAnchor).boot, seq: (a as SeqAnchor).seq }
        : null;
    return value === null || typeof value !== 'object' ? null : { before: anchor(value.before), after: anchor(value.after) };
  } catch {
    return null;
  }
}

/** Stored by the backfill route after validation; a row that does not read back as a list is skipped, not fatal. */
function parseSignals(json: string): Signal[] | null {
  try {
    const value: unknown = JSON.parse(json);
    return Array.isArray(value) ? (value as Signal[]) : null;
  } catch (e: unknown) {
    console.error('backfilled heartbeat with unreadable signals skipped:', e);
    return null;
  }
}
