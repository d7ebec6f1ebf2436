// What the public may be told about an agent. Never "operational" unless a heartbeat arrived
// before the current deadline: old data is unverified, whatever state it last had.
import type { LiveState } from './agent-state.ts';
import { isBad } from './blind-window.ts';

export type DisplayState = 'operational' | 'degraded' | 'blind' | 'paused' | 'unverified' | 'no_data';

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
  /** Monitors that are not up, worst first. */
  troubled: MonitorView[];
}

const RANK = { blind: 3, unknown: 2, degraded: 1, up: 0 } as const;

export function viewAgent(agentId: string, live: LiveState | null, now: number): AgentView {
  if (live === null) return { agentId, state: 'no_data', verifiedAt: null, deadlineAt: null, blindSince: null, troubled: [] };
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
  const base = { agentId, verifiedAt: live.lastHeartbeatAt, deadlineAt: live.deadlineAt, troubled };
  if (live.state === 'stopped') return { ...base, state: 'paused', blindSince: null };
  if (live.state === 'blind') return { ...base, state: 'blind', blindSince: live.stateSince };
  // Up, but its deadline passed and no alarm has judged it yet: we do not know.
  if (now > live.deadlineAt) return { ...base, state: 'unverified', blindSince: null };
  const worst = troubled[0];
  if (worst === undefined) return { ...base, state: 'operational', blindSince: null };
  if (worst.state === 'blind' || worst.state === 'unknown') return { ...base, state: 'blind', blindSince: worst.since };
  return { ...base, state: 'degraded', blindSince: null };
}
