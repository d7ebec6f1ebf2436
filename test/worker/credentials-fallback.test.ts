// The credentials store cannot be reached and this isolate has not cached an added agent's keys:
// the agent's own object keeps a copy of them (durable/kept-secrets.ts), so its heartbeats are still
// taken, and it is not paged as silent because of the store. What an operator revoked stays revoked.
import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it } from 'vitest';
import { credentials, forgetSecrets } from '../../worker/durable/credentials.ts';
import { ADMIN_TOKEN } from './fixtures/channels.ts';
import { agentStub, whileObjectGoesAway } from './fixtures/durable.ts';
import { BASE, errorCode, heartbeatBody, send, sendHeartbeat } from './fixtures/requests.ts';

const admin = async (path: string, method = 'POST') => {
  const res = await send(new Request(`${BASE}/v1/admin${path}`, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }));
  return { status: res.status, body: (await res.json()) as { key?: { id: string; secret: string } } };
};

let restore: (() => void) | null = null;

/**
 * The credentials store cannot be reached: the callers' reads of an agent's secrets fail, as an
 * unreachable object's do (not a throw inside the object, which the runtime logs as uncaught), and
 * this isolate forgets what it cached.
 */
async function storeAway(agent: string): Promise<void> {
  type Namespace = { get: (id: DurableObjectId, ...rest: unknown[]) => object };
  const ns = env.WATCHDOG as unknown as Namespace;
  const store = credentials(env).id;
  const own = Object.hasOwn(ns, 'get');
  const get = ns.get;
  ns.get = (id, ...rest) => {
    const stub = get.call(ns, id, ...rest);
    if (!id.equals(store)) return stub;
    return new Proxy(stub, {
      get: (target, key) =>
        key === 'agentSecrets' ? () => Promise.reject(new Error('the credentials store is away (test)')) : Reflect.get(target, key),
    });
  };
  restore = () => {
    if (own) ns.get = get;
    else delete (ns as Partial<Namespace>).get;
  };
  forgetSecrets(agent);
}

afterEach(() => {
  restore?.();
  restore = null;
});

describe('an added agent while the credentials store cannot be reached', () => {
  it("is verified by its object's copy of its keys: its heartbeats are taken", async () => {
    const { body } = await admin('/agents/keys-copy');
    const secret = body.key?.secret as string;
    expect((await sendHeartbeat(heartbeatBody(), { agent: 'keys-copy', secrets: [secret] })).status).toBe(202);
    await storeAway('keys-copy');
    expect((await sendHeartbeat(heartbeatBody(), { agent: 'keys-copy', secrets: [secret] })).status).toBe(202);
    // A wrong key is still refused.
    const wrong = await sendHeartbeat(heartbeatBody(), { agent: 'keys-copy', secrets: ['whsec_aW52YWxpZGludmFsaWRpbnZhbGlkaW52YWxpZA=='] });
    expect(wrong.status).toBe(401);
    expect(await errorCode(wrong)).toBe('invalid_signature');
  });

  it('a revoked key stays revoked, and the key that replaced it works', async () => {
    const first = (await admin('/agents/keys-rotated')).body.key as { id: string; secret: string };
    const second = (await admin('/agents/keys-rotated/keys')).body.key as { id: string; secret: string };
    expect((await admin(`/agents/keys-rotated/keys/${first.id}`, 'DELETE')).status).toBe(200);
    await storeAway('keys-rotated');
    const revoked = await sendHeartbeat(heartbeatBody(), { agent: 'keys-rotated', secrets: [first.secret] });
    expect(revoked.status).toBe(401);
    expect(await errorCode(revoked)).toBe('invalid_signature');
    expect((await sendHeartbeat(heartbeatBody(), { agent: 'keys-rotated', secrets: [second.secret] })).status).toBe(202);
  });

  it('a key revoked while its object could not be told: 503, and the DELETE sent again brings the copy in line', async () => {
    const first = (await admin('/agents/keys-revoke-again')).body.key as { id: string; secret: string };
    const second = (await admin('/agents/keys-revoke-again/keys')).body.key as { id: string; secret: string };
    expect(await agentStub('keys-revoke-again').keptSecrets()).toEqual([first.secret, second.secret]);
    const path = `${BASE}/v1/admin/agents/keys-revoke-again/keys/${first.id}`;
    const del = () => send(new Request(path, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }));
    const cut = await whileObjectGoesAway(agentStub('keys-revoke-again'), 'keepSecrets', del);
    expect(cut.status).toBe(503);
    expect(await agentStub('keys-revoke-again').keptSecrets()).toEqual([first.secret, second.secret]);
    // Sent again: the store no longer has the key (404), and the object's copy loses it.
    expect((await del()).status).toBe(404);
    expect(await agentStub('keys-revoke-again').keptSecrets()).toEqual([second.secret]);
    await storeAway('keys-revoke-again');
    expect((await sendHeartbeat(heartbeatBody(), { agent: 'keys-revoke-again', secrets: [first.secret] })).status).toBe(401);
  });

  it('heartbeats for ids never added are refused and leave no object behind (storage stays bounded whatever ids are sent)', async () => {
    const ids = Array.from({ length: 3 }, (_, i) => `never-added-${i}`);
    for (const id of ids) {
      await storeAway(id);
      const res = await sendHeartbeat(heartbeatBody(), { agent: id, secrets: ['whsec_aW52YWxpZGludmFsaWRpbnZhbGlkaW52YWxpZA=='] });
      expect(res.status).toBe(503);
      expect(await errorCode(res)).toBe('credentials_unavailable');
      restore?.();
      restore = null;
    }
    for (const id of ids) {
      // Nothing was stored in the object asked for a copy of keys it never kept: not even its tables.
      const tables = await runInDurableObject(
        agentStub(id),
        (_o, state) => state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").one().n,
      );
      expect(tables).toBe(0);
    }
    // Such an object, once told something to keep, stores as any other.
    await agentStub(ids[0] as string).keepSecrets(['whsec_keptkeptkeptkeptkeptkeptkept']);
    expect(await agentStub(ids[0] as string).keptSecrets()).toEqual(['whsec_keptkeptkeptkeptkeptkeptkept']);
  });

  it('a retired agent stays refused', async () => {
    const { body } = await admin('/agents/keys-retired');
    const secret = body.key?.secret as string;
    expect((await sendHeartbeat(heartbeatBody(), { agent: 'keys-retired', secrets: [secret] })).status).toBe(202);
    expect((await admin('/agents/keys-retired', 'DELETE')).status).toBe(200);
    await storeAway('keys-retired');
    const res = await sendHeartbeat(heartbeatBody(), { agent: 'keys-retired', secrets: [secret] });
    expect(res.status).toBe(401);
    expect(await errorCode(res)).toBe('unknown_agent');
  });

  it('a copy filled from a heartbeat never overwrites one the admin API wrote (a revocation in between wins)', async () => {
    const stub = agentStub('keys-race');
    await stub.keepSecrets(['whsec_revokedrevokedrevokedrevoked'], true);
    expect(await stub.keptSecrets()).toEqual(['whsec_revokedrevokedrevokedrevoked']);
    await stub.keepSecrets(['whsec_currentcurrentcurrentcurrent']);
    await stub.keepSecrets(['whsec_revokedrevokedrevokedrevoked', 'whsec_currentcurrentcurrentcurrent'], true);
    expect(await stub.keptSecrets()).toEqual(['whsec_currentcurrentcurrentcurrent']);
  });

  it('an agent added before objects kept copies gets one from its first heartbeat the store verified', async () => {
    const { body } = await admin('/agents/keys-older');
    const secret = body.key?.secret as string;
    // As an object from before: no copy.
    await runInDurableObject(agentStub('keys-older'), (_o, state) =>
      state.storage.sql.exec("DELETE FROM meta WHERE key = 'managed_secrets'"),
    );
    await runInDurableObject(agentStub('keys-older'), (o) => {
      (o as unknown as { keys: { secrets: unknown } }).keys.secrets = undefined;
    });
    expect(await agentStub('keys-older').keptSecrets()).toBeNull();
    // With neither the store nor a copy, the heartbeat cannot be verified: 503, and the agent retries.
    await storeAway('keys-older');
    const unavailable = await sendHeartbeat(heartbeatBody(), { agent: 'keys-older', secrets: [secret] });
    expect(unavailable.status).toBe(503);
    expect(await errorCode(unavailable)).toBe('credentials_unavailable');
    restore?.();
    // The store answers again: a heartbeat it verifies leaves the object a copy.
    expect((await sendHeartbeat(heartbeatBody(), { agent: 'keys-older', secrets: [secret] })).status).toBe(202);
    await expect.poll(() => agentStub('keys-older').keptSecrets()).toEqual([secret]);
    await storeAway('keys-older');
    expect((await sendHeartbeat(heartbeatBody(), { agent: 'keys-older', secrets: [secret] })).status).toBe(202);
  });
});
