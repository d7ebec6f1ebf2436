// What the public may be told about each status-page component, in Statuspage's vocabulary plus two
// words of our own: "unverified" and "stopped". A component is built from the monitors that feed it,
// across agents. It is operational only when every monitor feeding it stands on a fresh, good
// observation (core/evidence.ts) and at least one of them measures the pipeline itself. Every
// surface (page, Statuspage JSON, badges, headline, cache lifetimes) reads its claim from here. Pure.
import type { Component, WatchConfig } from '../../config/resolve.ts';
import { type LiveState, SILENCE_MONITOR } from './agent-state.ts';
import type { Level } from './blind-window.ts';
import { agentEvidence, alertPathEvidence, type Evidence, type EvidenceState, evidenceOf, measuresPipeline } from './evidence.ts';
import { defOf } from './monitor-defs.ts';
import { alertSourceSubject } from './subject.ts';
import { activeMaintenance } from './suppression.ts';

export const COMPONENT_STATUSES = [
  'operational',
  'degraded_performance',
  'partial_outage',
  'major_outage',
  'under_maintenance',
  'unverified',
  'stopped',
] as const;
export type ComponentStatus = (typeof COMPONENT_STATUSES)[number];

export interface Contribution {
  agentId: string;
  monitor: string;
  level: Level;
  evidence: EvidenceState;
  /** When the observation behind it was made (ms). */
  observedAt: number;
  /** It measures the pipeline (not only the agent's liveness or clock). */
  measures: boolean;
  /** Declared maintenance covers it (the admin API or the configuration). */
  maintenance: boolean;
}

export interface ComponentView extends Component {
  status: ComponentStatus;
  /** The oldest observation behind the status (ms): what the claim rests on; null when nothing does. */
  verifiedAt: number | null;
  /** Stopped: when the last of its agents announced its stop (ms). */
  stoppedSince: number | null;
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
  const byComponent = new Map<string, { contributions: Contribution[]; stoppedAt: number[] }>();
  const add = (component: string, id: string, live: LiveState, monitor: string, evidence: Evidence) => {
    const entry = byComponent.get(component) ?? { contributions: [], stoppedAt: [] };
    entry.contributions.push({
      agentId: id,
      monitor,
      level: evidence.level,
      evidence: evidence.state,
      observedAt: evidence.at,
      measures: measuresPipeline(monitor),
      maintenance: activeMaintenance(config.maintenance, id, monitor, now) !== null,
    });
    if (evidence.state === 'stopped') entry.stoppedAt.push(live.state === 'stopped' ? live.stateSince : live.lastHeartbeatAt);
    byComponent.set(component, entry);
  };
  for (const { id, live } of subjects) {
    if (!live) continue;
    if (live.kind === 'alert_source') {
      const source = config.alertSources.find((s) => alertSourceSubject(s.id) === id);
      if (source !== undefined) add(source.component, id, live, SILENCE_MONITOR.alert_source, alertPathEvidence(live, now));
      continue;
    }
    for (const instance of Object.values(live.monitors)) {
      const def = defOf(config, instance.monitor);
      if (def !== null) add(def.component, id, live, instance.monitor, evidenceOf(live, instance, now));
    }
  }
  return config.components.map((component) => {
    const entry = byComponent.get(component.id);
    const contributions = entry?.contributions ?? [];
    const status: ComponentStatus = underMaintenance.has(component.id)
      ? 'under_maintenance'
      : // A stalled watchdog can vouch for nothing.
        watchdogStalled
        ? 'unverified'
        : statusOf(contributions);
    const behind = contributions.filter((c) => !c.maintenance).map((c) => c.observedAt);
    return {
      ...component,
      status,
      verifiedAt: behind.length > 0 ? Math.min(...behind) : null,
      stoppedSince: status === 'stopped' && entry !== undefined ? Math.max(...entry.stoppedAt) : null,
      contributions,
    };
  });
}

const isDown = (level: Level) => level === 'blind' || level === 'unknown';

export function statusOf(contributions: readonly Contribution[]): ComponentStatus {
  if (contributions.length === 0) return 'unverified';
  const live = contributions.filter((c) => !c.maintenance);
  if (live.length === 0) return 'under_maintenance';
  const verified = live.filter((c) => c.evidence === 'verified');
  const down = verified.filter((c) => isDown(c.level));
  // A verified outage is worth saying even while another agent is silent.
  if (down.length > 0) return down.length === live.length ? 'major_outage' : 'partial_outage';
  if (live.some((c) => c.evidence === 'unverified')) return 'unverified';
  if (live.some((c) => c.evidence === 'stopped')) return 'stopped';
  // Liveness and clock skew prove the agent runs, not that the pipeline is seen.
  if (!verified.some((c) => c.measures)) return 'unverified';
  return verified.some((c) => c.level === 'degraded') ? 'degraded_performance' : 'operational';
}

/**
 * The page's one-line status, as Statuspage's status.indicator (none, minor, major, critical,
 * maintenance) plus ours: unverified (some claim has no proof) and stopped (nothing watches on purpose).
 * It is `none` only when every component is operational.
 */
export type Indicator = 'none' | 'minor' | 'major' | 'critical' | 'maintenance' | 'unverified' | 'stopped';

export function indicatorOf(statuses: readonly ComponentStatus[]): Indicator {
  if (statuses.includes('major_outage')) return 'critical';
  if (statuses.includes('partial_outage')) return 'major';
  if (statuses.includes('unverified') || statuses.length === 0) return 'unverified';
  if (statuses.includes('stopped')) return 'stopped';
  if (statuses.includes('degraded_performance')) return 'minor';
  if (statuses.includes('under_maintenance')) return 'maintenance';
  return 'none';
}

/**
 * How long the claims may be cached (s): until the first of the evidence behind them would go
 * stale (the soonest deadline of an agent whose word counts), rounded down, so no cache serves a
 * green claim past its deadline; 0 in the last second before one. Whatever the claim, never longer
 * than MAX_CACHE_S: an outage or a grey state must clear as soon as a healthy one would.
 */
export const MAX_CACHE_S = 10;

export function cacheSecondsFor(subjects: readonly Subject[], now: number): number {
  const left = untilFirstDeadline(subjects, now);
  return left === null ? MAX_CACHE_S : Math.max(0, Math.min(MAX_CACHE_S, Math.floor(left / 1000)));
}

/**
 * When an open status page reloads itself (s, its meta refresh): a second after the first evidence
 * behind it runs out, so a page left open in a browser never stays green past a deadline; at most
 * MAX_RELOAD_S, at least 2 s. A copy served from the short-lived cache may reload up to its age
 * (the 2 s refresh period) later, still well within the agent's next deadline's grace.
 */
export const MAX_RELOAD_S = 30;

export function reloadSecondsFor(subjects: readonly Subject[], now: number): number {
  const left = untilFirstDeadline(subjects, now);
  return left === null ? MAX_RELOAD_S : Math.max(2, Math.min(MAX_RELOAD_S, Math.ceil(left / 1000) + 1));
}

/** The time (ms) until the soonest deadline of an agent whose word counts now; null when none does. */
function untilFirstDeadline(subjects: readonly Subject[], now: number): number | null {
  let left: number | null = null;
  for (const { live } of subjects)
    if (live && agentEvidence(live, now).state === 'verified') left = Math.min(left ?? Number.POSITIVE_INFINITY, live.deadlineAt - now);
  return left;
}
