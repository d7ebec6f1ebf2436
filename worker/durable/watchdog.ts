// The watchdog's own heartbeat: one object that records every sweep's tick. When the ticks stopped
// for longer than twice their period, the Worker (or its cron) was not running, and the gap is told.
// It also delivers the watchdog's summaries (outbox rows of the pseudo-agent "*") from its alarm.
import { DurableObject } from 'cloudflare:workers';
import { type Gap, recordTick, type TickState } from '../core/watchdog-ticks.ts';
import type { Env } from '../env.ts';
import type { DeliveryReport } from '../jobs/deliver-outbox.ts';
import { createDb } from '../store/db.ts';
import { OutboxDriver } from './outbox-driver.ts';

const KEY = 'ticks';
export const SUMMARY_OWNER = '*';

export class Watchdog extends DurableObject<Env> {
  private readonly outbox: OutboxDriver;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.outbox = new OutboxDriver(ctx, env, createDb(env.DB), () => SUMMARY_OWNER, () => null);
    ctx.blockConcurrencyWhile(() => this.outbox.load());
  }

  async tick(now: number = Date.now()): Promise<{ gap: Gap | null; previousTickAt: number | null }> {
    const state = (await this.ctx.storage.get<TickState>(KEY)) ?? null;
    const result = recordTick(state, now);
    await this.ctx.storage.put(KEY, result.next);
    return { gap: result.gap, previousTickAt: state?.lastTickAt ?? null };
  }

  deliverSummaries(): Promise<DeliveryReport | null> {
    return this.outbox.deliver();
  }

  override async alarm(): Promise<void> {
    await this.outbox.deliver();
  }
}
