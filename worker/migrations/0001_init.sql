-- Times are unix milliseconds (UTC). D1 is written on state changes, not per heartbeat:
-- live state lives in each agent's Durable Object.

-- One row per agent that ever sent a heartbeat, as of its last state change.
CREATE TABLE agents (
  id TEXT PRIMARY KEY,
  state TEXT NOT NULL CHECK (state IN ('up', 'blind')),
  state_since INTEGER NOT NULL,
  boot TEXT NOT NULL,
  interval_s REAL NOT NULL CHECK (interval_s > 0),
  grace_s REAL NOT NULL CHECK (grace_s >= 0),
  first_seen_at INTEGER NOT NULL,
  last_heartbeat_at INTEGER NOT NULL,
  deadline_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

-- Blind windows: the raw material of pages, incidents and gap reports.
CREATE TABLE windows (
  id TEXT PRIMARY KEY,
  agent_id TEXT NOT NULL,
  monitor TEXT NOT NULL,
  cause TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  confirmed_at INTEGER NOT NULL,
  notified_at INTEGER,
  ended_at INTEGER,
  peak_value REAL,
  CHECK (confirmed_at >= started_at),
  CHECK (ended_at IS NULL OR ended_at >= started_at)
);
CREATE INDEX windows_by_agent ON windows (agent_id, started_at);
-- At most one open window per agent and monitor, whatever races happen above.
CREATE UNIQUE INDEX windows_one_open ON windows (agent_id, monitor) WHERE ended_at IS NULL;

-- One row per notification to send. Written in the same batch as the change that caused it;
-- delivered at least once; the id is the webhook-id receivers deduplicate on.
CREATE TABLE outbox (
  id TEXT PRIMARY KEY,
  event_type TEXT NOT NULL,
  agent_id TEXT NOT NULL,
  window_id TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  claimed_until INTEGER,
  delivered_at INTEGER,
  last_status INTEGER,
  last_error TEXT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE delivered_at IS NULL;
