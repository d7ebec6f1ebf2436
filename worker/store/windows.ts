import type { CompiledQuery } from 'kysely';
import type { BlindWindow, WindowCause } from '../core/blind-window.ts';
import type { Db } from './db.ts';
import type { WindowsTable } from './schema.ts';

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

export interface StoredWindow extends BlindWindow {
  notifiedAt: number | null;
}

function toWindow(row: WindowsTable): StoredWindow {
  return {
    id: row.id,
    agentId: row.agent_id,
    monitor: row.monitor,
    cause: row.cause as WindowCause,
    startedAt: row.started_at,
    confirmedAt: row.confirmed_at,
    notifiedAt: row.notified_at,
    endedAt: row.ended_at,
  };
}

export async function listWindows(db: Db, agentId: string): Promise<StoredWindow[]> {
  const rows = await db.selectFrom('windows').selectAll().where('agent_id', '=', agentId).orderBy('started_at').execute();
  return rows.map(toWindow);
}
