// Agents added, rotated and revoked through the admin API: the secret is shown once, heartbeats
// signed with it are taken at once (no redeploy), a revoked key or agent gets 401, and every bad
// request is a 4xx with a JSON body.
import { describe, expect, it } from 'vitest';
import { parseHeartbeat } from '../../protocol/heartbeat.ts';
import { MAX_KEYS_PER_AGENT } from '../../worker/core/agent-keys.ts';
import { ADMIN_TOKEN, READ_TOKEN } from './fixtures/channels.ts';
import { outboxOf, windowsOf } from './fixtures/d1.ts';
import { agentStub, fireAlarm, heardAgo, setClock, storedLive } from './fixtures/durable.ts';
import { BASE, errorCode, heartbeatBody, send, sendHeartbeat } from './fixtures/requests.ts';
import { TEST_AGENT_SECRETS } from './fixtures/secrets.ts';

const admin = (path: string, method = 'GET', token: string | null = ADMIN_TOKEN) =>
  send(
    new Request(`${BASE}/v1/admin${path}`, {
      method,
      headers: token === null ? {} : { authorization: `Bearer ${token}` },
    }),
  );

interface Added {
  agent: string;
  key: { id: string; secret: string; created_at: string; created_by: string };
}
interface Listed {
  agents: { id: string; source: string; keys: ({ id: string; created_by: string } | null)[]; error: string | null }[];
}

async function json<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/application\/json/);
  return JSON.parse(text) as T;
}

const beat = (agent: string, secret: string) => sendHeartbeat(heartbeatBody(), { agent, secrets: [secret] });

describe('blindspot agent add | list | rotate | revoke, through the admin API', () => {
  it('adds an agent whose heartbeats are taken at once, and shows its secret only then', async () => {
    expect(await errorCode(await beat('edge-1', TEST_AGENT_SECRETS.alpha[0]))).toBe('unknown_agent');
    const added = await json<Added>(await admin('/agents/edge-1', 'POST'), 201);
    expect(added.agent).toBe('edge-1');
    expect(added.key.secret).toMatch(/^whsec_[A-Za-z0-9+/=]{40,}$/);
    expect(added.key.id).toMatch(/^[0-9a-f]{12}$/);
    expect(added.key.created_by).toBe('tests');
    // Watched from now on: the status page lists it before its first heartbeat, as not yet heard.
    expect(await (await send(new Request(`${BASE}/`))).text()).toContain('edge-1');
    expect((await beat('edge-1', added.key.secret)).status).toBe(202);

    const listed = await (await admin('/agents', 'GET', READ_TOKEN)).text();
    expect(listed).not.toContain(added.key.secret);
    const agents = (JSON.parse(listed) as Listed).agents;
    expect(agents.find((a) => a.id === 'edge-1')).toEqual({
      id: 'edge-1',
      source: 'managed',
      keys: [{ id: added.key.id, created_at: added.key.created_at, created_by: 'tests' }],
      error: null,
    });
    // Agents of BLINDSPOT_AGENT_SECRETS are listed too, without their secrets.
    expect(agents.find((a) => a.id === 'alpha')).toEqual({ id: 'alpha', source: 'setting', keys: [null], error: null });
    expect(listed).not.toContain(TEST_AGENT_SECRETS.alpha[0]);
  });

  it('rotates: a second key works beside the first until the first is revoked, which then gets 401', async () => {
    const first = await json<Added>(await admin('/agents/edge-2', 'POST'), 201);
    const second = await json<Added>(await admin('/agents/edge-2/keys', 'POST'), 201);
    expect(second.key.id).not.toBe(first.key.id);
    expect((await beat('edge-2', first.key.secret)).status).toBe(202);
    expect((await beat('edge-2', second.key.secret)).status).toBe(202);
    await json(await admin(`/agents/edge-2/keys/${first.key.id}`, 'DELETE'), 200);
    const refused = await beat('edge-2', first.key.secret);
    expect(refused.status).toBe(401);
    expect(await errorCode(refused)).toBe('invalid_signature');
    expect((await beat('edge-2', second.key.secret)).status).toBe(202);
  });

  it('revokes an agent: every key goes and its heartbeats get 401', async () => {
    const added = await json<Added>(await admin('/agents/edge-3', 'POST'), 201);
    expect((await beat('edge-3', added.key.secret)).status).toBe(202);
    expect(await json(await admin('/agents/edge-3', 'DELETE'), 200)).toEqual({
      agent: 'edge-3',
      revoked: 1,
      retired: true,
      windows_ended: 0,
    });
    const refused = await beat('edge-3', added.key.secret);
    expect(refused.status).toBe(401);
    expect(await errorCode(refused)).toBe('unknown_agent');
    expect((JSON.parse(await (await admin('/agents')).text()) as Listed).agents.map((a) => a.id)).not.toContain('edge-3');
  });

  it("an agent's replication: 404 for an agent never heard, 400 for a malformed id, 401 without a token", async () => {
    const unknown = await json<{ error: { code: string; message: string } }>(await admin('/agents/never-heard-of/replication'), 404);
    expect(unknown.error).toMatchObject({ code: 'unknown_agent', message: expect.stringMatching(/blindspot agent list/) });
    expect((await json<{ error: { code: string } }>(await admin('/agents/..%2F/replication'), 400)).error.code).toBe('invalid_agent_id');
    expect((await admin('/agents/alpha/replication', 'GET', null)).status).toBe(401);
  });

  it('refuses what it must, each with a 4xx and a JSON body naming the fix', async () => {
    await json(await admin('/agents/edge-4', 'POST'), 201);
    const cases: [string, string, string | null, number, string][] = [
      ['/agents/edge-4', 'POST', ADMIN_TOKEN, 409, 'agent_exists'],
      ['/agents/alpha', 'POST', ADMIN_TOKEN, 409, 'agent_in_setting'],
      ['/agents/alpha', 'DELETE', ADMIN_TOKEN, 409, 'agent_in_setting'],
      ['/agents/nobody/keys', 'POST', ADMIN_TOKEN, 404, 'unknown_agent'],
      ['/agents/nobody', 'DELETE', ADMIN_TOKEN, 404, 'unknown_agent'],
      ['/agents/edge-4/keys/000000000000', 'DELETE', ADMIN_TOKEN, 404, 'unknown_key'],
      ['/agents/edge-4/keys/..%2F..', 'DELETE', ADMIN_TOKEN, 400, 'invalid_key_id'],
      ['/agents/Bad%20Id', 'POST', ADMIN_TOKEN, 400, 'invalid_agent_id'],
      [`/agents/${'a'.repeat(64)}`, 'POST', ADMIN_TOKEN, 400, 'invalid_agent_id'],
      ['/agents/edge-5', 'POST', READ_TOKEN, 403, 'insufficient_scope'],
      ['/agents/edge-5', 'POST', null, 401, 'bad_credentials'],
      ['/agents', 'GET', null, 401, 'bad_credentials'],
    ];
    for (const [path, method, token, status, code] of cases) {
      const res = await admin(path, method, token);
      const body = await json<{ error: { code: string; message: string } }>(res, status);
      expect(body.error.code, `${method} ${path}`).toBe(code);
      expect(body.error.message.length).toBeGreaterThan(10);
    }
  });

  it(`holds at most ${MAX_KEYS_PER_AGENT} keys per agent`, async () => {
    await json(await admin('/agents/edge-6', 'POST'), 201);
    for (let i = 1; i < MAX_KEYS_PER_AGENT; i++) await json(await admin('/agents/edge-6/keys', 'POST'), 201);
    const body = await json<{ error: { code: string; message: string } }>(await admin('/agents/edge-6/keys', 'POST'), 409);
    expect(body.error).toMatchObject({ code: 'too_many_keys' });
    expect(body.error.message).toContain('blindspot agent revoke edge-6 --key');
  });
});

const adminWithBody = (path: string, method: string, body: unknown, token: string = ADMIN_TOKEN) =>
  send(
    new Request(`${BASE}/v1/admin${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    }),
  );

interface NewToken {
  name: string;
  scopes: string[];
  token: string;
}

describe('blindspot token add | list | revoke, through the admin API', () => {
  it('a token made through the API opens what its scopes allow, at once; revoked, it opens nothing', async () => {
    const made = await json<NewToken>(await adminWithBody('/tokens/ci-reader', 'POST', { scopes: ['read'] }), 201);
    expect(made).toMatchObject({ name: 'ci-reader', scopes: ['read'] });
    expect(made.token).toMatch(/^[0-9a-f]{64}$/);
    expect((await admin('/agents', 'GET', made.token)).status).toBe(200);
    const refused = await json<{ error: { code: string } }>(await admin('/agents/edge-9', 'POST', made.token), 403);
    expect(refused.error.code).toBe('insufficient_scope');

    const listed = await (await admin('/tokens')).text();
    expect(listed).not.toContain(made.token);
    const tokens = (JSON.parse(listed) as { tokens: { name: string; source: string; scopes: string[] }[] }).tokens;
    expect(tokens.find((t) => t.name === 'ci-reader')).toMatchObject({ source: 'managed', scopes: ['read'], created_by: 'tests' });
    expect(tokens.find((t) => t.name === 'tests')).toMatchObject({ source: 'setting', scopes: ['read', 'write'] });

    await json(await admin('/tokens/ci-reader', 'DELETE'), 200);
    const after = await json<{ error: { code: string } }>(await admin('/agents', 'GET', made.token), 401);
    expect(after.error.code).toBe('bad_credentials');
  });

  it('a write token made through the API may change things, and is named as their author', async () => {
    const made = await json<NewToken>(await adminWithBody('/tokens/deployer', 'POST', ''), 201);
    expect(made.scopes).toEqual(['read', 'write']);
    const added = await json<Added>(await admin('/agents/edge-10', 'POST', made.token), 201);
    expect(added.key.created_by).toBe('deployer');
  });

  it('refuses what it must, each with a 4xx and a JSON body', async () => {
    await json(await adminWithBody('/tokens/twice', 'POST', {}), 201);
    const cases: [string, string, unknown, number, string][] = [
      ['/tokens/twice', 'POST', {}, 409, 'token_exists'],
      ['/tokens/tests', 'POST', {}, 409, 'token_in_setting'],
      ['/tokens/tests', 'DELETE', undefined, 409, 'token_in_setting'],
      ['/tokens/nobody', 'DELETE', undefined, 404, 'unknown_token'],
      ['/tokens/Bad%20Name', 'POST', {}, 400, 'invalid_token_name'],
      ['/tokens/x', 'POST', { scopes: ['admin'] }, 400, 'invalid_body'],
      ['/tokens/x', 'POST', { scopes: [] }, 400, 'invalid_body'],
      ['/tokens/x', 'POST', { scope: ['read'] }, 400, 'invalid_body'],
      ['/tokens/x', 'POST', '{"scopes": ', 400, 'malformed_json'],
      ['/tokens/x', 'POST', 'x'.repeat(5000), 413, 'body_too_large'],
    ];
    for (const [path, method, body, status, code] of cases) {
      const res = body === undefined ? await admin(path, method) : await adminWithBody(path, method, body);
      const answer = await json<{ error: { code: string; message: string } }>(res, status);
      expect(answer.error.code, `${method} ${path} ${String(body).slice(0, 20)}`).toBe(code);
    }
    const readOnly = await json<{ error: { code: string } }>(await adminWithBody('/tokens/y', 'POST', {}, READ_TOKEN), 403);
    expect(readOnly.error.code).toBe('insufficient_scope');
  });
});

describe('revoking an agent retires it', () => {
  it('ends its open windows, and its silence afterwards is not paged: the operator meant it', async () => {
    const added = await json<Added>(await admin('/agents/edge-retired', 'POST'), 201);
    // Silent past its deadline: a window opens and pages.
    const sent = await heardAgo('edge-retired', 11_000, (sent_at) =>
      sendHeartbeat(heartbeatBody({ interval_s: 5, grace_s: 5, sent_at }), { agent: 'edge-retired', secrets: [added.key.secret] }),
    );
    expect(sent.status).toBe(202);
    await fireAlarm('edge-retired');
    expect((await windowsOf('edge-retired')).map((w) => [w.cause, w.ended_at])).toEqual([['agent_silent', null]]);
    const page = async () => (await send(new Request(`${BASE}/`))).text();
    expect(await page()).toContain('edge-retired');

    const retired = await json<{ retired: boolean; windows_ended: number }>(await admin('/agents/edge-retired', 'DELETE'), 200);
    expect(retired).toMatchObject({ retired: true, windows_ended: 1 });
    // Another Worker instance may trust the revoked secret a few seconds more: its object refuses what it lets through.
    const late = parseHeartbeat(heartbeatBody({ seq: 9 }));
    if (!late.ok) throw new Error(late.message);
    expect(await agentStub('edge-retired').receiveHeartbeat('edge-retired', 'hb-late', late.heartbeat)).toEqual({ status: 'retired' });
    const [ended] = await windowsOf('edge-retired');
    expect(ended?.ended_at).not.toBeNull();
    expect((await outboxOf('edge-retired')).map((r) => r.event_type).sort()).toEqual(['window.closed', 'window.opened']);
    // The status page watches it no more.
    expect(await page()).not.toContain('edge-retired');

    // Hours later nothing is due and nothing more opens.
    await setClock('edge-retired', Date.now() + 6 * 3_600_000);
    await fireAlarm('edge-retired');
    expect(await windowsOf('edge-retired')).toHaveLength(1);
    await fireAlarm('edge-retired');
    expect(await windowsOf('edge-retired')).toHaveLength(1);
    expect(await outboxOf('edge-retired')).toHaveLength(2);
    expect(await storedLive('edge-retired')).toMatchObject({
      state: 'stopped',
      monitors: {},
      silence: null,
      retiredAt: expect.any(Number),
    });

    // Added back, its first heartbeat makes it an agent like any other again.
    const again = await json<Added>(await admin('/agents/edge-retired', 'POST'), 201);
    const next = heartbeatBody({ interval_s: 5, grace_s: 5, boot: 'b-again', seq: 1 });
    expect((await sendHeartbeat(next, { agent: 'edge-retired', secrets: [again.key.secret] })).status).toBe(202);
    const live = await storedLive('edge-retired');
    expect(live).toMatchObject({ state: 'up' });
    expect(live?.retiredAt).toBeUndefined();
  });

  it('answers retired: false for an agent that never sent a heartbeat', async () => {
    await json<Added>(await admin('/agents/edge-never', 'POST'), 201);
    expect(await json(await admin('/agents/edge-never', 'DELETE'), 200)).toMatchObject({ retired: false, windows_ended: 0 });
  });
});
