// The one-minute safety net. Detection itself happens in each agent's alarm; the sweep records the
// watchdog's own tick, tells a gap in its ticks (and whatever was noticed late) in one summary,
// catches what an alarm missed, prunes old data, and retries notifications.
import type { EnsureResult } from '../durable/agent-monitor.ts';
import type { Gap } from '../core/watchdog-ticks.ts';
import { summaryEvent } from '../core/window-event.ts';
import type { Channel } from '../notify/channel.ts';
import { listAgents } from '../store/agents.ts';
import { type Db, runBatch } from '../store/db.ts';
import { enqueueEvent } from '../store/outbox.ts';
import { pruneQueries } from '../store/rollups.ts';
import { insertGapWindow, listLateWindows, markSummarised } from '../store/windows.ts';
import { deliverDueEvents, type DeliveryReport } from './deliver-outbox.ts';

const HOUR_MS = 3_600_000;
const SUMMARY_LIMIT = 500;

export interface SweepDeps {
  db: Db;
  d1: D1Database;
  tick: (now: number) => Promise<{ gap: Gap | null; previousTickAt: number | null }>;
  ensureAlarm: (agentId: string, now: number) => Promise<EnsureResult>;
  channel: Channel | null;
  /** Whether notifications are configured at all (events are queued even while the channel is broken). */
  notify: boolean;
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
  delivery: DeliveryReport | null;
}

export async function runSweep(deps: SweepDeps): Promise<SweepReport> {
  const now = deps.now();
  const { gap, previousTickAt } = await deps.tick(now);
  const report: SweepReport = { checked: 0, rearmed: [], fired: [], failed: [], gap, summarised: 0, pruned: false, delivery: null };
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
  if (previousTickAt === null || Math.floor(previousTickAt / HOUR_MS) !== Math.floor(now / HOUR_MS)) {
    await runBatch(deps.d1, pruneQueries(deps.db, now));
    report.pruned = true;
  }
  if (deps.channel !== null) report.delivery = await deliverDueEvents(deps.db, deps.channel, deps.now, { limit: 100 });
  return report;
}

/** One notification for a gap and everything noticed late, instead of one page per window. */
async function summariseLateWindows(deps: SweepDeps, gap: Gap | null, now: number): Promise<number> {
  const late = await listLateWindows(deps.db, SUMMARY_LIMIT);
  if (gap === null && late.length === 0) return 0;
  const summaryId = gap?.id ?? `watchdog:late:${late[0]?.id ?? now}`;
  const queries = [markSummarised(deps.db, late.map((w) => w.id), now)];
  if (deps.notify) queries.push(enqueueEvent(deps.db, summaryEvent(summaryId, gap, late, now), now));
  await runBatch(deps.d1, queries);
  return late.length;
}
