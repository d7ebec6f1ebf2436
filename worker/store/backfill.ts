import type { CompiledQuery } from 'kysely';
import type { Heartbeat } from '../../protocol/heartbeat.ts';
import type { Db } from './db.ts';

/** One insert per heartbeat, all in one batch: the whole batch lands or none of it. Re-sent rows are ignored. */
export function backfillWrites(db: Db, agentId: string, heartbeats: readonly Heartbeat[], now: number): CompiledQuery[] {
  return heartbeats.map((hb) =>
    db
      .insertInto('backfilled_heartbeats')
      .values({
        agent_id: agentId,
        boot: hb.boot,
        seq: hb.seq,
        sent_at: Date.parse(hb.sent_at),
        received_at: now,
        interval_s: hb.interval_s,
        signals: JSON.stringify(hb.signals),
      })
      .onConflict((oc) => oc.doNothing())
      .compile(),
  );
}
