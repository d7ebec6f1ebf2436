// A schedule: what the world does to one agent's watchdog, segment by segment, generated from a seed
// by fast-check (which also shrinks a failing one to a smaller schedule that still fails).
import fc from 'fast-check';
import type { ChannelMode, D1Mode } from './faults.ts';

export type AgentMode =
  /** A heartbeat every interval, as sent. */
  | 'ok'
  /** Nothing: the agent is dead or cut off. */
  | 'dead'
  /** Each heartbeat lost on the way with probability 1/2 (a lossy link; the agent does not retry). */
  | 'lossy'
  /** Every heartbeat sent twice with the same webhook-id (a retry whose first answer was lost). */
  | 'dup'
  /** Every other heartbeat held back and delivered after the next one (reordered). */
  | 'reorder'
  /** Each heartbeat arrives up to 1.5 intervals late, in order. */
  | 'delayed'
  /** The agent's clock is 10 minutes off (sent_at), its heartbeats on time. */
  | 'skewed'
  /** A new boot at the segment's start (seq from 1), then on time. */
  | 'restart'
  /** A goodbye (stopping: true) at the segment's start, then nothing. */
  | 'stopping'
  /** On time, with six signal names that change every heartbeat (label churn). */
  | 'churn'
  /** A heartbeat every 2 intervals + 1 s: each one just past its deadline (every other one lost). */
  | 'slow';

export type Freshness = 'fresh' | 'stale' | 'flap';
export type AlarmMode = 'on_time' | 'lost' | 'delayed' | 'twice';
/**
 * An operator's silence over the agent for the segment, made through the admin API at its start:
 * `silence` ends by its own ends_at at the segment's end; `silence_expired` is set for longer and
 * expired through the admin API (DELETE) at the segment's end.
 */
export type PauseMode = 'none' | 'silence' | 'silence_expired';

export interface Segment {
  durationS: number;
  agent: AgentMode;
  freshness: Freshness;
  d1: D1Mode;
  channel: ChannelMode;
  alarm: AlarmMode;
  /** The minute cron sweep: running, or stalled for the whole segment. */
  sweep: 'on' | 'stalled';
  /** The platform itself away (alarms lost and the sweep stalled together), whatever the two above say. */
  watchdog: 'ok' | 'away';
  /** Object resets (all memory, all work in flight), as fractions of the segment. */
  resets: number[];
  /**
   * Where each reset lands (by index; absent or 0: between two steps). k ≥ 1: the objects are reset
   * while one of them awaits its k-th D1 call, channel request or timer from the reset's time on (or
   * between steps, if none comes within that step).
   */
  resetAwaits?: number[];
  /** An operator's silence over the agent, for the segment (absent in schedules printed before there were pauses). */
  pause?: PauseMode;
}

export interface Schedule {
  intervalS: number;
  /**
   * Heartbeats through the Worker's route (POST /v1/agents/:id/heartbeats, signed with a key added
   * through the admin API), not handed to the object's method. Absent in schedules printed before.
   */
  route?: boolean;
  /** Seeds the per-heartbeat coin flips (lossy, delayed, churned names). */
  noise: number;
  segments: Segment[];
}

const weighted = <T>(...pairs: [number, T][]) => fc.oneof(...pairs.map(([weight, value]) => ({ weight, arbitrary: fc.constant(value) })));

const segment: fc.Arbitrary<Segment> = fc.record({
  durationS: fc.integer({ min: 20, max: 600 }),
  agent: weighted<AgentMode>(
    [6, 'ok'],
    [3, 'dead'],
    [2, 'lossy'],
    [1, 'dup'],
    [1, 'reorder'],
    [1, 'delayed'],
    [1, 'skewed'],
    [1, 'restart'],
    [1, 'stopping'],
    [1, 'churn'],
    [2, 'slow'],
  ),
  freshness: weighted<Freshness>([6, 'fresh'], [2, 'stale'], [1, 'flap']),
  d1: weighted<D1Mode>([6, 'ok'], [2, 'refuse'], [1, 'hang'], [1, 'poison']),
  channel: weighted<ChannelMode>([6, 'ok'], [1, '500'], [1, '429'], [1, 'hang']),
  alarm: weighted<AlarmMode>([6, 'on_time'], [2, 'lost'], [1, 'delayed'], [1, 'twice']),
  sweep: weighted<'on' | 'stalled'>([4, 'on'], [1, 'stalled']),
  watchdog: weighted<'ok' | 'away'>([7, 'ok'], [1, 'away']),
  resets: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 2 }),
  resetAwaits: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 2, maxLength: 2 }),
  pause: weighted<PauseMode>([10, 'none'], [1, 'silence'], [1, 'silence_expired']),
});

/**
 * The watchdog away while the agent is gone, and the agent still gone (or flapping) once it is back:
 * the silence is noticed late and must page once the watchdog is on time. Random segments reach this
 * too rarely, so one schedule in five is built around it.
 */
const awayWhileDead: fc.Arbitrary<Segment[]> = fc
  .tuple(
    segment,
    segment.map((s) => ({ ...s, agent: 'dead' as const, watchdog: 'away' as const, durationS: Math.max(s.durationS, 150) })),
    fc
      .tuple(segment, weighted<AgentMode>([3, 'dead'], [1, 'lossy'], [1, 'slow']))
      .map(([s, agent]) => ({ ...s, agent, watchdog: 'ok' as const })),
    fc.array(segment, { maxLength: 2 }),
  )
  .map(([before, away, after, rest]) => [before, away, after, ...rest]);

export const scheduleArb: fc.Arbitrary<Schedule> = fc.record({
  intervalS: fc.constantFrom(5, 10, 15),
  route: weighted<boolean>([2, false], [1, true]),
  noise: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  segments: fc.oneof({ weight: 4, arbitrary: fc.array(segment, { minLength: 1, maxLength: 6 }) }, { weight: 1, arbitrary: awayWhileDead }),
});

/** A small deterministic PRNG (mulberry32) for the per-heartbeat coin flips. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
