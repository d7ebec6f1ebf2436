// Delivers due notifications: claim a row by compare-and-set, send it through its channel, record
// the attempt (and the row's next state) in one batch. Used by each agent's Durable Object (right
// after a window change, and from its alarm for retries and reminders), by the Watchdog object for
// summaries, and by the sweep as the safety net. A row whose channel cannot send (no secret yet) is
// left pending; the give-up horizon dead-letters what never went out.
import { nextAttemptAt } from '../core/retry-schedule.ts';
import type { Notification } from '../notify/channel.ts';
import { parseBody } from '../notify/render.ts';
import type { Registry } from '../notify/registry.ts';
import { type Db, runBatch } from '../store/db.ts';
import { attemptWrites, claim, expireOverdue, listDue, type PendingNotification } from '../store/outbox.ts';
import { markWindowNotified } from '../store/windows.ts';

/** Longer than any channel's timeout: a lease outliving its sender means the sender died mid-delivery. */
export const LEASE_MS = 60_000;

export interface DeliveryDeps {
  db: Db;
  d1: D1Database;
  registry: Registry;
  now: () => number;
  random?: () => number;
  /** Told just before a send, with the lease's end: a Durable Object arms its alarm there, so a crash mid-send is retried. */
  onClaim?: (leaseEndsAt: number) => Promise<void>;
}

export interface DeliveryReport {
  delivered: number;
  retrying: number;
  dead: number;
  /** Channels that answered 410 and are now disabled. */
  disabled: string[];
  /** Rows left pending because their channel cannot send yet. */
  waiting: number;
}

/** Workers allow six open connections per invocation. */
const CONCURRENCY = 6;
/** A delivered trigger lets its resolve go in the same call, up to this many rounds. */
const MAX_ROUNDS = 4;

export async function deliverDue(deps: DeliveryDeps, options: { limit?: number; agentId?: string } = {}): Promise<DeliveryReport> {
  const report: DeliveryReport = { delivered: 0, retrying: 0, dead: 0, disabled: [], waiting: 0 };
  const failedLanes = new Set<string>();
  for (let round = 0; round < MAX_ROUNDS; round++) {
    // Only the head of each window-and-channel lane is listed, so rows sent side by side never overtake each other.
    const due = (await listDue(deps.db, deps.now(), options.limit ?? 50, options.agentId)).filter((row) => !failedLanes.has(laneOf(row)) && !report.disabled.includes(row.channel));
    const before = report.delivered;
    let next = 0;
    const worker = async () => {
      while (next < due.length) {
        const row = due[next++] as PendingNotification;
        await deliverOne(deps, row, report, failedLanes);
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, due.length) }, worker));
    if (report.delivered === before) break;
  }
  return report;
}

const laneOf = (row: PendingNotification) => `${row.windowId}\u0000${row.channel}`;

async function deliverOne(deps: DeliveryDeps, row: PendingNotification, report: DeliveryReport, failedLanes: Set<string>): Promise<void> {
  if (report.disabled.includes(row.channel)) return;
  const channel = deps.registry.channels.get(row.channel);
  if (channel === undefined) {
    report.waiting++;
    failedLanes.add(laneOf(row));
    return;
  }
  const token = crypto.randomUUID();
  const claimedAt = deps.now();
  if (!(await claim(deps.db, row.id, token, claimedAt, LEASE_MS))) return;
  await deps.onClaim?.(claimedAt + LEASE_MS);
  const result = await channel.send(toNotification(row));
  const now = deps.now();
  const next = nextAttemptAt(row.attempts + 1, now, (deps.random ?? Math.random)(), result.retryAfterS);
  const horizonAt = row.createdAt + deps.registry.horizonMs;
  await runBatch(
    deps.d1,
    attemptWrites(deps.db, { row, token, outcome: result.outcome, status: result.status, latencyMs: result.latencyMs, error: result.error, nextAttemptAt: next, horizonAt, now }),
  );
  if (result.outcome === 'delivered') {
    report.delivered++;
    if (row.type === 'window.opened') await markWindowNotified(deps.db, row.windowId, now);
    return;
  }
  failedLanes.add(laneOf(row));
  if (result.outcome === 'gone') {
    if (!report.disabled.includes(row.channel)) report.disabled.push(row.channel);
    console.error(`channel ${row.channel} disabled: the receiver answered 410 Gone; its notifications wait until it is fixed and tested`);
  } else if (result.outcome === 'rejected' || next > horizonAt) {
    report.dead++;
    console.error(`notification ${row.id} dead-lettered on channel ${row.channel}: ${result.error}`);
  } else report.retrying++;
}

/** Dead-letters what stayed pending past the horizon; returns how many. */
export async function expireNotifications(db: Db, d1: D1Database, now: number, horizonMs: number): Promise<number> {
  const query = expireOverdue(db, now, horizonMs);
  const result = await d1.prepare(query.sql).bind(...query.parameters).run();
  const n = result.meta.changes ?? 0;
  if (n > 0) console.error(`${n} notification(s) dead-lettered: not delivered within ${horizonMs / 3_600_000} h`);
  return n;
}

function toNotification(row: Pick<PendingNotification, 'id' | 'eventId' | 'type' | 'payload'>): Notification {
  return { id: row.id, eventId: row.eventId, type: row.type, payload: row.payload, body: parseBody(row.payload) };
}
