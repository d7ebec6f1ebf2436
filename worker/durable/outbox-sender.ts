// Sends one Durable Object's outbox: claims a due row (a lease in the object's own SQLite), sends it
// through its channel, records the outcome, and queues the same facts for D1's delivery log. Nothing
// here waits on D1: a page leaves as soon as its window is stored in the object.
import { forEachAtMost } from '../at-once.ts';
import { nextAttemptAt } from '../core/retry-schedule.ts';
import type { Channel, Notification } from '../notify/channel.ts';
import { parseBody } from '../notify/render.ts';
import type { Registry } from '../notify/registry.ts';
import type { Db } from '../store/db.ts';
import * as local from '../store/object-outbox.ts';
import { channelUpsert, logAttempt, mirrorRow } from '../store/outbox.ts';
import type { Statement } from '../store/replication-queue.ts';
import { windowNotified } from '../store/windows.ts';

/**
 * A claimed row's lease outlives its send by this much (the claim, the alarm set at the lease's end,
 * the request's time-out firing late under load): a lease that runs out means the sender died mid-send,
 * and the row goes out again.
 */
export const LEASE_MARGIN_MS = 15_000;

/** How long a claim on a row of this channel holds: its time-out plus the margin (25 s at the default 10 s). */
export function leaseMs(channel: Pick<Channel, 'timeoutMs'>): number {
  return channel.timeoutMs + LEASE_MARGIN_MS;
}
/** Workers allow six open connections per invocation. */
const CONCURRENCY = 6;
/** A delivered trigger lets its resolve go in the same call, up to this many rounds. */
const MAX_ROUNDS = 4;
const BATCH = 50;

export interface DeliveryReport {
  delivered: number;
  retrying: number;
  dead: number;
  /** Channels that answered 410 and are now disabled. */
  disabled: string[];
  /** Rows left pending because their channel cannot send yet. */
  waiting: number;
}

export interface SenderDeps {
  storage: DurableObjectStorage;
  db: Db;
  registry: () => Registry;
  now: () => number;
  random?: () => number;
  /** Stores D1 statements in the replication queue (called inside a storage transaction). */
  replicate: (statements: Statement[]) => void;
  /** The stamp D1 orders the mirrored rows by (Replicator.decisionStamp); call inside the transaction. */
  stamp: (now: number) => number;
  /** Whether a window is still open: reminders are queued only for open windows. */
  isOpen: (windowId: string) => boolean;
  /** Told just before a send, with the lease's end: the alarm is set there, so a crash mid-send is retried. */
  onClaim: (leaseEndsAt: number) => Promise<void>;
}

export class OutboxSender {
  private running: Promise<DeliveryReport> | null = null;
  private again = false;

  constructor(private readonly deps: SenderDeps) {}

  private get sql(): SqlStorage {
    return this.deps.storage.sql;
  }

  /** Sends what is due now; a call during a run makes the run go round once more instead of sending twice. */
  deliver(): Promise<DeliveryReport> {
    if (this.running !== null) {
      this.again = true;
      return this.running;
    }
    this.running = this.loop().finally(() => (this.running = null));
    return this.running;
  }

  nextDueAt(): number | null {
    return local.nextDueAt(this.sql, [...this.deps.registry().channels.keys()]);
  }

  /** A dead letter back in the queue with a fresh horizon (the caller sends it), mirrored to D1. */
  retryDead(id: string): 'retried' | 'not_dead' | 'unknown' {
    if (local.getRow(this.sql, id) === null) return 'unknown';
    return this.deps.storage.transactionSync(() => {
      const again = local.retryDead(this.sql, id, this.deps.now());
      if (again !== null) this.enqueueMirrored([again]);
      return again === null ? 'not_dead' : 'retried';
    });
  }

  /** Queues rows and mirrors them to D1 (inside the caller's transaction). */
  enqueueMirrored(rows: readonly local.OutboxRow[]): void {
    if (rows.length === 0) return;
    const stamp = this.deps.stamp(this.deps.now());
    this.deps.replicate(rows.map((r) => mirrorRow(this.deps.db, r, stamp)));
  }

  private async loop(): Promise<DeliveryReport> {
    const report: DeliveryReport = { delivered: 0, retrying: 0, dead: 0, disabled: [], waiting: 0 };
    do {
      this.again = false;
      await this.rounds(report);
    } while (this.again);
    const registry = this.deps.registry();
    const now = this.deps.now();
    this.deps.storage.transactionSync(() => {
      const expired = local.expireOverdue(this.sql, now, registry.horizonMs);
      if (expired.length > 0)
        console.error(`${expired.length} notification(s) dead-lettered: not delivered within ${registry.horizonMs / 3_600_000} h`);
      this.enqueueMirrored(expired);
      local.pruneFinished(this.sql, now - 7 * 86_400_000);
    });
    return report;
  }

  private async rounds(report: DeliveryReport): Promise<void> {
    const failedLanes = new Set<string>();
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const due = local
        .listDue(this.sql, this.deps.now(), BATCH)
        .filter((row) => !failedLanes.has(laneOf(row)) && !report.disabled.includes(row.channel_id));
      const before = report.delivered;
      await forEachAtMost(due, CONCURRENCY, (row) => this.deliverOne(row, report, failedLanes));
      if (report.delivered === before) break;
    }
  }

  private async deliverOne(row: local.OutboxRow, report: DeliveryReport, failedLanes: Set<string>): Promise<void> {
    if (report.disabled.includes(row.channel_id)) return;
    const registry = this.deps.registry();
    const channel = registry.channels.get(row.channel_id);
    if (channel === undefined) {
      report.waiting++;
      failedLanes.add(laneOf(row));
      return;
    }
    const token = crypto.randomUUID();
    const claimedAt = this.deps.now();
    const lease = leaseMs(channel);
    if (!local.claim(this.sql, row.id, token, claimedAt, lease)) return;
    await this.deps.onClaim(claimedAt + lease);
    const result = await channel.send(toNotification(row));
    const now = this.deps.now();
    const retryAt = nextAttemptAt(row.attempts + 1, now, (this.deps.random ?? Math.random)(), result.retryAfterS);
    const giveUp = result.outcome === 'retry' && retryAt > row.created_at + registry.horizonMs;
    const error = result.error === null ? null : result.error.slice(0, 500);
    const state = result.outcome === 'delivered' ? 'delivered' : result.outcome === 'rejected' || giveUp ? 'dead' : 'pending';
    const lastError =
      result.outcome === 'rejected'
        ? `dead-lettered: the receiver rejected it (${error})`
        : giveUp
          ? `dead-lettered: gave up after ${row.attempts + 1} attempt(s) (${error})`
          : error;
    this.deps.storage.transactionSync(() => {
      const done = local.finishAttempt(
        this.sql,
        row.id,
        token,
        {
          state,
          nextAttemptAt: state === 'pending' && result.outcome === 'retry' ? retryAt : row.next_attempt_at,
          status: result.status,
          lastError,
          delivered: result.outcome === 'delivered',
        },
        now,
      );
      if (done === null) return;
      const stamp = this.deps.stamp(now);
      const statements: Statement[] = [
        mirrorRow(this.deps.db, done, stamp),
        logAttempt(this.deps.db, {
          notificationId: row.id,
          channel: row.channel_id,
          attempt: done.attempts,
          at: now,
          status: result.status,
          latencyMs: result.latencyMs,
          outcome: giveUp ? 'dead' : result.outcome,
          error,
        }),
      ];
      if (result.outcome === 'delivered') {
        statements.push(channelUpsert(this.deps.db, row.channel_id, { last_success_at: now }));
        if (row.event_type === 'window.opened') statements.push(windowNotified(this.deps.db, row.window_id, now));
        const reminder = this.nextReminder(done, now);
        if (reminder !== null) statements.push(mirrorRow(this.deps.db, reminder, stamp));
        for (const r of local.expediteChannel(this.sql, row.channel_id, now)) statements.push(mirrorRow(this.deps.db, r, stamp));
      } else if (result.outcome === 'gone') {
        const reason = `the receiver answered 410 Gone at ${new Date(now).toISOString()}: the endpoint no longer exists; fix the channel's secret, then test it (POST /v1/admin/channels/${row.channel_id}/test) to enable it again`;
        local.disableChannel(this.sql, row.channel_id, now, reason);
        statements.push(
          channelUpsert(this.deps.db, row.channel_id, {
            last_failure_at: now,
            last_error: error,
            disabled_at: now,
            disabled_reason: reason,
          }),
        );
      } else statements.push(channelUpsert(this.deps.db, row.channel_id, { last_failure_at: now, last_error: lastError }));
      this.deps.replicate(statements);
    });
    if (result.outcome === 'delivered') {
      report.delivered++;
      return;
    }
    failedLanes.add(laneOf(row));
    if (result.outcome === 'gone') {
      if (!report.disabled.includes(row.channel_id)) report.disabled.push(row.channel_id);
      console.error(
        `channel ${row.channel_id} disabled: the receiver answered 410 Gone; its notifications wait until it is fixed and tested`,
      );
    } else if (state === 'dead') {
      report.dead++;
      console.error(`notification ${row.id} dead-lettered on channel ${row.channel_id}: ${result.error}`);
    } else report.retrying++;
  }

  /** The reminder after a delivered trigger or reminder, while the window is open and no resolve is queued for this channel. */
  private nextReminder(row: local.OutboxRow, now: number): local.OutboxRow | null {
    if (
      (row.event_type !== 'window.opened' && row.event_type !== 'window.repeat') ||
      row.repeat_interval_s <= 0 ||
      !this.deps.isOpen(row.window_id)
    )
      return null;
    const closed = this.sql
      .exec("SELECT 1 FROM outbox WHERE window_id = ? AND channel_id = ? AND event_type = 'window.closed'", row.window_id, row.channel_id)
      .toArray();
    if (closed.length > 0) return null;
    const body = JSON.parse(row.payload) as { type: string; timestamp: string; data: Record<string, unknown> };
    const n = row.event_type === 'window.repeat' ? Number(body.data['repeat'] ?? 0) + 1 : 1;
    const due = now + row.repeat_interval_s * 1000;
    const payload = JSON.stringify({
      ...body,
      type: 'window.repeat',
      timestamp: new Date(due).toISOString(),
      data: { ...body.data, repeat: n },
    });
    // Created at its due time: the give-up horizon counts from when a reminder is due, not from when it was planned.
    const event = {
      id: `${row.window_id}:repeat:${n}`,
      type: 'window.repeat' as const,
      agentId: row.agent_id,
      windowId: row.window_id,
      payload,
    };
    return local.enqueue(this.sql, event, [{ channel: row.channel_id, repeatIntervalS: row.repeat_interval_s }], due)[0] ?? null;
  }
}

const laneOf = (row: local.OutboxRow) => `${row.window_id}\u0000${row.channel_id}`;

function toNotification(row: local.OutboxRow): Notification {
  return { id: row.id, eventId: row.event_id, type: row.event_type, payload: row.payload, body: parseBody(row.payload) };
}
