// What the public API says, in Atlassian Statuspage v2 shapes: the page, its status indicator, the
// components (with groups), incidents and scheduled maintenances. Statuspage has no word for "we do
// not know": an unverified or stopped component is sent as degraded_performance — never as
// operational — and `blindspot_status` with `verified_at` and `data_age_seconds` says why. Pure:
// from the public state to JSON-ready objects.
import { type ComponentStatus, type ComponentView, type Indicator, indicatorOf } from '../core/component-view.ts';
import { maintenanceStatus } from '../core/notices.ts';
import { STATUS_WORDS } from '../core/status-words.ts';
import type { PublicState } from './state.ts';
import { type ComponentRef, incidentShape, maintenanceShape, PAGE_ID } from './statuspage-shapes.ts';

/** Statuspage's component statuses: ours, with unverified and stopped shown as degraded, never as fine. */
export const STATUSPAGE_STATUS = Object.fromEntries(Object.entries(STATUS_WORDS).map(([k, w]) => [k, w.statuspage])) as Record<
  ComponentStatus,
  string
>;

/** Statuspage's descriptions for its indicators, and ours for the two it lacks. */
const DESCRIPTION: Record<Indicator, string> = {
  none: 'All Systems Operational',
  minor: 'Minor Service Outage',
  major: 'Partial System Outage',
  critical: 'Major Service Outage',
  maintenance: 'Service Under Maintenance',
  unverified: 'Status Not Verified: monitoring data is missing or stale',
  stopped: 'Status Not Verified: monitoring was stopped on purpose',
};

/** Statuspage's indicator has no "unknown": not knowing is at least minor. */
const STATUSPAGE_INDICATOR: Record<Indicator, string> = {
  none: 'none',
  minor: 'minor',
  major: 'major',
  critical: 'critical',
  maintenance: 'maintenance',
  unverified: 'minor',
  stopped: 'minor',
};
const iso = (ms: number) => new Date(ms).toISOString();
const ageS = (now: number, at: number | null) => (at === null ? null : Math.max(0, Math.round((now - at) / 1000)));
const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '') || 'group';

export function page(s: PublicState) {
  // The oldest evidence behind any claim on the page; null when some component rests on none.
  const verified = s.views.map((v) => v.verifiedAt).filter((t): t is number => t !== null);
  const verifiedAt = verified.length === s.views.length && verified.length > 0 ? Math.min(...verified) : null;
  return {
    id: PAGE_ID,
    name: s.title,
    url: s.url,
    time_zone: 'Etc/UTC',
    updated_at: iso(s.now),
    verified_at: verifiedAt === null ? null : iso(verifiedAt),
    data_age_seconds: ageS(s.now, verifiedAt),
    // D1 failed: incidents, maintenance and history below are a kept copy of this age.
    blindspot_snapshot:
      s.snapshot === null
        ? null
        : { taken_at: s.snapshot.takenAt === null ? null : iso(s.snapshot.takenAt), age_seconds: ageS(s.now, s.snapshot.takenAt) },
    blindspot_watchdog_stalled: s.watchdogStalled,
  };
}

export function status(s: PublicState) {
  const indicator = indicatorOf(s.views.map((v) => v.status));
  return {
    indicator: STATUSPAGE_INDICATOR[indicator],
    description: DESCRIPTION[indicator],
    blindspot_indicator: indicator,
  };
}

export function components(s: PublicState) {
  const groups = new Map<string, ComponentView[]>();
  for (const v of s.views) if (v.group !== null) groups.set(v.group, [...(groups.get(v.group) ?? []), v]);
  const groupId = (name: string) => `group-${slug(name)}`;
  const common = (at: number | null, created: number | undefined, position: number) => ({
    created_at: iso(created ?? at ?? s.now),
    updated_at: iso(at ?? s.now),
    position,
    showcase: false,
    start_date: null,
    page_id: PAGE_ID,
    only_show_if_degraded: false,
    verified_at: at === null ? null : iso(at),
    data_age_seconds: ageS(s.now, at),
  });
  const out: Record<string, unknown>[] = [];
  let position = 1;
  for (const [name, members] of groups) {
    const worst = worstStatus(members.map((m) => m.status));
    const ats = members.map((m) => m.verifiedAt);
    const at = ats.every((t) => t !== null) ? Math.min(...(ats as number[])) : null;
    out.push({
      id: groupId(name),
      name,
      status: STATUSPAGE_STATUS[worst],
      blindspot_status: worst,
      description: null,
      group_id: null,
      group: true,
      components: members.map((m) => m.id),
      ...common(at, undefined, position++),
    });
  }
  for (const v of s.views) {
    out.push({
      id: v.id,
      name: v.name,
      status: STATUSPAGE_STATUS[v.status],
      blindspot_status: v.status,
      description: v.description,
      group_id: v.group === null ? null : groupId(v.group),
      group: false,
      ...common(v.verifiedAt, s.firstSeen.get(v.id), position++),
    });
  }
  return out;
}

const SEVERITY: readonly ComponentStatus[] = [
  'operational',
  'under_maintenance',
  'degraded_performance',
  'stopped',
  'unverified',
  'partial_outage',
  'major_outage',
];
export const worstStatus = (statuses: readonly ComponentStatus[]): ComponentStatus =>
  statuses.reduce((a, b) => (SEVERITY.indexOf(b) > SEVERITY.indexOf(a) ? b : a), 'operational');

/** Each component as incidents and maintenance name it, with its current status. */
function known(s: PublicState): Map<string, ComponentRef> {
  return new Map(s.views.map((v) => [v.id, { id: v.id, name: v.name, status: STATUSPAGE_STATUS[v.status] }]));
}

export const incidents = (s: PublicState, unresolvedOnly = false) =>
  s.incidents.filter((i) => !unresolvedOnly || i.resolved_at === null).map((i) => incidentShape(i, known(s), s.url));

type MaintenanceFilter = 'all' | 'upcoming' | 'active';
export function maintenances(s: PublicState, which: MaintenanceFilter) {
  const keep = (status: string) =>
    which === 'all' || (which === 'upcoming' ? status === 'scheduled' : status === 'in_progress' || status === 'verifying');
  return s.maintenances.filter((m) => keep(maintenanceStatus(m, s.now))).map((m) => maintenanceShape(m, known(s), s.url, s.now));
}
