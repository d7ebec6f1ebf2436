// The public copy of every subject's live state (agents and Alertmanager sources), kept in the
// Watchdog object: the status page, the v2 API, feeds and badges read all of them in one call
// instead of asking every agent's object. Each agent's object writes its own entry after each
// decision; a copy older than one already kept never replaces it. Store only: no decisions here.
import type { LiveState } from '../core/agent-state.ts';

export const PUBLIC_COPIES_DDL = `CREATE TABLE IF NOT EXISTS public_copies (
  id TEXT PRIMARY KEY,
  live TEXT NOT NULL,
  at INTEGER NOT NULL
);`;

export function putCopy(sql: SqlStorage, id: string, live: LiveState, at: number): void {
  sql.exec(
    `INSERT INTO public_copies (id, live, at) VALUES (?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET live = excluded.live, at = excluded.at WHERE excluded.at >= public_copies.at`,
    id,
    JSON.stringify(live),
    at,
  );
}

export function listCopies(sql: SqlStorage): { id: string; live: LiveState; at: number }[] {
  return sql
    .exec<{ id: string; live: string; at: number }>('SELECT id, live, at FROM public_copies ORDER BY id')
    .toArray()
    .map((r) => ({ id: r.id, live: JSON.parse(r.live) as LiveState, at: r.at }));
}

/** Copies nobody has written for `olderThan` ms: subjects long gone (an agent removed, a source renamed). */
export function pruneCopies(sql: SqlStorage, before: number): number {
  return sql.exec('DELETE FROM public_copies WHERE at < ?', before).rowsWritten;
}
