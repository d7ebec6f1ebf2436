// D1's copy of every object's outbox and its delivery log: the history the admin API and /healthz
// read. Written only through an object's replication queue, as idempotent upserts keyed by the
// notification id and the attempt number, so a batch sent twice changes nothing.
import { type CompiledQuery, sql } from 'kysely';
import type { Db } from './db.ts';
import type { OutboxRow } from './object-outbox.ts';

/**
 * The row as it is in its object at `decidedAt` (the object is the system of record; this copy follows
 * it). A batch replayed late (set aside, then retried) never overwrites a newer state of the row.
 */
export function mirrorRow(db: Db, row: OutboxRow, decidedAt: number): CompiledQuery {
  const { seq: _seq, ...rest } = row;
  const values = { ...rest, decided_at: decidedAt };
  const { id: _id, event_id: _e, event_type: _t, channel_id: _c, agent_id: _a, window_id: _w, ...changing } = values;
  return db
    .insertInto('outbox')
    .values(values)
    .onConflict((oc) =>
      oc.column('id').doUpdateSet(changing).where(sql<boolean>`outbox.decided_at IS NULL OR excluded.decided_at >= outbox.decided_at`),
    )
    .compile();
}

export interface AttemptLog {
  notificationId: string;
  channel: string;
  attempt: number;
  at: number;
  status: number | null;
  latencyMs: number;
  outcome: string;
  error: string | null;
}

export function logAttempt(db: Db, a: AttemptLog): CompiledQuery {
  return db
    .insertInto('delivery_attempts')
    .values({
      notification_id: a.notificationId,
      channel_id: a.channel,
      attempt: a.attempt,
      at: a.at,
      status: a.status,
      latency_ms: Math.round(a.latencyMs),
      outcome: a.outcome,
      error: a.error,
    })
    .onConflict((oc) => oc.columns(['notification_id', 'attempt']).doNothing())
    .compile();
}

export function channelUpsert(
  db: Db,
  channel: string,
  values: {
    last_success_at?: number;
    last_failure_at?: number;
    last_error?: string | null;
    disabled_at?: number | null;
    disabled_reason?: string | null;
  },
): CompiledQuery {
  return db
    .insertInto('channel_state')
    .values({ channel_id: channel, ...values })
    .onConflict((oc) => oc.column('channel_id').doUpdateSet(values))
    .compile();
}
