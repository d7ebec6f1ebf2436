// The heartbeat loop: every interval, measure and send. One request in flight at a time; a heartbeat
// is retried with backoff until it is delivered or the next one is due.
import { MAX_BACKFILL_BYTES, MAX_BACKFILL_HEARTBEATS } from '../protocol/backfill.ts';
import type { Logger } from './log.ts';
import { fullJitterDelay } from './transport/backoff.ts';
import type { Sender } from './transport/sender.ts';
import type { Spool } from './transport/spool.ts';

export interface LoopDeps {
  intervalMs: number;
  /** Builds heartbeat `seq`: returns its webhook-id and its body. */
  next: (seq: number) => Promise<{ id: string; body: string }>;
  send: Sender;
  log: Logger;
  now: () => number;
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
  signal: AbortSignal;
  /** Where heartbeats the Worker could not take wait, and how they are sent later. */
  spool?: SpoolDeps;
}

export interface SpoolDeps {
  store: Spool;
  send: Sender;
  /**
   * The Worker-clock offset in use now (see WorkerClock). Heartbeats carry the host's own sent_at;
   * backfilled ones are moved onto the Worker's clock, so history lands where it happened (and a
   * host clock ahead by more than 5 minutes does not get them refused as "in the future").
   */
  offsetMs?: () => number;
}

export type DeliveryResult = 'delivered' | 'rejected' | 'gave_up' | 'stopped';

/** Runs until the signal aborts; returns the last seq it used. */
export async function runLoop(deps: LoopDeps): Promise<number> {
  let seq = 0;
  while (!deps.signal.aborted) {
    const tickAt = deps.now();
    seq++;
    const heartbeat = await deps.next(seq);
    const result = await deliver(deps, seq, heartbeat, tickAt + deps.intervalMs);
    if (deps.spool !== undefined) {
      if (result === 'gave_up' || result === 'stopped') keep(deps, deps.spool, seq, heartbeat, tickAt);
      // Live heartbeats flow again: send what waited, oldest first, until the next one is due.
      else if (result === 'delivered') await drainSpool(deps, deps.spool, tickAt + deps.intervalMs);
    }
    await deps.sleep(Math.max(0, tickAt + deps.intervalMs - deps.now()), deps.signal);
  }
  return seq;
}

export async function deliver(
  deps: LoopDeps,
  seq: number,
  heartbeat: { id: string; body: string },
  giveUpAt: number,
): Promise<DeliveryResult> {
  for (let attempt = 0; !deps.signal.aborted; attempt++) {
    const outcome = await deps.send(heartbeat.id, heartbeat.body);
    switch (outcome.kind) {
      case 'accepted':
        if (attempt > 0) deps.log('info', 'heartbeat delivered after retries', { seq, attempts: attempt + 1 });
        return 'delivered';
      case 'duplicate':
        deps.log('info', 'the Worker already has this heartbeat', { seq, code: outcome.code });
        return 'delivered';
      case 'rejected':
        // A 4xx other than 409/429 is a configuration error: retrying cannot fix it.
        deps.log('error', `the Worker refused the heartbeat: ${outcome.message}`, { seq, status: outcome.status, code: outcome.code });
        return 'rejected';
      case 'retry': {
        const delay = Math.max(outcome.retryAfterMs ?? 0, fullJitterDelay(attempt, 500, deps.intervalMs / 2, deps.random));
        if (deps.now() + delay >= giveUpAt) {
          deps.log('warn', 'heartbeat not delivered before the next one was due', { seq, reason: outcome.reason, attempts: attempt + 1 });
          return 'gave_up';
        }
        deps.log('warn', 'heartbeat send failed; retrying', { seq, reason: outcome.reason, retry_in_ms: delay });
        await deps.sleep(delay, deps.signal);
      }
    }
  }
  return 'stopped';
}

function keep(deps: LoopDeps, spool: SpoolDeps, seq: number, heartbeat: { id: string; body: string }, at: number): void {
  const store = spool.store;
  try {
    const dropped = store.add(heartbeat.id, heartbeat.body, at);
    deps.log('warn', 'heartbeat spooled for backfill', { seq, spooled: store.size() });
    if (dropped > 0) deps.log('error', 'spool full or too old: the oldest heartbeats were dropped', { dropped });
  } catch (e: unknown) {
    deps.log('error', `heartbeat could not be spooled: ${e instanceof Error ? e.message : String(e)}`, { seq, dir: store.dir });
  }
}

/** Sends spooled heartbeats in batches, one request at a time; stops at a failure or when `until` comes. */
export async function drainSpool(deps: Pick<LoopDeps, 'log' | 'now' | 'signal'>, spool: SpoolDeps, until: number): Promise<number> {
  let sent = 0;
  while (!deps.signal.aborted && deps.now() < until) {
    // Room for the wrapper: {"v":1,"heartbeats":[...]}.
    const batch = spool.store.batch(MAX_BACKFILL_HEARTBEATS, MAX_BACKFILL_BYTES - 64);
    if (batch.length === 0) break;
    const offsetMs = spool.offsetMs?.() ?? 0;
    const body = `{"v":1,"heartbeats":[${batch.map((b) => restamped(b.body, offsetMs)).join(',')}]}`;
    const outcome = await spool.send(`bf_${batch[0]?.id}_${batch.length}`, body);
    if (outcome.kind === 'accepted' || outcome.kind === 'duplicate') {
      spool.store.remove(batch);
      sent += batch.length;
      continue;
    }
    if (outcome.kind === 'rejected') {
      // Retrying cannot fix a refusal: set the batch aside for a person and go on with the rest.
      spool.store.reject(batch);
      deps.log('error', `the Worker refused a backfill batch; it is kept in ${spool.store.dir}/rejected: ${outcome.message}`, {
        status: outcome.status,
        code: outcome.code,
        heartbeats: batch.length,
      });
      continue;
    }
    deps.log('warn', 'backfill failed; trying again after the next heartbeat', { reason: outcome.reason, waiting: spool.store.size() });
    break;
  }
  if (sent > 0) deps.log('info', 'spooled heartbeats backfilled', { sent, waiting: spool.store.size() });
  return sent;
}

/** A spooled body with its sent_at (the host's clock) moved onto the Worker's by `offsetMs`. */
export function restamped(body: string, offsetMs: number): string {
  if (offsetMs === 0) return body;
  try {
    const parsed = JSON.parse(body) as { sent_at?: unknown };
    const sentAt = typeof parsed.sent_at === 'string' ? Date.parse(parsed.sent_at) : Number.NaN;
    if (!Number.isFinite(sentAt)) return body;
    return JSON.stringify({ ...parsed, sent_at: new Date(sentAt + offsetMs).toISOString() });
  } catch {
    return body;
  }
}

export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
