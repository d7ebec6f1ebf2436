import { type CompiledQuery, sql } from 'kysely';
import type { RollupFlush } from '../core/rollup.ts';
import { bucketStart, HOUR_MS } from '../core/rollup.ts';
import type { Db } from './db.ts';
import type { RollupTable } from './schema.ts';

/** Writes complete 5-minute buckets, adds them into their hours, and merges per-signal hourly stats. */
export function writeRollups(db: Db, agentId: string, flush: RollupFlush): CompiledQuery[] {
  const queries: CompiledQuery[] = [];
  for (const [start, monitors] of Object.entries(flush.buckets)) {
    for (const [monitor, s] of Object.entries(monitors)) {
      const row = { agent_id: agentId, monitor, good_s: s.good, degraded_s: s.degraded, blind_s: s.blind, unknown_s: s.unknown, paused_s: s.paused };
      queries.push(addSeconds(db, 'rollup_5m', { ...row, bucket_start: Number(start) }));
      queries.push(addSeconds(db, 'rollup_1h', { ...row, bucket_start: bucketStart(Number(start), HOUR_MS) }));
    }
  }
  for (const [hour, signals] of Object.entries(flush.signals)) {
    for (const [key, s] of Object.entries(signals)) {
      queries.push(
        db
          .insertInto('signal_rollup_1h')
          .values({ agent_id: agentId, signal_key: key, name: s.name, bucket_start: Number(hour), last: s.last, min: s.min, max: s.max, samples: s.samples, unknown: s.unknown })
          .onConflict((oc) =>
            oc.columns(['agent_id', 'signal_key', 'bucket_start']).doUpdateSet({
              last: sql`coalesce(excluded.last, last)`,
              min: sql`min(coalesce(min, excluded.min), coalesce(excluded.min, min))`,
              max: sql`max(coalesce(max, excluded.max), coalesce(excluded.max, max))`,
              samples: sql`samples + excluded.samples`,
              unknown: sql`unknown + excluded.unknown`,
            }),
          )
          .compile(),
      );
    }
  }
  return queries;
}

/** Inserts a bucket, or adds its seconds to the row already there (a flush may split a bucket). */
function addSeconds(db: Db, table: 'rollup_5m' | 'rollup_1h', row: RollupTable): CompiledQuery {
  return db
    .insertInto(table)
    .values(row)
    .onConflict((oc) =>
      oc.columns(['agent_id', 'monitor', 'bucket_start']).doUpdateSet({
        good_s: sql`good_s + excluded.good_s`,
        degraded_s: sql`degraded_s + excluded.degraded_s`,
        blind_s: sql`blind_s + excluded.blind_s`,
        unknown_s: sql`unknown_s + excluded.unknown_s`,
        paused_s: sql`paused_s + excluded.paused_s`,
      }),
    )
    .compile();
}

export const RETENTION_MS = { rollup_5m: 8 * 86_400_000, rollup_1h: 400 * 86_400_000, signal_rollup_1h: 400 * 86_400_000, agent_events: 400 * 86_400_000, alert_evidence: 30 * 86_400_000, finished_outbox: 30 * 86_400_000, dead_outbox: 90 * 86_400_000, delivery_attempts: 30 * 86_400_000, backfilled_heartbeats: 30 * 86_400_000 } as const;

/** Deletes what is past its retention. One statement per table, each bounded by an index on time. */
export function pruneQueries(db: Db, now: number): CompiledQuery[] {
  return [
    db.deleteFrom('rollup_5m').where('bucket_start', '<', now - RETENTION_MS.rollup_5m).compile(),
    db.deleteFrom('rollup_1h').where('bucket_start', '<', now - RETENTION_MS.rollup_1h).compile(),
    db.deleteFrom('signal_rollup_1h').where('bucket_start', '<', now - RETENTION_MS.signal_rollup_1h).compile(),
    db.deleteFrom('agent_events').where('at', '<', now - RETENTION_MS.agent_events).compile(),
    db.deleteFrom('alert_evidence').where('received_at', '<', now - RETENTION_MS.alert_evidence).compile(),
    db.deleteFrom('outbox').where('state', 'in', ['delivered', 'cancelled']).where('finished_at', '<', now - RETENTION_MS.finished_outbox).compile(),
    db.deleteFrom('outbox').where('state', '=', 'dead').where('finished_at', '<', now - RETENTION_MS.dead_outbox).compile(),
    db.deleteFrom('delivery_attempts').where('at', '<', now - RETENTION_MS.delivery_attempts).compile(),
    db.deleteFrom('backfilled_heartbeats').where('sent_at', '<', now - RETENTION_MS.backfilled_heartbeats).compile(),
  ];
}
