// The replication queue of one Durable Object, in its own SQLite: one row per D1 batch to send, in
// order. A batch is stored in the same storage transaction as the decision that made it, so what an
// agent was told (202) is never lost; D1 gets it later if it must. Batches D1 refuses for good are
// set aside in `replication_dead`, never blocking what follows.

export const REPLICATION_DDL = `CREATE TABLE IF NOT EXISTS replication (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  statements TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  tries INTEGER NOT NULL DEFAULT 0,
  next_try_at INTEGER NOT NULL,
  last_error TEXT
);
CREATE TABLE IF NOT EXISTS replication_dead (
  seq INTEGER PRIMARY KEY,
  statements TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  set_aside_at INTEGER NOT NULL,
  tries INTEGER NOT NULL,
  last_error TEXT
);`;

export interface Statement {
  sql: string;
  parameters: readonly unknown[];
}

export interface QueuedBatch {
  seq: number;
  statements: Statement[];
  createdAt: number;
  tries: number;
}

export interface QueueStats {
  length: number;
  bytes: number;
  oldestAt: number | null;
  setAside: number;
  dropped: number;
}

/** Bigint parameters do not survive JSON; D1 takes numbers. */
const encode = (statements: readonly Statement[]) =>
  JSON.stringify(statements.map((s) => ({ sql: s.sql, parameters: s.parameters.map((p) => (typeof p === 'bigint' ? Number(p) : p)) })));

export function pushBatch(sql: SqlStorage, statements: readonly Statement[], now: number): void {
  if (statements.length === 0) return;
  const text = encode(statements);
  sql.exec('INSERT INTO replication (statements, bytes, created_at, next_try_at) VALUES (?, ?, ?, ?)', text, text.length, now, now);
}

export function headBatch(sql: SqlStorage): (QueuedBatch & { nextTryAt: number }) | null {
  const row = sql
    .exec<{ seq: number; statements: string; created_at: number; tries: number; next_try_at: number }>(
      'SELECT seq, statements, created_at, tries, next_try_at FROM replication ORDER BY seq LIMIT 1',
    )
    .toArray()[0];
  return row === undefined
    ? null
    : {
        seq: row.seq,
        statements: JSON.parse(row.statements) as Statement[],
        createdAt: row.created_at,
        tries: row.tries,
        nextTryAt: row.next_try_at,
      };
}

/** When the head batch may be tried next, without reading its statements (the alarm asks on every decision). */
export function headDueAt(sql: SqlStorage): number | null {
  return sql.exec<{ next_try_at: number }>('SELECT next_try_at FROM replication ORDER BY seq LIMIT 1').toArray()[0]?.next_try_at ?? null;
}

export function removeBatch(sql: SqlStorage, seq: number): void {
  sql.exec('DELETE FROM replication WHERE seq = ?', seq);
}

export function postponeBatch(sql: SqlStorage, seq: number, nextTryAt: number, error: string): void {
  sql.exec('UPDATE replication SET tries = tries + 1, next_try_at = ?, last_error = ? WHERE seq = ?', nextTryAt, error.slice(0, 500), seq);
}

export function setAsideBatch(sql: SqlStorage, seq: number, now: number, error: string): void {
  sql.exec(
    'INSERT OR REPLACE INTO replication_dead (seq, statements, created_at, set_aside_at, tries, last_error) SELECT seq, statements, created_at, ?, tries + 1, ? FROM replication WHERE seq = ?',
    now,
    error.slice(0, 500),
    seq,
  );
  removeBatch(sql, seq);
}

/** Drops the oldest set-aside batches until they fit both bounds; returns how many went. */
export function dropOldestSetAsideBeyond(sql: SqlStorage, maxBatches: number, maxBytes: number): number {
  let dropped = 0;
  for (;;) {
    const { n, bytes } = sql
      .exec<{ n: number; bytes: number | null }>('SELECT count(*) AS n, sum(length(statements)) AS bytes FROM replication_dead')
      .one();
    if (n <= maxBatches && (bytes ?? 0) <= maxBytes) return dropped;
    const excess = Math.max(1, n - maxBatches);
    dropped += sql.exec(
      'DELETE FROM replication_dead WHERE seq IN (SELECT seq FROM replication_dead ORDER BY seq LIMIT ?)',
      excess,
    ).rowsWritten;
  }
}

/**
 * Puts every set-aside batch back in the queue, in its old place (by seq, so before what was queued
 * after it), to be tried afresh at `now`: an operator fixed what D1 refused (a migration not applied).
 * Returns how many.
 */
export function requeueSetAside(sql: SqlStorage, now: number): number {
  const n = setAsideCount(sql);
  sql.exec(
    `INSERT OR IGNORE INTO replication (seq, statements, bytes, created_at, tries, next_try_at, last_error)
     SELECT seq, statements, length(statements), created_at, 0, ?, last_error FROM replication_dead`,
    now,
  );
  sql.exec('DELETE FROM replication_dead');
  return n;
}

/** Forgets every set-aside batch (an operator has seen what D1 lacks); returns how many. */
export function discardSetAside(sql: SqlStorage): number {
  const n = setAsideCount(sql);
  sql.exec('DELETE FROM replication_dead');
  return n;
}

// (Counted, not taken from rowsWritten: SQLite's count there includes the rows of the statement's own work.)
const setAsideCount = (sql: SqlStorage) => sql.exec<{ n: number }>('SELECT count(*) AS n FROM replication_dead').one().n;

/** Drops the oldest batches until the queue fits both bounds; returns how many went. */
export function dropOldestBeyond(sql: SqlStorage, maxBatches: number, maxBytes: number): number {
  let dropped = 0;
  for (;;) {
    const { n, bytes } = sql.exec<{ n: number; bytes: number | null }>('SELECT count(*) AS n, sum(bytes) AS bytes FROM replication').one();
    if (n <= maxBatches && (bytes ?? 0) <= maxBytes) return dropped;
    const excess = Math.max(1, n - maxBatches, Math.ceil(n / 10));
    dropped += sql.exec('DELETE FROM replication WHERE seq IN (SELECT seq FROM replication ORDER BY seq LIMIT ?)', excess).rowsWritten;
  }
}

export function queueStats(sql: SqlStorage, dropped: number): QueueStats {
  const q = sql
    .exec<{ n: number; bytes: number | null; oldest: number | null }>(
      'SELECT count(*) AS n, sum(bytes) AS bytes, min(created_at) AS oldest FROM replication',
    )
    .one();
  const dead = sql.exec<{ n: number }>('SELECT count(*) AS n FROM replication_dead').one();
  return { length: q.n, bytes: q.bytes ?? 0, oldestAt: q.oldest, setAside: dead.n, dropped };
}

export interface SetAsideBatch {
  seq: number;
  createdAt: number;
  setAsideAt: number;
  tries: number;
  lastError: string | null;
  statements: number;
}

export function listSetAside(sql: SqlStorage, limit: number): SetAsideBatch[] {
  return sql
    .exec<{ seq: number; statements: string; created_at: number; set_aside_at: number; tries: number; last_error: string | null }>(
      'SELECT * FROM replication_dead ORDER BY seq DESC LIMIT ?',
      limit,
    )
    .toArray()
    .map((r) => ({
      seq: r.seq,
      createdAt: r.created_at,
      setAsideAt: r.set_aside_at,
      tries: r.tries,
      lastError: r.last_error,
      statements: (JSON.parse(r.statements) as unknown[]).length,
    }));
}
