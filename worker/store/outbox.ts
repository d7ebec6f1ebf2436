// The outbox: one row per notification per channel, written in the same D1 batch as the window change
// that caused it. Rows are delivered in creation order per window and channel (a resolve never
// overtakes its trigger), claimed by compare-and-set with a lease, and every attempt is logged.
import { type CompiledQuery, sql } from 'kysely';
import type { WindowEvent, WindowEventType } from '../core/window-event.ts';
import type { Delivery } from '../core/routing.ts';
import type { Outcome } from '../core/retry-schedule.ts';
import type { Db } from './db.ts';
import type { NotificationState } from './schema.ts';

export const notificationId = (eventId: string, channel: string) => `${eventId}@${channel}`;

export function enqueueEvent(db: Db, event: WindowEvent, deliveries: readonly Delivery[], now: number): CompiledQuery[] {
  return deliveries.map((d) =>
    db
      .insertInto('outbox')
      .values({
        id: notificationId(event.id, d.channel),
        event_id: event.id,
        event_type: event.type,
        channel_id: d.channel,
        agent_id: event.agentId,
        window_id: event.windowId,
        payload: event.payload,
        repeat_interval_s: event.type === 'window.opened' ? d.repeatIntervalS : 0,
        created_at: now,
        next_attempt_at: now,
      })
      .onConflict((oc) => oc.doNothing())
      .compile(),
  );
}

/** An escalation or resolve also goes to every channel that got the window's trigger, even if routing changed since. */
export function enqueueFollowUp(db: Db, event: WindowEvent, now: number): CompiledQuery {
  return sql`INSERT INTO outbox (id, event_id, event_type, channel_id, agent_id, window_id, payload, created_at, next_attempt_at)
    SELECT ${event.id} || '@' || channel_id, ${event.id}, ${event.type}, channel_id, ${event.agentId}, ${event.windowId}, ${event.payload}, ${now}, ${now}
    FROM (SELECT DISTINCT channel_id FROM outbox WHERE window_id = ${event.windowId} AND event_type = 'window.opened')
    WHERE true ON CONFLICT DO NOTHING`.compile(db);
}

/** A window closed: reminders not yet sent are moot. One being sent right now finishes first (ordering keeps it before the resolve). */
export function cancelRepeats(db: Db, windowId: string, now: number): CompiledQuery {
  return db
    .updateTable('outbox')
    .set({ state: 'cancelled', finished_at: now })
    .where('window_id', '=', windowId)
    .where('event_type', '=', 'window.repeat')
    .where('state', '=', 'pending')
    .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', now)]))
    .compile();
}

export interface PendingNotification {
  id: string;
  eventId: string;
  type: WindowEventType;
  channel: string;
  agentId: string;
  windowId: string;
  payload: string;
  repeatIntervalS: number;
  attempts: number;
  createdAt: number;
}

/** Due rows whose lease is free, whose channel is enabled, and with nothing older pending for the same window and channel. */
export async function listDue(db: Db, now: number, limit: number, agentId?: string): Promise<PendingNotification[]> {
  let query = db
    .selectFrom('outbox as o')
    .leftJoin('channel_state as c', 'c.channel_id', 'o.channel_id')
    .select(['o.id', 'o.event_id', 'o.event_type', 'o.channel_id', 'o.agent_id', 'o.window_id', 'o.payload', 'o.repeat_interval_s', 'o.attempts', 'o.created_at'])
    .where('o.state', '=', 'pending')
    .where('o.next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('o.claimed_until', 'is', null), eb('o.claimed_until', '<', now)]))
    .where('c.disabled_at', 'is', null)
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('outbox as e').select('e.seq').where('e.state', '=', 'pending').whereRef('e.window_id', '=', 'o.window_id').whereRef('e.channel_id', '=', 'o.channel_id').whereRef('e.seq', '<', 'o.seq'))),
    )
    .orderBy('o.seq')
    .limit(limit);
  if (agentId !== undefined) query = query.where('o.agent_id', '=', agentId);
  const rows = await query.execute();
  return rows.map((r) => ({
    id: r.id,
    eventId: r.event_id,
    type: r.event_type as WindowEventType,
    channel: r.channel_id,
    agentId: r.agent_id,
    windowId: r.window_id,
    payload: r.payload,
    repeatIntervalS: r.repeat_interval_s,
    attempts: r.attempts,
    createdAt: r.created_at,
  }));
}

/** Compare-and-set: true only for the one caller that took the lease. */
export async function claim(db: Db, id: string, token: string, now: number, leaseMs: number): Promise<boolean> {
  const result = await db
    .updateTable('outbox')
    .set({ claimed_until: now + leaseMs, claim_token: token })
    .where('id', '=', id)
    .where('state', '=', 'pending')
    .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', now)]))
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

export interface AttemptRecord {
  row: PendingNotification;
  token: string;
  outcome: Outcome;
  status: number | null;
  latencyMs: number;
  error: string | null;
  /** For outcome 'retry': when to try again; past the horizon the row is dead-lettered instead. */
  nextAttemptAt: number;
  horizonAt: number;
  now: number;
}

/** What one attempt writes, as one batch: the row's new state, the attempt log, the channel's state, the next reminder. */
export function attemptWrites(db: Db, a: AttemptRecord): CompiledQuery[] {
  const { row, now } = a;
  const attempt = row.attempts + 1;
  const error = a.error === null ? null : a.error.slice(0, 500);
  const giveUp = a.outcome === 'retry' && a.nextAttemptAt > a.horizonAt;
  const state: NotificationState = a.outcome === 'delivered' ? 'delivered' : a.outcome === 'rejected' || giveUp ? 'dead' : 'pending';
  const lastError =
    a.outcome === 'rejected' ? `dead-lettered: the receiver rejected it (${error})` : giveUp ? `dead-lettered: gave up after ${attempt} attempt(s) (${error})` : error;
  const queries: CompiledQuery[] = [
    db
      .updateTable('outbox')
      .set({
        state,
        attempts: sql`attempts + 1`,
        next_attempt_at: state === 'pending' && a.outcome === 'retry' ? a.nextAttemptAt : sql`next_attempt_at`,
        claimed_until: null,
        claim_token: null,
        delivered_at: a.outcome === 'delivered' ? now : null,
        finished_at: state === 'pending' ? null : now,
        last_status: a.status,
        last_error: lastError,
      })
      .where('id', '=', row.id)
      .where('claim_token', '=', a.token)
      .compile(),
    db
      .insertInto('delivery_attempts')
      .values({ notification_id: row.id, channel_id: row.channel, attempt, at: now, status: a.status, latency_ms: Math.round(a.latencyMs), outcome: giveUp ? 'dead' : a.outcome, error })
      .compile(),
  ];
  if (a.outcome === 'delivered') {
    queries.push(channelUpsert(db, row.channel, { last_success_at: now }));
    if ((row.type === 'window.opened' || row.type === 'window.repeat') && row.repeatIntervalS > 0) queries.push(nextRepeat(db, row, now));
  } else if (a.outcome === 'gone') {
    queries.push(channelUpsert(db, row.channel, { last_failure_at: now, last_error: error, disabled_at: now, disabled_reason: `the receiver answered 410 Gone at ${new Date(now).toISOString()}: the endpoint no longer exists; fix the channel's secret, then test it (POST /v1/admin/channels/${row.channel}/test) to enable it again` }));
  } else {
    queries.push(channelUpsert(db, row.channel, { last_failure_at: now, last_error: lastError }));
  }
  return queries;
}

function channelUpsert(db: Db, channel: string, values: { last_success_at?: number; last_failure_at?: number; last_error?: string | null; disabled_at?: number | null; disabled_reason?: string | null }): CompiledQuery {
  return db
    .insertInto('channel_state')
    .values({ channel_id: channel, ...values })
    .onConflict((oc) => oc.column('channel_id').doUpdateSet(values))
    .compile();
}

/** The reminder after this one, queued only while the window is open and no resolve is queued for this channel. */
function nextRepeat(db: Db, row: PendingNotification, now: number): CompiledQuery {
  const body = JSON.parse(row.payload) as { type: string; timestamp: string; data: Record<string, unknown> };
  const n = row.type === 'window.repeat' ? Number(body.data['repeat'] ?? 0) + 1 : 1;
  const due = now + row.repeatIntervalS * 1000;
  const eventId = `${row.windowId}:repeat:${n}`;
  const payload = JSON.stringify({ ...body, type: 'window.repeat', timestamp: new Date(due).toISOString(), data: { ...body.data, repeat: n } });
  // created_at is the due time: the give-up horizon counts from when a reminder is due, not from when it was planned.
  return sql`INSERT INTO outbox (id, event_id, event_type, channel_id, agent_id, window_id, payload, repeat_interval_s, created_at, next_attempt_at)
    SELECT ${notificationId(eventId, row.channel)}, ${eventId}, 'window.repeat', ${row.channel}, ${row.agentId}, ${row.windowId}, ${payload}, ${row.repeatIntervalS}, ${due}, ${due}
    WHERE EXISTS (SELECT 1 FROM windows WHERE id = ${row.windowId} AND ended_at IS NULL)
      AND NOT EXISTS (SELECT 1 FROM outbox WHERE window_id = ${row.windowId} AND channel_id = ${row.channel} AND event_type = 'window.closed')
    ON CONFLICT DO NOTHING`.compile(db);
}

/**
 * When this agent's outbox next needs the alarm: a retry, a reminder, or a lease that may have been
 * abandoned. Only rows at the head of their window's lane, on channels that can send, count: a row
 * waiting behind another is due when that one is.
 */
export async function nextOutboxDueAt(db: Db, agentId: string, channels: readonly string[]): Promise<number | null> {
  if (channels.length === 0) return null;
  const row = await db
    .selectFrom('outbox as o')
    .leftJoin('channel_state as c', 'c.channel_id', 'o.channel_id')
    .select(sql<number | null>`min(max(o.next_attempt_at, coalesce(o.claimed_until, 0)))`.as('due'))
    .where('o.agent_id', '=', agentId)
    .where('o.state', '=', 'pending')
    .where('o.channel_id', 'in', [...channels])
    .where('c.disabled_at', 'is', null)
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('outbox as e').select('e.seq').where('e.state', '=', 'pending').whereRef('e.window_id', '=', 'o.window_id').whereRef('e.channel_id', '=', 'o.channel_id').whereRef('e.seq', '<', 'o.seq'))),
    )
    .executeTakeFirst();
  return row?.due ?? null;
}

/** Rows still pending past the horizon are dead-lettered: visibly, never silently dropped. */
export function expireOverdue(db: Db, now: number, horizonMs: number): CompiledQuery {
  return db
    .updateTable('outbox')
    .set({ state: 'dead', finished_at: now, last_error: sql`'dead-lettered: not delivered within the give-up horizon' || coalesce(' (last error: ' || last_error || ')', '')` })
    .where('state', '=', 'pending')
    .where('created_at', '<', now - horizonMs)
    .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', now)]))
    .compile();
}
