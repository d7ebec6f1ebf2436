// What the public may be told about an agent. Never "operational" unless every monitor of it stands
// on a fresh, good observation (core/evidence.ts): old data is unverified, whatever state it last had.
import type { LiveState } from './agent-state.ts';
import { isBad } from './blind-window.ts';
import { alertPathEvidence, evidenceOf, measuresPipeline } from './evidence.ts';

export type DisplayState = 'operational' | 'degraded' | 'blind' | 'stopped' | 'unverified' | 'no_data';

export interface MonitorView {
  id: string;
  state: 'up' | 'degraded' | 'blind' | 'unknown';
  flapping: boolean;
  value: number | null;
  since: number;
}

export interface AgentView {
  agentId: string;
  state: DisplayState;
  /** When a heartbeat last proved the state (ms), or null if none ever did. */
  verifiedAt: number | null;
  deadlineAt: number | null;
  blindSince: number | null;
  /** Unverified: why, in a few words. */
  why: string | null;
  /** Monitors that are not up, worst first. */
  troubled: MonitorView[];
}

const RANK = { blind: 3, unknown: 2, degraded: 1, up: 0 } as const;

/** `watchdogStalled`: the watchdog's own sweeps stopped, so nothing it shows is verified. */
export function viewAgent(agentId: string, live: LiveState | null, now: number, watchdogStalled = false): AgentView {
  if (live === null) return { agentId, state: 'no_data', verifiedAt: null, deadlineAt: null, blindSince: null, why: null, troubled: [] };
  const troubled = Object.values(live.monitors)
    .filter((m) => isBad(m.level) || m.flapping)
    .map(
      (m): MonitorView => ({
        id: m.monitor,
        state: m.level,
        flapping: m.flapping,
        value: m.window?.peakValue ?? m.value,
        since: m.window?.startedAt ?? m.levelSince,
      }),
    )
    .sort((a, b) => RANK[b.state] - RANK[a.state] || a.id.localeCompare(b.id));
  const base = { agentId, verifiedAt: live.lastHeartbeatAt, deadlineAt: live.deadlineAt, troubled, why: null };
  if (live.state === 'stopped' || live.stopping) return { ...base, state: 'stopped', blindSince: null };
  if (live.state === 'blind') return { ...base, state: 'blind', blindSince: live.stateSince };
  // Up, but its deadline passed and no alarm has judged it yet: we do not know.
  if (now > live.deadlineAt) return { ...base, state: 'unverified', blindSince: null, why: 'heartbeat overdue' };
  const worst = troubled[0];
  if (worst !== undefined && (worst.state === 'blind' || worst.state === 'unknown'))
    return { ...base, state: 'blind', blindSince: worst.since };
  if (watchdogStalled) return { ...base, state: 'unverified', blindSince: null, why: 'the watchdog is not evaluating' };
  // An Alertmanager source has no probes: the Watchdog alert arriving on time is its measurement.
  if (live.kind === 'alert_source') {
    const path = alertPathEvidence(live, now);
    if (path.state !== 'verified') return { ...base, state: 'unverified', blindSince: null, why: path.why };
    return { ...base, state: path.level === 'up' ? 'operational' : 'degraded', blindSince: null };
  }
  const unproven = Object.values(live.monitors)
    .map((m) => ({ id: m.monitor, evidence: evidenceOf(live, m, now) }))
    .find((m) => m.evidence.state !== 'verified');
  if (unproven !== undefined) return { ...base, state: 'unverified', blindSince: null, why: `${unproven.id}: ${unproven.evidence.why}` };
  if (!Object.keys(live.monitors).some(measuresPipeline))
    return { ...base, state: 'unverified', blindSince: null, why: 'alive, but its heartbeats measure nothing' };
  if (worst === undefined) return { ...base, state: 'operational', blindSince: null };
  return { ...base, state: 'degraded', blindSince: null };
}
