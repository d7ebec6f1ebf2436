-- Each agent's Durable Object now keeps its own outbox and replicates it here as history: every
-- delivery attempt is written idempotently, one row per notification and attempt number.
DELETE FROM delivery_attempts WHERE id NOT IN (SELECT min(id) FROM delivery_attempts GROUP BY notification_id, attempt);
DROP INDEX IF EXISTS delivery_attempts_notification;
CREATE UNIQUE INDEX delivery_attempts_notification ON delivery_attempts (notification_id, attempt);
