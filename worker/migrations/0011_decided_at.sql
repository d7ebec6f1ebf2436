-- When the object decided what a row says: its decision stamp (its clock in ms, kept past the
-- stamp before, so it follows the object's own order; Replicator.decisionStamp). A batch replayed late (set aside, then
-- retried by an operator once D1 was fixed) carries older decisions: they must not overwrite newer
-- ones that reached D1 first. Rows written before these columns have none, and take any decision.
-- (The agents table has updated_at, which serves the same end.)
ALTER TABLE windows ADD COLUMN decided_at INTEGER;
ALTER TABLE outbox ADD COLUMN decided_at INTEGER;
