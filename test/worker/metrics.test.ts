// GET /metrics: the watchdog in the Prometheus text format, for a read-scoped admin token, on real
// workerd and D1. Read back with the parser the agent uses; promtool checks the format end to end
// (test/e2e/gap-report.test.ts).
import { env } from 'cloudflare:workers';
import parse from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';
import { READ_TOKEN } from './fixtures/channels.ts';
import { fireAlarm, heardAgo } from './fixtures/durable.ts';
import { BASE, heartbeatBody, send, sendHeartbeat } from './fixtures/requests.ts';

const scrape = (token: string | null = READ_TOKEN) =>
  send(new Request(`${BASE}/metrics`, { headers: token === null ? {} : { authorization: `Bearer ${token}` } }));

function samples(text: string): Map<string, { labels: Record<string, string>; value: string }[]> {
  return new Map(parse(text).map((f) => [f.name, f.metrics as { labels: Record<string, string>; value: string }[]]));
}

describe('GET /metrics', () => {
  it('refuses without a token, and with a wrong one: 401 JSON', async () => {
    for (const token of [null, 'wrong']) {
      const res = await scrape(token);
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('bad_credentials');
    }
  });

  it('says each agent’s state and heartbeat age, open windows by cause, the outbox and D1', async () => {
    expect((await sendHeartbeat(heartbeatBody({ interval_s: 5, grace_s: 5 }), { agent: 'foxtrot' })).status).toBe(202);
    const golf = await heardAgo('golf', 11_000, (sent_at) =>
      sendHeartbeat(heartbeatBody({ interval_s: 5, grace_s: 5, sent_at }), { agent: 'golf' }),
    );
    expect(golf.status).toBe(202);
    await fireAlarm('golf');
    // A window D1 holds open (written as the objects replicate them).
    await env.DB.prepare(
      "INSERT INTO windows (id, agent_id, monitor, cause, started_at, confirmed_at, ended_at) VALUES ('metrics-w1', 'hotel', 'fresh', 'stale', ?, ?, NULL)",
    )
      .bind(Date.now() - 30_000, Date.now() - 20_000)
      .run();
    const res = await scrape();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const m = samples(await res.text());
    const state = (agent: string) => m.get('blindspot_agent_state')?.find((s) => s.labels.agent === agent)?.labels.state;
    expect(state('foxtrot')).toBe('operational'); // a fresh heartbeat whose signals measure its pipeline
    expect(state('golf')).toBe('blind');
    const age = Number(m.get('blindspot_agent_last_heartbeat_age_seconds')?.find((s) => s.labels.agent === 'golf')?.value);
    expect(age).toBeGreaterThanOrEqual(11);
    expect(m.get('blindspot_windows_open')?.find((s) => s.labels.cause === 'stale')?.value).toBe('1');
    expect(m.get('blindspot_d1_up')?.[0]?.value).toBe('1');
    for (const name of [
      'blindspot_outbox_pending',
      'blindspot_outbox_oldest_pending_age_seconds',
      'blindspot_outbox_dead_letters',
      'blindspot_watchdog_stalled',
    ])
      expect(m.get(name)?.[0]?.value, name).toMatch(/^\d+(\.\d+)?$/);
  });

  it("says what the fleet's objects hold for D1 and what D1 lacks, as the sweep found it", async () => {
    const watchdog = env.WATCHDOG.get(env.WATCHDOG.idFromName('watchdog'));
    const at = Date.now() - 20_000;
    await watchdog.recordFleet({
      at,
      agents: 3,
      queued: 4,
      oldestAt: at - 60_000,
      setAside: 2,
      dropped: 5,
      troubled: [
        { agent: 'india', setAside: 2, dropped: 0, lastError: 'D1_ERROR: UNIQUE constraint failed' },
        { agent: 'juliet', setAside: 0, dropped: 5, lastError: null },
      ],
      visited: { whole: true, after: null, through: 'kilo' },
    });
    const m = samples(await (await scrape()).text());
    const value = (name: string, object: string) => Number(m.get(name)?.find((s) => s.labels.object === object)?.value);
    expect(value('blindspot_replication_queued', 'agents')).toBe(4);
    expect(value('blindspot_replication_oldest_age_seconds', 'agents')).toBeGreaterThanOrEqual(80);
    expect(value('blindspot_replication_set_aside', 'agents')).toBe(2);
    expect(value('blindspot_replication_dropped', 'agents')).toBe(5);
    // The Watchdog object's own queue is its own series (healthz-sweep.test.ts makes it lose a batch).
    for (const name of ['blindspot_replication_queued', 'blindspot_replication_set_aside', 'blindspot_replication_dropped'])
      expect(
        m
          .get(name)
          ?.map((s) => s.labels.object)
          .sort(),
        name,
      ).toEqual(['agents', 'watchdog']);
  });

  it('escapes label values it does not control', async () => {
    const { exposition } = await import('../../worker/core/exposition.ts');
    const text = exposition([{ name: 'x', help: 'a\nb', type: 'gauge', samples: [{ labels: { agent: 'a"b\\c\nd' }, value: Number.NaN }] }]);
    expect(text).toBe('# HELP x a\\nb\n# TYPE x gauge\nx{agent="a\\"b\\\\c\\nd"} NaN\n');
    expect(parse(text)[0]?.metrics[0]).toMatchObject({ labels: { agent: 'a"b\\c\nd' } });
  });
});
