// The watchdog's own heartbeat: one object that records every sweep's tick. When the ticks stopped
// for longer than twice their period, the Worker (or its cron) was not running, and the gap is told.
import { DurableObject } from 'cloudflare:workers';
import { type Gap, recordTick, type TickState } from '../core/watchdog-ticks.ts';
import type { Env } from '../env.ts';

const KEY = 'ticks';

export class Watchdog extends DurableObject<Env> {
  async tick(now: number = Date.now()): Promise<{ gap: Gap | null; previousTickAt: number | null }> {
    const state = (await this.ctx.storage.get<TickState>(KEY)) ?? null;
    const result = recordTick(state, now);
    await this.ctx.storage.put(KEY, result.next);
    return { gap: result.gap, previousTickAt: state?.lastTickAt ?? null };
  }
}
