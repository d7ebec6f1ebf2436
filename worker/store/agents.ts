import { type CompiledQuery, sql } from 'kysely';
import type { LiveState } from '../core/agent-state.ts';
import type { Db } from './db.ts';

export function upsertAgent(db: Db, live: LiveState, now: number): CompiledQuery {
  const row = {
    id: live.agentId,
    kind: live.kind,
    state: live.state,
    state_since: live.stateSince,
    boot: live.boot,
    interval_s: live.intervalS,
    grace_s: live.graceS,
    first_seen_at: live.firstSeenAt,
    last_heartbeat_at: live.lastHeartbeatAt,
    deadline_at: live.deadlineAt,
    updated_at: now,
  };
  const { id: _id, first_seen_at: _first, ...update } = row;
  // A batch replayed late (set aside, then retried) never overwrites the row a newer decision wrote.
  return db
    .insertInto('agents')
    .values(row)
    .onConflict((oc) => oc.column('id').doUpdateSet(update).where(sql<boolean>`excluded.updated_at >= agents.updated_at`))
    .compile();
}

export interface AgentSummary {
  id: string;
  state: 'up' | 'blind' | 'stopped';
  deadlineAt: number;
}

export async function listAgents(db: Db): Promise<AgentSummary[]> {
  const rows = await db.selectFrom('agents').select(['id', 'state', 'deadline_at']).orderBy('id').execute();
  return rows.map((r) => ({ id: r.id, state: r.state, deadlineAt: r.deadline_at }));
}

/** When D1's first agent was first heard, or null while it lists none. */
export async function firstHeardAt(db: Db): Promise<number | null> {
  const row = await db
    .selectFrom('agents')
    .select((eb) => eb.fn.min<number | null>('first_seen_at').as('first'))
    .executeTakeFirst();
  return row?.first ?? null;
}

export function insertAgentEvent(
  db: Db,
  agentId: string,
  at: number,
  type: 'first_seen' | 'restarted' | 'stopping',
  detail: string | null,
): CompiledQuery {
  return db
    .insertInto('agent_events')
    .values({ agent_id: agentId, at, type, detail })
    .onConflict((oc) => oc.doNothing())
    .compile();
}
