// Delivers due notifications: claim by compare-and-set, send, record the attempt. Used by the agent's
// Durable Object right after a window change and by the sweep as the safety net.
import { nextAttemptAt } from '../core/retry-schedule.ts';
import type { Db } from '../store/db.ts';
import { markWindowNotified } from '../store/windows.ts';
import { claimEvent, listDueEvents, recordDelivered, recordFailed } from '../store/outbox.ts';
import type { Channel } from '../notify/channel.ts';

const LEASE_MS = 60_000;

export interface DeliveryReport {
  delivered: number;
  failed: number;
}

export async function deliverDueEvents(db: Db, channel: Channel, now: () => number, options: { limit?: number; agentId?: string } = {}): Promise<DeliveryReport> {
  const report: DeliveryReport = { delivered: 0, failed: 0 };
  const due = await listDueEvents(db, now(), options.limit ?? 50, options.agentId);
  for (const event of due) {
    if (!(await claimEvent(db, event.id, now(), LEASE_MS))) continue;
    const result = await channel.send(event);
    if (result.ok) {
      await recordDelivered(db, event.id, now(), result.status);
      if (event.type === 'window.opened') await markWindowNotified(db, event.windowId, now());
      report.delivered++;
    } else {
      await recordFailed(db, event.id, nextAttemptAt(event.attempts, now(), Math.random(), result.retryAfterS), result.status, result.error);
      report.failed++;
    }
  }
  return report;
}
