// What follows every decision of an agent's object: store it in one transaction of the object's own
// SQLite (decision-store.ts), then send what it queued, hand D1 its batch, set the alarm and refresh
// the public copy. Sending never waits on D1; a heartbeat waits a little for D1 so readers of history
// see it at once, and a D1 that fails or hangs only delays history.
import type { WatchConfig } from '../../config/resolve.ts';
import type { LiveState, Transition } from '../core/agent-state.ts';
import type { Env } from '../env.ts';
import { channelRegistry } from '../notify/registry.ts';
import type { Db } from '../store/db.ts';
import type { Written } from '../store/object-live.ts';
import { D1_WAIT_MS } from './admin-pauses.ts';
import type { AlarmScheduler } from './alarm-scheduler.ts';
import { type Clock, waitBriefly } from './clock.ts';
import { storeDecision } from './decision-store.ts';
import type { DeliveryReport, OutboxSender } from './outbox-sender.ts';
import type { PublicCopy } from './public-copy.ts';
import type { Replicator } from './replicator.ts';

export interface CommitParts {
  ctx: DurableObjectState;
  env: Env;
  db: Db;
  replicator: Replicator;
  sender: OutboxSender;
  scheduler: AlarmScheduler;
  /** The object's clock as it is now (tests and the simulator replace it). */
  clock: () => Clock;
  /** What the object last wrote, row by row (kept in step by storeDecision). */
  written: () => Written;
  /** The stored decision's live state becomes the object's, before anything is sent. */
  adopt: (next: LiveState) => void;
  copy: PublicCopy;
}

export interface CommitOptions {
  /** The heartbeat's webhook id, stored with the decision (replays are refused by it). */
  seen?: string;
  /** A heartbeat waits up to D1_WAIT_MS for D1; alarms and operator actions do not. */
  waitForD1: boolean;
}

export class DecisionCommit {
  constructor(private readonly parts: CommitParts) {}

  async apply(transition: Transition, config: WatchConfig, now: number, options: CommitOptions): Promise<void> {
    const { ctx, env, replicator, scheduler } = this.parts;
    const clock = this.parts.clock();
    const routing = channelRegistry(env, config.notifications).routing;
    const stored = storeDecision(
      { storage: ctx.storage, db: this.parts.db, replicator, routing },
      this.parts.written(),
      transition,
      config,
      now,
      options.seen,
    );
    this.parts.adopt(stored.next);
    if (stored.sends) ctx.waitUntil(this.sendAndRecord());
    // A heartbeat tries D1 at once (an outage costs one refused call per heartbeat); alarms keep the backoff.
    // The alarm follows what D1 left queued: once now if D1 has answered, else again when it does.
    const writing = replicator.flush(options.waitForD1 || stored.forD1);
    await waitBriefly(ctx, writing, options.waitForD1 ? D1_WAIT_MS : 0, clock, () => scheduler.rearm(clock.now()));
    await scheduler.rearm(now);
    await this.parts.copy.publish(stored.next, now, clock);
  }

  /**
   * Sends due notifications while D1 gets what waits for it (sending never waits on D1), then what the
   * sending recorded, and re-arms. D1 is waited for at most `d1WaitMs` after the sending (the sweep's
   * visit waits less): a D1 that hangs must not hold the alarm (the next deadline's) or the sweep's
   * visit; it gets the rest later.
   */
  async sendAndRecord(d1WaitMs = D1_WAIT_MS): Promise<DeliveryReport> {
    const { ctx, replicator, sender, scheduler } = this.parts;
    const clock = this.parts.clock();
    const queued = replicator.flush().catch(() => false);
    const report = await sender.deliver();
    // One flush runs at a time: what the delivery recorded follows what was queued before it.
    const recorded = queued.then(() => replicator.flush());
    await waitBriefly(ctx, recorded, d1WaitMs, clock, () => scheduler.rearm(clock.now()));
    await scheduler.rearm(clock.now());
    return report;
  }
}
