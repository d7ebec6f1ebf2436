// Drives one Durable Object's share of the outbox (an agent's rows, or the watchdog's summaries):
// delivers what is due and keeps the object's one alarm at the earlier of the engine's next due time
// and the outbox's (a retry, a reminder, or the end of a lease a crashed send left behind).
import type { Env } from '../env.ts';
import { deliverDue, type DeliveryReport } from '../jobs/deliver-outbox.ts';
import { channelRegistry } from '../notify/registry.ts';
import type { Db } from '../store/db.ts';
import { nextOutboxDueAt } from '../store/outbox.ts';
import { watchConfig } from '../watch-config.ts';

const DUE_KEY = 'outboxDueAt';

export class OutboxDriver {
  private dueAt: number | null = null;
  private running: Promise<DeliveryReport | null> | null = null;
  private again = false;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly env: Env,
    private readonly db: Db,
    /** The agent whose rows this object delivers ("*" for the watchdog's summaries); null before it knows. */
    private readonly owner: () => string | null,
    /** The engine's own next due time, if any. */
    private readonly engineDue: () => number | null,
  ) {}

  async load(): Promise<void> {
    this.dueAt = (await this.ctx.storage.get<number>(DUE_KEY)) ?? null;
  }

  /** What the alarm is made of: the engine's next due time and the outbox's. */
  plan(): { engineDueAt: number | null; outboxDueAt: number | null } {
    return { engineDueAt: this.engineDue(), outboxDueAt: this.dueAt };
  }

  /** Sets the alarm to the earliest thing due, or clears it. */
  async rearm(now: number): Promise<void> {
    // The outbox is never due sooner than a second from now: a row that stays due cannot spin the alarm.
    const times = [this.engineDue(), this.dueAt === null ? null : Math.max(this.dueAt, now + 1_000)].filter((t): t is number => t !== null);
    if (times.length === 0) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(Math.max(Math.min(...times), now + 1));
  }

  /** Delivers now; a call during a run makes the run go round once more instead of sending twice. */
  deliver(): Promise<DeliveryReport | null> {
    if (this.running !== null) {
      this.again = true;
      return this.running;
    }
    this.running = this.loop().finally(() => (this.running = null));
    return this.running;
  }

  private async loop(): Promise<DeliveryReport | null> {
    let report: DeliveryReport | null = null;
    do {
      this.again = false;
      report = await this.once();
    } while (this.again);
    return report;
  }

  private async once(): Promise<DeliveryReport | null> {
    const owner = this.owner();
    if (owner === null) return null;
    try {
      const registry = channelRegistry(this.env, watchConfig(this.env).config.notifications);
      const report = await deliverDue(
        {
          db: this.db,
          d1: this.env.DB,
          registry,
          now: Date.now,
          // A crash mid-send leaves a lease: the alarm at its end takes the row up again.
          onClaim: async (leaseEndsAt) => {
            const current = await this.ctx.storage.getAlarm();
            if (current === null || current > leaseEndsAt) await this.ctx.storage.setAlarm(leaseEndsAt);
          },
        },
        { agentId: owner, limit: 50 },
      );
      this.dueAt = await nextOutboxDueAt(this.db, owner, [...registry.channels.keys()]);
      await this.ctx.storage.put(DUE_KEY, this.dueAt);
      await this.rearm(Date.now());
      return report;
    } catch (e: unknown) {
      // D1 unreachable: try again in a minute (and the sweep tries too).
      console.error(`outbox of ${owner}: delivery failed, retrying in 60 s:`, e);
      this.dueAt = Date.now() + 60_000;
      await this.ctx.storage.put(DUE_KEY, this.dueAt);
      await this.rearm(Date.now());
      return null;
    }
  }
}
