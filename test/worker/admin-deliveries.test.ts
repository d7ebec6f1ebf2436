// The admin side of paging: delivery log, channel state, test-fire, retry of a dead letter, the
// admin view; hostile and unauthenticated requests; secrets never echoed.
import { env, exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, OPSGENIE_KEY, PD_ROUTING_KEY } from './fixtures/channels.ts';
import { cue, receivedFor, uncue } from './fixtures/hub.ts';
import { deliverAt, rowsOf } from './fixtures/paging.ts';
import { TEST_AGENT_SECRETS } from './fixtures/secrets.ts';
import { fresh, SimulatedAgent } from './fixtures/simulated.ts';

const call = (path: string, init: RequestInit = {}, token: string | null = ADMIN_TOKEN) =>
  exports.default.fetch(`https://blindspot.test${path}`, {
    ...init,
    headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...init.headers },
  });

const SECRETS = [PD_ROUTING_KEY, OPSGENIE_KEY, ADMIN_TOKEN, env.RECEIVER_URL];
const leaksNothing = (text: string) => SECRETS.every((s) => !text.includes(s));

describe('admin API for deliveries', () => {
  it('refuses without an admin token, with a wrong one, and with an agent secret: 401 JSON', async () => {
    for (const token of [null, 'wrong-token', TEST_AGENT_SECRETS['alpha']?.[0] ?? 'x', `${ADMIN_TOKEN}x`]) {
      const res = await call('/v1/admin/channels', {}, token);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('bad_credentials');
    }
    const basic = await call('/v1/admin/channels', { headers: { authorization: `Basic ${btoa(`x:${ADMIN_TOKEN}`)}` } }, null);
    expect(basic.status).toBe(401);
  });

  it('lists channels with their state, and says what a misconfigured one needs without echoing any secret', async () => {
    const res = await call('/v1/admin/channels');
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(leaksNothing(text)).toBe(true);
    const { channels } = JSON.parse(text) as {
      channels: { id: string; type: string; ready: boolean; config_error: string | null; source: string }[];
    };
    expect(channels.map((c) => c.id)).toEqual(['pd', 'og', 'slack', 'discord', 'teams', 'hook', 'unset', 'spare', 'webhook']);
    expect(channels.find((c) => c.id === 'unset')).toMatchObject({
      type: 'slack',
      ready: false,
      config_error:
        'BLINDSPOT_CHANNEL_SECRETS has no entry "unset"; set it to the incoming-webhook URL (https://hooks.slack.com/services/...)',
    });
    expect(channels.find((c) => c.id === 'webhook')).toMatchObject({ source: 'BLINDSPOT_WEBHOOK_URL', ready: true });
  });

  it('test-fires a channel: PagerDuty gets a trigger and its resolve, and the answer says what the receiver said', async () => {
    const res = await call('/v1/admin/channels/pd/test', { method: 'POST' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { ok: boolean; sent: { event: string; status: number; outcome: string }[] };
    expect(body.ok).toBe(true);
    expect(body.sent.map((s) => `${s.event} ${s.status} ${s.outcome}`)).toEqual([
      'window.opened 202 delivered',
      'window.closed 202 delivered',
    ]);
    const got = (await receivedFor('pd', 'blindspot-test:test-fire:')).map((r) => JSON.parse(r.body));
    const last = got.slice(-2);
    expect(last.map((j) => j.event_action)).toEqual(['trigger', 'resolve']);
    expect(last[0].dedup_key).toBe(last[1].dedup_key);
    expect(last[0].payload.summary).toMatch(
      /^TEST: test-fire on blindspot-test: this is a test notification from Blindspot; nothing is wrong/,
    );
    expect(last[0].payload.severity).toBe('info');
  });

  it('test-fire reports a failing receiver as not delivered (200, ok: false), and 404/422 for unknown and unconfigured channels', async () => {
    await cue('teams', { match: 'blindspot-test', status: 500, body: 'workflow failed', times: 1 });
    const failed = (await (await call('/v1/admin/channels/teams/test', { method: 'POST' })).json()) as {
      ok: boolean;
      sent: { error: string }[];
    };
    expect(failed.ok).toBe(false);
    expect(failed.sent[0]?.error).toBe('receiver answered HTTP 500: workflow failed');
    const unknown = await call('/v1/admin/channels/nope/test', { method: 'POST' });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toMatch(/^no channel "nope"; channels are pd, og/);
    const unset = await call('/v1/admin/channels/unset/test', { method: 'POST' });
    expect(unset.status).toBe(422);
    expect(leaksNothing(await unset.text())).toBe(true);
  });

  it('a successful test-fire enables a channel disabled by 410, and its waiting notifications go out', async () => {
    const a = new SimulatedAgent('page-spare-admin');
    await cue('spare', { match: a.id, status: 410, times: 1 });
    await a.heartbeat(0, [fresh('prometheus.up', 900)]);
    await a.heartbeat(5, [fresh('prometheus.up', 900)]);
    expect((await deliverAt(a.at(5), a.id)).disabled).toEqual(['spare']);
    const before = (await (await call('/v1/admin/channels')).json()) as {
      channels: { id: string; ready: boolean; disabled_reason: string }[];
    };
    expect(before.channels.find((c) => c.id === 'spare')).toMatchObject({
      ready: false,
      disabled_reason: expect.stringContaining('410 Gone'),
    });
    const health = await exports.default.fetch('https://blindspot.test/healthz');
    expect(health.status).toBe(503);
    expect(JSON.stringify(await health.json())).toContain('channel spare: the receiver answered 410 Gone');

    expect(((await (await call('/v1/admin/channels/spare/test', { method: 'POST' })).json()) as { ok: boolean }).ok).toBe(true);
    await deliverAt(a.at(6), a.id);
    expect((await rowsOf(a.id, 'spare')).map((r) => r.state)).toEqual(['delivered']);
    await uncue('spare', a.id);
  });

  it('lists dead letters with their error, shows the attempt log, and retries one on request (once)', async () => {
    const a = new SimulatedAgent('page-admin-dead');
    await cue('og', { match: a.id, status: 422, body: '{"message":"Request body is not processable"}', times: 1 });
    await a.heartbeat(0, [fresh('prometheus.up', 900)]);
    await a.heartbeat(5, [fresh('prometheus.up', 900)]);
    await deliverAt(a.at(5), a.id);
    const list = (await (await call(`/v1/admin/notifications?state=dead&agent=${a.id}`)).json()) as {
      notifications: { id: string; channel_id: string; last_error: string }[];
    };
    expect(list.notifications.map((n) => n.channel_id)).toEqual(['og']);
    const id = list.notifications[0]!.id;
    expect(list.notifications[0]?.last_error).toBe(
      'dead-lettered: the receiver rejected it (receiver answered HTTP 422: {"message":"Request body is not processable"})',
    );

    const one = (await (await call(`/v1/admin/notifications/${encodeURIComponent(id)}`)).json()) as {
      notification: { attempts_log: { attempt: number; status: number; outcome: string; latency_ms: number }[]; claim_token?: string };
    };
    expect(one.notification.attempts_log).toEqual([
      {
        attempt: 1,
        at: a.at(5),
        status: 422,
        latency_ms: expect.any(Number),
        outcome: 'rejected',
        error: 'receiver answered HTTP 422: {"message":"Request body is not processable"}',
      },
    ]);
    expect(one.notification.claim_token).toBeUndefined();

    const retry = await call(`/v1/admin/notifications/${encodeURIComponent(id)}/retry`, { method: 'POST' });
    expect(retry.status).toBe(202);
    expect((await rowsOf(a.id, 'og'))[0]?.state).not.toBe('dead');
    const again = await call(`/v1/admin/notifications/${encodeURIComponent(id)}/retry`, { method: 'POST' });
    expect(again.status).toBe(409);
    expect((await call('/v1/admin/notifications/nope/retry', { method: 'POST' })).status).toBe(404);
  });

  it('rejects hostile query parameters with 400 JSON naming the field', async () => {
    for (const q of ['limit=abc', 'limit=0', 'limit=501', 'limit=99999999999', 'state=bogus', 'before=-1', `channel=${'x'.repeat(100)}`]) {
      const res = await call(`/v1/admin/notifications?${q}`);
      expect(res.status, q).toBe(400);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('invalid_query');
      expect(body.error.message).toMatch(new RegExp(q.split('=')[0] as string));
    }
    for (const path of [
      '/v1/admin/notifications/%E0%A4%A',
      '/v1/admin/notifications/%00',
      `/v1/admin/notifications/${'x'.repeat(5000)}`,
      '/v1/admin/channels/%E0%A4%A/test',
    ]) {
      const res = await call(path, path.endsWith('/test') ? { method: 'POST' } : {});
      expect(res.status, path).toBeGreaterThanOrEqual(400);
      expect(res.status, path).toBeLessThan(500);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBeTypeOf('string');
    }
    const paged = (await (await call('/v1/admin/notifications?limit=2')).json()) as {
      notifications: { seq: number }[];
      next_before: number;
    };
    expect(paged.notifications).toHaveLength(2);
    const next = (await (await call(`/v1/admin/notifications?limit=2&before=${paged.next_before}`)).json()) as {
      notifications: { seq: number }[];
    };
    expect(next.notifications[0]!.seq).toBeLessThan(paged.notifications[1]!.seq + 1);
  });

  it('serves the admin view without data and under a strict content security policy', async () => {
    const page = await exports.default.fetch('https://blindspot.test/admin');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).toContain('<script src="/admin.js"></script>');
    expect(leaksNothing(html)).toBe(true);
    const js = await exports.default.fetch('https://blindspot.test/admin.js');
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(await js.text()).toContain("'/v1/admin/notifications?limit=200'");
  });

  it('healthz names an unconfigured channel (503) without echoing secrets', async () => {
    const res = await exports.default.fetch('https://blindspot.test/healthz');
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(leaksNothing(text)).toBe(true);
    expect(JSON.parse(text).notifications.errors).toContain(
      'channel unset: BLINDSPOT_CHANNEL_SECRETS has no entry "unset"; set it to the incoming-webhook URL (https://hooks.slack.com/services/...)',
    );
  });
});
