// One monitor on one agent: hysteresis both ways, flapping, and the window it keeps.
// A window opens only after a bad run held for `for`, and closes only after a good run held for
// `recover_for`; a monitor whose observations flip too often is `flapping` and keeps one window open.
import type { Flapping, Hold, MonitorDef } from '../../config/resolve.ts';
import {
  type BadLevel,
  type BlindWindow,
  isBad,
  isWorse,
  type Level,
  type WindowCause,
  windowId,
  worse,
  worsePeak,
} from './blind-window.ts';
import type { Observation } from './signal-level.ts';

interface Run {
  since: number;
  count: number;
}
interface BadRun extends Run {
  level: BadLevel;
  cause: WindowCause;
  signal: string | null;
  peak: number | null;
}

export interface MonitorInstance {
  monitor: string;
  /** Confirmed level: changes only through hysteresis. */
  level: Level;
  levelSince: number;
  /** Last observed level and what it measured. */
  raw: Level;
  /** When the observations last turned from good to bad or back. */
  rawSince: number;
  value: number | null;
  signal: string | null;
  error: string | null;
  observedAt: number;
  pending: BadRun | null;
  recovering: Run | null;
  /** Times the observations turned from good to bad or back, within the flapping period. */
  changes: number[];
  flapping: boolean;
  window: BlindWindow | null;
  /** Per signal, sampling ratios at most one per minute over the last hour (the baseline). */
  baselines: Record<string, { at: number; v: number }[]>;
  /** Monitors its signals are read through (their `via`): while one of them is bad, this one does not page. */
  via?: string[];
  /** A count of dropped items that still speaks for the heartbeats after it, until `until` (see COUNT_HOLD_MS). */
  countHold?: { obs: Observation; until: number; via?: string };
}

export type InstanceChange =
  | { type: 'opened'; window: BlindWindow }
  | { type: 'closed'; window: BlindWindow }
  | { type: 'escalated'; window: BlindWindow };

export interface StepContext {
  agentId: string;
  def: MonitorDef;
  /** Decided by the caller when a window opens: why it is recorded but not paged, or null to page. */
  suppression: () => string | null;
  lowerIsWorse: boolean;
}

export function newInstance(monitor: string, now: number): MonitorInstance {
  return {
    monitor,
    level: 'up',
    levelSince: now,
    raw: 'up',
    rawSince: now,
    value: null,
    signal: null,
    error: null,
    observedAt: now,
    pending: null,
    recovering: null,
    changes: [],
    flapping: false,
    window: null,
    baselines: {},
  };
}

const holds = (run: Run, hold: Hold, now: number) => run.count >= hold.heartbeats && now - run.since >= hold.seconds * 1000;

/**
 * Applies one observation made at `at` (by default `now`), then whatever hold it completes by `now`.
 * A missed deadline is observed when the heartbeat was due, though noticed at the deadline.
 */
export function observe(
  prev: MonitorInstance,
  obs: Observation,
  ctx: StepContext,
  now: number,
  at: number = now,
): { next: MonitorInstance; changes: InstanceChange[] } {
  const turned = isBad(obs.level) !== isBad(prev.raw);
  const next: MonitorInstance = {
    ...prev,
    raw: obs.level,
    rawSince: turned ? at : prev.rawSince,
    value: obs.value,
    signal: obs.signal,
    error: obs.error,
    observedAt: at,
    changes: recentChanges(turned ? [...prev.changes, at] : prev.changes, ctx.def.flapping, now),
  };
  const changes: InstanceChange[] = [];

  if (!next.flapping && next.changes.length >= ctx.def.flapping.transitions) startFlapping(next, obs, ctx, now, changes);
  else if (next.flapping) holdWindow(next, obs, ctx, changes);
  else if (next.window === null) {
    next.recovering = null;
    next.pending = isBad(obs.level) ? extendBadRun(next.pending, obs, ctx.lowerIsWorse, at) : null;
  } else if (isBad(obs.level)) {
    next.recovering = null;
    next.level = obs.level;
    holdWindow(next, obs, ctx, changes);
  } else {
    next.recovering = next.recovering === null ? { since: at, count: 1 } : { ...next.recovering, count: next.recovering.count + 1 };
  }
  changes.push(...settle(next, ctx, now));
  return { next, changes };
}

/**
 * Completes holds whose time has come; called after every observation and by the alarm. Mutates
 * `inst` (a copy the caller owns) and returns what happened.
 */
export function settle(inst: MonitorInstance, ctx: StepContext, now: number): InstanceChange[] {
  if (inst.flapping) return now - inst.rawSince >= ctx.def.flapping.stableS * 1000 ? stopFlapping(inst) : [];
  if (inst.window === null && inst.pending !== null && holds(inst.pending, ctx.def.for, now)) {
    const run = inst.pending;
    inst.pending = null;
    inst.level = run.level;
    inst.levelSince = run.since;
    inst.window = openWindow(ctx, { cause: run.cause, level: run.level, signal: run.signal, peak: run.peak, startedAt: run.since }, now);
    return [{ type: 'opened', window: inst.window }];
  }
  if (inst.window !== null && inst.recovering !== null && holds(inst.recovering, ctx.def.recoverFor, now)) {
    const window = endWindow(inst.window, inst.recovering.since);
    inst.level = 'up';
    inst.levelSince = inst.recovering.since;
    inst.recovering = null;
    inst.window = null;
    return [{ type: 'closed', window }];
  }
  return [];
}

/** When the alarm must run next for this instance, if a hold or a flapping period can complete on time alone. */
export function dueAt(inst: MonitorInstance, def: MonitorDef): number | null {
  if (inst.flapping) return inst.rawSince + def.flapping.stableS * 1000;
  const run = inst.window === null ? inst.pending : inst.recovering;
  const hold = inst.window === null ? def.for : def.recoverFor;
  if (run === null || run.count < hold.heartbeats) return null;
  return run.since + hold.seconds * 1000;
}

/** Ends the instance's open window now (its monitor was removed, or the agent stopped sending its signal). */
export function retire(inst: MonitorInstance, now: number): InstanceChange[] {
  return inst.window === null ? [] : [{ type: 'closed', window: endWindow(inst.window, now) }];
}

/** A window never ends before it started, whatever order two clocks or two events saw it in. */
export function endWindow(w: BlindWindow, at: number): BlindWindow {
  return { ...w, endedAt: Math.max(at, w.startedAt) };
}

function extendBadRun(run: BadRun | null, obs: Observation, lowerIsWorse: boolean, now: number): BadRun {
  const level = obs.level as BadLevel;
  // A held count keeps the run going but is not another bad heartbeat: `for` counts evidence.
  const counted = obs.held === true ? 0 : 1;
  if (run === null) return { since: now, count: counted, level, cause: obs.cause, signal: obs.signal, peak: obs.value };
  const escalates = isWorse(level, run.level);
  return {
    ...run,
    count: run.count + counted,
    level: worse(run.level, level),
    cause: escalates ? obs.cause : run.cause,
    signal: escalates ? obs.signal : run.signal,
    peak: worsePeak(run.peak, obs.value, lowerIsWorse),
  };
}

function holdWindow(inst: MonitorInstance, obs: Observation, ctx: StepContext, changes: InstanceChange[]): void {
  if (inst.window === null || !isBad(obs.level)) return;
  const peakValue = worsePeak(inst.window.peakValue, obs.value, ctx.lowerIsWorse);
  if (isWorse(obs.level, inst.window.level)) {
    inst.window = { ...inst.window, level: obs.level, peakValue };
    changes.push({ type: 'escalated', window: inst.window });
  } else {
    inst.window = { ...inst.window, peakValue };
  }
}

function startFlapping(inst: MonitorInstance, obs: Observation, ctx: StepContext, now: number, changes: InstanceChange[]): void {
  inst.flapping = true;
  const pending = inst.pending;
  inst.pending = null;
  inst.recovering = null;
  if (inst.window !== null) return;
  const level: BadLevel = isBad(obs.level) ? worse(obs.level, pending?.level ?? obs.level) : (pending?.level ?? 'degraded');
  // The first bad observation among the recent flips (they alternate, so it is the first or the
  // second), but never before the last window closed: those flips were that window's, and a window
  // starting there would take its id (and its already-sent page and resolve would stand for this one).
  const startedAt = Math.max(firstBadFlip(inst.changes, isBad(obs.level)), inst.level === 'up' ? inst.levelSince : 0);
  inst.level = level;
  inst.levelSince = startedAt;
  const peak = worsePeak(pending?.peak ?? null, isBad(obs.level) ? obs.value : null, ctx.lowerIsWorse);
  inst.window = openWindow(ctx, { cause: 'flapping', level, signal: obs.signal, peak, startedAt }, now);
  changes.push({ type: 'opened', window: inst.window });
}

function stopFlapping(inst: MonitorInstance): InstanceChange[] {
  inst.flapping = false;
  inst.changes = [];
  if (isBad(inst.raw)) {
    inst.level = inst.raw;
    return [];
  }
  const window = inst.window === null ? null : endWindow(inst.window, inst.rawSince);
  inst.level = 'up';
  inst.levelSince = inst.rawSince;
  inst.window = null;
  return window === null ? [] : [{ type: 'closed', window }];
}

function firstBadFlip(changes: readonly number[], lastIsBad: boolean): number {
  // changes alternate good→bad / bad→good and end with the latest flip; walk back to the oldest bad one.
  const n = changes.length;
  const oldestIsBad = (n % 2 === 1) === lastIsBad;
  return (oldestIsBad ? changes[0] : (changes[1] ?? changes[0])) ?? 0;
}

function recentChanges(changes: readonly number[], flapping: Flapping, now: number): number[] {
  const from = now - flapping.withinS * 1000;
  return changes.filter((t) => t > from).slice(-Math.max(flapping.transitions * 2, 16));
}

function openWindow(
  ctx: StepContext,
  w: { cause: WindowCause; level: BadLevel; signal: string | null; peak: number | null; startedAt: number },
  now: number,
): BlindWindow {
  const suppressedBy = ctx.suppression();
  return {
    id: windowId(ctx.agentId, ctx.def.id, w.startedAt),
    agentId: ctx.agentId,
    monitor: ctx.def.id,
    component: ctx.def.component,
    severity: ctx.def.severity,
    cause: w.cause,
    level: w.level,
    signal: w.signal,
    startedAt: w.startedAt,
    confirmedAt: now,
    endedAt: null,
    peakValue: w.peak,
    suppressedBy,
    paged: suppressedBy === null,
  };
}
