// Reading and steering the outbox for operators: the delivery log, channel state, retrying a
// dead-lettered notification, enabling a channel that answered 410.
import type { Db } from './db.ts';
import type { NotificationState } from './schema.ts';

export interface NotificationFilter {
  state?: NotificationState;
  channel?: string;
  agent?: string;
  limit: number;
  /** Rows with seq below this (for paging backwards). */
  before?: number;
}

const LIST_COLUMNS = [
  'seq',
  'id',
  'event_id',
  'event_type',
  'channel_id',
  'agent_id',
  'window_id',
  'state',
  'attempts',
  'created_at',
  'next_attempt_at',
  'delivered_at',
  'finished_at',
  'last_status',
  'last_error',
] as const;

export async function listNotifications(db: Db, f: NotificationFilter) {
  let q = db
    .selectFrom('outbox')
    .select([...LIST_COLUMNS])
    .orderBy('seq', 'desc')
    .limit(f.limit);
  if (f.state !== undefined) q = q.where('state', '=', f.state);
  if (f.channel !== undefined) q = q.where('channel_id', '=', f.channel);
  if (f.agent !== undefined) q = q.where('agent_id', '=', f.agent);
  if (f.before !== undefined) q = q.where('seq', '<', f.before);
  return q.execute();
}

export async function getNotification(db: Db, id: string) {
  const row = await db.selectFrom('outbox').selectAll().where('id', '=', id).executeTakeFirst();
  if (row === undefined) return null;
  const attempts = await db
    .selectFrom('delivery_attempts')
    .select(['attempt', 'at', 'status', 'latency_ms', 'outcome', 'error'])
    .where('notification_id', '=', id)
    .orderBy('attempt')
    .orderBy('id')
    .execute();
  return { ...row, claim_token: undefined, attempts_log: attempts };
}

export async function notificationCounts(db: Db) {
  return db
    .selectFrom('outbox')
    .select(['channel_id', 'state'])
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .groupBy(['channel_id', 'state'])
    .execute();
}

export async function channelStates(db: Db) {
  return db.selectFrom('channel_state').selectAll().execute();
}

export async function setChannelEnabled(db: Db, channel: string, now: number): Promise<void> {
  await db
    .insertInto('channel_state')
    .values({ channel_id: channel, disabled_at: null, disabled_reason: null, last_success_at: now })
    .onConflict((oc) => oc.column('channel_id').doUpdateSet({ disabled_at: null, disabled_reason: null, last_success_at: now }))
    .execute();
}

export async function logTestAttempt(
  db: Db,
  notificationId: string,
  channel: string,
  attempt: number,
  at: number,
  a: { status: number | null; latency_ms: number; outcome: string; error: string | null },
): Promise<void> {
  await db
    .insertInto('delivery_attempts')
    .values({
      notification_id: notificationId,
      channel_id: channel,
      attempt,
      at,
      status: a.status,
      latency_ms: a.latency_ms,
      outcome: a.outcome,
      error: a.error,
    })
    .execute();
}
