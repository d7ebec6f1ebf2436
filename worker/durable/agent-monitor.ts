// One Durable Object per agent (and per Alertmanager source): it takes that agent's heartbeats one
// at a time, keeps the live state of every monitor, and holds an alarm at the earliest thing due.
// It only reads → decides (core/evaluate) → writes. D1 writes that fail are kept in this object's
// storage and retried, so a D1 outage never refuses a heartbeat or loses a window.
import { DurableObject } from 'cloudflare:workers';
import type { CompiledQuery } from 'kysely';
import type { Maintenance, WatchConfig } from '../../config/resolve.ts';
import type { Heartbeat } from '../../protocol/heartbeat.ts';
import { isOutOfOrder, type LiveState, type SubjectKind, type Transition, upgradeLive } from '../core/agent-state.ts';
import { evaluateHeartbeat, evaluateTimers, nextDueAt, type Subject } from '../core/evaluate.ts';
import { isReplay, pruneSeen, type SeenIds } from '../core/replay.ts';
import { engineMaintenance } from '../core/notices.ts';
import { flushDue, flushSpreadMs, takeComplete } from '../core/rollup.ts';
import type { Env } from '../env.ts';
import type { DeliveryReport } from '../jobs/deliver-outbox.ts';
import { channelRegistry } from '../notify/registry.ts';
import { createDb, type Db, runBatch } from '../store/db.ts';
import { pendingPauses } from '../store/notices.ts';
import { transitionWrites } from '../store/transition-writes.ts';
import { watchConfig } from '../watch-config.ts';
import { OutboxDriver } from './outbox-driver.ts';

export type IngestResult = { status: 'accepted'; deadlineAt: number } | { status: 'replay' } | { status: 'out_of_order'; lastSeq: number };
export type EnsureResult = 'idle' | 'armed' | 'fired' | 'ok';

export interface WriteStats {
  /** D1 batches this object sent, and statements in them: the D1 budget, counted. */
  batches: number;
  statements: number;
  /** Rows D1 reports written by those statements (indexes included, as D1 bills them). */
  rowsWritten: number;
  /** D1 reads this object made (the admin API's maintenance and silences). */
  reads: number;
  /** Batches waiting in storage because D1 refused them. */
  pending: number;
}

interface StoredQuery {
  sql: string;
  parameters: unknown[];
}

const LIVE_KEY = 'live';
const SEEN_KEY = 'seen';
const PENDING_KEY = 'pending';
const STATS_KEY = 'stats';
/** How often maintenance and silences from the admin API are re-read without being told. */
const PAUSES_REFRESH_MS = 5 * 60_000;
/** Beyond this many waiting batches the oldest are dropped, loudly: storage is bounded. */
const MAX_PENDING_BATCHES = 2000;
/**
 * How long a heartbeat waits on its D1 write before it is answered anyway. The batch is in this
 * object's storage before it is sent, so a D1 that hangs (rather than fails) delays history, never
 * a heartbeat: the agent's deadline is renewed either way.
 */
const D1_WAIT_MS = 1500;

export class AgentMonitor extends DurableObject<Env> {
  private live: LiveState | null = null;
  private seen: SeenIds = {};
  private pending: StoredQuery[][] = [];
  private stats: WriteStats = { batches: 0, statements: 0, rowsWritten: 0, reads: 0, pending: 0 };
  private readonly db: Db;
  /** Maintenance and silences made through the admin API, as last read from D1 (kept when D1 fails). */
  private pauses: Maintenance[] = [];
  private pausesReadAt = 0;
  private readonly outbox: OutboxDriver;
  // D1 and fetch calls let other events in; this chain keeps a heartbeat and the alarm from interleaving.
  private queue: Promise<unknown> = Promise.resolve();
  // D1 writes in order, one at a time; a heartbeat waits on its own at most D1_WAIT_MS.
  private writes: Promise<unknown> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = createDb(env.DB);
    this.outbox = new OutboxDriver(ctx, env, this.db, () => this.live?.agentId ?? null, () => (this.live === null ? null : nextDueAt(this.live, this.subject(this.live.kind, this.live.agentId, this.config()), this.config(), Date.now())));
    ctx.blockConcurrencyWhile(async () => {
      await this.outbox.load();
      const stored = await ctx.storage.get<LiveState>(LIVE_KEY);
      this.live = stored === undefined ? null : upgradeLive(stored);
      this.seen = (await ctx.storage.get<SeenIds>(SEEN_KEY)) ?? {};
      this.pending = (await ctx.storage.get<StoredQuery[][]>(PENDING_KEY)) ?? [];
      this.stats = { ...this.stats, ...(await ctx.storage.get<Partial<WriteStats>>(STATS_KEY)) };
    });
  }

  /** The watch configuration plus the admin API's maintenance and silences. */
  private config(): WatchConfig {
    const base = watchConfig(this.env).config;
    return this.pauses.length === 0 ? base : { ...base, maintenance: [...base.maintenance, ...this.pauses] };
  }

  /** Re-reads the admin API's pauses when they are old (or when told); a failed read keeps the last ones. */
  private async refreshPauses(now: number, force = false): Promise<void> {
    if (!force && now - this.pausesReadAt < PAUSES_REFRESH_MS) return;
    try {
      // Bounded like the writes: a D1 that hangs must not hold a heartbeat.
      this.stats = { ...this.stats, reads: this.stats.reads + 1 };
      let timer: ReturnType<typeof setTimeout> | undefined;
      const read = await Promise.race([pendingPauses(this.db, now), new Promise<null>((r) => (timer = setTimeout(() => r(null), D1_WAIT_MS)))]);
      clearTimeout(timer);
      if (read === null) throw new Error(`no answer within ${D1_WAIT_MS} ms`);
      this.pauses = engineMaintenance(read);
      this.pausesReadAt = now;
    } catch (e: unknown) {
      console.error('could not read maintenance and silences from D1; keeping the last ones read:', e);
      this.pausesReadAt = now - PAUSES_REFRESH_MS + 30_000;
    }
  }

  /** The admin API changed maintenance or silences: re-read them, page what they no longer cover, re-plan the alarm. */
  maintenanceChanged(): Promise<void> {
    return this.serially(async () => {
      const now = Date.now();
      await this.refreshPauses(now, true);
      if (this.live === null) return;
      await this.evaluateTimers(now);
      await this.outbox.rearm(now);
    });
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  receiveHeartbeat(agentId: string, webhookId: string, heartbeat: Heartbeat, now: number = Date.now()): Promise<IngestResult> {
    return this.serially(async () => {
      if (isReplay(this.seen, webhookId, now)) return { status: 'replay' } as const;
      if (isOutOfOrder(this.live, heartbeat)) return { status: 'out_of_order', lastSeq: this.live?.seq ?? 0 } as const;
      await this.refreshPauses(now);
      const config = this.config();
      const facts = {
        boot: heartbeat.boot,
        seq: heartbeat.seq,
        intervalS: heartbeat.interval_s,
        graceS: heartbeat.grace_s,
        sentAt: Date.parse(heartbeat.sent_at),
        stopping: heartbeat.stopping === true,
        signals: heartbeat.signals,
      };
      const transition = evaluateHeartbeat(this.live, this.subject('agent', agentId, config), facts, config, now);
      this.seen = { ...pruneSeen(this.seen, now), [webhookId]: now };
      await this.apply(transition, config, now);
      return { status: 'accepted', deadlineAt: transition.next.deadlineAt } as const;
    });
  }

  /** The Alertmanager Watchdog alert arrived: a heartbeat of the whole alert path. */
  receiveWatchdog(sourceId: string, now: number = Date.now()): Promise<{ deadlineAt: number }> {
    return this.serially(async () => {
      await this.refreshPauses(now);
      const config = this.config();
      const source = config.alertSources.find((s) => s.id === sourceId);
      if (source === undefined) throw new Error(`unknown Alertmanager source ${sourceId}`);
      const facts = { boot: 'alertmanager', seq: (this.live?.seq ?? 0) + 1, intervalS: source.intervalS, graceS: source.graceS, sentAt: now, stopping: false, signals: [] };
      const transition = evaluateHeartbeat(this.live, this.subject('alert_source', `alertmanager:${sourceId}`, config), facts, config, now);
      await this.apply(transition, config, now);
      return { deadlineAt: transition.next.deadlineAt };
    });
  }

  getStatus(): LiveState | null {
    return this.live;
  }

  getWriteStats(): WriteStats {
    return { ...this.stats, pending: this.pending.length };
  }

  override async alarm(): Promise<void> {
    await this.serially(() => this.evaluateTimers(Date.now()));
    await this.outbox.deliver();
  }

  alarmPlan(): { engineDueAt: number | null; outboxDueAt: number | null } {
    return this.outbox.plan();
  }

  /** Delivers this agent's due notifications now (the sweep's safety net and tests use it). */
  deliverNotifications(): Promise<DeliveryReport | null> {
    return this.outbox.deliver();
  }

  /** The sweep's safety net: evaluate anything overdue, re-arm a lost alarm, retry waiting writes. */
  ensureAlarm(now: number = Date.now()): Promise<EnsureResult> {
    return this.serially(async () => {
      if (this.live === null) return 'idle';
      const config = this.config();
      const due = nextDueAt(this.live, this.subject(this.live.kind, this.live.agentId, config), config, now);
      if (due !== null && due <= now) {
        await this.evaluateTimers(now);
        return 'fired';
      }
      if (this.pending.length > 0) await this.writeInOrder([]);
      if (due !== null && (await this.ctx.storage.getAlarm()) === null) {
        await this.outbox.rearm(now);
        return 'armed';
      }
      return 'ok';
    });
  }

  private async evaluateTimers(now: number): Promise<void> {
    if (this.live === null) return;
    await this.refreshPauses(now);
    const config = this.config();
    const transition = evaluateTimers(this.live, this.subject(this.live.kind, this.live.agentId, config), config, now);
    await this.apply(transition, config, now);
  }

  private subject(kind: SubjectKind, id: string, config: WatchConfig): Subject {
    const source = kind === 'alert_source' ? config.alertSources.find((s) => `alertmanager:${s.id}` === id) : undefined;
    return { kind, id, component: source?.component ?? config.defaults.component };
  }

  /** Writes what changed (and complete rollups), stores the new state, and arms the next alarm. */
  private async apply(transition: Transition, config: WatchConfig, now: number): Promise<void> {
    let next = transition.next;
    let rollups = null;
    if (flushDue(next.rollup, next.lastFlushAt, now, flushSpreadMs(next.agentId))) {
      const taken = takeComplete(next.rollup, now);
      rollups = taken.flush;
      next = { ...next, rollup: taken.rest, lastFlushAt: now };
    }
    // Routed even to channels whose secret is missing or malformed: detection never waits on
    // notification settings, and what is queued goes out once the settings are fixed.
    const routing = channelRegistry(this.env, config.notifications).routing;
    const queries = transitionWrites(this.db, next, transition.changes, rollups, { routing, config, now });
    this.live = next;
    await this.ctx.storage.put({ [LIVE_KEY]: next, [SEEN_KEY]: this.seen });
    const notify = transition.changes.some((c) => c.type !== 'first_seen' && c.type !== 'restarted' && c.type !== 'stopping');
    const writing = this.writeInOrder(queries).then((written) => {
      if (written && notify) this.ctx.waitUntil(this.outbox.deliver());
      return written;
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const waited = await Promise.race([writing.then(() => true), new Promise<false>((r) => (timer = setTimeout(() => r(false), D1_WAIT_MS)))]);
    clearTimeout(timer);
    if (!waited) {
      console.error(`agent ${next.agentId}: D1 has not answered within ${D1_WAIT_MS} ms; the heartbeat is taken and the write goes on`);
      this.ctx.waitUntil(writing);
    }
    await this.outbox.rearm(now);
  }

  private writeInOrder(queries: readonly CompiledQuery[]): Promise<boolean> {
    const run = this.writes.then(() => this.write(queries));
    this.writes = run.catch(() => undefined);
    return run;
  }

  /** Sends waiting batches, oldest first, then this one. What D1 refuses waits in storage for the next try. */
  private async write(queries: readonly CompiledQuery[]): Promise<boolean> {
    const batches = [...this.pending];
    if (queries.length > 0) {
      batches.push(queries.map((q) => ({ sql: q.sql, parameters: [...q.parameters] })));
      // Kept before it is sent: a restart while D1 hangs sends it again instead of losing it.
      this.pending = batches;
      await this.ctx.storage.put(PENDING_KEY, batches);
    }
    if (batches.length === 0) return true;
    let sent = 0;
    try {
      for (const batch of batches) {
        const rows = await runBatch(this.env.DB, batch);
        sent++;
        this.stats = { ...this.stats, batches: this.stats.batches + 1, statements: this.stats.statements + batch.length, rowsWritten: this.stats.rowsWritten + rows };
      }
    } catch (e: unknown) {
      console.error(`agent ${this.live?.agentId}: D1 write failed, ${batches.length - sent} batch(es) kept for retry:`, e);
    }
    let rest = batches.slice(sent);
    if (rest.length > MAX_PENDING_BATCHES) {
      console.error(`agent ${this.live?.agentId}: ${rest.length - MAX_PENDING_BATCHES} waiting D1 batch(es) dropped; D1 has refused writes for too long`);
      rest = rest.slice(-MAX_PENDING_BATCHES);
    }
    this.pending = rest;
    await this.ctx.storage.put({ [PENDING_KEY]: rest, [STATS_KEY]: this.stats });
    return rest.length === 0;
  }
}
