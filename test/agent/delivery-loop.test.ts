import { describe, expect, it } from 'vitest';
import { deliver, type LoopDeps, runLoop } from '../../agent/loop.ts';
import type { Level } from '../../agent/log.ts';
import { fullJitterDelay } from '../../agent/transport/backoff.ts';
import type { SendOutcome } from '../../agent/transport/sender.ts';

/** A loop with a fake clock: sleeping advances time instantly. */
function harness(outcomes: SendOutcome[], intervalMs = 15_000) {
  let clock = 1_000_000;
  const sent: { id: string; at: number }[] = [];
  const logs: { level: Level; message: string }[] = [];
  const controller = new AbortController();
  const deps: LoopDeps = {
    intervalMs,
    next: async (seq) => ({ id: `hb_${seq}`, body: `{"seq":${seq}}` }),
    send: async (id) => {
      sent.push({ id, at: clock });
      return outcomes.shift() ?? { kind: 'accepted' };
    },
    log: (level, message) => logs.push({ level, message }),
    now: () => clock,
    sleep: async (ms) => {
      clock += ms;
    },
    random: () => 0.5,
    signal: controller.signal,
  };
  return { deps, sent, logs, controller, clock: () => clock };
}

const retry: SendOutcome = { kind: 'retry', reason: 'HTTP 503', retryAfterMs: null };

describe('heartbeat delivery', () => {
  it('retries a failed send with backoff under the same webhook-id until it is accepted', async () => {
    const h = harness([retry, retry]);
    expect(await deliver(h.deps, 1, { id: 'hb_1', body: '{}' }, h.clock() + 15_000)).toBe('delivered');
    expect(h.sent.map((s) => s.id)).toEqual(['hb_1', 'hb_1', 'hb_1']);
    // Full jitter with random 0.5: 250 ms then 500 ms.
    expect(h.sent.map((s) => s.at - 1_000_000)).toEqual([0, 250, 750]);
  });

  it('honours Retry-After when it is longer than the backoff', async () => {
    const h = harness([{ kind: 'retry', reason: 'HTTP 429', retryAfterMs: 4000 }]);
    await deliver(h.deps, 1, { id: 'hb_1', body: '{}' }, h.clock() + 15_000);
    expect(h.sent[1]!.at - h.sent[0]!.at).toBe(4000);
  });

  it('gives up on a heartbeat when the next one is due, and says so', async () => {
    const h = harness(
      Array.from({ length: 100 }, () => retry),
      2000,
    );
    expect(await deliver(h.deps, 1, { id: 'hb_1', body: '{}' }, h.clock() + 2000)).toBe('gave_up');
    expect(h.clock()).toBeLessThan(1_000_000 + 2000);
    expect(h.logs.at(-1)).toMatchObject({ level: 'warn', message: 'heartbeat not delivered before the next one was due' });
  });

  it('does not retry a configuration error and logs it as an error', async () => {
    const h = harness([{ kind: 'rejected', status: 401, code: 'invalid_signature', message: 'no signature matches' }]);
    expect(await deliver(h.deps, 1, { id: 'hb_1', body: '{}' }, h.clock() + 15_000)).toBe('rejected');
    expect(h.sent).toHaveLength(1);
    expect(h.logs[0]).toMatchObject({ level: 'error' });
    expect(h.logs[0]?.message).toContain('no signature matches');
  });

  it('counts a 409 as delivered: the Worker already has it', async () => {
    const h = harness([{ kind: 'duplicate', code: 'replay' }]);
    expect(await deliver(h.deps, 1, { id: 'hb_1', body: '{}' }, h.clock() + 15_000)).toBe('delivered');
    expect(h.sent).toHaveLength(1);
  });

  it('sends one heartbeat per interval with a growing seq, one at a time', async () => {
    const h = harness([]);
    const originalSend = h.deps.send;
    let inFlight = 0;
    let maxInFlight = 0;
    h.deps.send = async (id, body) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const outcome = await originalSend(id, body);
      inFlight--;
      if (h.sent.length === 4) h.controller.abort();
      return outcome;
    };
    await runLoop(h.deps);
    expect(h.sent.map((s) => s.id)).toEqual(['hb_1', 'hb_2', 'hb_3', 'hb_4']);
    expect(h.sent.map((s) => s.at - 1_000_000)).toEqual([0, 15_000, 30_000, 45_000]);
    expect(maxInFlight).toBe(1);
  });
});

describe('full-jitter backoff', () => {
  it('stays within [0, min(cap, base * 2^attempt))', () => {
    expect(fullJitterDelay(0, 500, 10_000, () => 0.999)).toBeLessThan(500);
    expect(fullJitterDelay(3, 500, 10_000, () => 0.999)).toBeLessThan(4000);
    expect(fullJitterDelay(10, 500, 10_000, () => 0.999)).toBeLessThan(10_000);
    expect(fullJitterDelay(10, 500, 10_000, () => 0)).toBe(0);
  });
});
