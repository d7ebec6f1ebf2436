import type { CompiledQuery } from 'kysely';
import type { BlindWindow } from '../core/blind-window.ts';
import type { Db } from './db.ts';

export function insertWindow(db: Db, w: BlindWindow): CompiledQuery {
  return db
    .insertInto('windows')
    .values({
      id: w.id,
      agent_id: w.agentId,
      monitor: w.monitor,
      cause: w.cause,
      started_at: w.startedAt,
      confirmed_at: w.confirmedAt,
      notified_at: null,
      ended_at: w.endedAt,
      peak_value: null,
    })
    .onConflict((oc) => oc.doNothing())
    .compile();
}

export function closeWindow(db: Db, id: string, endedAt: number): CompiledQuery {
  return db.updateTable('windows').set({ ended_at: endedAt }).where('id', '=', id).where('ended_at', 'is', null).compile();
}

export async function markWindowNotified(db: Db, id: string, at: number): Promise<void> {
  await db.updateTable('windows').set({ notified_at: at }).where('id', '=', id).where('notified_at', 'is', null).execute();
}
