-- A silence window keeps the heartbeats heard on either side of it (JSON: {"before":{"boot","seq"},"after":…}):
-- the gap report calls a silence a link outage only for backfill that continues them.
ALTER TABLE windows ADD COLUMN anchors TEXT;
