// The only description of D1's tables the code relies on; keep it in step with worker/migrations.
import type { Generated } from 'kysely';

export interface AgentsTable {
  id: string;
  state: 'up' | 'blind';
  state_since: number;
  boot: string;
  interval_s: number;
  grace_s: number;
  first_seen_at: number;
  last_heartbeat_at: number;
  deadline_at: number;
  updated_at: number;
}

export interface WindowsTable {
  id: string;
  agent_id: string;
  monitor: string;
  cause: string;
  started_at: number;
  confirmed_at: number;
  notified_at: number | null;
  ended_at: number | null;
  peak_value: number | null;
}

export interface OutboxTable {
  id: string;
  event_type: string;
  agent_id: string;
  window_id: string;
  payload: string;
  created_at: number;
  attempts: Generated<number>;
  next_attempt_at: number;
  claimed_until: number | null;
  delivered_at: number | null;
  last_status: number | null;
  last_error: string | null;
}

export interface Database {
  agents: AgentsTable;
  windows: WindowsTable;
  outbox: OutboxTable;
}
