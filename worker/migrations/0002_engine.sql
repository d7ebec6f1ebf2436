-- The evaluation engine: monitors per signal, rollups, the watchdog's own gaps, Alertmanager evidence.
-- Times are unix milliseconds (UTC).

-- agents gains 'stopped' (expected silence) and a kind; SQLite cannot alter a CHECK, so rebuild.
CREATE TABLE agents_new (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL DEFAULT 'agent' CHECK (kind IN ('agent', 'alert_source')),
  state TEXT NOT NULL CHECK (state IN ('up', 'blind', 'stopped')),
  state_since INTEGER NOT NULL,
  boot TEXT NOT NULL,
  interval_s REAL NOT NULL CHECK (interval_s > 0),
  grace_s REAL NOT NULL CHECK (grace_s >= 0),
  first_seen_at INTEGER NOT NULL,
  last_heartbeat_at INTEGER NOT NULL,
  deadline_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
INSERT INTO agents_new (id, state, state_since, boot, interval_s, grace_s, first_seen_at, last_heartbeat_at, deadline_at, updated_at)
  SELECT id, state, state_since, boot, interval_s, grace_s, first_seen_at, last_heartbeat_at, deadline_at, updated_at FROM agents;
DROP TABLE agents;
ALTER TABLE agents_new RENAME TO agents;

ALTER TABLE windows ADD COLUMN component TEXT NOT NULL DEFAULT 'monitoring';
ALTER TABLE windows ADD COLUMN severity TEXT NOT NULL DEFAULT 'critical';
ALTER TABLE windows ADD COLUMN level TEXT NOT NULL DEFAULT 'blind';
ALTER TABLE windows ADD COLUMN signal TEXT;
-- Why the window was recorded without paging (agent_silent, agent_stopped, depends_on:<id>,
-- maintenance:<id>, watchdog_gap), or NULL when it paged.
ALTER TABLE windows ADD COLUMN suppressed_by TEXT;
CREATE INDEX windows_open ON windows (ended_at) WHERE ended_at IS NULL;
CREATE INDEX windows_unsummarised ON windows (suppressed_by, notified_at) WHERE suppressed_by = 'watchdog_gap' AND notified_at IS NULL;

-- Seconds per state per monitor: 5-minute buckets kept 8 days, hourly kept 400 days.
CREATE TABLE rollup_5m (
  agent_id TEXT NOT NULL,
  monitor TEXT NOT NULL,
  bucket_start INTEGER NOT NULL,
  good_s REAL NOT NULL,
  degraded_s REAL NOT NULL,
  blind_s REAL NOT NULL,
  unknown_s REAL NOT NULL,
  paused_s REAL NOT NULL,
  PRIMARY KEY (agent_id, monitor, bucket_start)
) WITHOUT ROWID;
CREATE INDEX rollup_5m_by_time ON rollup_5m (bucket_start);

CREATE TABLE rollup_1h (
  agent_id TEXT NOT NULL,
  monitor TEXT NOT NULL,
  bucket_start INTEGER NOT NULL,
  good_s REAL NOT NULL,
  degraded_s REAL NOT NULL,
  blind_s REAL NOT NULL,
  unknown_s REAL NOT NULL,
  paused_s REAL NOT NULL,
  PRIMARY KEY (agent_id, monitor, bucket_start)
) WITHOUT ROWID;
CREATE INDEX rollup_1h_by_time ON rollup_1h (bucket_start);

-- Per signal (name + labels) per hour: last, min and max of what it measured.
CREATE TABLE signal_rollup_1h (
  agent_id TEXT NOT NULL,
  signal_key TEXT NOT NULL,
  name TEXT NOT NULL,
  bucket_start INTEGER NOT NULL,
  last REAL,
  min REAL,
  max REAL,
  samples INTEGER NOT NULL,
  unknown INTEGER NOT NULL,
  PRIMARY KEY (agent_id, signal_key, bucket_start)
) WITHOUT ROWID;
CREATE INDEX signal_rollup_1h_by_time ON signal_rollup_1h (bucket_start);

-- Heartbeat-level events that are not windows: restarts and announced stops.
CREATE TABLE agent_events (
  agent_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('first_seen', 'restarted', 'stopping')),
  detail TEXT,
  PRIMARY KEY (agent_id, at, type)
);
CREATE INDEX agent_events_by_time ON agent_events (at);

-- Alerts other than the Watchdog that reached the Alertmanager receiver: evidence, never paged.
CREATE TABLE alert_evidence (
  source TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  starts_at INTEGER NOT NULL,
  alertname TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('firing', 'resolved')),
  ends_at INTEGER,
  labels TEXT NOT NULL,
  annotations TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  PRIMARY KEY (source, fingerprint, starts_at)
);
CREATE INDEX alert_evidence_by_time ON alert_evidence (received_at);
