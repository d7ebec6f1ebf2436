// The windows the Watchdog object has already told in a summary, by id. Sweeps can run side by side
// (crons queued while the Worker stalled run at once; a slow sweep overlaps the next): each lists
// from D1 the late windows not yet marked there, so two can list the same window before either mark
// lands. The Watchdog tells each window once. Kept a day: a mark reaches D1 in seconds, and a window
// still unmarked after a longer D1 outage is told again rather than never. Bounded by that day: at
// most 500 windows a sweep (SUMMARY_LIMIT), in practice a handful. Store only.

export const SUMMARISED_WINDOWS_DDL = `CREATE TABLE IF NOT EXISTS summarised_windows (
  id TEXT PRIMARY KEY,
  at INTEGER NOT NULL
);`;

/** How long a told window is remembered. */
export const SUMMARISED_RETENTION_MS = 86_400_000;

/** Of `ids`, those not told yet; records them as told at `now` and forgets those told over a day ago. */
export function takeUntold(sql: SqlStorage, ids: readonly string[], now: number): Set<string> {
  sql.exec('DELETE FROM summarised_windows WHERE at < ?', now - SUMMARISED_RETENTION_MS);
  const untold = new Set<string>();
  for (const id of ids)
    if (sql.exec('INSERT INTO summarised_windows (id, at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING', id, now).rowsWritten > 0)
      untold.add(id);
  return untold;
}
