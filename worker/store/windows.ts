import { type CompiledQuery, sql } from 'kysely';
import type { BlindWindow } from '../core/blind-window.ts';
import type { Db } from './db.ts';

/**
 * The window as its object knows it at `decidedAt`: inserted, or brought up to date (level, peak,
 * suppression, end). Idempotent, so a batch sent twice is harmless; a batch replayed late (set aside,
 * then retried) changes nothing a newer decision already wrote. An open window first closes any
 * older open window of the same monitor that D1 still holds (a close D1 never got: if it comes later,
 * retried, its end replaces this one), so one lost batch cannot swallow every later window of that
 * monitor; a newer one is never closed by an older opening.
 */
export function upsertWindow(db: Db, w: BlindWindow, decidedAt: number): CompiledQuery[] {
  const queries: CompiledQuery[] = [];
  if (w.endedAt === null)
    queries.push(
      db
        .updateTable('windows')
        .set({ ended_at: sql<number>`max(started_at, ${w.startedAt})` })
        .where('agent_id', '=', w.agentId)
        .where('monitor', '=', w.monitor)
        .where('ended_at', 'is', null)
        .where('id', '<>', w.id)
        .where('started_at', '<=', w.startedAt)
        .compile(),
    );
  queries.push(
    db
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
        confirmed_at: Math.max(w.confirmedAt, w.startedAt),
        notified_at: null,
        ended_at: w.endedAt === null ? null : Math.max(w.endedAt, w.startedAt),
        peak_value: w.peakValue,
        suppressed_by: w.suppressedBy,
        anchors: w.anchors === undefined ? null : JSON.stringify(w.anchors),
        decided_at: decidedAt,
      })
      .onConflict((oc) =>
        oc
          .column('id')
          .doUpdateSet((eb) => ({
            level: eb.ref('excluded.level'),
            peak_value: eb.ref('excluded.peak_value'),
            suppressed_by: eb.ref('excluded.suppressed_by'),
            // The object's end is the truth: it replaces an end D1 inferred (the monitor's next window
            // opened while the close was set aside); a decision without one never reopens the window.
            ended_at: sql<number | null>`coalesce(excluded.ended_at, windows.ended_at)`,
            anchors: sql<string | null>`coalesce(excluded.anchors, windows.anchors)`,
            decided_at: eb.ref('excluded.decided_at'),
          }))
          .where(sql<boolean>`windows.decided_at IS NULL OR excluded.decided_at >= windows.decided_at`),
      )
      .compile(),
  );
  return queries;
}

/** The window's trigger reached a channel (the first time counts). */
export function windowNotified(db: Db, id: string, at: number): CompiledQuery {
  return db.updateTable('windows').set({ notified_at: at }).where('id', '=', id).where('notified_at', 'is', null).compile();
}

export async function markWindowNotified(db: Db, id: string, at: number): Promise<void> {
  await db.updateTable('windows').set({ notified_at: at }).where('id', '=', id).where('notified_at', 'is', null).execute();
}

/** The watchdog's own gap, recorded as a closed window of the pseudo-agent "*". */
export function insertGapWindow(db: Db, gap: { id: string; startedAt: number; endedAt: number }, now: number): CompiledQuery {
  return db
    .insertInto('windows')
    .values({
      id: gap.id,
      agent_id: '*',
      monitor: 'watchdog',
      component: 'monitoring',
      severity: 'critical',
      cause: 'watchdog_gap',
      level: 'unknown',
      signal: null,
      started_at: gap.startedAt,
      confirmed_at: now,
      notified_at: null,
      ended_at: gap.endedAt,
      peak_value: null,
      suppressed_by: null,
    })
    .onConflict((oc) => oc.doNothing())
    .compile();
}

/** Windows opened while the watchdog was late and not yet told in a summary. */
export async function listLateWindows(db: Db, limit: number): Promise<BlindWindow[]> {
  const rows = await db
    .selectFrom('windows')
    .selectAll()
    .where('suppressed_by', '=', 'watchdog_gap')
    .where('notified_at', 'is', null)
    .orderBy('started_at')
    .limit(limit)
    .execute();
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
  return db
    .updateTable('windows')
    .set({ notified_at: at })
    .where('id', 'in', ids.length > 0 ? [...ids] : [''])
    .where('notified_at', 'is', null)
    .compile();
}
