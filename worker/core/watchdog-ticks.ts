// The watchdog's own liveness. Each sweep records a tick; a tick that comes more than twice the
// period after the last one means the watchdog was not evaluating in between: that is a gap.
export const SWEEP_PERIOD_MS = 60_000;

export interface TickState {
  lastTickAt: number;
}

export interface Gap {
  id: string;
  /** When the first missing tick was due. */
  startedAt: number;
  endedAt: number;
}

/** No sweep for this long means the watchdog is not evaluating: nothing it shows is verified, and /healthz says so. */
export const SWEEP_STALL_MS = 5 * SWEEP_PERIOD_MS;

/**
 * Whether the watchdog's sweeps have stopped, from when the last one ticked: null if none ever did
 * (a Worker just deployed: its first cron comes within the minute), undefined if that could not be
 * read (then nothing can be vouched for).
 */
export function sweepStalled(lastTickAt: number | null | undefined, now: number): boolean {
  return lastTickAt === undefined || (lastTickAt !== null && now - lastTickAt > SWEEP_STALL_MS);
}

/**
 * No sweep has ever run, though agents were heard longer ago than a stall: not a Worker just
 * deployed, but one whose cron trigger is missing (its gaps are never told, its history never pruned).
 */
export function sweepNeverRan(lastTickAt: number | null | undefined, firstHeardAt: number | null, now: number): boolean {
  return lastTickAt === null && firstHeardAt !== null && now - firstHeardAt > SWEEP_STALL_MS;
}

export function recordTick(prev: TickState | null, now: number): { next: TickState; gap: Gap | null } {
  if (prev === null || now - prev.lastTickAt <= 2 * SWEEP_PERIOD_MS)
    return { next: { lastTickAt: Math.max(now, prev?.lastTickAt ?? 0) }, gap: null };
  const startedAt = prev.lastTickAt + SWEEP_PERIOD_MS;
  return { next: { lastTickAt: now }, gap: { id: `watchdog:gap:${startedAt}`, startedAt, endedAt: now } };
}

/**
 * The agents one sweep visits, in the order it starts them: the sorted list from just after `after`
 * (the last agent the previous sweep started; null: from the first), wrapping round, at most
 * `maxVisits` of them. A Cloudflare invocation may make only so many subrequests (10 000 by default
 * on Workers Paid, far fewer on Free), and each visit is one: past that every call fails, the
 * summary and the prune after the visits with them. A sweep may also stop starting visits when its
 * time is up (jobs/sweep.ts). Either way the next one carries on where it stopped, so every agent is
 * visited in turn and none is left behind for good. Alarms detect; the sweep is the net under a lost one.
 */
export function sweepTurn(agents: readonly string[], maxVisits: number, after: string | null): string[] {
  const sorted = [...agents].sort();
  const first = after === null ? 0 : sorted.findIndex((id) => id > after);
  const start = first === -1 ? 0 : first;
  return Array.from({ length: Math.min(maxVisits, sorted.length) }, (_, i) => sorted[(start + i) % sorted.length] as string);
}

/**
 * The agents a sweep visited: every one it knew (`whole`), or the run of the sorted list after
 * `after` (null: from the first) through `through`, wrapping round (a fleet visited in turns, or a
 * sweep whose time ran out).
 */
export interface VisitedRun {
  whole: boolean;
  after: string | null;
  through: string | null;
}

/** Whether the sweep that visited `run` visited `agent` (or would have, had it still been listed). */
export function visitedIn(run: VisitedRun, agent: string): boolean {
  if (run.whole) return true;
  if (run.through === null) return false;
  const after = run.after ?? '';
  return after < run.through ? agent > after && agent <= run.through : agent > after || agent <= run.through;
}

/** Visits per sweep when BLINDSPOT_SWEEP_MAX_VISITS is not set: under Workers Paid's default of 10 000 subrequests, with room for the rest of the sweep. */
export const DEFAULT_SWEEP_MAX_VISITS = 9_000;

/** BLINDSPOT_SWEEP_MAX_VISITS as a number of visits, or why it cannot be one. */
export function parseSweepMaxVisits(raw: string | undefined): { visits: number; error: string | null } {
  if (raw === undefined || raw.trim() === '') return { visits: DEFAULT_SWEEP_MAX_VISITS, error: null };
  const n = Number(raw);
  if (Number.isInteger(n) && n >= 1 && n <= 10_000_000) return { visits: n, error: null };
  return {
    visits: DEFAULT_SWEEP_MAX_VISITS,
    error: `BLINDSPOT_SWEEP_MAX_VISITS is "${raw.slice(0, 40)}"; give a whole number of visits from 1 to 10000000 (your plan's subrequests per invocation, less 100). Using ${DEFAULT_SWEEP_MAX_VISITS}`,
  };
}
