// Rollups: seconds each monitor spent in each state, accrued in 5-minute buckets, and per-signal
// last/min/max per day. Accumulated in the agent's Durable Object and added to the agent's row for
// the day in D1 when a 5-minute bucket is complete: about one D1 write, of one row, per agent per
// 5 minutes, not one per heartbeat.
import { MAX_BUCKET_MONITORS, MAX_DAY_SIGNALS, OVERFLOW_MONITOR, OVERFLOW_SIGNAL } from './state-limits.ts';

export const BUCKET_MS = 5 * 60_000;
export const DAY_MS = 86_400_000;
/** Rollups are flushed at most this often, whatever happens. */
export const MIN_FLUSH_INTERVAL_MS = 60_000;

export const ROLLUP_STATES = ['good', 'degraded', 'blind', 'unknown', 'paused'] as const;
export type RollupState = (typeof ROLLUP_STATES)[number];
export type StateSeconds = Record<RollupState, number>;

export interface SignalStats {
  name: string;
  last: number | null;
  min: number | null;
  max: number | null;
  samples: number;
  unknown: number;
}

export interface RollupAcc {
  /** 5-minute bucket start (ms) → monitor → seconds per state. */
  buckets: Record<string, Record<string, StateSeconds>>;
  /** UTC day start (ms) → signal key → stats (hour starts in state kept from before: folded into their day when written). */
  signals: Record<string, Record<string, SignalStats>>;
}

export const emptyRollup = (): RollupAcc => ({ buckets: {}, signals: {} });
const zero = (): StateSeconds => ({ good: 0, degraded: 0, blind: 0, unknown: 0, paused: 0 });
export const bucketStart = (t: number, size = BUCKET_MS) => Math.floor(t / size) * size;

/** Adds the time from `from` to `to` spent in `state`, split at 5-minute boundaries. Mutates `acc`. */
export function accrue(acc: RollupAcc, monitor: string, state: RollupState, from: number, to: number): void {
  let t = from;
  while (t < to) {
    const start = bucketStart(t);
    const end = Math.min(to, start + BUCKET_MS);
    const bucket = (acc.buckets[start] ??= {});
    const key = monitor in bucket || Object.keys(bucket).length < MAX_BUCKET_MONITORS ? monitor : OVERFLOW_MONITOR;
    const seconds = (bucket[key] ??= zero());
    seconds[state] += (end - t) / 1000;
    t = end;
  }
}

/** Folds one signal value (null: the probe could not measure) into its day. Mutates `acc`. */
export function recordSignal(acc: RollupAcc, key: string, name: string, value: number | null, at: number): void {
  const day = (acc.signals[bucketStart(at, DAY_MS)] ??= {});
  const known = key in day || Object.keys(day).length < MAX_DAY_SIGNALS;
  const s = (day[known ? key : OVERFLOW_SIGNAL] ??= {
    name: known ? name : OVERFLOW_SIGNAL,
    last: null,
    min: null,
    max: null,
    samples: 0,
    unknown: 0,
  });
  if (value === null) {
    s.unknown++;
    return;
  }
  s.last = value;
  s.min = s.min === null ? value : Math.min(s.min, value);
  s.max = s.max === null ? value : Math.max(s.max, value);
  s.samples++;
}

export interface RollupFlush {
  buckets: Record<string, Record<string, StateSeconds>>;
  signals: Record<string, Record<string, SignalStats>>;
  /**
   * When the flush was taken: it stamps the day rows it adds to, so a batch D1 took but answered
   * too late to be counted is not added twice when sent again. Flushes are a minute apart or more
   * (flushDue), so one agent's stamps only grow.
   */
  takenAt: number;
}

/** Whether a flush is due: a complete 5-minute bucket waits, and the last flush was a minute ago or more. */
/** How long after a bucket ends each agent writes it: spread over a minute, so agents do not all write D1 at once. */
export const FLUSH_SPREAD_MS = 60_000;

/**
 * This agent's place in the spread, from its id (FNV-1a): fixed for an agent, uniform across agents.
 * Without it every agent's alarm would fire at the same bucket boundary and queue on D1's one writer.
 */
export function flushSpreadMs(agentId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < agentId.length; i++) h = Math.imul(h ^ agentId.charCodeAt(i), 0x01000193);
  return (h >>> 0) % FLUSH_SPREAD_MS;
}

export function flushDue(acc: RollupAcc, lastFlushAt: number, now: number, spreadMs = 0): boolean {
  if (now - lastFlushAt < MIN_FLUSH_INTERVAL_MS) return false;
  return Object.keys(acc.buckets).some((start) => Number(start) + BUCKET_MS + spreadMs <= now);
}

/** Splits off the complete buckets (and all signal stats, which D1 merges by upsert) for writing. */
export function takeComplete(acc: RollupAcc, now: number): { flush: RollupFlush; rest: RollupAcc } {
  const flush: RollupFlush = { buckets: {}, signals: acc.signals, takenAt: now };
  const rest: RollupAcc = { buckets: {}, signals: {} };
  for (const [start, monitors] of Object.entries(acc.buckets)) {
    if (Number(start) + BUCKET_MS <= now) flush.buckets[start] = monitors;
    else rest.buckets[start] = monitors;
  }
  return { flush, rest };
}

/** When the oldest waiting bucket completes (the alarm then flushes it, even for a silent agent). */
export function nextFlushAt(acc: RollupAcc, lastFlushAt: number, spreadMs = 0): number | null {
  const starts = Object.keys(acc.buckets).map(Number);
  if (starts.length === 0) return null;
  return Math.max(Math.min(...starts) + BUCKET_MS + spreadMs, lastFlushAt + MIN_FLUSH_INTERVAL_MS);
}
