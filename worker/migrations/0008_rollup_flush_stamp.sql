-- Each agent's day row remembers the newest flush added to it (when its Durable Object took the
-- flush). A batch that D1 took but answered too late, or not at all, is sent again from the
-- Durable Object's storage; without the stamp its seconds and samples were added twice. Rows from
-- before start at 0, so the next flush adds to them as usual.
ALTER TABLE agent_days ADD COLUMN last_flush_at INTEGER NOT NULL DEFAULT 0;
