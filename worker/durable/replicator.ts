// Sends one Durable Object's replication queue to D1, oldest batch first, one at a time. An outage
// waits (with backoff) and keeps the order; a batch D1 refuses for good is set aside after a few
// tries and the rest goes on; past the queue's bounds the oldest batches are dropped and counted.
import {
  afterRefusal,
  classifyRefusal,
  MAX_QUEUED_BATCHES,
  MAX_QUEUED_BYTES,
  MAX_SET_ASIDE_BATCHES,
  MAX_SET_ASIDE_BYTES,
} from '../core/replication-policy.ts';
import { runBatch } from '../store/db.ts';
import { getMeta, setMeta, storedBytes } from '../store/object-live.ts';
import { pendingCount } from '../store/object-outbox.ts';
import * as queue from '../store/replication-queue.ts';

const DROPPED_KEY = 'replication_dropped';
const STAMP_KEY = 'decision_stamp';

/** What an object still owes D1 and its channels, for /healthz, the sweep and the admin API. */
export interface ObjectHealth {
  replication: queue.QueueStats;
  /** The newest batches set aside, at most 20. */
  setAside: queue.SetAsideBatch[];
  pendingNotifications: number;
  storedBytes: number;
}

export function objectHealth(sql: SqlStorage, replicator: Replicator): ObjectHealth {
  return {
    replication: replicator.queueStats(),
    setAside: queue.listSetAside(sql, 20),
    pendingNotifications: pendingCount(sql),
    storedBytes: storedBytes(sql),
  };
}

export interface WriteStats {
  /** D1 batches this object sent, and statements in them: the D1 budget, counted. */
  batches: number;
  statements: number;
  /** Rows D1 reports written by those statements (indexes included, as D1 bills them). */
  rowsWritten: number;
  /** D1 reads this object made (maintenance, silences, channel state). */
  reads: number;
}

export class Replicator {
  private running: Promise<boolean> | null = null;
  readonly stats: WriteStats = { batches: 0, statements: 0, rowsWritten: 0, reads: 0 };

  constructor(
    private readonly storage: DurableObjectStorage,
    /** The D1 to write: a seam, so a test can make it refuse. */
    public d1: D1Database,
    private readonly now: () => number,
    private readonly label: () => string,
  ) {}

  /** Stores a batch (call inside the decision's storage transaction) and keeps the queue within its bounds. */
  push(statements: readonly queue.Statement[]): void {
    if (statements.length === 0) return;
    const sql = this.storage.sql;
    queue.pushBatch(sql, statements, this.now());
    this.keepQueueBounded();
  }

  private keepQueueBounded(): void {
    const dropped = queue.dropOldestBeyond(this.storage.sql, MAX_QUEUED_BATCHES, MAX_QUEUED_BYTES);
    if (dropped > 0) {
      this.countDropped(dropped);
      console.error(`${this.label()}: ${dropped} oldest D1 batch(es) dropped: D1 has refused writes for too long and the queue is full`);
    }
  }

  private countDropped(n: number): void {
    setMeta(this.storage.sql, DROPPED_KEY, String(this.dropped() + n));
  }

  /**
   * The stamp D1 orders this object's rows by (their decided_at, or the agent row's updated_at): the
   * decision's clock, but always past the last stamp, so it follows the object's own order even when a
   * decision is taken at an earlier time than the one before it (an Alertmanager alert stamped as it
   * arrived, queued behind an alarm). A batch replayed late then never overwrites a newer decision.
   * Kept at once: a decision rolled back after taking one leaves a gap, which is harmless (stamps need
   * only grow). Take one only for a decision that writes rows to D1.
   */
  decisionStamp(now: number): number {
    const stamp = Math.max(now, Number(getMeta(this.storage.sql, STAMP_KEY) ?? 0) + 1);
    setMeta(this.storage.sql, STAMP_KEY, String(stamp));
    return stamp;
  }

  dropped(): number {
    return Number(getMeta(this.storage.sql, DROPPED_KEY) ?? 0);
  }

  /**
   * An operator fixed what D1 refused: every set-aside batch goes back in the queue in its old place,
   * to be tried afresh (call flush after). Returns how many.
   */
  retrySetAside(): number {
    const sql = this.storage.sql;
    const n = this.storage.transactionSync(() => {
      const requeued = queue.requeueSetAside(sql, this.now());
      this.keepQueueBounded();
      return requeued;
    });
    if (n > 0) console.log(`${this.label()}: ${n} set-aside D1 batch(es) queued again by an operator`);
    return n;
  }

  /**
   * An operator has seen what D1 lacks: the set-aside batches are forgotten and the dropped count
   * starts again from zero, so /healthz is content until something is lost anew. Returns what went.
   */
  acknowledgeLosses(): { setAside: number; dropped: number } {
    const sql = this.storage.sql;
    return this.storage.transactionSync(() => {
      const dropped = this.dropped();
      setMeta(sql, DROPPED_KEY, '0');
      const setAside = queue.discardSetAside(sql);
      console.log(`${this.label()}: an operator acknowledged ${setAside} set-aside and ${dropped} dropped D1 batch(es)`);
      return { setAside, dropped };
    });
  }

  queueStats(): queue.QueueStats {
    return queue.queueStats(this.storage.sql, this.dropped());
  }

  /** When the head batch may be tried again, or null when nothing waits. */
  nextDueAt(): number | null {
    return queue.headDueAt(this.storage.sql);
  }

  /**
   * Sends what is due, in order; true when the queue is empty. One run at a time. `now` tries the head
   * at once whatever its backoff: a new decision was just queued behind it.
   */
  flush(now = false): Promise<boolean> {
    if (this.running !== null) return this.running.then(() => this.flush(now));
    this.running = this.drain(now).finally(() => (this.running = null));
    return this.running;
  }

  private async drain(force: boolean): Promise<boolean> {
    const sql = this.storage.sql;
    for (let first = true; ; first = false) {
      const head = queue.headBatch(sql);
      if (head === null) return true;
      if (head.nextTryAt > this.now() && !(force && first)) return false;
      try {
        const rows = await runBatch(this.d1, head.statements);
        queue.removeBatch(sql, head.seq);
        this.stats.batches++;
        this.stats.statements += head.statements.length;
        this.stats.rowsWritten += rows;
      } catch (e: unknown) {
        const message = e instanceof Error ? e.message : String(e);
        const decision = afterRefusal(classifyRefusal(message), head.tries, this.now());
        if (decision.action === 'set_aside') {
          queue.setAsideBatch(sql, head.seq, this.now(), message);
          console.error(`${this.label()}: a D1 batch was refused ${head.tries + 1} times and is set aside (see /healthz): ${message}`);
          const dropped = queue.dropOldestSetAsideBeyond(sql, MAX_SET_ASIDE_BATCHES, MAX_SET_ASIDE_BYTES);
          if (dropped > 0) {
            this.countDropped(dropped);
            console.error(`${this.label()}: ${dropped} oldest set-aside D1 batch(es) dropped: more were refused for good than are kept`);
          }
          continue;
        }
        queue.postponeBatch(sql, head.seq, decision.at, message);
        console.error(
          `${this.label()}: D1 refused a write; ${queue.queueStats(sql, 0).length} batch(es) wait, next try in ${Math.round((decision.at - this.now()) / 1000)} s:`,
          message,
        );
        return false;
      }
    }
  }
}
