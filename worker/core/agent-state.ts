// The live state of one agent (or one Alertmanager source) and its dead-man's switch: what a
// heartbeat or a passed deadline does at the level of the whole agent.
import type { Signal } from '../../protocol/heartbeat.ts';
import type { BlindWindow } from './blind-window.ts';
import { deadlineAfter, graceFor } from './deadline.ts';
import { type MonitorInstance, newInstance } from './monitor-instance.ts';
import { emptyRollup, type RollupAcc } from './rollup.ts';

export type SubjectKind = 'agent' | 'alert_source';
export type AgentState = 'up' | 'blind' | 'stopped';

/** The monitor that watches the heartbeats themselves. */
export const SILENCE_MONITOR: Record<SubjectKind, string> = { agent: 'agent', alert_source: 'alert_path' };
export const CLOCK_SKEW_MONITOR = 'clock_skew';
/** An alarm or sweep later than this after its due time means the watchdog itself was not running. */
export const LATE_MS = 2 * 60_000;
/**
 * An alarm or sweep that finds a deadline passed longer ago than this was held up itself (the object
 * stalled, its alarm late or lost): heartbeats the agent sent in time may be queued behind it. It
 * waits (stallHoldMs) for them before it judges the silence. An alarm on time runs within
 * milliseconds of its deadline (p99 111 ms under the public-readers benchmark's load). A Worker
 * frozen for a few seconds (a paused process, a stalled isolate) runs its overdue alarm before the
 * heartbeats it held, so an alarm even a second late must wait for them.
 */
export const STALL_MS = 250;
export const STALL_HOLD_MS = 5_000;

/**
 * An evaluation on time at a missed deadline waits this long before it judges. A Worker frozen (a
 * paused process, a stalled isolate) until just after a deadline runs its overdue alarm on time, as it
 * seems, and the heartbeats it held right after (within 20 ms under test/faults/worker-frozen.test.ts):
 * they are taken within this wait, and one sent in time ends the silence unpaged. Every page of a
 * silence comes this much after its deadline (the detection benchmark's p99 target is 1 s).
 */
export const SETTLE_MS = 250;

/** The longest a held-up evaluation waits: the page of an agent really silent comes at most this much later. */
export const STALL_HOLD_MAX_MS = 60_000;

/**
 * How long a held-up evaluation waits: STALL_HOLD_MS, or half the agent's interval and a second if
 * that is longer, up to STALL_HOLD_MAX_MS. A Worker restarted (not frozen) holds nothing: the agent's
 * own retries bring the heartbeat, and they come at most half an interval apart (agent/loop.ts), or
 * after a refused heartbeat's Retry-After (HEARTBEAT_RETRY_AFTER_S, 2 s): at a 15 s interval, up to
 * 7.5 s after the Worker is back.
 */
export const stallHoldMs = (intervalS: number): number =>
  Math.min(STALL_HOLD_MAX_MS, Math.max(STALL_HOLD_MS, Math.round(intervalS * 500) + 1000));

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
  /**
   * The silence monitor: observes "blind" at each missed deadline and "up" at each heartbeat, with
   * the same hysteresis and flapping rules as every other monitor. Its window is the silence window.
   */
  silence: MonitorInstance | null;
  /** The newest heartbeat said the agent is stopping on purpose: its silence is expected. */
  stopping: boolean;
  monitors: Record<string, MonitorInstance>;
  /** Time up to which every monitor's state has been added to the rollups. */
  accountedAt: number;
  lastFlushAt: number;
  rollup: RollupAcc;
  /** The last alarm or sweep that evaluated this agent: the watchdog's own tick. */
  lastCheckAt: number | null;
  /** An operator retired the agent (revoked it): nothing is expected of it until it is heard again. */
  retiredAt?: number;
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
  | { type: 'window_paged'; window: BlindWindow }
  /** The window's record changed and nobody is told: why it is not paged (suppressedBy). */
  | { type: 'window_updated'; window: BlindWindow };

export interface Transition {
  next: LiveState;
  changes: Change[];
}

/**
 * The live state as the public surfaces need it: without the rollup accumulators, sampling
 * baselines and flip history, which only the object's own decisions use (a fraction of the size, so
 * reading a thousand agents stays cheap).
 */
export function forPublic(live: LiveState): LiveState {
  const slim = (m: MonitorInstance): MonitorInstance => ({ ...m, baselines: {}, changes: [] });
  return {
    ...live,
    rollup: emptyRollup(),
    silence: live.silence === null ? null : slim(live.silence),
    monitors: Object.fromEntries(Object.entries(live.monitors).map(([id, m]) => [id, slim(m)])),
  };
}

/** A heartbeat from the same process run must carry a higher seq than the last one taken. */
export function isOutOfOrder(prev: LiveState | null, facts: Pick<HeartbeatFacts, 'boot' | 'seq'>): boolean {
  return prev !== null && prev.boot === facts.boot && facts.seq <= prev.seq;
}

/** Older stored states lack newer fields; fill them so an upgrade never resets a deadline. */
export function upgradeLive(
  stored: Partial<LiveState> & Pick<LiveState, 'agentId' | 'deadlineAt'> & { openWindow?: BlindWindow | null },
): LiveState {
  const now = stored.lastHeartbeatAt ?? stored.deadlineAt;
  const { openWindow, ...rest } = stored;
  // States stored before the silence monitor kept its window on the state itself.
  const silence = rest.silence ?? (openWindow ? silenceFromWindow(openWindow) : null);
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
    stopping: false,
    monitors: {},
    accountedAt: now,
    lastFlushAt: now,
    rollup: emptyRollup(),
    lastCheckAt: null,
    ...rest,
    silence,
  };
}

function silenceFromWindow(w: BlindWindow): MonitorInstance {
  return {
    ...newInstance(w.monitor, w.startedAt),
    level: w.level,
    levelSince: w.startedAt,
    raw: w.level,
    rawSince: w.startedAt,
    observedAt: w.confirmedAt,
    window: w,
  };
}

/** The agent-level part of taking a heartbeat: deadline, restart, goodbye. */
export function acceptAgentHeartbeat(
  prev: LiveState | null,
  kind: SubjectKind,
  agentId: string,
  facts: HeartbeatFacts,
  now: number,
): Transition {
  const graceS = graceFor(facts.intervalS, facts.graceS);
  const changes: Change[] = [];
  if (prev === null) changes.push({ type: 'first_seen' });
  else if (prev.boot !== facts.boot) changes.push({ type: 'restarted', previousBoot: prev.boot });
  if (facts.stopping && !prev?.stopping) changes.push({ type: 'stopping' });

  const stayedUp = prev !== null && prev.state === 'up';
  const { retiredAt: _, ...kept } = prev ?? {
    monitors: {},
    silence: null,
    accountedAt: now,
    lastFlushAt: now,
    rollup: emptyRollup(),
    lastCheckAt: null,
  };
  const next: LiveState = {
    ...kept,
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
    stopping: facts.stopping,
  };
  return { next, changes };
}

/**
 * The heartbeat that was due did not come by the deadline: the agent is silent (or stopped, after a
 * goodbye) from when that heartbeat was due. Null when nothing is due yet. The silence monitor
 * (core/silence.ts) decides what this means for its window.
 */
export function missDeadline(prev: LiveState, now: number): { next: LiveState; dueAt: number } | null {
  if (prev.state !== 'up' || prev.retiredAt !== undefined || now < prev.deadlineAt) return null;
  const dueAt = prev.lastHeartbeatAt + Math.round(prev.intervalS * 1000);
  return { next: { ...prev, state: prev.stopping ? 'stopped' : 'blind', stateSince: dueAt }, dueAt };
}
