// What people announce: incidents and maintenance windows, as stored rows turned into the states the
// page, the API and the engine use. Pure: every function takes `now`.
import type { Maintenance } from '../../config/resolve.ts';

export const MAINTENANCE_STATUSES = ['scheduled', 'in_progress', 'verifying', 'completed'] as const;
export type MaintenanceStatus = (typeof MAINTENANCE_STATUSES)[number];

export interface MaintenanceRow {
  id: string;
  kind: 'maintenance' | 'silence';
  name: string;
  body: string;
  components: string;
  agents: string;
  monitors: string;
  scheduled_for: number;
  scheduled_until: number;
  completed_at: number | null;
  author: string;
  created_at: number;
  updated_at: number;
}

/** When it really ends: the scheduled end, or earlier when someone completed it. */
export function maintenanceEnd(m: Pick<MaintenanceRow, 'scheduled_until' | 'completed_at'>): number {
  return m.completed_at === null ? m.scheduled_until : Math.min(m.completed_at, m.scheduled_until);
}

/** scheduled → in_progress → completed, by the clock; completing it early ends it at once. */
export function maintenanceStatus(
  m: Pick<MaintenanceRow, 'scheduled_for' | 'scheduled_until' | 'completed_at'>,
  now: number,
): MaintenanceStatus {
  if (now >= maintenanceEnd(m)) return 'completed';
  return now >= m.scheduled_for ? 'in_progress' : 'scheduled';
}

/** A stored JSON array of strings; anything else (a hand-edited row) counts as empty, never as "*". */
export function stringList(json: string): string[] {
  try {
    const value: unknown = JSON.parse(json);
    return Array.isArray(value) ? value.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

/** Maintenance and silences from the admin API, in the engine's terms: paging pauses while they run. */
export function engineMaintenance(rows: readonly MaintenanceRow[]): Maintenance[] {
  return rows
    .filter((m) => maintenanceEnd(m) > m.scheduled_for)
    .map((m) => ({
      id: m.kind === 'silence' ? `silence:${m.id}` : m.id,
      startsAt: m.scheduled_for,
      endsAt: maintenanceEnd(m),
      agents: stringList(m.agents),
      monitors: stringList(m.monitors),
      reason: m.name,
    }));
}

/** Component ids under a public maintenance that is in progress now. */
export function componentsUnderMaintenance(rows: readonly MaintenanceRow[], now: number): Set<string> {
  const ids = new Set<string>();
  for (const m of rows)
    if (m.kind === 'maintenance' && maintenanceStatus(m, now) === 'in_progress') for (const c of stringList(m.components)) ids.add(c);
  return ids;
}
