// The live state of one agent (or one Alertmanager source) and its dead-man's switch: what a
// heartbeat or a passed deadline does at the level of the whole agent.
import type { Signal } from '../../protocol/heartbeat.ts';
import { type BlindWindow, windowId } from './blind-window.ts';
import { deadlineAfter, graceFor } from './deadline.ts';
import type { MonitorInstance } from './monitor-instance.ts';
import { emptyRollup, type RollupAcc } from './rollup.ts';

export type SubjectKind = 'agent' | 'alert_source';
export type AgentState = 'up' | 'blind' | 'stopped';

/** The monitor that watches the heartbeats themselves. */
export const SILENCE_MONITOR: Record<SubjectKind, string> = { agent: 'agent', alert_source: 'alert_path' };
export const CLOCK_SKEW_MONITOR = 'clock_skew';
/** An alarm or sweep later than this after its due time means the watchdog itself was not running. */
export const LATE_MS = 2 * 60_000;

export interface LiveState {
  kind: SubjectKind;
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
  /** The silence window (agent_silent, agent_stopped or alert_path_silent), while open. */
  openWindow: BlindWindow | null;
  /** The newest heartbeat said the agent is stopping on purpose: its silence is expected. */
  stopping: boolean;
  monitors: Record<string, MonitorInstance>;
  /** Time up to which every monitor's state has been added to the rollups. */
  accountedAt: number;
  lastFlushAt: number;
  rollup: RollupAcc;
  /** The last alarm or sweep that evaluated this agent: the watchdog's own tick. */
  lastCheckAt: number | null;
}

export interface HeartbeatFacts {
  boot: string;
  seq: number;
  intervalS: number;
  graceS: number | undefined;
  sentAt: number;
  stopping: boolean;
  signals: readonly Signal[];
}

export type Change =
  | { type: 'first_seen' }
  | { type: 'restarted'; previousBoot: string }
  | { type: 'stopping' }
  | { type: 'window_opened'; window: BlindWindow }
  | { type: 'window_closed'; window: BlindWindow }
  | { type: 'window_escalated'; window: BlindWindow }
  | { type: 'window_paged'; window: BlindWindow };

export interface Transition {
  next: LiveState;
  changes: Change[];
}

/** A heartbeat from the same process run must carry a higher seq than the last one taken. */
export function isOutOfOrder(prev: LiveState | null, facts: Pick<HeartbeatFacts, 'boot' | 'seq'>): boolean {
  return prev !== null && prev.boot === facts.boot && facts.seq <= prev.seq;
}

/** Older stored states lack newer fields; fill them so an upgrade never resets a deadline. */
export function upgradeLive(stored: Partial<LiveState> & Pick<LiveState, 'agentId' | 'deadlineAt'>): LiveState {
  const now = stored.lastHeartbeatAt ?? stored.deadlineAt;
  return {
    kind: 'agent',
    boot: '',
    seq: 0,
    intervalS: 15,
    graceS: 15,
    firstSeenAt: now,
    lastHeartbeatAt: now,
    lastSentAt: now,
    state: 'up',
    stateSince: now,
    openWindow: null,
    stopping: false,
    monitors: {},
    accountedAt: now,
    lastFlushAt: now,
    rollup: emptyRollup(),
    lastCheckAt: null,
    ...stored,
  };
}

/** The agent-level part of taking a heartbeat: deadline, restart, closing a silence window. */
export function acceptAgentHeartbeat(prev: LiveState | null, kind: SubjectKind, agentId: string, facts: HeartbeatFacts, now: number): Transition {
  const graceS = graceFor(facts.intervalS, facts.graceS);
  const changes: Change[] = [];
  if (prev === null) changes.push({ type: 'first_seen' });
  else if (prev.boot !== facts.boot) changes.push({ type: 'restarted', previousBoot: prev.boot });
  if (facts.stopping && !prev?.stopping) changes.push({ type: 'stopping' });
  if (prev?.openWindow) changes.push({ type: 'window_closed', window: { ...prev.openWindow, endedAt: now } });

  const stayedUp = prev !== null && prev.state === 'up';
  const next: LiveState = {
    ...(prev ?? { monitors: {}, accountedAt: now, lastFlushAt: now, rollup: emptyRollup(), lastCheckAt: null }),
    kind,
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
    stopping: facts.stopping,
  };
  return { next, changes };
}

export interface SilenceSettings {
  component: string;
  /** The watchdog noticed this deadline late: record it, and let the sweep's summary tell people. */
  late: boolean;
  /** "maintenance:<id>" when a maintenance window or silence covers this agent's silence now. */
  maintenance?: string | null;
}

/**
 * Called when the deadline may have passed. Returns null when nothing is due. The window starts when
 * the missing heartbeat was due and is confirmed at the deadline, whenever the alarm actually ran.
 */
export function expireDeadline(prev: LiveState, settings: SilenceSettings, now: number): Transition | null {
  if (prev.state !== 'up' || now < prev.deadlineAt) return null;
  const monitor = SILENCE_MONITOR[prev.kind];
  const startedAt = prev.lastHeartbeatAt + Math.round(prev.intervalS * 1000);
  const cause = prev.stopping ? 'agent_stopped' : prev.kind === 'agent' ? 'agent_silent' : 'alert_path_silent';
  const suppressedBy = prev.stopping ? 'agent_stopped' : settings.late ? 'watchdog_gap' : (settings.maintenance ?? null);
  const window: BlindWindow = {
    id: windowId(prev.agentId, monitor, startedAt),
    agentId: prev.agentId,
    monitor,
    component: settings.component,
    severity: 'critical',
    cause,
    level: 'blind',
    signal: null,
    startedAt,
    confirmedAt: prev.deadlineAt,
    endedAt: null,
    peakValue: null,
    suppressedBy,
    paged: suppressedBy === null,
  };
  return {
    next: { ...prev, state: prev.stopping ? 'stopped' : 'blind', stateSince: startedAt, openWindow: window },
    changes: [{ type: 'window_opened', window }],
  };
}
