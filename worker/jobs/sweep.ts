// The one-minute safety net. Detection itself happens in each agent's alarm; the sweep records the
// watchdog's own tick, tells a gap in its ticks (and whatever was noticed late) in one summary,
// catches what an alarm missed, prunes old data, and retries notifications.
import type { EnsureResult } from '../durable/agent-monitor.ts';
import type { Gap } from '../core/watchdog-ticks.ts';
import { summaryEvent } from '../core/window-event.ts';
import { summaryChannels } from '../core/routing.ts';
import type { Registry } from '../notify/registry.ts';
import { listAgents } from '../store/agents.ts';
import { type Db, runBatch } from '../store/db.ts';
import { enqueueEvent } from '../store/outbox.ts';
import { pruneQueries } from '../store/rollups.ts';
import { insertGapWindow, listLateWindows, markSummarised } from '../store/windows.ts';
import { deliverDue, type DeliveryReport, expireNotifications } from './deliver-outbox.ts';

const HOUR_MS = 3_600_000;
const SUMMARY_LIMIT = 500;

export interface SweepDeps {
  db: Db;
  d1: D1Database;
  tick: (now: number) => Promise<{ gap: Gap | null; previousTickAt: number | null }>;
  ensureAlarm: (agentId: string, now: number) => Promise<EnsureResult>;
  /** Asks the Watchdog object to deliver summaries now (it retries them from its alarm). */
  deliverSummaries: () => Promise<unknown>;
  registry: Registry;
  now: () => number;
}

export interface SweepReport {
  checked: number;
  rearmed: string[];
  fired: string[];
  failed: string[];
  gap: Gap | null;
  summarised: number;
  pruned: boolean;
  delivery: DeliveryReport;
  deadLettered: number;
}

export async function runSweep(deps: SweepDeps): Promise<SweepReport> {
  const now = deps.now();
  const { gap, previousTickAt } = await deps.tick(now);
  const report: SweepReport = { checked: 0, rearmed: [], fired: [], failed: [], gap, summarised: 0, pruned: false, delivery: { delivered: 0, retrying: 0, dead: 0, disabled: [], waiting: 0 }, deadLettered: 0 };
  if (gap !== null) await runBatch(deps.d1, [insertGapWindow(deps.db, gap, now)]);

  for (const agent of await listAgents(deps.db)) {
    report.checked++;
    try {
      const result = await deps.ensureAlarm(agent.id, now);
      if (result === 'armed') report.rearmed.push(agent.id);
      if (result === 'fired') report.fired.push(agent.id);
    } catch (e: unknown) {
      console.error(`sweep: agent ${agent.id} could not be checked:`, e);
      report.failed.push(agent.id);
    }
  }

  report.summarised = await summariseLateWindows(deps, gap, now);
  if (report.summarised > 0 || gap !== null) {
    try {
      await deps.deliverSummaries();
    } catch (e: unknown) {
      console.error('sweep: the watchdog summary could not be handed to its deliverer; delivering it here:', e);
    }
  }
  if (previousTickAt === null || Math.floor(previousTickAt / HOUR_MS) !== Math.floor(now / HOUR_MS)) {
    await runBatch(deps.d1, pruneQueries(deps.db, now));
    report.pruned = true;
  }
  // The safety net: whatever an object's alarm has not sent yet (the compare-and-set claim keeps it single).
  report.delivery = await deliverDue({ db: deps.db, d1: deps.d1, registry: deps.registry, now: deps.now }, { limit: 100 });
  report.deadLettered = await expireNotifications(deps.db, deps.d1, deps.now(), deps.registry.horizonMs);
  return report;
}

/** One notification for a gap and everything noticed late, instead of one page per window. */
async function summariseLateWindows(deps: SweepDeps, gap: Gap | null, now: number): Promise<number> {
  const late = await listLateWindows(deps.db, SUMMARY_LIMIT);
  if (gap === null && late.length === 0) return 0;
  const summaryId = gap?.id ?? `watchdog:late:${late[0]?.id ?? now}`;
  const queries = [markSummarised(deps.db, late.map((w) => w.id), now)];
  const channels = summaryChannels(deps.registry.routing);
  queries.push(...enqueueEvent(deps.db, summaryEvent(summaryId, gap, late, now), channels.map((channel) => ({ channel, repeatIntervalS: 0 })), now));
  await runBatch(deps.d1, queries);
  return late.length;
}
