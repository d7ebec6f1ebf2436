// An admin request whose agent object goes away under it (reset, evicted, overloaded) is a 503 with
// Retry-After and a JSON body, never a 500: the request was good and may be sent again, and sending
// it again finishes what the first one could not.
import { describe, expect, it } from 'vitest';
import { env } from 'cloudflare:workers';
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
