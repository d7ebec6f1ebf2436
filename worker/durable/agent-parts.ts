// The parts of an agent's Durable Object, each with one job, and how they are wired to each other:
// the replication queue toward D1, the cached maintenance and silences, the outbox sender, the one
// alarm, and what follows every decision. The object (agent-monitor.ts) holds the live state and
// takes the calls; the parts reach it only through the host below.
import type { WatchConfig } from '../../config/resolve.ts';
import type { LiveState } from '../core/agent-state.ts';
import { nextDueAt } from '../core/evaluate.ts';
import { holdsWindow, subjectOf } from '../core/subject.ts';
import type { Env } from '../env.ts';
import { channelRegistry } from '../notify/registry.ts';
import { createDb, type Db } from '../store/db.ts';
import type { Written } from '../store/object-live.ts';
import { AdminPauses } from './admin-pauses.ts';
import { AlarmScheduler } from './alarm-scheduler.ts';
import type { Clock } from './clock.ts';
import { DecisionCommit } from './decision-commit.ts';
import { OutboxSender } from './outbox-sender.ts';
import { PublicCopy } from './public-copy.ts';
import { Replicator } from './replicator.ts';

/** What the parts may ask of the object that holds them. */
export interface PartsHost {
  live(): LiveState | null;
  adopt(next: LiveState): void;
  written(): Written;
  config(): WatchConfig;
  clock(): Clock;
  random(): number;
}

export interface AgentParts {
  db: Db;
  replicator: Replicator;
  pauses: AdminPauses;
  sender: OutboxSender;
  scheduler: AlarmScheduler;
  commit: DecisionCommit;
  copy: PublicCopy;
}

export function agentParts(ctx: DurableObjectState, env: Env, host: PartsHost): AgentParts {
  const db = createDb(env.DB);
  const now = () => host.clock().now();
  const replicator = new Replicator(ctx.storage, env.DB, now, () => `agent ${host.live()?.agentId ?? '?'}`);
  const pauses = new AdminPauses(
    db,
    ctx.storage.sql,
    () => replicator.stats.reads++,
    () => host.live()?.agentId ?? null,
  );
  const sender: OutboxSender = new OutboxSender({
    storage: ctx.storage,
    db,
    registry: () => channelRegistry(env, host.config().notifications),
    now,
    random: () => host.random(),
    replicate: (statements) => replicator.push(statements),
    stamp: (now) => replicator.decisionStamp(now),
    isOpen: (windowId) => holdsWindow(host.live(), windowId),
    onClaim: (leaseEndsAt) => scheduler.notLaterThan(leaseEndsAt),
  });
  const engineDue = () => {
    const live = host.live();
    return live === null ? null : nextDueAt(live, subjectOf(live.kind, live.agentId, host.config()), host.config(), now());
  };
  const scheduler = new AlarmScheduler(
    ctx.storage,
    { engine: engineDue, outbox: () => sender.nextDueAt(), replication: () => replicator.nextDueAt() },
    ['engine'],
  );
  const copy = new PublicCopy(env);
  const commit = new DecisionCommit({
    ctx,
    env,
    db,
    replicator,
    sender,
    scheduler,
    clock: host.clock,
    written: host.written,
    adopt: host.adopt,
    copy,
  });
  return { db, replicator, pauses, sender, scheduler, commit, copy };
}
