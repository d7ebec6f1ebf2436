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
const SNAPSHOT_KEY = 'snapshot';
/** Storage values are limited (128 KiB); a snapshot is kept in pieces below that. */
const PIECE = 100_000;
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

  /** When the last sweep ran, or null if none ever did. */
  async lastTickAt(): Promise<number | null> {
    return (await this.ctx.storage.get<TickState>(KEY))?.lastTickAt ?? null;
  }

  /** The public page's last-good data, kept outside D1 so the page survives a D1 failure. */
  async putSnapshot(json: string): Promise<void> {
    const pieces: Record<string, string> = {};
    for (let i = 0; i * PIECE < json.length; i++) pieces[`${SNAPSHOT_KEY}:${i}`] = json.slice(i * PIECE, (i + 1) * PIECE);
    const count = Object.keys(pieces).length;
    // Pieces and their count are written together: a reader never sees half of two snapshots.
    await this.ctx.storage.put({ ...pieces, [SNAPSHOT_KEY]: count });
  }

  async getSnapshot(): Promise<string | null> {
    const count = await this.ctx.storage.get<number>(SNAPSHOT_KEY);
    if (count === undefined) return null;
    const keys = Array.from({ length: count }, (_, i) => `${SNAPSHOT_KEY}:${i}`);
    const pieces = await this.ctx.storage.get<string>(keys);
    return keys.map((k) => pieces.get(k) ?? '').join('');
  }

  deliverSummaries(): Promise<DeliveryReport | null> {
    return this.outbox.deliver();
  }

  override async alarm(): Promise<void> {
    await this.outbox.deliver();
  }
}
