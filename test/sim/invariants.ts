// What must hold after a schedule, whatever its faults. Each invariant names the promise it protects
// (test/sim/README.md lists them). check() returns the first one broken, or null.
import { LATE_RECHECK_MS } from '../../worker/core/evaluate.ts';
import { LATE_MS, SETTLE_MS, SILENCE_MONITOR, STALL_MS, stallHoldMs } from '../../worker/core/agent-state.ts';
import { MAX_QUEUED_BYTES } from '../../worker/core/replication-policy.ts';
import { CHANNELS } from './sim-config.ts';
import type { Accepted, Outcome, Pause } from './world.ts';

export interface Broken {
  invariant: string;
  detail: string;
}

/**
 * The object's whole SQLite file must stay under this: 256 KiB of live state (instances, outbox, seen
 * ids) plus the replication queue, which may hold up to MAX_QUEUED_BYTES of batches while D1 refuses,
 * counted twice for SQLite's pages and indexes (the file does not shrink when rows are deleted).
 */
export const MAX_STORED_BYTES = 256 * 1024 + 2 * MAX_QUEUED_BYTES;
/** The live state alone (the agent row and its monitor instances): the bound the cap on instances and the retiring of vanished signals keep. */
export const MAX_LIVE_BYTES = 256 * 1024;
/** A silence window closes after this many heartbeats on time (silence.recover_for's default). */
const RECOVER_FOR = 2;
/** How long an object may go on with the maintenance and silences it last read: its own re-read period. */
const PAUSE_REREAD_MS = 5 * 60_000;
/** After a read D1 refused, the object tries again no sooner than this (admin-pauses.ts). */
const REREAD_RETRY_MS = 30_000;
/** Slack on "late": the simulator's steps and the deadline's own rounding. */
const SLACK_MS = 1000;

interface KnownWindow {
  id: string;
  monitor: string;
  cause: string;
  startedAt: number;
  endedAt: number | null;
}

interface Gap {
  /** When the heartbeat before it was taken, the deadline it set, and when the heartbeat that ended the silence was taken. */
  after: number;
  from: number;
  to: number;
  /** That heartbeat was the next of its run and sent by the deadline: it waited on its way. */
  sentInTime: boolean;
  /**
   * And the object can tell: the time between the two heartbeats' sent_at (the agent's clock, which
   * a change of skew moves) added to when the one before was taken is within the deadline.
   */
  provedInTime: boolean;
  /**
   * That heartbeat was the next of its run and, as the object can tell, sent after the deadline: the
   * agent itself sent nothing meanwhile, so the silence pages even within a held-up look's wait.
   */
  provedLate: boolean;
}

/** Stretches with no heartbeat taken past the deadline the one before set (a goodbye excuses what follows it). */
export function silences(accepted: readonly Accepted[]): Gap[] {
  const gaps: Gap[] = [];
  for (let i = 0; i + 1 < accepted.length; i++) {
    const a = accepted[i] as Accepted;
    const b = accepted[i + 1] as Accepted;
    if (!a.stopping && b.at > a.deadlineAt + SLACK_MS)
      gaps.push({
        after: a.at,
        from: a.deadlineAt,
        to: b.at,
        sentInTime: b.boot === a.boot && b.seq === a.seq + 1 && b.sent <= a.deadlineAt,
        provedInTime: provedInTime(a, b),
        provedLate: provedLate(a, b),
      });
  }
  return gaps;
}

/** Gap.provedInTime: `b`, taken after `a`'s deadline, was the next of its run and sent in time, as the object can tell. */
function provedInTime(a: Accepted, b: Accepted): boolean {
  const sent = sentAsTheObjectTells(a, b);
  return b.sent <= a.deadlineAt && sent !== null && sent <= a.deadlineAt && b.at - a.deadlineAt <= LATE_MS;
}

/** Gap.provedLate: `b` was the next of its run and sent after `a`'s deadline, as the object can tell. */
function provedLate(a: Accepted, b: Accepted): boolean {
  const sent = sentAsTheObjectTells(a, b);
  return sent !== null && sent > a.deadlineAt;
}

/** When `b`, the next of `a`'s run, was sent as the object can tell: the agent's elapsed time added to when `a` was taken. */
function sentAsTheObjectTells(a: Accepted, b: Accepted): number | null {
  const elapsed = b.clock - a.clock;
  return b.boot === a.boot && b.seq === a.seq + 1 && elapsed >= 0 ? a.at + elapsed : null;
}

/**
 * Silences with fewer than RECOVER_FOR heartbeats on time between them are one stretch: one page.
 * The most windows the object may open. A heartbeat past its deadline by at most SLACK_MS, or one the
 * object can tell was sent in time (provedInTime), may have counted as on time or as a miss; the
 * count is the largest either way, heartbeat by heartbeat. Not strict alone: a miss there also
 * breaks the run of heartbeats on time, and so can join the next silence to the one before (seed
 * 31723: a heartbeat taken 1 ms past its deadline, sent in time, closed a window; the next silence
 * was a second window, paged).
 */
function stretches(accepted: readonly Accepted[]): number {
  const full = RECOVER_FOR - 1;
  // The largest count so far for each length of the run on time (capped at `full`).
  let best = new Map<number, number>([[full, 0]]);
  for (let i = 0; i + 1 < accepted.length; i++) {
    const a = accepted[i] as Accepted;
    const b = accepted[i + 1] as Accepted;
    const missed = !a.stopping && b.at > a.deadlineAt;
    const either = missed && (b.at <= a.deadlineAt + SLACK_MS || provedInTime(a, b));
    const after = new Map<number, number>();
    const keep = (run: number, count: number) => after.set(run, Math.max(after.get(run) ?? -1, count));
    for (const [run, count] of best) {
      // The heartbeat that ends a silence is its first good observation: RECOVER_FOR - 1 more close it.
      if (missed) keep(0, count + (run >= full ? 1 : 0));
      if (!missed || either) keep(Math.min(run + 1, full), count);
    }
    best = after;
  }
  return Math.max(...best.values());
}

function knownWindows(o: Outcome): Map<string, KnownWindow> {
  const known = new Map<string, KnownWindow>();
  for (const w of o.d1Windows)
    known.set(w.id, { id: w.id, monitor: w.monitor, cause: w.cause, startedAt: w.started_at, endedAt: w.ended_at });
  for (const r of o.received) {
    if (r.window === undefined) continue;
    const had = known.get(r.windowId);
    known.set(r.windowId, {
      id: r.windowId,
      monitor: r.window.monitor,
      cause: r.window.cause,
      startedAt: r.window.startedAt,
      endedAt: had?.endedAt ?? r.window.endedAt,
    });
  }
  return known;
}

/**
 * Whether the object had a moment at which it must have paged this stretch: an evaluation (an alarm,
 * a sweep, the heartbeat that ended it) while the agent was still away that was on time and under no
 * operator's silence.
 * - A silence the watchdog noticed late (its first evaluation more than LATE_MS after the deadline:
 *   alarms lost, the sweep stalled) is recorded as `watchdog_gap` and looked at again LATE_RECHECK_MS
 *   later; an evaluation is on time when what was due waited at most LATE_MS (the one before it at
 *   most LATE_RECHECK_MS + LATE_MS earlier). One the agent ended before such a moment is reported by
 *   the Watchdog's summary (not run here), or was meant by the operator.
 * - The first alarm or sweep after the deadline waits for heartbeats queued behind it, and the
 *   first evaluation after that wait judges (none within it does): SETTLE_MS when it came on time
 *   (at most STALL_MS after the deadline), stallHoldMs when it was held up itself (more than
 *   STALL_MS, at most LATE_MS).
 * - The heartbeat that ends the stretch judges it only if no evaluation did before it (nor came
 *   before it held up), and then not if it was sent in time (the next of its run, sent by the
 *   deadline): it waited on its way, or behind a Worker frozen until just after the deadline, and
 *   the agent was never silent.
 */
function hadToPage(o: Outcome, gap: Gap): boolean {
  const evals = [...new Set(o.evaluations)].sort((a, b) => a - b);
  const held = heldPauses(o.pauses, o.d1Down, o.evaluations);
  const paused = (t: number) => held.some((p) => p.from <= t && t < p.to);
  const first = evals.findIndex((t) => t >= gap.from);
  if (first < 0) return true;
  const noticed = evals[first] as number;
  const noticedLate = noticed - gap.from > LATE_MS;
  // Until the end of the first look's wait, nothing has judged the stretch: SETTLE_MS when it was on
  // time, stallHoldMs when it was held up.
  const stalled = noticed - gap.from > STALL_MS;
  const waitEnds = !noticedLate && noticed < gap.to ? noticed + (stalled ? stallHoldMs(o.intervalS) : SETTLE_MS) : null;
  let judged = false;
  for (let i = first; i < evals.length; i++) {
    const t = evals[i] as number;
    if (t > gap.to) break;
    const inWait = waitEnds !== null && t < waitEnds;
    if (t === gap.to) {
      // The heartbeat that ends it. In a stalled look's wait, the silence lay within the watchdog's own
      // stall (recorded as noticed late), unless the heartbeat proves the agent itself was silent. In an
      // on-time look's wait, it judges as if nothing had looked.
      if (judged || (inWait && stalled && !gap.provedLate)) break;
      return !noticedLate && !paused(t) && !gap.sentInTime;
    }
    if (inWait) continue;
    if (judged && t >= gap.to - SLACK_MS) break;
    const late = i === first || !judged ? noticedLate : t - (evals[i - 1] as number) > LATE_RECHECK_MS + LATE_MS;
    const beforeRecheck = i !== first && noticedLate && t < noticed + LATE_RECHECK_MS;
    if (!late && !beforeRecheck && !paused(t)) return true;
    judged = true;
  }
  return false;
}

/**
 * Whether the object must not have paged this stretch: nothing judged it before the heartbeat that
 * ended it, and that heartbeat shows the silence was not the agent's to page. Either no evaluation
 * came and the heartbeat was sent in time as the object can tell (provedInTime: it waited on its
 * way); or none judged after the first evaluation's wait, and the heartbeat was sent in time, or
 * came within the wait of a first evaluation held up (more than STALL_MS and at most LATE_MS past
 * the deadline: the silence lay within the watchdog's own stall) and does not prove the agent itself
 * silent (provedLate). That is a stalled or frozen
 * Worker draining its queue.
 */
function mustNotPage(o: Outcome, gap: Gap): boolean {
  const looks = [...new Set(o.evaluations)].filter((t) => t >= gap.from && t < gap.to).sort((a, b) => a - b);
  const first = looks[0];
  if (first === undefined) return gap.provedInTime;
  if (first - gap.from > LATE_MS) return false;
  const stalled = first - gap.from > STALL_MS;
  const hold = stalled ? stallHoldMs(o.intervalS) : SETTLE_MS;
  if (!looks.every((t) => t < first + hold)) return false;
  // On time, only a heartbeat sent in time ends it unpaged (a Worker frozen until just after the deadline).
  return (stalled && gap.to < first + hold && !gap.provedLate) || gap.provedInTime;
}

/**
 * The stretches the object may have held an operator's silence: back-to-back silences are one, and
 * one it could not be told had ended lasts until it could re-read. Its re-read is due once its last
 * read is 5 minutes old, and made at its next evaluation (a heartbeat, an alarm, the sweep's visit)
 * that D1 answers, and not within 30 s of one D1 refused (seeds 25412 and 31187: the API's tells of
 * the end all failed, and D1 refused the object's reads when the re-read came due, or the watchdog
 * was away then and D1 refused them when it was back).
 */
function heldPauses(pauses: readonly Pause[], d1Down: Outcome['d1Down'], evaluations: readonly number[]): { from: number; to: number }[] {
  const rereadBy = (due: number) =>
    evaluations.find((e) => e >= due && !d1Down.some((d) => d.from <= e && e < d.to + REREAD_RETRY_MS)) ?? Number.POSITIVE_INFINITY;
  // One expired through the API still held at its last instant: the simulator plays that instant's heartbeats first.
  const spans = pauses
    .map((p) => ({ from: p.from, to: p.releaseTold ? p.to + (p.expired ? 1 : 0) : rereadBy(p.to + (p.expired ? 1 : 0) + PAUSE_REREAD_MS) }))
    .sort((a, b) => a.from - b.from);
  const merged: { from: number; to: number }[] = [];
  for (const span of spans) {
    const last = merged.at(-1);
    if (last !== undefined && span.from <= last.to) last.to = Math.max(last.to, span.to);
    else merged.push({ ...span });
  }
  return merged;
}

/** A silence window that began under a silence the object held must not page before the silence ends. */
function pagedDuringPause(o: Outcome, w: KnownWindow, pauses: readonly Pause[]): string | null {
  for (const p of pauses) {
    if (!p.told || w.startedAt < p.from || w.startedAt >= p.to) continue;
    const early = o.received.find((r) => r.windowId === w.id && r.kind === 'trigger' && r.at < p.to);
    if (early !== undefined)
      return `window ${w.id} began at ${w.startedAt} under silence ${p.id} (${p.from}..${p.to}) and paged ${early.channel} at ${early.at}`;
  }
  return null;
}

export function check(o: Outcome): Broken | null {
  const broken = (invariant: string, detail: string): Broken => ({ invariant, detail });
  if (o.errors.length > 0) return broken('no-5xx', `an object call threw: ${o.errors[0]}`);
  if (o.lostAcks.length > 0) return broken('acks-survive-reset', o.lostAcks[0] as string);
  if (o.maxLiveBytes > MAX_LIVE_BYTES)
    return broken('state-bounded', `the live state reached ${o.maxLiveBytes} bytes (bound ${MAX_LIVE_BYTES})`);
  if (o.maxStoredBytes > MAX_STORED_BYTES)
    return broken('state-bounded', `stored state reached ${o.maxStoredBytes} bytes (bound ${MAX_STORED_BYTES})`);

  if (o.falseGreen.length > 0) return broken('no-false-green', o.falseGreen[0] as string);

  // D1 worked for the healthy minutes: everything the object decided has reached it, or was set aside.
  if (o.queued > 0)
    return broken(
      'd1-caught-up',
      `after ${HEAL_MIN} minutes of a working D1, ${o.queued} batch(es) still wait for it, the oldest from ${o.oldestQueuedAt}`,
    );

  const known = knownWindows(o);
  for (const w of known.values()) {
    if (w.endedAt !== null && w.endedAt < w.startedAt)
      return broken('windows-well-formed', `window ${w.id} ends at ${w.endedAt}, before it starts at ${w.startedAt}`);
  }

  const triggered = (channel: string, id: string) =>
    o.received.some((r) => r.channel === channel && r.kind === 'trigger' && r.windowId === id);
  const resolved = (channel: string, id: string) =>
    o.received.some((r) => r.channel === channel && r.kind === 'resolve' && r.windowId === id);
  // The silence monitor's windows, whatever their cause (silent, flapping, or a stop that paged once it expired).
  const silent = [...known.values()].filter((w) => w.monitor === SILENCE_MONITOR.agent);

  const gaps = silences(o.accepted);
  // Every deadline missed, by however little (the object's alarm at the deadline sees a heartbeat a millisecond late as a miss).
  const misses = o.accepted.flatMap((a, i) => {
    const b = o.accepted[i + 1];
    return b !== undefined && !a.stopping && b.at > a.deadlineAt ? [a.deadlineAt] : [];
  });
  for (const gap of gaps) {
    const covering = silent.filter((w) => w.startedAt <= gap.to && (w.endedAt ?? Infinity) >= gap.from);
    const paged = covering.find((w) => CHANNELS.every((c) => triggered(c, w.id)));
    // Opened for this stretch and closed before another began: a window kept open from one stretch
    // into the next pages for the next one.
    const own = covering.filter(
      (w) =>
        w.startedAt >= gap.after &&
        w.endedAt !== null &&
        !misses.some((m) => m > gap.to && m < (w.endedAt as number)) &&
        CHANNELS.some((c) => triggered(c, w.id)),
    );
    if (own.length > 0 && mustNotPage(o, gap))
      return broken(
        'not-paged-for-a-stall',
        `nothing judged the stretch from the deadline ${gap.from} before the heartbeat taken at ${gap.to} (the watchdog held up, or none came), which was sent in time or came within the wait, yet ${own.map((w) => w.id).join(', ')} paged`,
      );
    if (paged === undefined && hadToPage(o, gap)) {
      return broken(
        'silence-paged',
        `no heartbeat taken from the deadline ${gap.from} to ${gap.to} (${(gap.to - gap.from) / 1000} s), and no silence window over it was paged on every channel (covering: ${covering.map((w) => w.id).join(', ') || 'none'})`,
      );
    }
  }

  for (const w of silent) {
    const early = pagedDuringPause(o, w, o.pauses);
    if (early !== null) return broken('silence-respected', early);
  }

  // A silence window starts when the missing heartbeat was due, and is confirmed at the deadline:
  // there must have been one, with no heartbeat taken before it.
  for (const w of silent) {
    const i = o.accepted.findLastIndex((a) => a.at < w.startedAt);
    const before = o.accepted[i];
    const next = o.accepted[i + 1];
    if (before === undefined || (next !== undefined && next.at <= before.deadlineAt && !before.stopping)) {
      return broken(
        'no-false-silence',
        `silence window ${w.id} starts at ${w.startedAt}, but every heartbeat around it came before its deadline (${before?.at} then ${next?.at}, deadline ${before?.deadlineAt})`,
      );
    }
  }

  const pagedSilences = silent.filter((w) => CHANNELS.some((c) => triggered(c, w.id))).length;
  const allowed = stretches(o.accepted);
  if (pagedSilences > allowed)
    return broken('one-page-per-stretch', `${pagedSilences} silence windows paged for ${allowed} stretch(es) of silence`);

  if (o.openAtEnd.length > 0)
    return broken('resolved', `after ${HEAL_MIN} healthy minutes the object still holds windows open: ${o.openAtEnd.join(', ')}`);
  for (const c of CHANNELS) {
    for (const id of new Set(o.received.filter((r) => r.channel === c && r.kind !== 'summary').map((r) => r.windowId))) {
      if (!triggered(c, id)) return broken('resolved', `${c} got a resolve for ${id} without its trigger`);
      if (!resolved(c, id)) return broken('resolved', `${c} got a trigger for ${id} and never its resolve`);
    }
  }

  // A silence noticed late and never paged is told in the Watchdog's summary (on the webhook, which lists its windows).
  if (o.setAside === 0 && o.dropped === 0) {
    const summarised = new Set(o.received.filter((r) => r.channel === 'hook' && r.kind === 'summary').flatMap((r) => r.summarised ?? []));
    for (const w of silent) {
      const row = o.d1Windows.find((r) => r.id === w.id);
      if (row?.suppressed_by !== 'watchdog_gap' || CHANNELS.some((c) => triggered(c, w.id))) continue;
      if (!summarised.has(w.id)) return broken('late-reported', `window ${w.id}, noticed late and never paged, is in no Watchdog summary`);
    }
  }

  // Each window noticed late is told in one summary (a summary retried is one: the same webhook-id).
  const toldIn = new Map<string, Set<string>>();
  for (const r of o.received)
    if (r.channel === 'hook' && r.kind === 'summary')
      for (const id of r.summarised ?? []) toldIn.set(id, (toldIn.get(id) ?? new Set()).add(r.dedupKey));
  for (const [id, summaries] of toldIn)
    if (summaries.size > 1)
      return broken('summary-once', `window ${id} is told in ${summaries.size} Watchdog summaries: ${[...summaries].join(', ')}`);

  if (o.setAside === 0 && o.dropped === 0) {
    const inD1 = new Map(o.d1Windows.map((w) => [w.id, w]));
    for (const r of o.received) {
      if (r.window === undefined) continue;
      const row = inD1.get(r.windowId);
      if (row === undefined) return broken('d1-matches', `window ${r.windowId} was paged but D1 never got it`);
      if (row.started_at !== r.window.startedAt)
        return broken('d1-matches', `window ${r.windowId} starts at ${row.started_at} in D1, ${r.window.startedAt} as paged`);
      if (r.kind === 'resolve' && row.ended_at !== r.window.endedAt)
        return broken('d1-matches', `window ${r.windowId} ends at ${row.ended_at} in D1, ${r.window.endedAt} as resolved`);
      // Its level and peak as resolved: the last word of the object on the window, which a batch replayed late must not undo.
      if (r.kind === 'resolve' && (row.level !== r.window.level || row.peak_value !== r.window.peak))
        return broken(
          'd1-matches',
          `window ${r.windowId} is ${row.level} with peak ${row.peak_value} in D1, ${r.window.level} with peak ${r.window.peak} as resolved`,
        );
    }
    for (const row of o.d1Windows) {
      if (row.ended_at === null) return broken('d1-matches', `window ${row.id} is open in D1 but closed in its object`);
    }
    // The agent as a whole (its boot, up, blind or stopped) as the object last decided it: a restart or a
    // silence replayed late must not turn D1's row back.
    const { object: mine, d1: copy } = o.agentRows;
    if (mine !== null && (copy?.boot !== mine.boot || copy?.state !== mine.state))
      return broken(
        'd1-matches',
        `the agent is ${mine.state} on boot ${mine.boot} in its object, ${copy === null ? 'missing' : `${copy.state} on boot ${copy.boot}`} in D1`,
      );
    // Each notification as the object last decided it (a page delivered is not pending again in D1, which
    // /metrics counts); one the object no longer holds (pruned once finished) is not compared.
    for (const [id, state] of Object.entries(o.outboxStates.object)) {
      const copy = o.outboxStates.d1[id];
      if (copy !== state) return broken('d1-matches', `notification ${id} is ${state} in its object, ${copy ?? 'missing'} in D1`);
    }
  }
  return null;
}

const HEAL_MIN = 7;
