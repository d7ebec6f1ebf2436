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
      component: w.component,
      severity: w.severity,
      cause: w.cause,
      level: w.level,
      signal: w.signal,
      started_at: w.startedAt,
      confirmed_at: w.confirmedAt,
      notified_at: null,
      ended_at: w.endedAt,
      peak_value: w.peakValue,
      suppressed_by: w.suppressedBy,
    })
    .onConflict((oc) => oc.doNothing())
    .compile();
}

/** Closes an open window, with the final peak and level it reached. */
export function closeWindow(db: Db, w: BlindWindow, endedAt: number): CompiledQuery {
  return db
    .updateTable('windows')
    .set({ ended_at: endedAt, peak_value: w.peakValue, level: w.level })
    .where('id', '=', w.id)
    .where('ended_at', 'is', null)
    .compile();
}

/** A window got worse (degraded → blind) or began to page after its suppression ended. */
export function updateWindow(db: Db, w: BlindWindow): CompiledQuery {
  return db.updateTable('windows').set({ level: w.level, peak_value: w.peakValue, suppressed_by: w.suppressedBy }).where('id', '=', w.id).compile();
}

export async function markWindowNotified(db: Db, id: string, at: number): Promise<void> {
  await db.updateTable('windows').set({ notified_at: at }).where('id', '=', id).where('notified_at', 'is', null).execute();
}

/** The watchdog's own gap, recorded as a closed window of the pseudo-agent "*". */
export function insertGapWindow(db: Db, gap: { id: string; startedAt: number; endedAt: number }, now: number): CompiledQuery {
  return db
    .insertInto('windows')
    .values({ id: gap.id, agent_id: '*', monitor: 'watchdog', component: 'monitoring', severity: 'critical', cause: 'watchdog_gap', level: 'unknown', signal: null, started_at: gap.startedAt, confirmed_at: now, notified_at: null, ended_at: gap.endedAt, peak_value: null, suppressed_by: null })
    .onConflict((oc) => oc.doNothing())
    .compile();
}

/** Windows opened while the watchdog was late and not yet told in a summary. */
export async function listLateWindows(db: Db, limit: number): Promise<BlindWindow[]> {
  const rows = await db.selectFrom('windows').selectAll().where('suppressed_by', '=', 'watchdog_gap').where('notified_at', 'is', null).orderBy('started_at').limit(limit).execute();
  return rows.map((r) => ({
    id: r.id,
    agentId: r.agent_id,
    monitor: r.monitor,
    component: r.component,
    severity: r.severity as BlindWindow['severity'],
    cause: r.cause as BlindWindow['cause'],
    level: r.level as BlindWindow['level'],
    signal: r.signal,
    startedAt: r.started_at,
    confirmedAt: r.confirmed_at,
    endedAt: r.ended_at,
    peakValue: r.peak_value,
    suppressedBy: r.suppressed_by,
    paged: false,
  }));
}

export function markSummarised(db: Db, ids: readonly string[], at: number): CompiledQuery {
  return db.updateTable('windows').set({ notified_at: at }).where('id', 'in', ids.length > 0 ? [...ids] : ['']).where('notified_at', 'is', null).compile();
}
