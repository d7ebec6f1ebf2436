// Levels, causes and blind windows: the vocabulary every evaluation speaks.
import type { Severity } from '../../config/schema.ts';

/** What one observation says. `unknown` counts as blind once it has held for its `for`. */
export type Level = 'up' | 'degraded' | 'unknown' | 'blind';
export type BadLevel = Exclude<Level, 'up'>;

const RANK: Record<Level, number> = { up: 0, degraded: 1, unknown: 2, blind: 3 };
export const isBad = (level: Level): level is BadLevel => level !== 'up';
export const worse = <L extends Level>(a: L, b: L): L => (RANK[b] > RANK[a] ? b : a);
export const isWorse = (a: Level, than: Level): boolean => RANK[a] > RANK[than];

/**
 * What a monitor may name its breaches (its `cause` in the configuration), where the signal's kind
 * alone would say something vaguer: a failed rule evaluation is not "notifications lost".
 */
export const MONITOR_CAUSES = ['alert_rules_silent', 'rules_behind', 'config_reload_failed', 'targets_missing', 'alerts_silenced'] as const;
export type MonitorCause = (typeof MONITOR_CAUSES)[number];

/** Why a window opened: the one list the engine, storage, events, notifiers and the gap report share. */
export const WINDOW_CAUSES = [
  'agent_silent',
  'agent_stopped',
  'alert_path_silent',
  'stale',
  'sampling_low',
  'sampling_drop',
  'dropped',
  'queue_backlog',
  'queue_full',
  'unknown',
  'missing_signal',
  'clock_skew',
  'flapping',
  ...MONITOR_CAUSES,
] as const;
export type WindowCause = (typeof WINDOW_CAUSES)[number];

/**
 * The causes of the windows D1 records: the engine's, and `watchdog_gap`, the watchdog's own
 * absence (a window of the pseudo-agent "*", written by the sweep). Elsewhere `watchdog_gap` is a
 * reason a window was not paged (`suppressedBy`), never a cause.
 */
export const RECORDED_CAUSES = [...WINDOW_CAUSES, 'watchdog_gap'] as const;
export type RecordedCause = (typeof RECORDED_CAUSES)[number];

/** An interval during which a monitor was not up. Times are unix milliseconds. */
export interface BlindWindow {
  id: string;
  agentId: string;
  monitor: string;
  component: string;
  severity: Severity;
  cause: WindowCause;
  /** The worst level seen while the window was open. */
  level: BadLevel;
  /** The signal that was worst when the window opened, if the monitor watches signals. */
  signal: string | null;
  /** First bad observation: for silence, when the missing heartbeat was due. */
  startedAt: number;
  confirmedAt: number;
  /** First observation of the good run that resolved it. */
  endedAt: number | null;
  /** Worst value seen (highest age or count, lowest ratio); null when nothing was measured. */
  peakValue: number | null;
  /** Why it was recorded but not paged: agent_silent, agent_stopped, depends_on:<id>, maintenance:<id>, watchdog_gap. */
  suppressedBy: string | null;
  /** Whether an opened notification was queued for it; a close is notified only if it was. */
  paged: boolean;
  /** Silence windows only: the heartbeats heard on either side, which a backfill must continue to prove the link was down. */
  anchors?: SeqAnchors;
}

/** One heartbeat's place in its agent's sequence: the process run and the counter within it. */
export interface SeqAnchor {
  boot: string;
  seq: number;
}

export interface SeqAnchors {
  /** The last heartbeat heard before the silence. */
  before: SeqAnchor | null;
  /** The newest heartbeat heard since, while the window was still open. */
  after: SeqAnchor | null;
}

/** Stable across retries, so writing the same window twice is a no-op. */
export function windowId(agentId: string, monitor: string, startedAt: number): string {
  return `${agentId}:${monitor}:${startedAt}`;
}

export function windowDurationS(window: Pick<BlindWindow, 'startedAt' | 'endedAt'>, now: number): number {
  return Math.max(0, ((window.endedAt ?? now) - window.startedAt) / 1000);
}

/** For ratios lower is worse; for ages and counts higher is worse. */
export function worsePeak(current: number | null, value: number | null, lowerIsWorse: boolean): number | null {
  if (value === null) return current;
  if (current === null) return value;
  return lowerIsWorse ? Math.min(current, value) : Math.max(current, value);
}
