// Reads (and, for a test's setup or fault, writes) the local D1 of a `wrangler dev --persist-to` run,
// straight from its SQLite file, as `wrangler d1 execute --local` does from a process of its own.
//
// Not through `wrangler d1 execute`: that is a whole wrangler started per query, a second of CPU, and
// spawned synchronously it stopped this process's event loop for that second. The tests that poll D1
// share their process with the receivers, scrape targets and pagers they serve; under load those went
// unanswered for seconds at a time, and Alertmanager and Prometheus rightly reported the failures.
// SQLite's own locking lets another process read and write the file the Worker has open (it is in
// WAL mode); each call opens, runs and closes in a millisecond or so.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

/** Where miniflare keeps a D1 database under --persist-to (one SQLite file per database, named by its hash). */
const D1_DIR = ['v3', 'd1', 'miniflare-D1DatabaseObject'];

/** The SQLite file of the local D1 under `persistTo`: a fault may lock it, as another writer would. */
export function d1File(persistTo: string): string {
  const dir = join(persistTo, ...D1_DIR);
  const files = readdirSync(dir).filter((f) => f.endsWith('.sqlite') && f !== 'metadata.sqlite');
  if (files.length !== 1) throw new Error(`expected one D1 database in ${dir}, found ${files.length}: ${files.join(', ')}`);
  return join(dir, files[0] as string);
}

/**
 * Runs `sql` on the local D1 and returns the rows of its (first) statement. Several statements
 * separated by `;` run one after the other and return no rows.
 */
export function d1Query<T>(persistTo: string, sql: string): T[] {
  const db = new DatabaseSync(d1File(persistTo));
  try {
    db.exec('PRAGMA busy_timeout = 10000');
    if (/;\s*\S/.test(sql)) {
      db.exec(sql);
      return [];
    }
    return db
      .prepare(sql)
      .all()
      .map((row) => ({ ...row }) as T);
  } finally {
    db.close();
  }
}
