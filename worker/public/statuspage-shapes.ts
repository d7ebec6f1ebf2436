// Incidents and maintenance in Atlassian Statuspage v2 shapes: field names and enums as Statuspage
// publishes them, so widgets, bots and clients read them unchanged.
import { type MaintenanceRow, maintenanceEnd, maintenanceStatus, stringList } from '../core/notices.ts';
import type { IncidentWithUpdates } from '../store/notices.ts';

export const PAGE_ID = 'blindspot';

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

export interface ComponentRef {
  id: string;
  name: string;
  status: string;
}

/** Component ids named by an incident or maintenance, as the component objects the page knows. */
function refs(ids: readonly string[], known: ReadonlyMap<string, ComponentRef>): ComponentRef[] {
  return ids.map((id) => known.get(id)).filter((c): c is ComponentRef => c !== undefined);
}

export function incidentShape(i: IncidentWithUpdates, known: ReadonlyMap<string, ComponentRef>, pageUrl: string) {
  const components = refs(stringList(i.components), known);
  return {
    id: i.id,
    name: i.name,
    status: i.status,
    impact: i.impact,
    created_at: iso(i.created_at),
    updated_at: iso(i.updated_at),
    started_at: iso(i.started_at),
    monitoring_at: isoOrNull(i.monitoring_at),
    resolved_at: isoOrNull(i.resolved_at),
    shortlink: `${pageUrl.replace(/\/$/, '')}/#incident-${i.id}`,
    page_id: PAGE_ID,
    components,
    incident_updates: i.updates.map((u) => ({
      id: u.id,
      incident_id: u.incident_id,
      status: u.status,
      body: u.body,
      created_at: iso(u.created_at),
      updated_at: iso(u.updated_at),
      display_at: iso(u.created_at),
      affected_components: components.map((c) => ({ code: c.id, name: c.name, old_status: c.status, new_status: c.status })),
    })),
  };
}

/**
 * A maintenance as Statuspage's scheduled_maintenance. Its updates are derived from what happened:
 * announced (with its text), started, completed; there is no separate update log for maintenance.
 */
export function maintenanceShape(m: MaintenanceRow, known: ReadonlyMap<string, ComponentRef>, pageUrl: string, now: number) {
  const status = maintenanceStatus(m, now);
  const end = maintenanceEnd(m);
  const updates: { status: string; body: string; at: number }[] = [{ status: 'scheduled', body: m.body || m.name, at: m.created_at }];
  if (now >= m.scheduled_for && m.scheduled_for < end)
    updates.push({ status: 'in_progress', body: 'Scheduled maintenance is in progress.', at: m.scheduled_for });
  if (status === 'completed')
    updates.push({
      status: 'completed',
      body: end < m.scheduled_until ? 'The maintenance ended early.' : 'The scheduled maintenance has been completed.',
      at: end,
    });
  const components = refs(stringList(m.components), known);
  const last = updates.at(-1) as { at: number };
  return {
    id: m.id,
    name: m.name,
    status,
    impact: 'maintenance',
    created_at: iso(m.created_at),
    updated_at: iso(Math.max(m.updated_at, Math.min(last.at, now))),
    started_at: iso(m.scheduled_for),
    monitoring_at: null,
    resolved_at: status === 'completed' ? iso(end) : null,
    shortlink: `${pageUrl.replace(/\/$/, '')}/#maintenance-${m.id}`,
    page_id: PAGE_ID,
    scheduled_for: iso(m.scheduled_for),
    scheduled_until: iso(m.scheduled_until),
    components,
    incident_updates: updates.reverse().map((u, n) => ({
      id: `${m.id}-${updates.length - n}`,
      incident_id: m.id,
      status: u.status,
      body: u.body,
      created_at: iso(u.at),
      updated_at: iso(u.at),
      display_at: iso(u.at),
      affected_components: components.map((c) => ({ code: c.id, name: c.name, old_status: c.status, new_status: c.status })),
    })),
  };
}
