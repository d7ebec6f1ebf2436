// The agents whose objects set aside or dropped history D1 lacks, as the sweeps last found each: kept
// in the Watchdog object so /healthz and the admin API count every one of them even when a fleet is
// visited in turns (each sweep sees only its run of the fleet). A row goes when a sweep visits its
// agent and finds nothing lost, or no longer lists it. Only troubled agents have a row, so a healthy
// fleet writes nothing. Store only.

import type { VisitedRun } from '../core/watchdog-ticks.ts';

export const FLEET_LOSSES_DDL = `CREATE TABLE IF NOT EXISTS fleet_losses (
  agent TEXT PRIMARY KEY,
  set_aside INTEGER NOT NULL,
  dropped INTEGER NOT NULL,
  last_error TEXT,
  seen_at INTEGER NOT NULL
);`;

/**
 * What the objects' replication queues hold, as the sweep found them. `agents`, `queued` and
 * `oldestAt` are the last sweep's (the agents it visited); `setAside`, `dropped` and `troubled`
 * (the agents with history D1 lacks, the first 50 by id; `troubledAgents` counts them all) are the
 * whole fleet's as the sweeps last found each agent, kept by the Watchdog object (below),
 * so a fleet visited in turns is never reported whole while an agent not visited this minute lost history.
 */
export interface FleetReplication {
  at: number;
  agents: number;
  queued: number;
  oldestAt: number | null;
  setAside: number;
  dropped: number;
  troubled: FleetLoss[];
  troubledAgents?: number;
  /** Which agents this sweep visited (what its `troubled` covers): the Watchdog keeps the others' losses. */
  visited?: VisitedRun;
  /** Of those, the ones whose visit failed or went unanswered: what they lost is not known, so it is kept. */
  missed?: string[];
}

export interface FleetLoss {
  agent: string;
  setAside: number;
  dropped: number;
  lastError: string | null;
}

interface Row extends Record<string, SqlStorageValue> {
  agent: string;
  set_aside: number;
  dropped: number;
  last_error: string | null;
}

/** Every agent with losses, by id. */
export function listLosses(sql: SqlStorage): FleetLoss[] {
  return sql
    .exec<Row>('SELECT agent, set_aside, dropped, last_error FROM fleet_losses ORDER BY agent')
    .toArray()
    .map((r) => ({ agent: r.agent, setAside: r.set_aside, dropped: r.dropped, lastError: r.last_error }));
}

/** Records what a sweep found for `loss.agent` (written only when it changed). */
export function putLoss(sql: SqlStorage, loss: FleetLoss, at: number): void {
  sql.exec(
    `INSERT INTO fleet_losses (agent, set_aside, dropped, last_error, seen_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (agent) DO UPDATE SET set_aside = excluded.set_aside, dropped = excluded.dropped,
       last_error = excluded.last_error, seen_at = excluded.seen_at
     WHERE set_aside IS NOT excluded.set_aside OR dropped IS NOT excluded.dropped OR last_error IS NOT excluded.last_error`,
    loss.agent,
    loss.setAside,
    loss.dropped,
    loss.lastError,
    at,
  );
}

export function deleteLoss(sql: SqlStorage, agent: string): void {
  sql.exec('DELETE FROM fleet_losses WHERE agent = ?', agent);
}
