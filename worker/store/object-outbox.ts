// The outbox of one Durable Object, in its own SQLite: one row per notification per channel, in
// creation order (seq). Rows are claimed with a lease, delivered in order per window and channel (a
// resolve never overtakes its trigger), and every state a row reaches is mirrored to D1 through the
// replication queue. Paging reads and writes only this table and the channel.
import type { Delivery } from '../core/routing.ts';
import type { WindowEvent, WindowEventType } from '../core/window-event.ts';
import type { Selectable } from 'kysely';
import type { NotificationState, OutboxTable } from './schema.ts';

export const OUTBOX_DDL = `CREATE TABLE IF NOT EXISTS outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  event_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  channel_id TEXT NOT NULL,
  agent_id TEXT NOT NULL,
  window_id TEXT NOT NULL,
  payload TEXT NOT NULL,
  repeat_interval_s INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  claimed_until INTEGER,
  claim_token TEXT,
  delivered_at INTEGER,
  finished_at INTEGER,
  last_status INTEGER,
  last_error TEXT
);
CREATE INDEX IF NOT EXISTS outbox_lane ON outbox (window_id, channel_id, seq);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (state, next_attempt_at);
CREATE TABLE IF NOT EXISTS channels (
  channel_id TEXT PRIMARY KEY,
  disabled_at INTEGER,
  disabled_reason TEXT
);`;

/** One notification row, as stored here and mirrored to D1's outbox table (same columns: one type for both). */
export type OutboxRow = Omit<Selectable<OutboxTable>, 'event_type' | 'decided_at'> & { event_type: WindowEventType };

export const notificationId = (eventId: string, channel: string) => `${eventId}@${channel}`;

type Row = Record<string, SqlStorageValue>;
const rows = (cursor: SqlStorageCursor<Row>) => cursor.toArray() as unknown as OutboxRow[];

export function getRow(sql: SqlStorage, id: string): OutboxRow | null {
  return rows(sql.exec('SELECT * FROM outbox WHERE id = ?', id))[0] ?? null;
}

/** Queues an event for each delivery; a row already queued (same event and channel) is left as it is. Returns the new rows. */
export function enqueue(
  sql: SqlStorage,
  event: WindowEvent,
  deliveries: readonly Pick<Delivery, 'channel' | 'repeatIntervalS'>[],
  at: number,
): OutboxRow[] {
  const added: OutboxRow[] = [];
  for (const d of deliveries) {
    const id = notificationId(event.id, d.channel);
    const repeat = event.type === 'window.opened' || event.type === 'window.repeat' ? d.repeatIntervalS : 0;
    const cursor = sql.exec(
      `INSERT INTO outbox (id, event_id, event_type, channel_id, agent_id, window_id, payload, repeat_interval_s, created_at, next_attempt_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
      id,
      event.id,
      event.type,
      d.channel,
      event.agentId,
      event.windowId,
      event.payload,
      repeat,
      at,
      at,
    );
    if (cursor.rowsWritten > 0) added.push(getRow(sql, id) as OutboxRow);
  }
  return added;
}

/** The channels that were sent a window's trigger: its escalation and resolve go to each of them, even if routing changed since. */
export function triggeredChannels(sql: SqlStorage, windowId: string): { channel: string; repeatIntervalS: number }[] {
  return sql
    .exec<{ channel_id: string }>("SELECT DISTINCT channel_id FROM outbox WHERE window_id = ? AND event_type = 'window.opened'", windowId)
    .toArray()
    .map((r) => ({ channel: r.channel_id, repeatIntervalS: 0 }));
}

/** A window closed: reminders not yet sent are moot (one being sent right now finishes first). Returns them. */
export function cancelRepeats(sql: SqlStorage, windowId: string, now: number): OutboxRow[] {
  return rows(
    sql.exec(
      `UPDATE outbox SET state = 'cancelled', finished_at = ? WHERE window_id = ? AND event_type = 'window.repeat' AND state = 'pending'
       AND (claimed_until IS NULL OR claimed_until < ?) RETURNING *`,
      now,
      windowId,
      now,
    ),
  );
}

/**
 * The channel answered again: what waits for it in backoff (tried before, failed) is due now, so a
 * receiver back after an outage gets its backlog at once, not at each row's own backoff of up to an
 * hour. Reminders not yet tried keep their time.
 */
export function expediteChannel(sql: SqlStorage, channel: string, now: number): OutboxRow[] {
  return rows(
    sql.exec(
      `UPDATE outbox SET next_attempt_at = ? WHERE channel_id = ? AND state = 'pending' AND attempts > 0 AND next_attempt_at > ?
       AND (claimed_until IS NULL OR claimed_until < ?) RETURNING *`,
      now,
      channel,
      now,
      now,
    ),
  );
}

const HEAD_OF_LANE = `NOT EXISTS (SELECT 1 FROM outbox e WHERE e.state = 'pending' AND e.window_id = o.window_id AND e.channel_id = o.channel_id AND e.seq < o.seq)`;
const SENDABLE = `o.state = 'pending' AND NOT EXISTS (SELECT 1 FROM channels c WHERE c.channel_id = o.channel_id AND c.disabled_at IS NOT NULL)`;

/** Due rows whose lease is free, on enabled channels, each at the head of its window-and-channel lane. */
export function listDue(sql: SqlStorage, now: number, limit: number): OutboxRow[] {
  return rows(
    sql.exec(
      `SELECT * FROM outbox o WHERE ${SENDABLE} AND o.next_attempt_at <= ? AND (o.claimed_until IS NULL OR o.claimed_until < ?) AND ${HEAD_OF_LANE} ORDER BY o.seq LIMIT ?`,
      now,
      now,
      limit,
    ),
  );
}

/** When the outbox next needs the alarm: a retry, a reminder, or the end of a lease a crashed send left behind. */
export function nextDueAt(sql: SqlStorage, channels: readonly string[]): number | null {
  if (channels.length === 0) return null;
  const marks = channels.map(() => '?').join(', ');
  const row = sql
    .exec<{ due: number | null }>(
      `SELECT min(max(o.next_attempt_at, coalesce(o.claimed_until, 0))) AS due FROM outbox o WHERE ${SENDABLE} AND o.channel_id IN (${marks}) AND ${HEAD_OF_LANE}`,
      ...channels,
    )
    .one();
  return row.due;
}

/** Takes the lease: true for the one caller that got it. */
export function claim(sql: SqlStorage, id: string, token: string, now: number, leaseMs: number): boolean {
  const cursor = sql.exec(
    `UPDATE outbox SET claimed_until = ?, claim_token = ? WHERE id = ? AND state = 'pending' AND (claimed_until IS NULL OR claimed_until < ?)`,
    now + leaseMs,
    token,
    id,
    now,
  );
  return cursor.rowsWritten > 0;
}

export interface AttemptResult {
  state: NotificationState;
  nextAttemptAt: number;
  status: number | null;
  lastError: string | null;
  delivered: boolean;
}

/** Records one attempt's outcome on the row (only if the lease is still this sender's). Returns the row as it now is. */
export function finishAttempt(sql: SqlStorage, id: string, token: string, a: AttemptResult, now: number): OutboxRow | null {
  return (
    rows(
      sql.exec(
        `UPDATE outbox SET state = ?, attempts = attempts + 1, next_attempt_at = ?, claimed_until = NULL, claim_token = NULL,
         delivered_at = ?, finished_at = ?, last_status = ?, last_error = ? WHERE id = ? AND claim_token = ? RETURNING *`,
        a.state,
        a.nextAttemptAt,
        a.delivered ? now : null,
        a.state === 'pending' ? null : now,
        a.status,
        a.lastError,
        id,
        token,
      ),
    )[0] ?? null
  );
}

/** A dead-lettered row goes back in the queue with a fresh horizon; null when it is not dead. */
export function retryDead(sql: SqlStorage, id: string, now: number): OutboxRow | null {
  return (
    rows(
      sql.exec(
        `UPDATE outbox SET state = 'pending', next_attempt_at = ?, created_at = ?, finished_at = NULL, claimed_until = NULL, claim_token = NULL, last_error = NULL
         WHERE id = ? AND state = 'dead' RETURNING *`,
        now,
        now,
        id,
      ),
    )[0] ?? null
  );
}

/** Rows still pending past the horizon are dead-lettered, visibly. Returns them. */
export function expireOverdue(sql: SqlStorage, now: number, horizonMs: number): OutboxRow[] {
  return rows(
    sql.exec(
      `UPDATE outbox SET state = 'dead', finished_at = ?, last_error = 'dead-lettered: not delivered within the give-up horizon' || coalesce(' (last error: ' || last_error || ')', '')
       WHERE state = 'pending' AND created_at < ? AND (claimed_until IS NULL OR claimed_until < ?) RETURNING *`,
      now,
      now - horizonMs,
      now,
    ),
  );
}

/** Finished rows are history (D1 keeps it); a trigger is kept while its window may still escalate or close. */
export function pruneFinished(sql: SqlStorage, before: number): void {
  sql.exec(
    `DELETE FROM outbox WHERE state <> 'pending' AND finished_at < ?
     AND (event_type <> 'window.opened' OR EXISTS (SELECT 1 FROM outbox c WHERE c.window_id = outbox.window_id AND c.event_type = 'window.closed'))`,
    before,
  );
}

export function pendingCount(sql: SqlStorage): number {
  return sql.exec<{ n: number }>("SELECT count(*) AS n FROM outbox WHERE state = 'pending'").one().n;
}

export function disableChannel(sql: SqlStorage, channel: string, at: number, reason: string): void {
  sql.exec(
    'INSERT INTO channels (channel_id, disabled_at, disabled_reason) VALUES (?, ?, ?) ON CONFLICT (channel_id) DO UPDATE SET disabled_at = excluded.disabled_at, disabled_reason = excluded.disabled_reason',
    channel,
    at,
    reason,
  );
}

/** The channels D1 says are disabled (an operator enables them there); replaces what this object knew. */
export function replaceDisabledChannels(
  sql: SqlStorage,
  disabled: readonly { channel: string; at: number; reason: string | null }[],
): void {
  sql.exec('DELETE FROM channels');
  for (const d of disabled) disableChannel(sql, d.channel, d.at, d.reason ?? 'disabled');
}
