// POST /v1/agents/{agent}/backfill: spooled heartbeats become history, all or nothing, idempotent,
// and never touch the live state or page anyone.
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { storedLive } from './fixtures/durable.ts';
import { MAX_BACKFILLED_IN_HORIZON } from '../../worker/routes/heartbeats.ts';
import { errorCode, heartbeatBody, send, sendHeartbeat, signedRequest } from './fixtures/requests.ts';

const AGENT = 'kilo';
const backfill = (body: unknown, options: Parameters<typeof signedRequest>[1] = {}) =>
  signedRequest(typeof body === 'string' ? body : JSON.stringify(body), { agent: AGENT, path: 'backfill', ...options }).then(send);
const rows = async () =>
  (
    await env.DB.prepare('SELECT boot, seq, sent_at, signals FROM backfilled_heartbeats WHERE agent_id = ? ORDER BY sent_at')
      .bind(AGENT)
      .all<{ boot: string; seq: number; sent_at: number; signals: string }>()
  ).results;

describe('backfill', () => {
  const boot = 'boot-backfill-1';
  const t0 = Date.now() - 600_000;
  const batch = [1, 2, 3].map((seq) =>
    heartbeatBody({
      boot,
      seq,
      sent_at: new Date(t0 + seq * 15_000).toISOString(),
      signals: [{ name: 'metrics.freshness', kind: 'freshness', value: 900 + seq, error: null }],
    }),
  );

  it("stores a signed batch with each heartbeat's own sent_at, and a re-sent batch changes nothing", async () => {
    const res = await backfill({ v: 1, heartbeats: batch });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: 3 });
    expect((await backfill({ v: 1, heartbeats: batch })).status).toBe(202);
    const stored = await rows();
    expect(stored.map((r) => [r.boot, r.seq, r.sent_at])).toEqual([1, 2, 3].map((seq) => [boot, seq, t0 + seq * 15_000]));
    expect(JSON.parse(stored[0]!.signals)[0]).toMatchObject({ name: 'metrics.freshness', value: 901 });
  });

  it('never pages and never touches the live state, even when the backfilled signals were blind', async () => {
    expect(await storedLive(AGENT)).toBeNull();
    expect((await env.DB.prepare('SELECT count(*) AS n FROM windows WHERE agent_id = ?').bind(AGENT).first<{ n: number }>())?.n).toBe(0);
    expect((await env.DB.prepare('SELECT count(*) AS n FROM outbox WHERE agent_id = ?').bind(AGENT).first<{ n: number }>())?.n).toBe(0);
    // A live heartbeat afterwards starts the live state as usual.
    expect((await sendHeartbeat(heartbeatBody({ boot, seq: 4 }), { agent: AGENT })).status).toBe(202);
    expect((await storedLive(AGENT))?.seq).toBe(4);
  });

  it.each([
    ['not JSON', '{"v":1,', 400, 'malformed_json'],
    ['no heartbeats', { v: 1, heartbeats: [] }, 422, 'invalid_backfill'],
    ['a wrong version', { v: 2, heartbeats: [heartbeatBody()] }, 422, 'invalid_backfill'],
    ['an extra key', { v: 1, heartbeats: [heartbeatBody()], more: true }, 422, 'invalid_backfill'],
    [
      '51 heartbeats',
      { v: 1, heartbeats: Array.from({ length: 51 }, (_, i) => heartbeatBody({ seq: i + 1, signals: [] })) },
      422,
      'invalid_backfill',
    ],
    [
      'a heartbeat from the future',
      { v: 1, heartbeats: [heartbeatBody({ sent_at: new Date(Date.now() + 3_600_000).toISOString() })] },
      422,
      'invalid_backfill',
    ],
    [
      'a heartbeat older than 7 days',
      { v: 1, heartbeats: [heartbeatBody({ sent_at: new Date(Date.now() - 8 * 86_400_000).toISOString() })] },
      422,
      'invalid_backfill',
    ],
    [
      'one bad heartbeat among good ones',
      { v: 1, heartbeats: [heartbeatBody({ boot: 'boot-bad', seq: 9 }), { ...heartbeatBody({ boot: 'boot-bad', seq: 10 }), seq: -1 }] },
      422,
      'invalid_backfill',
    ],
    ['more than 512 KiB', { v: 1, heartbeats: [heartbeatBody({ pad: 'x'.repeat(600 * 1024) })] }, 413, 'body_too_large'],
  ])('refuses %s with %i and writes nothing', async (_what, body, status, code) => {
    const before = (await rows()).length;
    const res = await backfill(body);
    expect(res.status).toBe(status);
    expect(await errorCode(res)).toBe(code);
    expect((await rows()).length).toBe(before);
    expect(
      (await env.DB.prepare("SELECT count(*) AS n FROM backfilled_heartbeats WHERE boot = 'boot-bad'").first<{ n: number }>())?.n,
    ).toBe(0);
  });

  it('names the bad heartbeat and field', async () => {
    const res = await backfill({
      v: 1,
      heartbeats: [heartbeatBody(), heartbeatBody({ sent_at: new Date(Date.now() + 3_600_000).toISOString() })],
    });
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe(
      "heartbeats.1.sent_at is in the future; check the agent's clock",
    );
  });

  it('takes only signed requests of that agent, by POST', async () => {
    expect((await backfill({ v: 1, heartbeats: batch }, { secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'] })).status).toBe(401);
    expect((await backfill({ v: 1, heartbeats: batch }, { agent: 'nobody-here' })).status).toBe(401);
    expect((await backfill({ v: 1, heartbeats: batch }, { contentType: 'text/plain' })).status).toBe(415);
    const get = await send(new Request('http://blindspot.test/v1/agents/kilo/backfill'));
    expect(get.status).toBe(405);
  });
});

describe('the backfill budget', () => {
  it("refuses an agent that already backfilled a heartbeat every 5 s of the horizon (429, Retry-After), and leaves other agents' backfill alone", async () => {
    const now = Date.now();
    // As many rows as the budget allows, sent over the last 7 days under invented boots and seqs.
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
       INSERT INTO backfilled_heartbeats (agent_id, boot, seq, sent_at, received_at, interval_s, signals)
       SELECT 'india', 'flood-' || (i % 7), i, ? - (i % 600000) * 1000, ?, 5, '[]' FROM n`,
    )
      .bind(MAX_BACKFILLED_IN_HORIZON, now, now)
      .run();
    const one = [heartbeatBody({ boot: 'after-flood', seq: 1, sent_at: new Date(now - 60_000).toISOString() })];
    const refused = await backfill({ v: 1, heartbeats: one }, { agent: 'india' });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('3600');
    expect(await errorCode(refused)).toBe('backfill_budget');
    const count = await env.DB.prepare("SELECT count(*) AS n FROM backfilled_heartbeats WHERE agent_id = 'india'").first('n');
    expect(count).toBe(MAX_BACKFILLED_IN_HORIZON);
    expect((await backfill({ v: 1, heartbeats: one }, { agent: 'juliet' })).status).toBe(202);
  });
});
