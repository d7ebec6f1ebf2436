-- What people tell customers, and when paging pauses: incidents with their updates, maintenance
-- windows and silences made through the admin API. Times are unix milliseconds (UTC).

CREATE TABLE incidents (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('investigating', 'identified', 'monitoring', 'resolved', 'postmortem')),
  impact TEXT NOT NULL CHECK (impact IN ('none', 'minor', 'major', 'critical')),
  -- JSON array of component ids.
  components TEXT NOT NULL DEFAULT '[]',
  -- 'admin', or 'window:<id>' for one opened from a blind window on a customer-facing component.
  source TEXT NOT NULL DEFAULT 'admin',
  started_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  monitoring_at INTEGER,
  resolved_at INTEGER
);
CREATE INDEX incidents_by_time ON incidents (created_at);
CREATE INDEX incidents_unresolved ON incidents (resolved_at) WHERE resolved_at IS NULL;
-- At most one automatic incident per window, whatever races happen above.
CREATE UNIQUE INDEX incidents_one_per_source ON incidents (source) WHERE source <> 'admin';

CREATE TABLE incident_updates (
  id TEXT PRIMARY KEY,
  incident_id TEXT NOT NULL REFERENCES incidents (id),
  status TEXT NOT NULL,
  body TEXT NOT NULL,
  -- The admin token's name, or 'blindspot' for automatic text.
  author TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX incident_updates_by_incident ON incident_updates (incident_id, created_at);

-- Maintenance is public and pauses paging; a silence only pauses paging.
CREATE TABLE maintenances (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('maintenance', 'silence')),
  name TEXT NOT NULL,
  body TEXT NOT NULL DEFAULT '',
  -- JSON arrays: component ids shown as under maintenance; agent and monitor globs whose paging pauses.
  components TEXT NOT NULL DEFAULT '[]',
  agents TEXT NOT NULL DEFAULT '["*"]',
  monitors TEXT NOT NULL DEFAULT '["*"]',
  scheduled_for INTEGER NOT NULL,
  scheduled_until INTEGER NOT NULL,
  -- Set when someone ends it early (or cancels it before it starts).
  completed_at INTEGER,
  author TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  CHECK (scheduled_until > scheduled_for)
);
CREATE INDEX maintenances_by_end ON maintenances (scheduled_until);
