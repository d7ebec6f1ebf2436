// An admin request whose agent object goes away under it (reset, evicted, overloaded) is a 503 with
// Retry-After and a JSON body, never a 500: the request was good and may be sent again, and sending
// it again finishes what the first one could not. A heartbeat too, and its Retry-After brings the
// agent back within the wait a Worker back from a restart gives it.
import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
import { deliver } from '../../agent/loop.ts';
import type { SendOutcome } from '../../agent/transport/sender.ts';
import { stallHoldMs } from '../../worker/core/agent-state.ts';
import { HEARTBEAT_RETRY_AFTER_S } from '../../worker/routes/heartbeats.ts';
import { credentials } from '../../worker/durable/credentials.ts';
import { ADMIN_TOKEN } from './fixtures/channels.ts';
import { agentStub, storedLive, whileObjectGoesAway } from './fixtures/durable.ts';
import { BASE, heartbeatBody, retryLater, send, sendHeartbeat } from './fixtures/requests.ts';

const admin = (path: string, method = 'GET') =>
  send(new Request(`${BASE}/v1/admin${path}`, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }));

const unavailable = (res: Response) => retryLater(res, 'temporarily_unavailable');

describe('an agent object that goes away during an admin request', () => {
  it('GET replication answers 503 with Retry-After, then 200 once the object is back', async () => {
    expect((await sendHeartbeat(heartbeatBody())).status).toBe(202);
    const message = await unavailable(await whileObjectGoesAway(agentStub('alpha'), 'health', () => admin('/agents/alpha/replication')));
    expect(message).toMatch(/agent alpha's watchdog object/);
    expect((await admin('/agents/alpha/replication')).status).toBe(200);
  });

  it("the Watchdog object's own replication: 503 with Retry-After while it goes away, then 200", async () => {
    // A new stub each time: one whose object was aborted stays broken.
    const watchdog = () => env.WATCHDOG.get(env.WATCHDOG.idFromName('watchdog'));
    for (const [method, path] of [
      ['GET', '/watchdog/replication'],
      ['POST', '/watchdog/replication/retry'],
    ] as const) {
      const message = await unavailable(
        await whileObjectGoesAway(watchdog(), method === 'GET' ? 'health' : 'retrySetAside', () => admin(path, method)),
      );
      expect(message, path).toMatch(/the Watchdog object/);
      expect((await admin(path, method)).status, path).toBe(200);
    }
  });

  it('DELETE answers 503 when the object cannot be told, and the DELETE sent again retires the agent', async () => {
    const added = (await (await admin('/agents/edge-gone', 'POST')).json()) as { key: { secret: string } };
    expect((await sendHeartbeat(heartbeatBody(), { agent: 'edge-gone', secrets: [added.key.secret] })).status).toBe(202);

    const message = await unavailable(
      await whileObjectGoesAway(agentStub('edge-gone'), 'retire', () => admin('/agents/edge-gone', 'DELETE')),
    );
    expect(message).toMatch(/keys are revoked; send the DELETE again/);
    expect((await storedLive('edge-gone'))?.retiredAt).toBeUndefined();

    const again = await admin('/agents/edge-gone', 'DELETE');
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ agent: 'edge-gone', revoked: 0, retired: true });
    expect((await storedLive('edge-gone'))?.retiredAt).toBeTypeOf('number');
    // Nothing is left to do: the agent is unknown now.
    expect((await admin('/agents/edge-gone', 'DELETE')).status).toBe(404);
  });

  it('an agent whose keys were revoked one by one is still retired by DELETE', async () => {
    const added = (await (await admin('/agents/edge-keys', 'POST')).json()) as { key: { id: string; secret: string } };
    expect((await sendHeartbeat(heartbeatBody(), { agent: 'edge-keys', secrets: [added.key.secret] })).status).toBe(202);
    expect((await admin(`/agents/edge-keys/keys/${added.key.id}`, 'DELETE')).status).toBe(200);
    const res = await admin('/agents/edge-keys', 'DELETE');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ revoked: 0, retired: true });
  });

  it('the credentials store going away answers 503 too, naming it', async () => {
    const message = await unavailable(await whileObjectGoesAway(credentials(env), 'agentKeys', () => admin('/agents')));
    expect(message).toMatch(/the credentials store/);
    expect((await admin('/agents')).status).toBe(200);
  });
});

describe('a heartbeat its agent object cannot take', () => {
  it('is a 503 whose Retry-After brings the agent back within the hold a restarted Worker gives it, at any interval', async () => {
    expect((await sendHeartbeat(heartbeatBody({ seq: 1 }))).status).toBe(202);
    const refused = await whileObjectGoesAway(agentStub('alpha'), 'receiveHeartbeat', () => sendHeartbeat(heartbeatBody({ seq: 2 })));
    const retryAfter = refused.headers.get('retry-after') ?? '';
    await retryLater(refused, 'temporarily_unavailable', String(HEARTBEAT_RETRY_AFTER_S));
    // The object took nothing: the same heartbeat sent again is taken.
    expect((await sendHeartbeat(heartbeatBody({ seq: 2 }))).status).toBe(202);

    // The agent's own rule (agent/loop.ts) on that answer: refused once at the Worker's restart, when
    // does it send again? The late verdict waits stallHoldMs from about then. Worst case: the longest
    // backoff (random just under 1).
    for (const intervalS of [1, 2, 5, 8, 10, 15, 30, 60, 300]) {
      let now = 0;
      const sends: number[] = [];
      const answers: SendOutcome[] = [
        { kind: 'retry', reason: 'HTTP 503 temporarily_unavailable', retryAfterMs: Number(retryAfter) * 1000 },
        { kind: 'accepted' },
      ];
      const result = await deliver(
        {
          intervalMs: intervalS * 1000,
          next: () => Promise.reject(new Error('deliver sends the heartbeat it is given')),
          send: async () => {
            sends.push(now);
            return answers.shift() ?? { kind: 'accepted' };
          },
          log: () => {},
          now: () => now,
          sleep: async (ms) => {
            now += ms;
          },
          random: () => 0.999,
          signal: new AbortController().signal,
        },
        1,
        { id: 'x', body: '{}' },
        intervalS * 1000,
      );
      // Sent again within the hold, or (a short interval) given up to the next heartbeat, due within it;
      // with a second to spare for the request itself and for the refusal coming after the verdict's wait began.
      const nextAt = result === 'delivered' ? (sends[1] as number) : intervalS * 1000;
      expect(nextAt, `interval ${intervalS} s: ${result}`).toBeLessThan(stallHoldMs(intervalS) - 1000);
    }
  });
});
