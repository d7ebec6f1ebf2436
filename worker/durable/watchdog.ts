// The watchdog's own heartbeat: one object that records every sweep's tick. When the ticks stopped
// for longer than twice their period, the Worker (or its cron) was not running, and the gap is told.
// It also keeps and sends the watchdog's summaries (notifications of the pseudo-agent "*") from its
// own outbox, replicated to D1 like an agent's.
import { DurableObject } from 'cloudflare:workers';
import type { LiveState } from '../core/agent-state.ts';
import { type LateSummary, summaryEvent, summaryId } from '../core/window-event.ts';
import { type Gap, recordTick, type TickState, visitedIn } from '../core/watchdog-ticks.ts';
import type { Env } from '../env.ts';
import { channelRegistry } from '../notify/registry.ts';
import { createDb, type Db } from '../store/db.ts';
import { LIVE_DDL } from '../store/object-live.ts';
import { listCopies, PUBLIC_COPIES_DDL, pruneCopies, putCopy } from '../store/public-copies.ts';
import {
  AGENT_KEYS_DDL,
  type AgentKey,
  countAgents,
  deleteKeys,
  insertKey,
  keyedAgentIds,
  listKeys,
  secretsOf,
} from '../store/agent-keys.ts';
import { type KeyRefusal, refuseKey } from '../core/agent-keys.ts';
import {
  ADMIN_TOKENS_DDL,
  countTokens,
  deleteToken,
  insertToken,
  listTokens,
  type ManagedToken,
  tokenByHash,
} from '../store/admin-tokens.ts';
import { generateSecret } from '../../protocol/signature.ts';
import * as outbox from '../store/object-outbox.ts';
import { mirrorRow } from '../store/outbox.ts';
import { type QueueStats, REPLICATION_DDL } from '../store/replication-queue.ts';
import { addPendingGap, oldestPendingGap, PENDING_GAPS_DDL, takePendingGap } from '../store/pending-gaps.ts';
import { deleteLoss, FLEET_LOSSES_DDL, type FleetReplication, listLosses, putLoss } from '../store/fleet-losses.ts';
import { SUMMARISED_WINDOWS_DDL, takeUntold } from '../store/summarised-windows.ts';
import { watchConfig } from '../watch-config.ts';
import { AlarmScheduler } from './alarm-scheduler.ts';
import { type Clock, systemClock, waitBriefly } from './clock.ts';
import { D1_WAIT_MS } from './admin-pauses.ts';
import { type DeliveryReport, OutboxSender } from './outbox-sender.ts';
import { type ObjectHealth, objectHealth, Replicator } from './replicator.ts';

const KEY = 'ticks';
const FLEET_KEY = 'fleet';
/** The last agent the last sweep started a visit to: the next sweep starts after it. */
const CURSOR_KEY = 'sweep-cursor';
/** The agents with losses named in the fleet's record (all are counted). */
const TROUBLED_SHOWN = 50;
const SNAPSHOT_KEY = 'snapshot';
/** Storage values are limited (128 KiB); a snapshot is kept in pieces below that. */
const PIECE = 100_000;
export const SUMMARY_OWNER = '*';
/** Managed admin tokens the credentials object keeps. */
const MAX_ADMIN_TOKENS = 1000;

export class Watchdog extends DurableObject<Env> {
  clock: Clock = systemClock;
  private readonly db: Db;
  private readonly replicator: Replicator;
  private readonly sender: OutboxSender;
  private readonly scheduler: AlarmScheduler;
  private copyCache: Map<string, { live: LiveState; at: number }> | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = createDb(env.DB);
    ctx.storage.sql.exec(
      `${LIVE_DDL}\n${outbox.OUTBOX_DDL}\n${REPLICATION_DDL}\n${PUBLIC_COPIES_DDL}\n${AGENT_KEYS_DDL}\n${ADMIN_TOKENS_DDL}\n${SUMMARISED_WINDOWS_DDL}\n${FLEET_LOSSES_DDL}\n${PENDING_GAPS_DDL}`,
    );
    const now = () => this.clock.now();
    this.replicator = new Replicator(ctx.storage, env.DB, now, () => 'watchdog');
    this.sender = new OutboxSender({
      storage: ctx.storage,
      db: this.db,
      registry: () => channelRegistry(this.env, watchConfig(this.env).config.notifications),
      now,
      replicate: (statements) => this.replicator.push(statements),
      stamp: (now) => this.replicator.decisionStamp(now),
      isOpen: () => false,
      onClaim: (leaseEndsAt) => this.scheduler.notLaterThan(leaseEndsAt),
    });
    this.scheduler = new AlarmScheduler(ctx.storage, {
      outbox: () => this.sender.nextDueAt(),
      replication: () => this.replicator.nextDueAt(),
    });
  }

  async tick(now: number = this.clock.now()): Promise<{ gap: Gap | null; previousTickAt: number | null; resumeAfter: string | null }> {
    const stored = await this.ctx.storage.get<TickState | string>([KEY, CURSOR_KEY]);
    const state = (stored.get(KEY) as TickState | undefined) ?? null;
    const result = recordTick(state, now);
    await this.ctx.storage.put(KEY, result.next);
    // The gap waits here until a summary takes it: each tick hands out the oldest not yet taken.
    if (result.gap !== null) addPendingGap(this.ctx.storage.sql, result.gap);
    return {
      gap: oldestPendingGap(this.ctx.storage.sql),
      previousTickAt: state?.lastTickAt ?? null,
      resumeAfter: (stored.get(CURSOR_KEY) as string | undefined) ?? null,
    };
  }

  /** An agent's object keeps its public copy current (after each decision, and each sweep). */
  putPublicCopy(id: string, live: LiveState, at: number): void {
    const copies = this.copies();
    if ((copies.get(id)?.at ?? Number.NEGATIVE_INFINITY) > at) return;
    putCopy(this.ctx.storage.sql, id, live, at);
    copies.set(id, { live, at });
  }

  /** Copies nobody has written since `before` (a subject long gone); the sweep calls it once an hour. */
  prunePublicCopies(before: number): number {
    const n = pruneCopies(this.ctx.storage.sql, before);
    if (n > 0) this.copyCache = null;
    return n;
  }

  /** Every subject's public copy in this shard (see public-shards.ts), in one read. */
  publicCopies(): { id: string; live: LiveState }[] {
    return [...this.copies()].map(([id, c]) => ({ id, live: c.live }));
  }

  /** The ids of the subjects this shard holds a copy of. */
  publicCopyIds(): string[] {
    return [...this.copies().keys()];
  }

  /** The copies as stored, parsed once per instance (readers come every few seconds; writers more often). */
  private copies(): Map<string, { live: LiveState; at: number }> {
    this.copyCache ??= new Map(listCopies(this.ctx.storage.sql).map((c) => [c.id, { live: c.live, at: c.at }]));
    return this.copyCache;
  }

  /**
   * The replication queues of the agents' objects as a sweep found them, and where its visits stopped.
   * The losses (history set aside or dropped) are merged with those of the agents it did not visit,
   * as earlier sweeps found them: an agent's row goes once a sweep visits it and finds none.
   */
  async recordFleet(fleet: FleetReplication, resumeAfter: string | null = null): Promise<void> {
    const sql = this.ctx.storage.sql;
    const record = this.ctx.storage.transactionSync((): FleetReplication => {
      const found = new Map(fleet.troubled.map((t) => [t.agent, t]));
      const run = fleet.visited ?? { whole: true, after: null, through: null };
      const missed = new Set(fleet.missed);
      for (const { agent } of listLosses(sql)) if (!found.has(agent) && !missed.has(agent) && visitedIn(run, agent)) deleteLoss(sql, agent);
      for (const loss of found.values()) putLoss(sql, loss, fleet.at);
      const losses = listLosses(sql);
      const { visited: _, missed: __, ...figures } = fleet;
      return {
        ...figures,
        setAside: losses.reduce((n, l) => n + l.setAside, 0),
        dropped: losses.reduce((n, l) => n + l.dropped, 0),
        troubled: losses.slice(0, TROUBLED_SHOWN),
        troubledAgents: losses.length,
      };
    });
    await this.ctx.storage.put(resumeAfter === null ? { [FLEET_KEY]: record } : { [FLEET_KEY]: record, [CURSOR_KEY]: resumeAfter });
  }

  async fleet(): Promise<FleetReplication | null> {
    return (await this.ctx.storage.get<FleetReplication>(FLEET_KEY)) ?? null;
  }

  /**
   * The fleet's replication record, this object's own queue (the summaries and watchdog_gap windows it
   * records) and when the last sweep ran, in one call (for /healthz and /metrics).
   */
  async sweepHealth(): Promise<{ fleet: FleetReplication | null; own: QueueStats; lastTickAt: number | null }> {
    const stored = await this.ctx.storage.get<FleetReplication | TickState>([FLEET_KEY, KEY]);
    return {
      fleet: (stored.get(FLEET_KEY) as FleetReplication | undefined) ?? null,
      own: this.replicator.queueStats(),
      lastTickAt: (stored.get(KEY) as TickState | undefined)?.lastTickAt ?? null,
    };
  }

  /** What this object still owes D1 and its channels: the history of its summaries and of the gaps in its ticks. */
  health(): ObjectHealth {
    return objectHealth(this.ctx.storage.sql, this.replicator);
  }

  /** An operator fixed what D1 refused for good: this object's set-aside batches go back in the queue, sent now. Answers how many. */
  retrySetAside(): number {
    const n = this.replicator.retrySetAside();
    if (n > 0) this.ctx.waitUntil(this.deliverSummaries());
    return n;
  }

  /** An operator has seen what D1 lacks of this object's history: its set-aside batches are forgotten, the dropped count cleared. */
  acknowledgeLosses(): { setAside: number; dropped: number } {
    return this.replicator.acknowledgeLosses();
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

  /**
   * Queues a summary of the gap and the windows noticed late that no summary told yet (a sweep running
   * beside another may list the same ones) for each channel, once per summary id, with the D1
   * statements that record it, then sends what is due. Nothing new to tell: nothing is queued.
   */
  async summarise(
    late: LateSummary,
    channels: readonly string[],
    history: { sql: string; parameters: readonly unknown[] }[],
  ): Promise<DeliveryReport> {
    const now = this.clock.now();
    this.ctx.storage.transactionSync(() => {
      const sql = this.ctx.storage.sql;
      // A gap is told once, though ticks hand it out until a summary takes it and sweeps side by side
      // may both be handed it; the windows likewise.
      const untold = takeUntold(sql, [...(late.gap === null ? [] : [late.gap.id]), ...late.windows.map((w) => w.id)], now);
      if (late.gap !== null) takePendingGap(sql, late.gap.id);
      const gap = late.gap !== null && untold.has(late.gap.id) ? late.gap : null;
      const windows = late.windows.filter((w) => untold.has(w.id));
      if (gap === null && windows.length === 0) return;
      const event = summaryEvent(summaryId(gap, windows, now), gap, windows, now);
      const rows = outbox.enqueue(
        this.ctx.storage.sql,
        event,
        channels.map((channel) => ({ channel, repeatIntervalS: 0 })),
        now,
      );
      const stamp = this.replicator.decisionStamp(now);
      this.replicator.push([...history, ...rows.map((r) => mirrorRow(this.db, r, stamp))]);
    });
    return this.deliverSummaries();
  }

  /** Sends what is due while D1 gets its copy; D1 is waited for at most D1_WAIT_MS (a D1 that hangs must not hold the sweep or the alarm). */
  async deliverSummaries(): Promise<DeliveryReport> {
    const writing = this.replicator.flush();
    const report = await this.sender.deliver();
    await waitBriefly(this.ctx, writing, D1_WAIT_MS, this.clock, () => this.scheduler.rearm(this.clock.now()));
    await this.scheduler.rearm(this.clock.now());
    return report;
  }

  /** An operator retries a dead-lettered summary. */
  async retryNotification(id: string): Promise<'retried' | 'not_dead' | 'unknown'> {
    const sql = this.ctx.storage.sql;
    if (outbox.getRow(sql, id) === null) return 'unknown';
    const again = this.ctx.storage.transactionSync(() => {
      const row = outbox.retryDead(sql, id, this.clock.now());
      if (row !== null) this.replicator.push([mirrorRow(this.db, row, this.replicator.decisionStamp(this.clock.now()))]);
      return row;
    });
    if (again === null) return 'not_dead';
    this.ctx.waitUntil(this.deliverSummaries());
    return 'retried';
  }

  /**
   * Adds an agent (newAgent) or a key to one (rotation) in the credentials object, and returns the new
   * secret: the only time it is shown. `inSetting`: BLINDSPOT_AGENT_SECRETS names the agent.
   */
  async addAgentKey(
    agentId: string,
    newAgent: boolean,
    inSetting: boolean,
    createdBy: string,
  ): Promise<{ ok: true; key: AgentKey; secret: string } | { ok: false; refusal: KeyRefusal }> {
    const secret = generateSecret();
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(secret)));
    const keyId = [...digest.slice(0, 6)].map((b) => b.toString(16).padStart(2, '0')).join('');
    const sql = this.ctx.storage.sql;
    // Checked and written with no await between: two adds of one agent cannot both pass.
    const refusal = refuseKey({ agentId, newAgent, inSetting, keys: listKeys(sql, agentId).length, agents: countAgents(sql) });
    if (refusal !== null) return { ok: false, refusal };
    const key = { agentId, keyId, createdAt: this.clock.now(), createdBy };
    insertKey(sql, key, secret);
    return { ok: true, key, secret };
  }

  agentKeys(agentId?: string): AgentKey[] {
    return listKeys(this.ctx.storage.sql, agentId);
  }

  agentSecrets(agentId: string): string[] {
    return secretsOf(this.ctx.storage.sql, agentId);
  }

  /** Every agent added through the admin API and not retired: the subjects list of those (known-subjects.ts). */
  managedAgentIds(): string[] {
    return keyedAgentIds(this.ctx.storage.sql);
  }

  /** Revokes one key of the agent, or all of them (the agent is gone); returns how many went. */
  revokeAgentKeys(agentId: string, keyId?: string): number {
    return deleteKeys(this.ctx.storage.sql, agentId, keyId);
  }

  /** Records a managed admin token by its SHA-256; refused when the name is taken or too many exist. */
  addAdminToken(
    name: string,
    sha256: string,
    scopes: string[],
    createdBy: string,
  ): { ok: true } | { ok: false; code: string; message: string } {
    const sql = this.ctx.storage.sql;
    if (listTokens(sql).some((t) => t.name === name))
      return { ok: false, code: 'token_exists', message: `a token "${name}" exists; revoke it first (blindspot token revoke ${name})` };
    if (countTokens(sql) >= MAX_ADMIN_TOKENS)
      return { ok: false, code: 'too_many_tokens', message: `${MAX_ADMIN_TOKENS} tokens exist, the most there may be; revoke one first` };
    insertToken(sql, { name, scopes, createdAt: this.clock.now(), createdBy }, sha256);
    return { ok: true };
  }

  adminTokens(): ManagedToken[] {
    return listTokens(this.ctx.storage.sql);
  }

  adminTokenByHash(sha256: string): ManagedToken | null {
    return tokenByHash(this.ctx.storage.sql, sha256);
  }

  revokeAdminToken(name: string): number {
    return deleteToken(this.ctx.storage.sql, name);
  }

  override async alarm(): Promise<void> {
    await this.deliverSummaries();
  }
}
