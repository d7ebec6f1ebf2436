// What the public may be told about an agent. Never "operational" unless a heartbeat arrived
// before the current deadline: old data is unverified, whatever state it last had.
import type { LiveState } from './agent-state.ts';

export type DisplayState = 'operational' | 'blind' | 'unverified' | 'no_data';

export interface AgentView {
  agentId: string;
  state: DisplayState;
  /** When a heartbeat last proved the state (ms), or null if none ever did. */
  verifiedAt: number | null;
  deadlineAt: number | null;
  blindSince: number | null;
}

export function viewAgent(agentId: string, live: LiveState | null, now: number): AgentView {
  if (live === null) return { agentId, state: 'no_data', verifiedAt: null, deadlineAt: null, blindSince: null };
  const base = { agentId, verifiedAt: live.lastHeartbeatAt, deadlineAt: live.deadlineAt };
  if (live.state === 'blind') return { ...base, state: 'blind', blindSince: live.stateSince };
  // Up, but its deadline passed and no alarm has judged it yet: we do not know.
  if (now > live.deadlineAt) return { ...base, state: 'unverified', blindSince: null };
  return { ...base, state: 'operational', blindSince: null };
}

export type Overall = 'operational' | 'blind' | 'unverified';

export function overallState(views: readonly AgentView[]): Overall {
  if (views.some((v) => v.state === 'blind')) return 'blind';
  if (views.length === 0 || views.some((v) => v.state !== 'operational')) return 'unverified';
  return 'operational';
}
