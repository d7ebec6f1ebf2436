// The live state of one agent, as rows in its Durable Object's own SQLite: the agent row, one row per
// monitor instance (the silence monitor among them), the webhook ids seen lately, and a few counters.
// Only rows that changed are written; each write happens inside the caller's storage transaction.
import type { LiveState } from '../core/agent-state.ts';
import type { MonitorInstance } from '../core/monitor-instance.ts';

export const LIVE_DDL = `CREATE TABLE IF NOT EXISTS agent (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  state TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS instances (
  monitor TEXT PRIMARY KEY,
  role TEXT NOT NULL CHECK (role IN ('monitor', 'silence')),
  state TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS seen_ids (
  id TEXT PRIMARY KEY,
  at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS seen_ids_at ON seen_ids (at);
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);`;

type AgentRow = Omit<LiveState, 'monitors' | 'silence'>;

/** What was last written, by row: unchanged rows are not written again. */
export interface Written {
  agent: string | null;
  instances: Map<string, string>;
}

export function loadLive(sql: SqlStorage): { live: LiveState | null; written: Written } {
  const agent = sql.exec<{ state: string }>('SELECT state FROM agent WHERE id = 1').toArray()[0];
  const written: Written = { agent: agent?.state ?? null, instances: new Map() };
  if (agent === undefined) return { live: null, written };
  const monitors: Record<string, MonitorInstance> = {};
  let silence: MonitorInstance | null = null;
  for (const row of sql.exec<{ monitor: string; role: string; state: string }>('SELECT monitor, role, state FROM instances')) {
    written.instances.set(`${row.role}:${row.monitor}`, row.state);
    const inst = JSON.parse(row.state) as MonitorInstance;
    if (row.role === 'silence') silence = inst;
    else monitors[row.monitor] = inst;
  }
  return { live: { ...(JSON.parse(agent.state) as AgentRow), monitors, silence }, written };
}

/** Writes the rows of `live` that differ from what was written; deletes instances that are gone. */
export function saveLive(sql: SqlStorage, live: LiveState, written: Written): void {
  const { monitors, silence, ...agent } = live;
  const agentText = JSON.stringify(agent);
  if (agentText !== written.agent) {
    sql.exec('INSERT INTO agent (id, state) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET state = excluded.state', agentText);
    written.agent = agentText;
  }
  const current = new Map<string, { role: string; monitor: string; text: string }>();
  for (const [id, inst] of Object.entries(monitors))
    current.set(`monitor:${id}`, { role: 'monitor', monitor: id, text: JSON.stringify(inst) });
  if (silence !== null)
    current.set(`silence:${silence.monitor}`, { role: 'silence', monitor: silence.monitor, text: JSON.stringify(silence) });
  for (const key of [...written.instances.keys()]) {
    if (current.has(key)) continue;
    const [role, ...rest] = key.split(':');
    sql.exec('DELETE FROM instances WHERE monitor = ? AND role = ?', rest.join(':'), role);
    written.instances.delete(key);
  }
  for (const [key, row] of current) {
    if (written.instances.get(key) === row.text) continue;
    sql.exec(
      'INSERT INTO instances (monitor, role, state) VALUES (?, ?, ?) ON CONFLICT (monitor) DO UPDATE SET role = excluded.role, state = excluded.state',
      row.monitor,
      row.role,
      row.text,
    );
    written.instances.set(key, row.text);
  }
}

/** A webhook id taken within the window is a replay. */
export function seenSince(sql: SqlStorage, id: string, since: number): boolean {
  return sql.exec('SELECT 1 FROM seen_ids WHERE id = ? AND at >= ?', id, since).toArray().length > 0;
}

export function markSeen(sql: SqlStorage, id: string, at: number, forgetBefore: number): void {
  sql.exec('DELETE FROM seen_ids WHERE at < ?', forgetBefore);
  sql.exec('INSERT INTO seen_ids (id, at) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at', id, at);
}

export function getMeta(sql: SqlStorage, key: string): string | null {
  return sql.exec<{ value: string }>('SELECT value FROM meta WHERE key = ?', key).toArray()[0]?.value ?? null;
}

export function setMeta(sql: SqlStorage, key: string, value: string): void {
  sql.exec('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', key, value);
}

/** The bytes this object's SQLite holds (pages in use): what "bounded" is measured against. */
export function storedBytes(sql: SqlStorage): number {
  return sql.databaseSize;
}

/** Whether nothing was ever stored in this object: not even a table (reading this writes nothing). */
export function isUnwritten(sql: SqlStorage): boolean {
  return sql.exec<{ n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").one().n === 0;
}

/** Bytes of the live state itself (the agent row and its monitor instances), whatever the file's size. */
export function liveBytes(sql: SqlStorage): number {
  const row = sql
    .exec<{ n: number }>(
      'SELECT (SELECT coalesce(sum(length(state)), 0) FROM agent) + (SELECT coalesce(sum(length(monitor) + length(state)), 0) FROM instances) AS n',
    )
    .one();
  return row.n;
}
