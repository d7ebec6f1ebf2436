// Objects deployed before their state became rows kept it as stored values ("live", "seen",
// "pending") and their notifications in D1's outbox. The first time such an object wakes, its state
// is moved into its tables, and the notifications D1 still holds pending for it into its outbox.
import { upgradeLive, type LiveState } from '../core/agent-state.ts';
import type { Db } from '../store/db.ts';
import { getMeta, markSeen, saveLive, setMeta, type Written } from '../store/object-live.ts';
import type { OutboxRow } from '../store/object-outbox.ts';
import { pushBatch, type Statement } from '../store/replication-queue.ts';
import { withinD1Wait } from './admin-pauses.ts';

const LEGACY_KEYS = ['live', 'seen', 'pending', 'stats', 'outboxDueAt'];
const IMPORT_KEY = 'legacy_outbox';

/** Moves stored values into rows; returns the live state found, or null when there was none. */
export async function upgradeStoredValues(storage: DurableObjectStorage, written: Written, now: number): Promise<LiveState | null> {
  const stored = await storage.get<Parameters<typeof upgradeLive>[0]>('live');
  if (stored === undefined) return null;
  const live = upgradeLive(stored);
  const seen = (await storage.get<Record<string, number>>('seen')) ?? {};
  const pending = (await storage.get<Statement[][]>('pending')) ?? [];
  storage.transactionSync(() => {
    saveLive(storage.sql, live, written);
    for (const [id, at] of Object.entries(seen)) markSeen(storage.sql, id, at, 0);
    for (const batch of pending) pushBatch(storage.sql, batch, now);
    setMeta(storage.sql, IMPORT_KEY, live.agentId);
  });
  await storage.delete(LEGACY_KEYS);
  return live;
}

/** Copies D1's pending notifications of this agent into the object's outbox, once; false while D1 cannot be read. */
export async function importLegacyOutbox(storage: DurableObjectStorage, db: Db): Promise<boolean> {
  const agentId = getMeta(storage.sql, IMPORT_KEY);
  if (agentId === null || agentId === '') return true;
  let rows: Omit<OutboxRow, 'event_type' | 'state'>[];
  try {
    rows = await withinD1Wait(
      db.selectFrom('outbox').selectAll().where('agent_id', '=', agentId).where('state', '=', 'pending').orderBy('seq').execute(),
    );
  } catch (e: unknown) {
    console.error(`agent ${agentId}: the notifications D1 holds for it could not be read yet; trying again later:`, e);
    return false;
  }
  storage.transactionSync(() => {
    for (const r of rows)
      storage.sql.exec(
        `INSERT INTO outbox (id, event_id, event_type, channel_id, agent_id, window_id, payload, repeat_interval_s, created_at, state, attempts, next_attempt_at, last_status, last_error)
         SELECT ?, ?, event_type, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ? FROM (SELECT ? AS event_type) WHERE true ON CONFLICT (id) DO NOTHING`,
        r.id,
        r.event_id,
        r.channel_id,
        r.agent_id,
        r.window_id,
        r.payload,
        r.repeat_interval_s,
        r.created_at,
        r.attempts,
        r.next_attempt_at,
        r.last_status,
        r.last_error,
        (r as OutboxRow).event_type,
      );
    setMeta(storage.sql, IMPORT_KEY, '');
  });
  if (rows.length > 0)
    console.log(`agent ${agentId}: ${rows.length} pending notification(s) carried over from D1 into the object's outbox`);
  return true;
}
