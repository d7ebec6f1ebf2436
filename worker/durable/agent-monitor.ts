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
import { readmitSubject, refusedAsRetired, retireSubject } from '../core/retire.ts';
import { quietedByPause } from '../core/silence.ts';
import { StateLimitError } from '../core/state-limits.ts';
import { alertSourceSubject, heartbeatFacts, subjectOf, watchdogFacts } from '../core/subject.ts';
import type { Env } from '../env.ts';
import type { Db } from '../store/db.ts';
import { isUnwritten, LIVE_DDL, loadLive, seenSince, type Written } from '../store/object-live.ts';
import * as outbox from '../store/object-outbox.ts';
import { REPLICATION_DDL } from '../store/replication-queue.ts';
import { watchConfig } from '../watch-config.ts';
import type { Maintenance } from '../../config/resolve.ts';
import { type AdminPauses, D1_WAIT_MS } from './admin-pauses.ts';
import { agentParts } from './agent-parts.ts';
import type { AlarmScheduler } from './alarm-scheduler.ts';
import type { EnsureResult, IngestResult } from './agent-answers.ts';
import { type Clock, systemClock } from './clock.ts';
import type { DecisionCommit } from './decision-commit.ts';
import { importLegacyOutbox, upgradeStoredValues } from './legacy-storage.ts';
import { KeptSecrets } from './kept-secrets.ts';
import type { DeliveryReport, OutboxSender } from './outbox-sender.ts';
import type { PublicCopy } from './public-copy.ts';
import { type ObjectHealth, objectHealth, type Replicator, type WriteStats } from './replicator.ts';

export { RETIRED_REFUSE_MS } from '../core/retire.ts';
export type { EnsureResult, IngestResult } from './agent-answers.ts';
export type { Clock } from './clock.ts';
export type { ObjectHealth, WriteStats };

/**
 * How long the sweep's visit waits for D1 after sending (an alarm or a heartbeat waits D1_WAIT_MS):
 * under a D1 that hangs, a fleet's visits, 16 at a time, would take 1.5 s each, a thousand agents a
 * minute and a half, and sweeps would pile up. What D1 has not taken by then goes on in the background.
 */
export const VISIT_D1_WAIT_MS = 250;

const SCHEMA = `${LIVE_DDL}\n${outbox.OUTBOX_DDL}\n${REPLICATION_DDL}`;

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
  private readonly commit: DecisionCommit;
  private readonly copy: PublicCopy;
  private readonly keys: KeptSecrets;
  // fetch and D1 calls let other events in; this chain keeps a heartbeat and the alarm from interleaving.
  private queue: Promise<unknown> = Promise.resolve();
  /** No table yet: nothing was ever stored in this object. */
  private fresh: boolean;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    ({
      db: this.db,
      replicator: this.replicator,
      pauses: this.pauses,
      sender: this.sender,
      scheduler: this.scheduler,
      commit: this.commit,
      copy: this.copy,
    } = agentParts(ctx, env, {
      live: () => this.live,
      adopt: (next) => void (this.live = next),
      written: () => this.written,
      config: () => this.config(),
      clock: () => this.clock,
      random: () => this.random(),
    }));
    this.keys = new KeptSecrets(sql);
    // An object nothing was ever stored in stays so until a call that must store (ready): asked only
    // for a copy of keys (a heartbeat for any id while the credentials store is away), it leaves nothing.
    this.fresh = isUnwritten(sql);
    if (this.fresh) return;
    sql.exec(SCHEMA);
    const loaded = loadLive(sql);
    this.live = loaded.live;
    this.written = loaded.written;
    if (this.live === null)
      ctx.blockConcurrencyWhile(async () => void (this.live = await upgradeStoredValues(ctx.storage, this.written, this.clock.now())));
  }

  /** Creates the tables of an object that had none, before its first read or write of them. */
  private ready(): void {
    if (!this.fresh) return;
    this.ctx.storage.sql.exec(SCHEMA);
    this.fresh = false;
  }

  /** The watch configuration plus the admin API's maintenance and silences. */
  private config(): WatchConfig {
    const base = watchConfig(this.env).config;
    const extra = this.pauses.maintenance;
    return extra.length === 0 ? base : { ...base, maintenance: [...base.maintenance, ...extra] };
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    this.ready();
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** One decision at a time, at `at` or the clock's now, with the maintenance and silences read and the configuration that includes them. */
  private decide<T>(at: number | undefined, work: (now: number, config: WatchConfig) => Promise<T>): Promise<T> {
    return this.serially(async () => {
      const now = at ?? this.clock.now();
      await this.pauses.refresh(now);
      const result = await work(now, this.config());
      this.pauses.heard();
      return result;
    });
  }

  receiveHeartbeat(agentId: string, webhookId: string, heartbeat: Heartbeat, at?: number): Promise<IngestResult> {
    return this.decide(at, async (now, config) => {
      if (seenSince(this.ctx.storage.sql, webhookId, now - REPLAY_WINDOW_S * 1000)) return { status: 'replay' } as const;
      if (refusedAsRetired(this.live, now)) return { status: 'retired' } as const;
      if (isOutOfOrder(this.live, heartbeat)) return { status: 'out_of_order', lastSeq: this.live?.seq ?? 0 } as const;
      let transition: Transition;
      try {
        transition = evaluateHeartbeat(this.live, subjectOf('agent', agentId, config), heartbeatFacts(heartbeat), config, now);
      } catch (e: unknown) {
        if (e instanceof StateLimitError) return { status: 'over_limit', limit: e.limit, message: e.message } as const;
        throw e;
      }
      await this.commit.apply(transition, config, now, { seen: webhookId, waitForD1: true });
      return { status: 'accepted', deadlineAt: transition.next.deadlineAt, keysKept: this.keys.get() !== null } as const;
    });
  }

  /** The Alertmanager Watchdog alert arrived: a heartbeat of the whole alert path. */
  receiveWatchdog(sourceId: string, at?: number): Promise<{ deadlineAt: number }> {
    return this.decide(at, async (now, config) => {
      const source = config.alertSources.find((s) => s.id === sourceId);
      if (source === undefined) throw new Error(`unknown Alertmanager source ${sourceId}`);
      const transition = evaluateHeartbeat(
        this.live,
        subjectOf('alert_source', alertSourceSubject(sourceId), config),
        watchdogFacts(this.live, source, now),
        config,
        now,
      );
      await this.commit.apply(transition, config, now, { waitForD1: true });
      return { deadlineAt: transition.next.deadlineAt };
    });
  }

  /** The agent's managed secrets, kept for when the credentials store cannot be reached (kept-secrets.ts). */
  keepSecrets(secrets: readonly string[], onlyIfNone = false): void {
    this.ready();
    if (!onlyIfNone || this.keys.get() === null) this.keys.set(secrets);
  }

  keptSecrets(): readonly string[] | null {
    return this.fresh ? null : this.keys.get();
  }

  getStatus(): LiveState | null {
    return this.live;
  }

  getWriteStats(): WriteStats & { pending: number } {
    this.ready();
    return { ...this.replicator.stats, pending: this.replicator.queueStats().length };
  }

  /** The replication queue, what it set aside, and the notifications waiting: for /healthz and the admin API. */
  health(): ObjectHealth {
    this.ready();
    return objectHealth(this.ctx.storage.sql, this.replicator);
  }

  /**
   * An operator fixed what D1 refused for good (a migration not applied): the set-aside batches are
   * queued again in their old place and sent now (then with backoff, as any). Answers how many.
   */
  retrySetAside(): number {
    this.ready();
    const n = this.replicator.retrySetAside();
    if (n > 0) this.ctx.waitUntil(this.commit.sendAndRecord());
    return n;
  }

  /** An operator has seen what D1 lacks: the set-aside batches are forgotten and the dropped count cleared. */
  acknowledgeLosses(): { setAside: number; dropped: number } {
    this.ready();
    return this.replicator.acknowledgeLosses();
  }

  override async alarm(): Promise<void> {
    await this.serially(() => this.evaluateTimers(this.clock.now()));
    await this.afterwards();
  }

  alarmPlan(): { engineDueAt: number | null; outboxDueAt: number | null; replicationDueAt: number | null } {
    this.ready();
    const plan = this.scheduler.plan();
    return { engineDueAt: plan['engine'] ?? null, outboxDueAt: plan['outbox'] ?? null, replicationDueAt: plan['replication'] ?? null };
  }

  /** Delivers this agent's due notifications now (the sweep's safety net and tests use it). */
  deliverNotifications(): Promise<DeliveryReport> {
    this.ready();
    return this.commit.sendAndRecord();
  }

  /** An operator retries a dead-lettered notification: it goes back in the queue with a fresh horizon. */
  async retryNotification(id: string): Promise<'retried' | 'not_dead' | 'unknown'> {
    this.ready();
    const result = this.sender.retryDead(id);
    if (result === 'retried') this.ctx.waitUntil(this.commit.sendAndRecord());
    return result;
  }

  /**
   * An operator retired the agent (revoked it): every window it has open ends now (what paged is
   * resolved), and nothing is expected of it until it is heard again. Answers how many windows ended,
   * or null for an object that never heard of the agent.
   */
  retire(at?: number): Promise<{ closed: number } | null> {
    return this.decide(at, async (now, config) => {
      if (this.live === null) return null;
      const transition = retireSubject(this.live, config, now);
      await this.commit.apply(transition, config, now, { waitForD1: true });
      return { closed: transition.changes.length };
    });
  }

  /** Whether this object watches an agent (heard, and not retired since). */
  watching(): boolean {
    return this.live !== null && this.live.retiredAt === undefined;
  }

  /** The agent was added again after it was retired: its heartbeats are taken at once. */
  readmit(at?: number): Promise<void> {
    return this.decide(at, async (now, config) => {
      const transition = readmitSubject(this.live, now);
      if (transition !== null) await this.commit.apply(transition, config, now, { waitForD1: false });
    });
  }

  /**
   * The admin API changed maintenance or silences: take its reading of them (`told`, when it could
   * read them back) and re-read them, page what they no longer cover, re-plan the alarm.
   */
  maintenanceChanged(told?: { maintenance: Maintenance[]; at: number }): Promise<void> {
    return this.serially(async () => {
      const now = this.clock.now();
      if (told !== undefined) this.pauses.adopt(told);
      await this.pauses.refresh(now, true);
      await this.evaluateTimers(now);
      await this.scheduler.rearm(now);
    });
  }

  /** The minute sweep's visit in one call: ensureAlarm, then what the object owes (the fleet's replication). */
  async visit(at?: number): Promise<{ ensured: EnsureResult; health: ObjectHealth }> {
    return { ensured: await this.ensureAlarm(at, VISIT_D1_WAIT_MS), health: this.health() };
  }

  /**
   * The sweep's safety net: evaluate anything overdue, re-arm a lost alarm, send what waits (waiting
   * for D1 at most `d1WaitMs` after the sending).
   */
  async ensureAlarm(at?: number, d1WaitMs = D1_WAIT_MS): Promise<EnsureResult> {
    const result = await this.serially(async (): Promise<EnsureResult> => {
      const now = at ?? this.clock.now();
      if (this.live === null) return 'idle';
      // No heartbeat re-reads the pauses while the agent is away: a lifted one it was not told of would
      // hold the page until its old end. Every few minutes at most (REFRESH_MS), and only then.
      if (quietedByPause(this.live)) await this.pauses.refresh(now);
      const due = nextDueAt(this.live, this.subjectOf(this.live), this.config(), now);
      if (due !== null && due <= now) {
        await this.evaluateTimers(now);
        return 'fired';
      }
      // Nothing to decide: the visit refreshes the public copy if it may be stale (public-copy.ts).
      await this.copy.refresh(this.live, now, this.clock);
      if ((await this.ctx.storage.getAlarm()) === null && Object.values(this.scheduler.plan()).some((t) => t !== null)) {
        await this.scheduler.rearm(now);
        return 'armed';
      }
      return 'ok';
    });
    await this.afterwards(d1WaitMs);
    return result;
  }

  private async evaluateTimers(now: number): Promise<void> {
    if (this.live === null) return;
    await this.pauses.refresh(now);
    const config = this.config();
    await this.commit.apply(evaluateTimers(this.live, this.subjectOf(this.live), config, now), config, now, { waitForD1: false });
  }

  /** Carries over what an older deployment left in D1, then sends what is due and what D1 still lacks. */
  private async afterwards(d1WaitMs = D1_WAIT_MS): Promise<void> {
    await importLegacyOutbox(this.ctx.storage, this.db);
    await this.commit.sendAndRecord(d1WaitMs);
  }

  private subjectOf(live: LiveState): Subject {
    return subjectOf(live.kind, live.agentId, this.config());
  }
}
