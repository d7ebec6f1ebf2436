import { type CompiledQuery, sql } from 'kysely';
import type { WindowEvent, WindowEventType } from '../core/window-event.ts';
import type { Db } from './db.ts';

export function enqueueEvent(db: Db, event: WindowEvent, now: number): CompiledQuery {
  return db
    .insertInto('outbox')
    .values({
      id: event.id,
      event_type: event.type,
      agent_id: event.agentId,
      window_id: event.windowId,
      payload: event.payload,
      created_at: now,
      next_attempt_at: now,
      claimed_until: null,
      delivered_at: null,
      last_status: null,
      last_error: null,
    })
    .onConflict((oc) => oc.doNothing())
    .compile();
}

export interface PendingEvent extends WindowEvent {
  attempts: number;
}

export async function listDueEvents(db: Db, now: number, limit: number, agentId?: string): Promise<PendingEvent[]> {
  let query = db
    .selectFrom('outbox')
    .select(['id', 'event_type', 'agent_id', 'window_id', 'payload', 'attempts'])
    .where('delivered_at', 'is', null)
    .where('next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', now)]))
    .orderBy('next_attempt_at')
    .limit(limit);
  if (agentId !== undefined) query = query.where('agent_id', '=', agentId);
  const rows = await query.execute();
  return rows.map((r) => ({
    id: r.id,
    type: r.event_type as WindowEventType,
    agentId: r.agent_id,
    windowId: r.window_id,
    payload: r.payload,
    attempts: r.attempts,
  }));
}

/** Compare-and-set: true only for the one caller that took the lease. */
export async function claimEvent(db: Db, id: string, now: number, leaseMs: number): Promise<boolean> {
  const result = await db
    .updateTable('outbox')
    .set({ claimed_until: now + leaseMs })
    .where('id', '=', id)
    .where('delivered_at', 'is', null)
    .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', now)]))
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

export async function recordDelivered(db: Db, id: string, now: number, status: number): Promise<void> {
  await db
    .updateTable('outbox')
    .set({ delivered_at: now, attempts: sql`attempts + 1`, last_status: status, last_error: null, claimed_until: null })
    .where('id', '=', id)
    .execute();
}

export async function recordFailed(db: Db, id: string, nextAttemptAt: number, status: number | null, error: string): Promise<void> {
  await db
    .updateTable('outbox')
    .set({ attempts: sql`attempts + 1`, next_attempt_at: nextAttemptAt, last_status: status, last_error: error.slice(0, 500), claimed_until: null })
    .where('id', '=', id)
    .execute();
}
