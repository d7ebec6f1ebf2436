// One Durable Object per agent (and per Alertmanager source): it takes that agent's heartbeats one
// at a time and is the system of record for what is live and what must be sent. Each decision
// (core/evaluate) is stored in one transaction of the object's own SQLite — the live state, the
// notifications it queues, and the D1 batch that records it — before the agent is answered. Pages
// leave from here without waiting on D1; D1 gets its history from the replication queue.
import { DurableObject } from 'cloudflare:workers';
import type { WatchConfig } from '../../config/resolve.ts';
import { REPLAY_WINDOW_S, type Heartbeat } from '../../protocol/heartbeat.ts';
import { isOutOfOrder, type LiveState, type Transition } from '../core/agent-state.ts';
import { evaluateHeartbeat, evaluateTimers, nextDueAt, type Subject } from '../core/evaluate.ts';
import { CACHE_MS } from './credentials.ts';
import { retireSubject } from '../core/retire.ts';
import { StateLimitError } from '../core/state-limits.ts';
import { alertSourceSubject, heartbeatFacts, holdsWindow, subjectOf, watchdogFacts } from '../core/subject.ts';
import type { Env } from '../env.ts';
import { channelRegistry } from '../notify/registry.ts';
import { createDb, type Db } from '../store/db.ts';
import { LIVE_DDL, loadLive, seenSince, storedBytes, type Written } from '../store/object-live.ts';
import * as outbox from '../store/object-outbox.ts';
import { listSetAside, REPLICATION_DDL, type QueueStats, type SetAsideBatch } from '../store/replication-queue.ts';
import { watchConfig } from '../watch-config.ts';
import { AdminPauses, D1_WAIT_MS } from './admin-pauses.ts';
import { AlarmScheduler } from './alarm-scheduler.ts';
import { type Clock, systemClock, waitAtMost } from './clock.ts';
import { publishCopy } from './public-copy.ts';
import { storeDecision } from './decision-store.ts';
import { importLegacyOutbox, upgradeStoredValues } from './legacy-storage.ts';
import { type DeliveryReport, OutboxSender } from './outbox-sender.ts';
import { Replicator, type WriteStats } from './replicator.ts';

export type IngestResult =
  | { status: 'accepted'; deadlineAt: number }
  | { status: 'replay' }
  | { status: 'out_of_order'; lastSeq: number }
  | { status: 'over_limit'; limit: string; message: string }
  | { status: 'retired' };

/**
 * How long a retired agent's heartbeats are refused by its object: other Worker instances may trust its
 * revoked secret for CACHE_MS, and a heartbeat they let through must not bring it back.
 */
export const RETIRED_REFUSE_MS = CACHE_MS + 5_000;
export type EnsureResult = 'idle' | 'armed' | 'fired' | 'ok';
export type { WriteStats };

export type { Clock } from './clock.ts';

export interface ObjectHealth {
  replication: QueueStats;
  setAside: SetAsideBatch[];
  pendingNotifications: number;
  storedBytes: number;
}

export class AgentMonitor extends DurableObject<Env> {
  clock: Clock = systemClock;
  /** Jitter of retry times; a seam so tests get the same schedule every run. */
  random: () => number = Math.random;
  private live: LiveState | null = null;
  private written: Written = { agent: null, instances: new Map() };
  private readonly db: Db;
  private readonly pauses: AdminPauses;
  readonly replicator: Replicator;
  private readonly sender: OutboxSender;
  private readonly scheduler: AlarmScheduler;
  // fetch and D1 calls let other events in; this chain keeps a heartbeat and the alarm from interleaving.
  private queue: Promise<unknown> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = createDb(env.DB);
    const sql = ctx.storage.sql;
    sql.exec(`${LIVE_DDL}\n${outbox.OUTBOX_DDL}\n${REPLICATION_DDL}`);
    const now = () => this.clock.now();
    const label = () => `agent ${this.live?.agentId ?? '?'}`;
    this.replicator = new Replicator(ctx.storage, env.DB, now, label);
    this.pauses = new AdminPauses(this.db, sql, () => this.replicator.stats.reads++);
    this.sender = new OutboxSender({
      storage: ctx.storage,
      db: this.db,
      registry: () => channelRegistry(this.env, this.config().notifications),
      now,
      random: () => this.random(),
      replicate: (statements) => this.replicator.push(statements),
      isOpen: (windowId) => holdsWindow(this.live, windowId),
      onClaim: (leaseEndsAt) => this.scheduler.notLaterThan(leaseEndsAt),
    });
    this.scheduler = new AlarmScheduler(
      ctx.storage,
      {
        engine: () => (this.live === null ? null : nextDueAt(this.live, this.subjectOf(this.live), this.config(), now())),
        outbox: () => this.sender.nextDueAt(),
        replication: () => this.replicator.nextDueAt(),
      },
      ['engine'],
    );
    const loaded = loadLive(sql);
    this.live = loaded.live;
    this.written = loaded.written;
    if (this.live === null)
      ctx.blockConcurrencyWhile(async () => void (this.live = await upgradeStoredValues(ctx.storage, this.written, now())));
  }

  /** The watch configuration plus the admin API's maintenance and silences. */
  private config(): WatchConfig {
    const base = watchConfig(this.env).config;
    const extra = this.pauses.maintenance;
    return extra.length === 0 ? base : { ...base, maintenance: [...base.maintenance, ...extra] };
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  receiveHeartbeat(agentId: string, webhookId: string, heartbeat: Heartbeat, at?: number): Promise<IngestResult> {
    return this.serially(async () => {
      const now = at ?? this.clock.now();
      if (seenSince(this.ctx.storage.sql, webhookId, now - REPLAY_WINDOW_S * 1000)) return { status: 'replay' } as const;
      const retiredAt = this.live?.retiredAt;
      if (retiredAt !== undefined && now >= retiredAt && now - retiredAt < RETIRED_REFUSE_MS) return { status: 'retired' } as const;
      if (isOutOfOrder(this.live, heartbeat)) return { status: 'out_of_order', lastSeq: this.live?.seq ?? 0 } as const;
      await this.pauses.refresh(now);
      const config = this.config();
      let transition: Transition;
      try {
        transition = evaluateHeartbeat(this.live, subjectOf('agent', agentId, config), heartbeatFacts(heartbeat), config, now);
      } catch (e: unknown) {
        if (e instanceof StateLimitError) return { status: 'over_limit', limit: e.limit, message: e.message } as const;
        throw e;
      }
      await this.apply(transition, config, now, { seen: webhookId, waitForD1: true });
      return { status: 'accepted', deadlineAt: transition.next.deadlineAt } as const;
    });
  }

  /** The Alertmanager Watchdog alert arrived: a heartbeat of the whole alert path. */
  receiveWatchdog(sourceId: string, at?: number): Promise<{ deadlineAt: number }> {
    return this.serially(async () => {
      const now = at ?? this.clock.now();
      await this.pauses.refresh(now);
      const config = this.config();
      const source = config.alertSources.find((s) => s.id === sourceId);
      if (source === undefined) throw new Error(`unknown Alertmanager source ${sourceId}`);
      const transition = evaluateHeartbeat(
        this.live,
        subjectOf('alert_source', alertSourceSubject(sourceId), config),
        watchdogFacts(this.live, source, now),
        config,
        now,
      );
      await this.apply(transition, config, now, { waitForD1: true });
      return { deadlineAt: transition.next.deadlineAt };
    });
  }

  getStatus(): LiveState | null {
    return this.live;
  }

  getWriteStats(): WriteStats & { pending: number } {
    return { ...this.replicator.stats, pending: this.replicator.queueStats().length };
  }

  /** The replication queue, what it set aside, and the notifications waiting: for /healthz and the admin API. */
  health(): ObjectHealth {
    const sql = this.ctx.storage.sql;
    return {
      replication: this.replicator.queueStats(),
      setAside: listSetAside(sql, 20),
      pendingNotifications: outbox.pendingCount(sql),
      storedBytes: storedBytes(sql),
    };
  }

  override async alarm(): Promise<void> {
    await this.serially(() => this.evaluateTimers(this.clock.now()));
    await this.afterwards();
  }

  alarmPlan(): { engineDueAt: number | null; outboxDueAt: number | null; replicationDueAt: number | null } {
    const plan = this.scheduler.plan();
    return { engineDueAt: plan['engine'] ?? null, outboxDueAt: plan['outbox'] ?? null, replicationDueAt: plan['replication'] ?? null };
  }

  /** Delivers this agent's due notifications now (the sweep's safety net and tests use it). */
  deliverNotifications(): Promise<DeliveryReport> {
    return this.sendAndRecord();
  }

  /** An operator retries a dead-lettered notification: it goes back in the queue with a fresh horizon. */
  async retryNotification(id: string): Promise<'retried' | 'not_dead' | 'unknown'> {
    const sql = this.ctx.storage.sql;
    const row = outbox.getRow(sql, id);
    if (row === null) return 'unknown';
    const retried = this.ctx.storage.transactionSync(() => {
      const again = outbox.retryDead(sql, id, this.clock.now());
      if (again !== null) this.sender.enqueueMirrored([again]);
      return again !== null;
    });
    if (!retried) return 'not_dead';
    this.ctx.waitUntil(this.sendAndRecord());
    return 'retried';
  }

  /**
   * An operator retired the agent (revoked it): every window it has open ends now (what paged is
   * resolved), and nothing is expected of it until it is heard again. Answers how many windows ended,
   * or null for an object that never heard of the agent.
   */
  retire(at?: number): Promise<{ closed: number } | null> {
    return this.serially(async () => {
      const now = at ?? this.clock.now();
      if (this.live === null) return null;
      const config = this.config();
      const transition = retireSubject(this.live, config, now);
      await this.apply(transition, config, now, { waitForD1: true });
      return { closed: transition.changes.length };
    });
  }

  /** The agent was added again after it was retired: its heartbeats are taken at once. */
  readmit(at?: number): Promise<void> {
    return this.serially(async () => {
      const now = at ?? this.clock.now();
      const live = this.live;
      if (live?.retiredAt === undefined || now - live.retiredAt >= RETIRED_REFUSE_MS) return;
      const next = { ...live, retiredAt: Math.min(live.retiredAt, now - RETIRED_REFUSE_MS) };
      await this.apply({ next, changes: [] }, this.config(), now, { waitForD1: false });
    });
  }

  /** The admin API changed maintenance or silences: re-read them, page what they no longer cover, re-plan the alarm. */
  maintenanceChanged(): Promise<void> {
    return this.serially(async () => {
      const now = this.clock.now();
      await this.pauses.refresh(now, true);
      await this.evaluateTimers(now);
      await this.scheduler.rearm(now);
    });
  }

  /** The sweep's safety net: evaluate anything overdue, re-arm a lost alarm, send what waits. */
  async ensureAlarm(at?: number): Promise<EnsureResult> {
    const result = await this.serially(async (): Promise<EnsureResult> => {
      const now = at ?? this.clock.now();
      if (this.live === null) return 'idle';
      const due = nextDueAt(this.live, this.subjectOf(this.live), this.config(), now);
      if (due !== null && due <= now) {
        await this.evaluateTimers(now);
        return 'fired';
      }
      // Nothing to decide: the visit still refreshes the public copy (an object quiet for a while).
      await publishCopy(this.env, this.live, now, this.clock);
      if ((await this.ctx.storage.getAlarm()) === null && Object.values(this.scheduler.plan()).some((t) => t !== null)) {
        await this.scheduler.rearm(now);
        return 'armed';
      }
      return 'ok';
    });
    await this.afterwards();
    return result;
  }

  private async evaluateTimers(now: number): Promise<void> {
    if (this.live === null) return;
    await this.pauses.refresh(now);
    const config = this.config();
    await this.apply(evaluateTimers(this.live, this.subjectOf(this.live), config, now), config, now, { waitForD1: false });
  }

  /** Carries over what an older deployment left in D1, then sends what is due and what D1 still lacks. */
  private async afterwards(): Promise<void> {
    await importLegacyOutbox(this.ctx.storage, this.db);
    await this.sendAndRecord();
  }

  /** Sends due notifications while D1 gets what waits for it (sending never waits on D1), then records the attempts. */
  private async sendAndRecord(): Promise<DeliveryReport> {
    const [report] = await Promise.all([this.sender.deliver(), this.replicator.flush()]);
    await this.replicator.flush();
    await this.scheduler.rearm(this.clock.now());
    return report;
  }

  private subjectOf(live: LiveState): Subject {
    return subjectOf(live.kind, live.agentId, this.config());
  }

  /**
   * Stores the decision in one transaction (decision-store.ts), then sends what it queued and arms
   * the alarm. A heartbeat waits a little for D1 so readers of history see it at once; a D1 that
   * fails or hangs only delays history.
   */
  private async apply(
    transition: Transition,
    config: WatchConfig,
    now: number,
    options: { seen?: string; waitForD1: boolean },
  ): Promise<void> {
    const routing = channelRegistry(this.env, config.notifications).routing;
    const stored = storeDecision(
      { storage: this.ctx.storage, db: this.db, replicator: this.replicator, routing },
      this.written,
      transition,
      config,
      now,
      options.seen,
    );
    this.live = stored.next;
    if (stored.sends) this.ctx.waitUntil(this.sendAndRecord());
    // A heartbeat tries D1 at once (an outage costs one refused call per heartbeat); alarms keep the backoff.
    const writing = this.replicator.flush(options.waitForD1 || stored.forD1);
    if (options.waitForD1) await waitAtMost(writing, D1_WAIT_MS, this.clock);
    this.ctx.waitUntil(writing.then(() => this.scheduler.rearm(this.clock.now())));
    await this.scheduler.rearm(now);
    await publishCopy(this.env, this.live, now, this.clock);
  }
}
