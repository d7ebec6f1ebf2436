-- Paging: the outbox holds one row per notification per channel, in creation order (seq), with a
-- lease for compare-and-set claims, a state (pending, delivered, dead, cancelled) and the repeat
-- interval of its route. Every attempt is logged; a channel that answered 410 is disabled until a
-- successful test or an explicit enable.
CREATE TABLE outbox_v3 (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  event_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  channel_id TEXT NOT NULL,
  agent_id TEXT NOT NULL,
  window_id TEXT NOT NULL,
  payload TEXT NOT NULL,
  repeat_interval_s INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead', 'cancelled')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  claimed_until INTEGER,
  claim_token TEXT,
  delivered_at INTEGER,
  finished_at INTEGER,
  last_status INTEGER,
  last_error TEXT
);

-- Rows of the single-webhook outbox belong to the channel that sent them: "webhook".
INSERT INTO outbox_v3 (id, event_id, event_type, channel_id, agent_id, window_id, payload, created_at, state, attempts, next_attempt_at, delivered_at, finished_at, last_status, last_error)
  SELECT id || '@webhook', id, event_type, 'webhook', agent_id, window_id, payload, created_at,
         CASE WHEN delivered_at IS NULL THEN 'pending' ELSE 'delivered' END,
         attempts, next_attempt_at, delivered_at, delivered_at, last_status, last_error
  FROM outbox ORDER BY created_at, rowid;
DROP TABLE outbox;
ALTER TABLE outbox_v3 RENAME TO outbox;

CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE state = 'pending';
CREATE INDEX outbox_agent_due ON outbox (agent_id, next_attempt_at) WHERE state = 'pending';
CREATE INDEX outbox_window ON outbox (window_id, channel_id, seq);
CREATE INDEX outbox_finished ON outbox (finished_at) WHERE state <> 'pending';

CREATE TABLE delivery_attempts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  notification_id TEXT NOT NULL,
  channel_id TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  at INTEGER NOT NULL,
  status INTEGER,
  latency_ms INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  error TEXT
);
CREATE INDEX delivery_attempts_notification ON delivery_attempts (notification_id, attempt);
CREATE INDEX delivery_attempts_at ON delivery_attempts (at);

CREATE TABLE channel_state (
  channel_id TEXT PRIMARY KEY,
  disabled_at INTEGER,
  disabled_reason TEXT,
  last_success_at INTEGER,
  last_failure_at INTEGER,
  last_error TEXT
);
