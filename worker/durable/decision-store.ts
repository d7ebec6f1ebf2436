// Stores one decision of an agent's Durable Object in one transaction of its own SQLite: the live
// state, the seen heartbeat id, the notifications it queues (and the follow-ups and cancellations
// the plan asks for), and the D1 batch that records it all. Nothing here decides; core/ has decided.
import type { WatchConfig } from '../../config/resolve.ts';
import { REPLAY_WINDOW_S } from '../../protocol/heartbeat.ts';
import type { LiveState, Transition } from '../core/agent-state.ts';
import { notificationSteps } from '../core/notification-plan.ts';
import { flushDue, flushSpreadMs, type RollupFlush, takeComplete } from '../core/rollup.ts';
import type { Db } from '../store/db.ts';
import { loadLive, markSeen, saveLive, type Written } from '../store/object-live.ts';
import * as outbox from '../store/object-outbox.ts';
import { mirrorRow } from '../store/outbox.ts';
import { transitionWrites } from '../store/transition-writes.ts';
import type { Replicator } from './replicator.ts';

export interface Stored {
  next: LiveState;
  written: Written;
  /** The decision queued notifications to send now. */
  sends: boolean;
  /** D1 has something new to take from this decision. */
  forD1: boolean;
}

export interface StoreDeps {
  storage: DurableObjectStorage;
  db: Db;
  replicator: Replicator;
  /** Channel routing (even to channels whose secret is missing: what is queued goes out once it is fixed). */
  routing: Parameters<typeof notificationSteps>[1];
}

/** The rollups a decision hands to D1, if their time has come, and the live state without them. */
function takeDueRollups(next: LiveState, now: number): { next: LiveState; rollups: RollupFlush | null } {
  if (!flushDue(next.rollup, next.lastFlushAt, now, flushSpreadMs(next.agentId))) return { next, rollups: null };
  const taken = takeComplete(next.rollup, now);
  return { next: { ...next, rollup: taken.rest, lastFlushAt: now }, rollups: taken.flush };
}

/** Stores the transition in one transaction; on failure it is rolled back and `written` reloaded. */
export function storeDecision(
  deps: StoreDeps,
  written: Written,
  transition: Transition,
  config: WatchConfig,
  now: number,
  seen?: string,
): Stored {
  const { next, rollups } = takeDueRollups(transition.next, now);
  const steps = notificationSteps(transition.changes, deps.routing, config, now);
  // Only a decision that changes something writes rows D1 orders by the stamp (windows, the agent row,
  // notifications, all from changes): a heartbeat that changes nothing takes none, and writes no stamp.
  const stamp = transition.changes.length > 0 ? deps.replicator.decisionStamp(now) : now;
  const history = transitionWrites(deps.db, next, transition.changes, rollups, { config, now, stamp });
  const sql = deps.storage.sql;
  let queued = 0;
  try {
    deps.storage.transactionSync(() => {
      saveLive(sql, next, written);
      if (seen !== undefined) markSeen(sql, seen, now, now - REPLAY_WINDOW_S * 1000);
      const rows: outbox.OutboxRow[] = [];
      for (const step of steps) {
        if (step.type === 'cancel_repeats') rows.push(...outbox.cancelRepeats(sql, step.windowId, now));
        else {
          rows.push(...outbox.enqueue(sql, step.event, step.deliveries, now));
          if (step.followUp) rows.push(...outbox.enqueue(sql, step.event, outbox.triggeredChannels(sql, step.event.windowId), now));
        }
      }
      deps.replicator.push([...history, ...rows.map((r) => mirrorRow(deps.db, r, stamp))]);
      queued = rows.length;
    });
  } catch (e: unknown) {
    // Rolled back: what was last written is what the tables hold.
    Object.assign(written, loadLive(sql).written);
    throw e;
  }
  return { next, written, sends: steps.some((s) => s.type === 'send'), forD1: history.length + queued > 0 };
}
