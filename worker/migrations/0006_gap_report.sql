-- The gap report reads windows and backfilled heartbeats by time across all agents.
CREATE INDEX windows_by_start ON windows (started_at);
CREATE INDEX backfilled_heartbeats_by_time ON backfilled_heartbeats (sent_at);
