// The only description of D1's tables the code relies on; keep it in step with worker/migrations.
import type { Generated } from 'kysely';
import type { MaintenanceRow } from '../core/notices.ts';

export interface AgentsTable {
  id: string;
  kind: Generated<'agent' | 'alert_source'>;
  state: 'up' | 'blind' | 'stopped';
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
  component: Generated<string>;
  severity: Generated<string>;
  level: Generated<string>;
  signal: string | null;
  suppressed_by: string | null;
  /** JSON SeqAnchors, silence windows only. */
  anchors: string | null;
  /** When the object decided what the row says: a batch replayed late never overwrites a newer decision. */
  decided_at: number | null;
}

export type NotificationState = 'pending' | 'delivered' | 'dead' | 'cancelled';

export interface OutboxTable {
  seq: Generated<number>;
  id: string;
  event_id: string;
  event_type: string;
  channel_id: string;
  agent_id: string;
  window_id: string;
  payload: string;
  repeat_interval_s: Generated<number>;
  created_at: number;
  state: Generated<NotificationState>;
  attempts: Generated<number>;
  next_attempt_at: number;
  claimed_until: number | null;
  claim_token: string | null;
  delivered_at: number | null;
  finished_at: number | null;
  last_status: number | null;
  last_error: string | null;
  /** D1 only: when the object decided what the row says (a batch replayed late never overwrites a newer decision). */
  decided_at: number | null;
}

export interface DeliveryAttemptsTable {
  id: Generated<number>;
  notification_id: string;
  channel_id: string;
  attempt: number;
  at: number;
  status: number | null;
  latency_ms: number;
  outcome: string;
  error: string | null;
}

export interface ChannelStateTable {
  channel_id: string;
  disabled_at: number | null;
  disabled_reason: string | null;
  last_success_at: number | null;
  last_failure_at: number | null;
  last_error: string | null;
}

/**
 * One row per agent and UTC day. `monitors`: JSON object, monitor → [good, degraded, blind, unknown,
 * paused] seconds. `signals`: JSON object, signal key → [name, last, min, max, samples, unknown].
 */
export interface AgentDaysTable {
  agent_id: string;
  day: number;
  monitors: string;
  signals: string;
  /** The newest flush added to the row (RollupFlush.takenAt); 0 for rows from before migration 0008. */
  last_flush_at: Generated<number>;
}

export interface AgentEventsTable {
  agent_id: string;
  at: number;
  type: 'first_seen' | 'restarted' | 'stopping';
  detail: string | null;
}

export interface AlertEvidenceTable {
  source: string;
  fingerprint: string;
  starts_at: number;
  alertname: string;
  status: 'firing' | 'resolved';
  ends_at: number | null;
  labels: string;
  annotations: string;
  received_at: number;
}

export interface BackfilledHeartbeatsTable {
  agent_id: string;
  boot: string;
  seq: number;
  sent_at: number;
  received_at: number;
  interval_s: number;
  signals: string;
}

export const INCIDENT_STATUSES = ['investigating', 'identified', 'monitoring', 'resolved', 'postmortem'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];
export const IMPACTS = ['none', 'minor', 'major', 'critical'] as const;
export type Impact = (typeof IMPACTS)[number];

export interface IncidentsTable {
  id: string;
  name: string;
  status: IncidentStatus;
  impact: Impact;
  components: string;
  source: string;
  started_at: number;
  created_at: number;
  updated_at: number;
  monitoring_at: number | null;
  resolved_at: number | null;
}

export interface IncidentUpdatesTable {
  id: string;
  incident_id: string;
  status: string;
  body: string;
  author: string;
  created_at: number;
  updated_at: number;
}

/** One row per maintenance window or silence (the row type lives with the rules that read it). */
export type MaintenancesTable = MaintenanceRow;

export interface Database {
  agents: AgentsTable;
  windows: WindowsTable;
  outbox: OutboxTable;
  delivery_attempts: DeliveryAttemptsTable;
  channel_state: ChannelStateTable;
  backfilled_heartbeats: BackfilledHeartbeatsTable;
  agent_days: AgentDaysTable;
  agent_events: AgentEventsTable;
  alert_evidence: AlertEvidenceTable;
  incidents: IncidentsTable;
  incident_updates: IncidentUpdatesTable;
  maintenances: MaintenancesTable;
}
