// The agent-level dead-man's switch: what a heartbeat or a passed deadline does to an agent's live state.
import { deadlineAfter, graceFor } from './deadline.ts';
import { type BlindWindow, windowId } from './blind-window.ts';

export type AgentState = 'up' | 'blind';
export const AGENT_MONITOR = 'agent';

export interface LiveState {
  agentId: string;
  boot: string;
  seq: number;
  intervalS: number;
  graceS: number;
  firstSeenAt: number;
  /** When the Worker received the newest heartbeat (ms). */
  lastHeartbeatAt: number;
  /** The agent's own sent_at of that heartbeat (ms), kept for skew checks. */
  lastSentAt: number;
  /** Absolute: stored, so an eviction or restart cannot reset it. */
  deadlineAt: number;
  state: AgentState;
  stateSince: number;
  openWindow: BlindWindow | null;
}

export interface HeartbeatFacts {
  boot: string;
  seq: number;
  intervalS: number;
  graceS: number | undefined;
  sentAt: number;
}

export type Change =
  | { type: 'first_seen' }
  | { type: 'restarted'; previousBoot: string }
  | { type: 'window_opened'; window: BlindWindow }
  | { type: 'window_closed'; window: BlindWindow };

export interface Transition {
  next: LiveState;
  changes: Change[];
}

/** A heartbeat from the same process run must carry a higher seq than the last one taken. */
export function isOutOfOrder(prev: LiveState | null, facts: Pick<HeartbeatFacts, 'boot' | 'seq'>): boolean {
  return prev !== null && prev.boot === facts.boot && facts.seq <= prev.seq;
}

export function acceptHeartbeat(prev: LiveState | null, agentId: string, facts: HeartbeatFacts, now: number): Transition {
  const graceS = graceFor(facts.intervalS, facts.graceS);
  const changes: Change[] = [];
  if (prev === null) changes.push({ type: 'first_seen' });
  else if (prev.boot !== facts.boot) changes.push({ type: 'restarted', previousBoot: prev.boot });
  if (prev?.openWindow) changes.push({ type: 'window_closed', window: { ...prev.openWindow, endedAt: now } });

  const stayedUp = prev !== null && prev.state === 'up';
  const next: LiveState = {
    agentId,
    boot: facts.boot,
    seq: facts.seq,
    intervalS: facts.intervalS,
    graceS,
    firstSeenAt: prev?.firstSeenAt ?? now,
    lastHeartbeatAt: now,
    lastSentAt: facts.sentAt,
    deadlineAt: deadlineAfter(now, facts.intervalS, graceS),
    state: 'up',
    stateSince: stayedUp ? prev.stateSince : now,
    openWindow: null,
  };
  return { next, changes };
}

/**
 * Called when the deadline may have passed. Returns null when nothing is due (a heartbeat came in
 * meanwhile, or the agent is already blind). The window starts when the missing heartbeat was due
 * and is confirmed at the deadline, whenever the alarm or the sweep actually noticed.
 */
export function expireDeadline(prev: LiveState, now: number): Transition | null {
  if (prev.state !== 'up' || now < prev.deadlineAt) return null;
  const startedAt = prev.lastHeartbeatAt + Math.round(prev.intervalS * 1000);
  const window: BlindWindow = {
    id: windowId(prev.agentId, 'agent_silent', startedAt),
    agentId: prev.agentId,
    monitor: AGENT_MONITOR,
    cause: 'agent_silent',
    startedAt,
    confirmedAt: prev.deadlineAt,
    endedAt: null,
  };
  return {
    next: { ...prev, state: 'blind', stateSince: startedAt, openWindow: window },
    changes: [{ type: 'window_opened', window }],
  };
}
