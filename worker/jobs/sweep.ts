// The one-minute safety net. Detection itself happens in each agent's alarm; the sweep records the
// watchdog's own tick, tells a gap in its ticks (and whatever was noticed late) in one summary,
// catches what an alarm missed (each object then sends what it still owes), and prunes old data.
import { forEachAtMost } from '../at-once.ts';
import type { EnsureResult, ObjectHealth } from '../durable/agent-monitor.ts';
import { d1Wait, NoAnswer, within } from '../durable/clock.ts';
import { type Gap, sweepTurn } from '../core/watchdog-ticks.ts';
import { summaryChannels } from '../core/routing.ts';
import type { Registry } from '../notify/registry.ts';
import { type Db, runBatch } from '../store/db.ts';
import { pruneQueries } from '../store/rollups.ts';
import { insertGapWindow, listLateWindows, markSummarised } from '../store/windows.ts';
import type { LateSummary } from '../core/window-event.ts';
import type { FleetReplication } from '../store/fleet-losses.ts';
import type { Statement } from '../store/replication-queue.ts';

const HOUR_MS = 3_600_000;
const SUMMARY_LIMIT = 500;
/** A public copy nobody wrote for this long belongs to a subject that is gone. */
export const COPY_RETENTION_MS = 30 * 86_400_000;
/** Objects visited at once: ten thousand agents fit in the minute, and none waits behind a slow one. */
export const SWEEP_CONCURRENCY = 16;
/**
 * A sweep starts visits only this long after it began; the agents it did not reach are the next
 * sweep's first. With each visit bounded too (SWEEP_WAITS), a sweep ends within its minute
 * however slow the objects are (a D1 that hangs, a channel that times out): the summary and the
 * prune after the visits are never held, and sweeps do not pile up.
 */
export const SWEEP_START_BUDGET_MS = 30_000;
/**
 * How long the sweep waits for one visit (one not answered is left to finish on its own: the object
 * goes on) and for the hourly prune (a D1 that hangs; the next hour tries again).
 */
export const SWEEP_WAITS = { visitMs: 25_000, pruneMs: 20_000 };

export interface SweepDeps {
  db: Db;
  d1: D1Database;
  /** Records the sweep's tick; answers the gap it ends, the tick before, and where the last sweep's visits stopped. */
  tick: (now: number) => Promise<{ gap: Gap | null; previousTickAt: number | null; resumeAfter?: string | null }>;
  /** Every subject with an object to visit (durable/known-subjects.ts: D1's list and the public copies'). */
  subjects: () => Promise<string[]>;
  /**
   * One call per object: its ensureAlarm (evaluate what is overdue, re-arm a lost alarm, send what
   * waits), and its replication queue and what it set aside (summed into the fleet's for /healthz).
   */
  visit: (agentId: string, now: number) => Promise<{ ensured: EnsureResult; health: ObjectHealth }>;
  /** Keeps the fleet's replication for /healthz, and the last agent this sweep started (the next one carries on after it). */
  recordFleet: (fleet: FleetReplication, resumeAfter: string | null) => Promise<void>;
  /** Drops public copies nobody wrote since `before` (subjects long gone). */
  pruneCopies: (before: number) => Promise<unknown>;
  /**
   * Hands the gap and the windows noticed late to the Watchdog object, which tells those no summary
   * told yet on `channels`, records it with `history` and sends it (and retries from its alarm).
   */
  summarise: (late: LateSummary, channels: readonly string[], history: Statement[]) => Promise<unknown>;
  registry: Registry;
  /** At most this many objects are visited per sweep (BLINDSPOT_SWEEP_MAX_VISITS; core/watchdog-ticks.ts sweepTurn). */
  maxVisits: number;
  /** How long a visit, and the prune, may take before the sweep goes on without them (SWEEP_WAITS; a seam for tests). */
  waits: { visitMs: number; pruneMs: number };
  now: () => number;
}

export interface SweepReport {
  checked: number;
  /** Agents left for the next sweeps: the fleet is larger than one sweep's visits, or the sweep's time was up. */
  deferred: number;
  rearmed: string[];
  fired: string[];
  failed: string[];
  /** Visits not answered within waits.visitMs (the objects go on with them; counted in `failed` too). */
  unanswered: string[];
  gap: Gap | null;
  summarised: number;
  /** This sweep pruned D1's old rows (the first of each hour; false if D1 refused). */
  pruned: boolean;
}

export async function runSweep(deps: SweepDeps): Promise<SweepReport> {
  const now = deps.now();
  // The tick records the watchdog's own heartbeat; if it fails, the agents are still checked.
  const ticked = await deps.tick(now).catch((e: unknown) => {
    console.error('sweep: the watchdog tick could not be recorded:', e);
    return null;
  });
  const gap = ticked?.gap ?? null;
  const report: SweepReport = {
    checked: 0,
    deferred: 0,
    rearmed: [],
    fired: [],
    failed: [],
    unanswered: [],
    gap,
    summarised: 0,
    pruned: false,
  };

  const fleet: FleetReplication = { at: now, agents: 0, queued: 0, oldestAt: null, setAside: 0, dropped: 0, troubled: [] };
  // No list of agents at all: nothing to visit, but the gap the tick found is still told and D1 pruned.
  const known = await deps.subjects().catch((e: unknown) => {
    console.error('sweep: no agent visited, none could be listed:', e);
    return null;
  });
  const turn = sweepTurn(known ?? [], deps.maxVisits, ticked?.resumeAfter ?? null);
  const stopStartingAt = now + SWEEP_START_BUDGET_MS;
  // Visits are started in the turn's order, so those started are its first `report.checked`.
  await forEachAtMost(turn, SWEEP_CONCURRENCY, async (id) => {
    // The clock as the visit starts: one started late in the sweep judges by the time it is, not the sweep's start.
    const at = deps.now();
    if (at >= stopStartingAt) return;
    report.checked++;
    try {
      const { ensured, health } = await within(deps.visit(id, at), deps.waits.visitMs, `agent ${id}'s object`);
      if (ensured === 'armed') report.rearmed.push(id);
      if (ensured === 'fired') report.fired.push(id);
      addToFleet(fleet, id, health);
    } catch (e: unknown) {
      console.error(`sweep: agent ${id} could not be checked:`, e);
      report.failed.push(id);
      if (e instanceof NoAnswer) report.unanswered.push(id);
    }
  });
  // Unlisted, the fleet's record is left as the last sweep that could list found it.
  if (known !== null) await recordTurn(deps, fleet, report, known.length, turn.slice(0, report.checked), ticked?.resumeAfter ?? null);

  report.summarised = await summariseLateWindows(deps, gap, now);
  // Once an hour: the first sweep of each hour, or with the tick unknown, the one in its first minute.
  const firstOfHour =
    ticked === null
      ? now % HOUR_MS < 60_000
      : ticked.previousTickAt === null || Math.floor(ticked.previousTickAt / HOUR_MS) !== Math.floor(now / HOUR_MS);
  if (firstOfHour) {
    // A D1 that refuses leaves the old rows for the next hour's sweep; the copies are pruned regardless.
    report.pruned = await within(runBatch(deps.d1, pruneQueries(deps.db, now)), deps.waits.pruneMs, 'D1').then(
      () => true,
      (e: unknown) => {
        console.error('sweep: old rows not pruned from D1 (the next hour tries again):', e);
        return false;
      },
    );
    await deps.pruneCopies(now - COPY_RETENTION_MS).catch((e: unknown) => console.error('sweep: public copies not pruned:', e));
  }
  return report;
}

/**
 * Says what a sweep left for the next (the fleet larger than its visits, or its time up), and records
 * the fleet's replication with the run it visited and where the next sweep starts.
 */
async function recordTurn(
  deps: SweepDeps,
  fleet: FleetReplication,
  report: SweepReport,
  known: number,
  started: readonly string[],
  after: string | null,
): Promise<void> {
  report.deferred = known - started.length;
  if (report.deferred > 0)
    console.log(
      started.length < Math.min(known, deps.maxVisits)
        ? `sweep: ${started.length} of ${known} agents visited before the sweep's ${SWEEP_START_BUDGET_MS / 1000} s were up (slow visits: a D1 that hangs, channels that time out); the next sweep starts with the rest`
        : `sweep: ${known} agents, ${started.length} visited this minute (BLINDSPOT_SWEEP_MAX_VISITS): each is visited every ${Math.ceil(known / started.length)} minutes`,
    );
  const through = started.at(-1) ?? null;
  fleet.visited = { whole: started.length === known, after, through };
  fleet.missed = report.failed;
  await deps
    .recordFleet(fleet, through ?? after)
    .catch((e: unknown) => console.error('sweep: the fleet summary could not be recorded:', e));
}

function addToFleet(fleet: FleetReplication, agentId: string, h: ObjectHealth): void {
  fleet.agents++;
  fleet.queued += h.replication.length;
  if (h.replication.oldestAt !== null) fleet.oldestAt = Math.min(fleet.oldestAt ?? h.replication.oldestAt, h.replication.oldestAt);
  fleet.setAside += h.replication.setAside;
  fleet.dropped += h.replication.dropped;
  if (h.replication.setAside > 0 || h.replication.dropped > 0)
    fleet.troubled.push({
      agent: agentId,
      setAside: h.replication.setAside,
      dropped: h.replication.dropped,
      lastError: h.setAside[0]?.lastError?.slice(0, 300) ?? null,
    });
}

/** One notification for a gap and everything noticed late, instead of one page per window. */
async function summariseLateWindows(deps: SweepDeps, gap: Gap | null, now: number): Promise<number> {
  let late: Awaited<ReturnType<typeof listLateWindows>> = [];
  try {
    late = await within(listLateWindows(deps.db, SUMMARY_LIMIT), d1Wait.ms, 'D1');
  } catch (e: unknown) {
    // D1 unreadable or hanging: the gap is still told; the late windows page on their own once the watchdog is on time.
    console.error('sweep: windows noticed late could not be read from D1:', e);
  }
  if (gap === null && late.length === 0) return 0;
  const history: Statement[] = [
    markSummarised(
      deps.db,
      late.map((w) => w.id),
      now,
    ),
  ];
  if (gap !== null) history.unshift(insertGapWindow(deps.db, gap, now));
  try {
    // Plain statements: a compiled query carries an id that cannot cross to the object.
    const statements = history.map((q) => ({ sql: q.sql, parameters: [...q.parameters] }));
    await deps.summarise({ gap, windows: late }, summaryChannels(deps.registry.routing), statements);
  } catch (e: unknown) {
    console.error('sweep: the watchdog summary could not be handed to the Watchdog object:', e);
  }
  return late.length;
}
