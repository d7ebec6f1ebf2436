// The heartbeat loop: every interval, measure and send. One request in flight at a time; a heartbeat
// is retried with backoff until it is delivered or the next one is due.
import type { Logger } from './log.ts';
import { fullJitterDelay } from './transport/backoff.ts';
import type { Sender } from './transport/sender.ts';

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
}

export type DeliveryResult = 'delivered' | 'rejected' | 'gave_up' | 'stopped';

/** Runs until the signal aborts; returns the last seq it used. */
export async function runLoop(deps: LoopDeps): Promise<number> {
  let seq = 0;
  while (!deps.signal.aborted) {
    const tickAt = deps.now();
    seq++;
    const heartbeat = await deps.next(seq);
    await deliver(deps, seq, heartbeat, tickAt + deps.intervalMs);
    await deps.sleep(Math.max(0, tickAt + deps.intervalMs - deps.now()), deps.signal);
  }
  return seq;
}

export async function deliver(deps: LoopDeps, seq: number, heartbeat: { id: string; body: string }, giveUpAt: number): Promise<DeliveryResult> {
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
