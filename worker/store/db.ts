import { Kysely } from 'kysely';
import { D1Dialect } from 'kysely-d1';
import type { Database } from './schema.ts';

export type Db = Kysely<Database>;

export function createDb(d1: D1Database): Db {
  return new Kysely<Database>({ dialect: new D1Dialect({ database: d1 }) });
}

/**
 * Runs compiled queries as one D1 batch: all land or none do. kysely-d1 has no transactions,
 * so writes that must land together are compiled with Kysely and sent through D1's batch().
 */
/** Runs the queries as one D1 batch (all or nothing); returns the rows D1 says it wrote. */
export async function runBatch(d1: D1Database, queries: readonly { sql: string; parameters: readonly unknown[] }[]): Promise<number> {
  if (queries.length === 0) return 0;
  const results = await d1.batch(queries.map((q) => d1.prepare(q.sql).bind(...q.parameters)));
  return results.reduce((n, r) => n + (r.meta?.rows_written ?? 0), 0);
}
