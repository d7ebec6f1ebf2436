// What the public may be told about each status-page component, in Statuspage's vocabulary plus one
// word of our own: "unverified". A component is built from the monitors that feed it, across agents.
// It is never operational on data nobody has verified: no data, an agent past its deadline or silent,
// or the watchdog's own evaluation stalled all make it unverified (grey). Pure.
import type { Component, WatchConfig } from '../../config/resolve.ts';
import type { LiveState } from './agent-state.ts';
import { defOf } from './monitor-defs.ts';
import { activeMaintenance } from './suppression.ts';

export const COMPONENT_STATUSES = [
  'operational',
  'degraded_performance',
  'partial_outage',
  'major_outage',
  'under_maintenance',
  'unverified',
] as const;
export type ComponentStatus = (typeof COMPONENT_STATUSES)[number];

export interface Contribution {
  agentId: string;
  monitor: string;
  level: 'up' | 'degraded' | 'blind' | 'unknown';
  /** The agent's state could not be trusted right now: silent, past its deadline, or unreadable. */
  unverified: boolean;
  maintenance: boolean;
}

export interface ComponentView extends Component {
  status: ComponentStatus;
  /** The oldest newest-heartbeat among the agents feeding it (ms): what the status rests on. */
  verifiedAt: number | null;
  contributions: Contribution[];
}

export interface Subject {
  id: string;
  /** null: never heard from; undefined: its state could not be read. */
  live: LiveState | null | undefined;
}

/** `underMaintenance`: components a public maintenance in progress names (from the admin API). */
export function viewComponents(
  config: WatchConfig,
  subjects: readonly Subject[],
  now: number,
  watchdogStalled: boolean,
  underMaintenance: ReadonlySet<string> = new Set(),
): ComponentView[] {
  const byComponent = new Map<string, { contributions: Contribution[]; heartbeats: number[] }>();
  const add = (component: string, c: Contribution, heartbeatAt: number | null) => {
    const entry = byComponent.get(component) ?? { contributions: [], heartbeats: [] };
    entry.contributions.push(c);
    if (heartbeatAt !== null) entry.heartbeats.push(heartbeatAt);
    byComponent.set(component, entry);
  };
  for (const { id, live } of subjects) {
    if (!live) continue;
    // Silent, or past its deadline with nobody having judged it yet: what it last said is not proof.
    const unverified = live.state === 'blind' || now > live.deadlineAt;
    for (const instance of Object.values(live.monitors)) {
      const def = defOf(config, instance.monitor);
      if (def === null) continue;
      const maintenance = activeMaintenance(config.maintenance, id, instance.monitor, now) !== null || live.state === 'stopped';
      add(def.component, { agentId: id, monitor: instance.monitor, level: instance.level, unverified, maintenance }, live.lastHeartbeatAt);
    }
  }
  return config.components.map((component) => {
    const entry = byComponent.get(component.id);
    const contributions = entry?.contributions ?? [];
    return {
      ...component,
      // Announced maintenance is said as such; a stalled watchdog can vouch for nothing else.
      status: underMaintenance.has(component.id) ? 'under_maintenance' : watchdogStalled ? 'unverified' : statusOf(contributions),
      verifiedAt: entry && entry.heartbeats.length > 0 ? Math.min(...entry.heartbeats) : null,
      contributions,
    };
  });
}

export function statusOf(contributions: readonly Contribution[]): ComponentStatus {
  if (contributions.length === 0) return 'unverified';
  const live = contributions.filter((c) => !c.maintenance);
  if (live.length === 0) return 'under_maintenance';
  const verified = live.filter((c) => !c.unverified);
  const down = verified.filter((c) => c.level === 'blind' || c.level === 'unknown');
  // A verified outage is worth saying even while another agent is silent.
  if (down.length > 0) return down.length === live.length ? 'major_outage' : 'partial_outage';
  if (verified.length < live.length) return 'unverified';
  return verified.some((c) => c.level === 'degraded') ? 'degraded_performance' : 'operational';
}

/** The page's one-line status, as Statuspage's status.indicator: none, minor, major, critical; and ours. */
export type Indicator = 'none' | 'minor' | 'major' | 'critical' | 'unverified';

export function indicatorOf(statuses: readonly ComponentStatus[]): Indicator {
  if (statuses.includes('major_outage')) return 'critical';
  if (statuses.includes('partial_outage')) return 'major';
  if (statuses.includes('unverified') || statuses.length === 0) return 'unverified';
  if (statuses.includes('degraded_performance')) return 'minor';
  return 'none';
}
