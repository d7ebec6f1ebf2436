// The gaps in the watchdog's own ticks that no summary has taken yet. A sweep's tick finds a gap and
// its summary tells it a few calls later; were that hand-over to fail (the Watchdog object reset by a
// deploy between the two calls), the gap would be told nowhere and missing from D1's history. Kept
// here until a summary takes it, each next sweep's tick hands it out again. Bounded: a gap is taken
// within a sweep or two; past MAX_PENDING the oldest are dropped, and said. Store only.

export const PENDING_GAPS_DDL = `CREATE TABLE IF NOT EXISTS pending_gaps (
  id TEXT PRIMARY KEY,
  started_at INTEGER NOT NULL,
  ended_at INTEGER NOT NULL
);`;

const MAX_PENDING = 100;

export interface PendingGap {
  id: string;
  startedAt: number;
  endedAt: number;
}

export function addPendingGap(sql: SqlStorage, gap: PendingGap): void {
  sql.exec(
    'INSERT INTO pending_gaps (id, started_at, ended_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING',
    gap.id,
    gap.startedAt,
    gap.endedAt,
  );
  const dropped = sql.exec(
    'DELETE FROM pending_gaps WHERE id NOT IN (SELECT id FROM pending_gaps ORDER BY started_at DESC LIMIT ?)',
    MAX_PENDING,
  ).rowsWritten;
  if (dropped > 0) console.error(`watchdog: ${dropped} gap(s) in its ticks dropped untold: more than ${MAX_PENDING} waited for a summary`);
}

/** The oldest gap no summary has taken, or null. */
export function oldestPendingGap(sql: SqlStorage): PendingGap | null {
  const row = sql
    .exec<{ id: string; started_at: number; ended_at: number }>(
      'SELECT id, started_at, ended_at FROM pending_gaps ORDER BY started_at LIMIT 1',
    )
    .toArray()[0];
  return row === undefined ? null : { id: row.id, startedAt: row.started_at, endedAt: row.ended_at };
}

export function takePendingGap(sql: SqlStorage, id: string): void {
  sql.exec('DELETE FROM pending_gaps WHERE id = ?', id);
}
