// How a Durable Object's replication queue toward D1 behaves when D1 refuses: what is an outage (wait
// and retry, in order) and what will never go through (set the batch aside after a few tries), how
// long to wait, and how much may wait. Pure.

/** A batch refused this many times for a reason that will not go away is set aside. */
export const PERMANENT_TRIES = 3;
/** The queue's bounds: past either, the oldest batches are dropped, loudly and counted. */
export const MAX_QUEUED_BATCHES = 2000;
export const MAX_QUEUED_BYTES = 1024 * 1024;
/**
 * Batches set aside (refused for good) are kept for an operator to retry or acknowledge, within
 * these bounds: a D1 that refuses every batch for good (its schema behind the code's) would otherwise
 * grow them without end. Past them the oldest go, counted as dropped.
 */
export const MAX_SET_ASIDE_BATCHES = 200;
export const MAX_SET_ASIDE_BYTES = 512 * 1024;

/**
 * SQLite's refusals of the statement itself: a constraint (CHECK, UNIQUE, a trigger's RAISE), a type,
 * a syntax error, a value too big. "no such table" is not among them: a table renamed or a migration
 * not yet applied is an outage that ends.
 */
const PERMANENT =
  /SQLITE_CONSTRAINT|constraint failed|SQLITE_MISMATCH|datatype mismatch|syntax error|SQLITE_TOOBIG|too many SQL variables|SQLITE_RANGE/i;

export type Refusal = 'permanent' | 'transient';

export function classifyRefusal(message: string): Refusal {
  return PERMANENT.test(message) ? 'permanent' : 'transient';
}

/**
 * How D1, or the connection to it, fails: `D1_ERROR: …`, `D1 DB is overloaded…`, a lock, a lost
 * connection, or our own bounded waits (`D1 did not answer within … ms`, durable/clock.ts within).
 */
const D1_FAILURE = /^D1[_ ]|SQLITE_BUSY|SQLITE_LOCKED|Network connection lost/;

/**
 * A D1 failure that passes (an outage, a lock, an overload, a lost connection, a table renamed away):
 * a request that met it was good and may be sent again. A permanent refusal is not one: it is a bug.
 */
export function isD1Outage(message: string): boolean {
  return D1_FAILURE.test(message) && classifyRefusal(message) === 'transient';
}

export type RefusalDecision = { action: 'set_aside' } | { action: 'retry'; at: number };

/** After a refusal: a permanent one is retried a few times (it may have been a racing write), then set aside; an outage waits with backoff. */
export function afterRefusal(refusal: Refusal, tries: number, now: number): RefusalDecision {
  if (refusal === 'permanent' && tries + 1 >= PERMANENT_TRIES) return { action: 'set_aside' };
  return { action: 'retry', at: now + retryDelayMs(tries) };
}

/** 1 s, 2 s, 4 s ... capped at a minute: an outage is probed once a minute at most per object. */
export function retryDelayMs(tries: number): number {
  return Math.min(60_000, 1000 * 2 ** Math.min(tries, 6));
}

/** History D1 lacks: batches refused for good and set aside, or dropped. */
export interface Losses {
  setAside: number;
  dropped: number;
}

/**
 * What /healthz says of the history D1 lacks, for the agents' objects (as the sweeps found them) and
 * for the Watchdog object's own (its summaries, the gaps in its ticks): one sentence each with losses,
 * naming the command that shows them. Either with a sentence fails /healthz.
 */
export function historyLossErrors(
  agents: (Losses & { agents: number }) | null,
  watchdog: Losses | null,
): { agents: string[]; watchdog: string[] } {
  const lost = (l: Losses) => l.setAside > 0 || l.dropped > 0;
  const said = (l: Losses) => `${l.setAside} batch(es) set aside (refused by D1 for good) and ${l.dropped} dropped`;
  const fix = (cli: string) => `${cli} shows them; retry once D1 takes them, or acknowledge them`;
  return {
    agents:
      agents !== null && lost(agents)
        ? [`D1 lacks history of ${agents.agents} agent(s): ${said(agents)}. ${fix('blindspot agent replication')}`]
        : [],
    watchdog:
      watchdog !== null && lost(watchdog)
        ? [
            `D1 lacks history of the Watchdog object (its summaries, the gaps in its ticks): ${said(watchdog)}. ${fix('blindspot watchdog replication')}`,
          ]
        : [],
  };
}
