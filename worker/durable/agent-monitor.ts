// One Durable Object per agent: it takes that agent's heartbeats one at a time, keeps the live state,
// and holds an alarm at the absolute deadline. D1 is written only when something changes.
import { DurableObject } from 'cloudflare:workers';
import type { CompiledQuery } from 'kysely';
import type { Heartbeat } from '../../protocol/heartbeat.ts';
import { acceptHeartbeat, type Change, expireDeadline, isOutOfOrder, type LiveState, type Transition } from '../core/agent-state.ts';
import { isReplay, pruneSeen, type SeenIds } from '../core/replay.ts';
import { windowEvent } from '../core/window-event.ts';
import { parseWebhookConfig } from '../config.ts';
import type { Env } from '../env.ts';
import { deliverDueEvents } from '../jobs/deliver-outbox.ts';
import { webhookChannel } from '../notify/webhook.ts';
import { upsertAgent } from '../store/agents.ts';
import { createDb, type Db, runBatch } from '../store/db.ts';
import { enqueueEvent } from '../store/outbox.ts';
import { closeWindow, insertWindow } from '../store/windows.ts';

export type IngestResult =
  | { status: 'accepted'; deadlineAt: number }
  | { status: 'replay' }
  | { status: 'out_of_order'; lastSeq: number }
  | { status: 'unavailable'; reason: string };

export type EnsureResult = 'idle' | 'armed' | 'fired' | 'ok';

const LIVE_KEY = 'live';
const SEEN_KEY = 'seen';

export class AgentMonitor extends DurableObject<Env> {
  private live: LiveState | null = null;
  private seen: SeenIds = {};
  private readonly db: Db;
  // D1 and fetch calls let other events in; this chain keeps a heartbeat and the alarm from interleaving.
  private queue: Promise<unknown> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = createDb(env.DB);
    ctx.blockConcurrencyWhile(async () => {
      this.live = (await ctx.storage.get<LiveState>(LIVE_KEY)) ?? null;
      this.seen = (await ctx.storage.get<SeenIds>(SEEN_KEY)) ?? {};
    });
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  receiveHeartbeat(agentId: string, webhookId: string, heartbeat: Heartbeat): Promise<IngestResult> {
    return this.serially(async () => {
      const now = Date.now();
      if (isReplay(this.seen, webhookId, now)) return { status: 'replay' } as const;
      if (isOutOfOrder(this.live, heartbeat)) return { status: 'out_of_order', lastSeq: this.live?.seq ?? 0 } as const;

      const transition = acceptHeartbeat(this.live, agentId, {
        boot: heartbeat.boot,
        seq: heartbeat.seq,
        intervalS: heartbeat.interval_s,
        graceS: heartbeat.grace_s,
        sentAt: Date.parse(heartbeat.sent_at),
      }, now);
      try {
        await this.record(transition, now);
      } catch (e: unknown) {
        // Nothing was committed: the agent retries the same heartbeat (same webhook-id) later.
        console.error(`agent ${agentId}: D1 write failed, heartbeat refused for retry:`, e);
        return { status: 'unavailable', reason: 'the watchdog database is unavailable' } as const;
      }
      this.seen = { ...pruneSeen(this.seen, now), [webhookId]: now };
      await this.commit(transition.next);
      await this.ctx.storage.setAlarm(transition.next.deadlineAt);
      this.notifyLater(transition.changes);
      return { status: 'accepted', deadlineAt: transition.next.deadlineAt } as const;
    });
  }

  getStatus(): LiveState | null {
    return this.live;
  }

  override async alarm(): Promise<void> {
    await this.serially(() => this.checkDeadline());
  }

  /** The sweep's safety net: fire an overdue deadline, or re-arm a lost alarm. */
  ensureAlarm(): Promise<EnsureResult> {
    return this.serially(async () => {
      if (this.live === null || this.live.state !== 'up') return 'idle';
      if (Date.now() >= this.live.deadlineAt) {
        await this.checkDeadline();
        return 'fired';
      }
      if ((await this.ctx.storage.getAlarm()) === null) {
        await this.ctx.storage.setAlarm(this.live.deadlineAt);
        return 'armed';
      }
      return 'ok';
    });
  }

  private async checkDeadline(): Promise<void> {
    if (this.live === null) return;
    const now = Date.now();
    const transition = expireDeadline(this.live, now);
    if (transition === null) {
      if (this.live.state === 'up') await this.ctx.storage.setAlarm(this.live.deadlineAt);
      return;
    }
    // If D1 fails this throws, and the platform retries the alarm; the sweep retries after that.
    await this.record(transition, now);
    await this.commit(transition.next);
    await this.deliver();
  }

  /** Writes a transition's changes to D1 in one batch: agent row, window, outbox rows together. */
  private async record(transition: Transition, now: number): Promise<void> {
    if (transition.changes.length === 0) return;
    const queries: CompiledQuery[] = [upsertAgent(this.db, transition.next, now)];
    // Enqueue whenever a URL is set, even a malformed one: detection must not wait on notification
    // settings, and the queued events go out once the settings are fixed.
    const notify = Boolean(this.env.BLINDSPOT_WEBHOOK_URL?.trim());
    for (const change of transition.changes) queries.push(...this.queriesFor(change, now, notify));
    await runBatch(this.env.DB, queries);
  }

  private queriesFor(change: Change, now: number, notify: boolean): CompiledQuery[] {
    switch (change.type) {
      case 'window_opened':
        return [insertWindow(this.db, change.window), ...(notify ? [enqueueEvent(this.db, windowEvent('window.opened', change.window, now), now)] : [])];
      case 'window_closed':
        return [closeWindow(this.db, change.window.id, change.window.endedAt ?? now), ...(notify ? [enqueueEvent(this.db, windowEvent('window.closed', change.window, now), now)] : [])];
      case 'first_seen':
      case 'restarted':
        return [];
    }
  }

  private async commit(next: LiveState): Promise<void> {
    this.live = next;
    await this.ctx.storage.put({ [LIVE_KEY]: next, [SEEN_KEY]: this.seen });
  }

  private notifyLater(changes: readonly Change[]): void {
    if (changes.some((c) => c.type === 'window_opened' || c.type === 'window_closed')) this.ctx.waitUntil(this.deliver());
  }

  /** Sends this agent's due notifications now; what fails stays in the outbox for the sweep. */
  private async deliver(): Promise<void> {
    if (this.live === null) return;
    try {
      const webhook = parseWebhookConfig(this.env.BLINDSPOT_WEBHOOK_URL, this.env.BLINDSPOT_WEBHOOK_SECRET);
      if (webhook === null) return;
      await deliverDueEvents(this.db, webhookChannel(webhook), Date.now, { agentId: this.live.agentId });
    } catch (e: unknown) {
      console.error(`agent ${this.live.agentId}: notification delivery failed; the sweep will retry:`, e);
    }
  }
}
