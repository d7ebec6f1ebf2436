import { type CompiledQuery, sql } from 'kysely';
import type { RollupFlush, SignalStats } from '../core/rollup.ts';
import { bucketStart, DAY_MS, ROLLUP_STATES } from '../core/rollup.ts';
import type { Db } from './db.ts';

type DaySignals = Record<
  string,
  [name: string, last: number | null, min: number | null, max: number | null, samples: number, unknown: number]
>;

/** Seconds kept to the millisecond: sums of fractions stay short in JSON. */
const roundToMs = (seconds: number) => Math.round(seconds * 1000) / 1000;

/**
 * One statement per UTC day the flush touches: the day's row for this agent, created or added to.
 * The flush holds what accrued since the last one (complete 5-minute buckets and the signals seen),
 * so D1 sums seconds and merges signal statistics; a flush writes one row, not one per monitor.
 */
export function writeRollups(db: Db, agentId: string, flush: RollupFlush): CompiledQuery[] {
  const days = new Map<number, { monitors: Record<string, number[]>; signals: DaySignals }>();
  const dayOf = (t: number) => {
    const day = bucketStart(t, DAY_MS);
    let d = days.get(day);
    if (d === undefined) days.set(day, (d = { monitors: {}, signals: {} }));
    return d;
  };
  for (const [start, monitors] of Object.entries(flush.buckets)) {
    const d = dayOf(Number(start));
    for (const [monitor, s] of Object.entries(monitors)) {
      const sum = (d.monitors[monitor] ??= [0, 0, 0, 0, 0]);
      ROLLUP_STATES.forEach((state, i) => {
        sum[i] = (sum[i] ?? 0) + s[state];
      });
    }
  }
  // Signal statistics are kept per day; a Durable Object from before keyed them per hour, which folds in the same.
  for (const [start, signals] of Object.entries(flush.signals).sort(([a], [b]) => Number(a) - Number(b))) {
    const d = dayOf(Number(start));
    for (const [key, s] of Object.entries(signals)) d.signals[key] = mergeSignal(d.signals[key], s);
  }
  return [...days].map(([day, d]) => {
    const monitors = JSON.stringify(Object.fromEntries(Object.entries(d.monitors).map(([m, sum]) => [m, sum.map(roundToMs)])));
    return addToDay(db, agentId, day, monitors, JSON.stringify(d.signals), flush.takenAt);
  });
}

function mergeSignal(prev: DaySignals[string] | undefined, s: SignalStats): DaySignals[string] {
  if (prev === undefined) return [s.name, s.last, s.min, s.max, s.samples, s.unknown];
  const [, last, min, max, samples, unknown] = prev;
  const lo = min === null ? s.min : s.min === null ? min : Math.min(min, s.min);
  const hi = max === null ? s.max : s.max === null ? max : Math.max(max, s.max);
  return [s.name, s.last ?? last, lo, hi, samples + s.samples, unknown + s.unknown];
}

/**
 * Inserts the day, or adds to the row already there: seconds are summed per monitor and state; per
 * signal, the newer last value wins, min and max widen, counts add up. Done by D1 in one statement,
 * and only once per flush: a row already stamped with this flush (or a later one) is left alone.
 */
function addToDay(db: Db, agentId: string, day: number, monitors: string, signals: string, takenAt: number): CompiledQuery {
  // Aggregates cannot nest: the inner query merges key by key, the outer one builds the object.
  return sql`INSERT INTO agent_days (agent_id, day, monitors, signals, last_flush_at) VALUES (${agentId}, ${day}, ${monitors}, ${signals}, ${takenAt})
    ON CONFLICT (agent_id, day) DO UPDATE SET
    last_flush_at = excluded.last_flush_at,
    monitors = (
      SELECT json_group_object(key, json_array(g, d, b, u, p)) FROM (
        SELECT key, round(sum(g), 3) AS g, round(sum(d), 3) AS d, round(sum(b), 3) AS b, round(sum(u), 3) AS u, round(sum(p), 3) AS p
        FROM (
          SELECT key, json_extract(value, '$[0]') AS g, json_extract(value, '$[1]') AS d, json_extract(value, '$[2]') AS b, json_extract(value, '$[3]') AS u, json_extract(value, '$[4]') AS p
            FROM json_each(agent_days.monitors)
          UNION ALL
          SELECT key, json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), json_extract(value, '$[3]'), json_extract(value, '$[4]')
            FROM json_each(excluded.monitors)
        )
        GROUP BY key
      )
    ),
    signals = (
      SELECT json_group_object(key, json_array(name, last, lo, hi, n, unk)) FROM (
        SELECT key,
          coalesce(max(CASE WHEN src = 1 THEN name END), max(name)) AS name,
          coalesce(max(CASE WHEN src = 1 THEN last END), max(CASE WHEN src = 0 THEN last END)) AS last,
          min(lo) AS lo, max(hi) AS hi, sum(n) AS n, sum(unk) AS unk
        FROM (
          SELECT 0 AS src, key, json_extract(value, '$[0]') AS name, json_extract(value, '$[1]') AS last, json_extract(value, '$[2]') AS lo, json_extract(value, '$[3]') AS hi, json_extract(value, '$[4]') AS n, json_extract(value, '$[5]') AS unk
            FROM json_each(agent_days.signals)
          UNION ALL
          SELECT 1, key, json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), json_extract(value, '$[3]'), json_extract(value, '$[4]'), json_extract(value, '$[5]')
            FROM json_each(excluded.signals)
        )
        GROUP BY key
      )
    )
    WHERE excluded.last_flush_at > agent_days.last_flush_at`.compile(db);
}

export const RETENTION_MS = {
  agent_days: 400 * 86_400_000,
  agent_events: 400 * 86_400_000,
  alert_evidence: 30 * 86_400_000,
  finished_outbox: 30 * 86_400_000,
  dead_outbox: 90 * 86_400_000,
  delivery_attempts: 30 * 86_400_000,
  backfilled_heartbeats: 30 * 86_400_000,
  /** Closed windows, as long as the day rows they explain; an open one is never pruned. */
  windows: 400 * 86_400_000,
} as const;

/** Deletes what is past its retention. One statement per table, each bounded by an index on time. */
export function pruneQueries(db: Db, now: number): CompiledQuery[] {
  return [
    db
      .deleteFrom('windows')
      .where('started_at', '<', now - RETENTION_MS.windows)
      .where('ended_at', 'is not', null)
      .where('ended_at', '<', now - RETENTION_MS.windows)
      .compile(),
    db
      .deleteFrom('agent_days')
      .where('day', '<', now - RETENTION_MS.agent_days)
      .compile(),
    db
      .deleteFrom('agent_events')
      .where('at', '<', now - RETENTION_MS.agent_events)
      .compile(),
    db
      .deleteFrom('alert_evidence')
      .where('received_at', '<', now - RETENTION_MS.alert_evidence)
      .compile(),
    db
      .deleteFrom('outbox')
      .where('state', 'in', ['delivered', 'cancelled'])
      .where('finished_at', '<', now - RETENTION_MS.finished_outbox)
      .compile(),
    db
      .deleteFrom('outbox')
      .where('state', '=', 'dead')
      .where('finished_at', '<', now - RETENTION_MS.dead_outbox)
      .compile(),
    db
      .deleteFrom('delivery_attempts')
      .where('at', '<', now - RETENTION_MS.delivery_attempts)
      .compile(),
    db
      .deleteFrom('backfilled_heartbeats')
      .where('sent_at', '<', now - RETENTION_MS.backfilled_heartbeats)
      .compile(),
  ];
}
