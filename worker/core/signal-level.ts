// What one signal says about the pipeline it measures, by its kind's degraded and blind thresholds.
import type { KindRule, MonitorDef, Threshold } from '../../config/resolve.ts';
import type { Signal, SignalKind } from '../../protocol/heartbeat.ts';
import { type Level, type WindowCause, worse } from './blind-window.ts';

export interface Observation {
  level: Level;
  cause: WindowCause;
  value: number | null;
  /** The signal that decided the level, if any: its name and labels (see describeSignal). */
  signal: string | null;
  error: string | null;
  /** A count held over from an earlier heartbeat (COUNT_HOLD_MS): it keeps a bad run going but is no new evidence. */
  held?: true;
}

/**
 * How long a count of lost alerts or notifications keeps saying "lost" to the heartbeats after it.
 * Those losses come in bursts (a send to Alertmanager that times out every 10 s, a receiver retried
 * with backoff): heartbeats shorter than the gap between bursts would see loss, none, loss, and judge a
 * steady fault as flapping. Measured from the start of what the count covers (the previous heartbeat),
 * so at a 15 s interval or longer a count speaks only for its own heartbeat, and a single burst still
 * needs the monitor's `for` to page. Only counts named for alerts or notifications (as STRICT_DROPPED):
 * other signals of the dropped kind include gauges (Alertmanagers missing now), whose blips it would stretch.
 */
export const COUNT_HOLD_MS = 15_000;

/** Minutes of history a sampling baseline needs before a drop against it counts. */
export const MIN_BASELINE_SAMPLES = 5;

/** Dropped alerts and notifications are never routine: any one of them is blind unless a monitor says otherwise. */
const STRICT_DROPPED = /(^|[._:-])(alerts?|notifications?)([._:-]|$)/;

/** Whether a bad value of this signal holds for COUNT_HOLD_MS: a count of lost alerts or notifications. */
export const holdsCount = (signal: Pick<Signal, 'name' | 'kind'>): boolean => signal.kind === 'dropped' && STRICT_DROPPED.test(signal.name);

export function ruleFor(def: MonitorDef, signal: Pick<Signal, 'name' | 'kind'>): KindRule {
  const rule = def.rules[signal.kind];
  if (signal.kind === 'dropped' && !def.blindMaxSet && STRICT_DROPPED.test(signal.name))
    return { ...rule, blind: { ...rule.blind, max: 0 } };
  return rule;
}

export function classifySignal(signal: Signal, rule: KindRule, baselineMedian: number | null): Observation {
  const base = { value: signal.value, signal: describeSignal(signal), error: signal.error ?? null };
  if (signal.value === null) return { ...base, level: 'unknown', cause: 'unknown' };
  const value = signal.value;
  for (const level of ['blind', 'degraded'] as const) {
    const cause = breach(signal.kind, rule[level], value, baselineMedian);
    if (cause !== null) return { ...base, level, cause };
  }
  return { ...base, level: 'up', cause: causeOfKind(signal.kind) };
}

/** Longest signal description a window keeps. */
export const MAX_SIGNAL_TEXT = 512;

/**
 * A signal as a window names it: its name, then its labels as a Prometheus selector
 * (`alertmanager.silences.broad:4f1c{created_by="ops", ends_at="…", matchers="{severity=~\"critical\"}"}`),
 * so a page and the gap report say which instance, pod or silence it was. Cut at MAX_SIGNAL_TEXT.
 */
export function describeSignal(signal: Pick<Signal, 'name' | 'labels'>): string {
  const labels = Object.entries(signal.labels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const text = labels.length === 0 ? signal.name : `${signal.name}{${labels.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')}}`;
  return text.length <= MAX_SIGNAL_TEXT ? text : `${text.slice(0, MAX_SIGNAL_TEXT - 1)}…`;
}

function breach(kind: SignalKind, t: Threshold, value: number, baselineMedian: number | null): WindowCause | null {
  switch (kind) {
    case 'freshness':
      return t.maxAgeS !== undefined && value > t.maxAgeS ? 'stale' : null;
    case 'queue_age':
      return t.maxAgeS !== undefined && value > t.maxAgeS ? 'queue_backlog' : null;
    case 'dropped':
      return t.max !== undefined && value > t.max ? 'dropped' : null;
    case 'saturation':
      return t.maxRatio !== undefined && value > t.maxRatio ? 'queue_full' : null;
    case 'sampling':
      if (t.minRatio !== undefined && value < t.minRatio) return 'sampling_low';
      if (t.dropBelow !== undefined && baselineMedian !== null && baselineMedian > 0 && value < t.dropBelow * baselineMedian)
        return 'sampling_drop';
      return null;
  }
}

export function causeOfKind(kind: SignalKind): WindowCause {
  return (
    { freshness: 'stale', queue_age: 'queue_backlog', dropped: 'dropped', sampling: 'sampling_low', saturation: 'queue_full' } as const
  )[kind];
}

/** For a sampling ratio a lower value is worse; for everything else a higher one. */
export const lowerIsWorse = (kind: SignalKind | null): boolean => kind === 'sampling';

/** A monitor watching several signals is as bad as its worst one. */
export function worstOf(observations: readonly Observation[]): Observation | null {
  let worst: Observation | null = null;
  for (const o of observations) if (worst === null || worse(worst.level, o.level) !== worst.level) worst = o;
  return worst;
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
