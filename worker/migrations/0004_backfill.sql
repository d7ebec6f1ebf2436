-- Heartbeats an agent spooled while the Worker was unreachable and sent later: history only, never
-- evaluated for paging. One row per (agent, boot, seq), so a re-sent batch changes nothing.
CREATE TABLE backfilled_heartbeats (
  agent_id TEXT NOT NULL,
  boot TEXT NOT NULL,
  seq INTEGER NOT NULL,
  sent_at INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  interval_s REAL NOT NULL,
  signals TEXT NOT NULL,
  PRIMARY KEY (agent_id, boot, seq)
);
CREATE INDEX backfilled_heartbeats_time ON backfilled_heartbeats (agent_id, sent_at);
