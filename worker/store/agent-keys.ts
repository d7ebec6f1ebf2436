// Agents added through the admin API and their signing secrets, kept in one Watchdog-class object
// ("credentials"), never in D1: a heartbeat is checked against them without D1, and a D1 export or
// backup holds none of them. A secret is kept as issued because an HMAC signature can only be checked
// with the key itself (a hash cannot verify one); no answer shows it again after it is issued. A
// revoked key is deleted. Store only: what may be added is decided by the caller.

export const AGENT_KEYS_DDL = `CREATE TABLE IF NOT EXISTS agent_keys (
  agent_id TEXT NOT NULL,
  key_id TEXT NOT NULL,
  secret TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  PRIMARY KEY (agent_id, key_id)
);`;

export interface AgentKey {
  agentId: string;
  /** The first 12 hex digits of the secret's SHA-256: names the key without showing it. */
  keyId: string;
  createdAt: number;
  createdBy: string;
}

type Row = {
  agent_id: string;
  key_id: string;
  created_at: number;
  created_by: string;
};

const toKey = (r: Row): AgentKey => ({
  agentId: r.agent_id,
  keyId: r.key_id,
  createdAt: r.created_at,
  createdBy: r.created_by,
});

export function insertKey(sql: SqlStorage, key: AgentKey, secret: string): void {
  sql.exec(
    'INSERT INTO agent_keys (agent_id, key_id, secret, created_at, created_by) VALUES (?, ?, ?, ?, ?)',
    key.agentId,
    key.keyId,
    secret,
    key.createdAt,
    key.createdBy,
  );
}

/** Every key, by agent then age; never the secrets. */
export function listKeys(sql: SqlStorage, agentId?: string): AgentKey[] {
  const rows =
    agentId === undefined
      ? sql.exec<Row>('SELECT agent_id, key_id, created_at, created_by FROM agent_keys ORDER BY agent_id, created_at, key_id')
      : sql.exec<Row>(
          'SELECT agent_id, key_id, created_at, created_by FROM agent_keys WHERE agent_id = ? ORDER BY created_at, key_id',
          agentId,
        );
  return rows.toArray().map(toKey);
}

/** The secrets an agent's heartbeats may be signed with. */
export function secretsOf(sql: SqlStorage, agentId: string): string[] {
  return sql
    .exec<{ secret: string }>('SELECT secret FROM agent_keys WHERE agent_id = ? ORDER BY created_at, key_id', agentId)
    .toArray()
    .map((r) => r.secret);
}

/** Every agent that holds a key, by id. */
export function keyedAgentIds(sql: SqlStorage): string[] {
  return sql
    .exec<{ agent_id: string }>('SELECT DISTINCT agent_id FROM agent_keys ORDER BY agent_id')
    .toArray()
    .map((r) => r.agent_id);
}

export function countAgents(sql: SqlStorage): number {
  return sql.exec<{ n: number }>('SELECT COUNT(DISTINCT agent_id) AS n FROM agent_keys').one().n;
}

/** Deletes one key, or every key of the agent; returns how many went. */
export function deleteKeys(sql: SqlStorage, agentId: string, keyId?: string): number {
  return keyId === undefined
    ? sql.exec('DELETE FROM agent_keys WHERE agent_id = ?', agentId).rowsWritten
    : sql.exec('DELETE FROM agent_keys WHERE agent_id = ? AND key_id = ?', agentId, keyId).rowsWritten;
}
