// D1 failing for a while under a running Worker: the tables it reads and writes are renamed away in
// the local database (every statement on them fails, as in an outage), then renamed back. Meanwhile
// heartbeats are still taken, an agent that stops is found and paged within its deadline + 2 s (the
// Durable Object holds the state and its own outbox; paging never waits on D1), and the status page
// serves its snapshot. Once D1 is back, the window, its delivery and the history written during the
// outage all reach D1: nothing is lost or doubled.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSecret } from '../../protocol/signature.ts';
import { startTestWorker, type TestWorker } from '../support/e2e-worker.ts';
import { LoopingAgent, secretsFor } from '../support/fleet.ts';
import { type Recorder, startRecorder } from '../support/http-recorder.ts';
import { freshGet } from '../support/fresh-http.ts';
import { d1Query } from '../support/local-d1.ts';
import { waitFor } from '../support/ports.ts';

const secret = generateSecret();
const hookSecret = generateSecret();
const token = 'fault-admin-token-0123456789abcdef0123456789';
const TABLES = ['agents', 'windows', 'outbox', 'agent_days', 'agent_events', 'incidents', 'incident_updates', 'maintenances'];
const OUTAGE_MS = 30_000;
let w: TestWorker;
let receiver: Recorder;
const agents: LoopingAgent[] = [];

const rename = (from: string, to: string) =>
  d1Query(w.persistTo, TABLES.map((t) => `ALTER TABLE ${t.replace(/^/, from)} RENAME TO ${t.replace(/^/, to)}`).join('; '));

beforeAll(async () => {
  receiver = await startRecorder();
  w = await startTestWorker('d1-outage', {
    BLINDSPOT_AGENT_SECRETS: secretsFor(['steady-1', 'steady-2', 'quiet'], secret),
    BLINDSPOT_CONFIG: JSON.stringify({
      components: [{ id: 'metrics', name: 'Metrics pipeline' }],
      defaults: { component: 'metrics' },
      notifications: { channels: [{ id: 'hook', type: 'webhook' }], repeat_interval_s: 0 },
    }),
    BLINDSPOT_CHANNEL_SECRETS: JSON.stringify({ hook: { url: `${receiver.url}/hook`, secret: hookSecret } }),
    BLINDSPOT_ADMIN_TOKENS: JSON.stringify({
      faults: { sha256: createHash('sha256').update(token).digest('hex'), scopes: ['read', 'write'] },
    }),
  });
}, 90_000);

afterAll(async () => {
  for (const a of agents) a.stop();
  await w?.stop();
  await receiver?.close();
});

describe('D1 failing for a while', () => {
  it('heartbeats are taken, deadlines kept, the page serves its snapshot, and everything reaches D1 after', async () => {
    // The fault is injected by another process (wrangler d1 execute) on the same SQLite file, which
    // holds workerd still for a few seconds each time; grace 10 s keeps that from looking like silence.
    for (const id of ['steady-1', 'steady-2']) agents.push(new LoopingAgent(w.url, id, secret, { intervalS: 1, graceS: 10, boot: 'b1' }));
    agents.push(new LoopingAgent(w.url, 'quiet', secret, { intervalS: 1, graceS: 3, boot: 'b1' }));
    const quiet = agents[2] as LoopingAgent;
    for (const a of agents) a.start();
    const incident = await fetch(`${w.url}/v1/admin/incidents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Metrics ingestion delayed', body: 'We are looking into it.', components: ['metrics'] }),
    });
    expect(incident.status).toBe(201);
    await waitFor('three agents up', async () => agents.every((a) => a.results.some((r) => r?.status === 202)), 20_000);
    // A page read while D1 is healthy: what the snapshot will hold.
    const before = await freshGet(`${w.url}/`);
    expect(before.body).toContain('Metrics ingestion delayed');

    rename('', 'away_');
    const outageFrom = Date.now();
    expect(() => d1Query(w.persistTo, 'SELECT count(*) FROM windows')).toThrow(/no such table/);
    const sentBefore = agents.map((a) => a.results.length);
    quiet.stop();
    const quietDeadline = quiet.lastDeadline();

    // The page, while D1 fails: served, from its snapshot, saying so, with the incident it kept.
    await new Promise((r) => setTimeout(r, 3000));
    const during = await freshGet(`${w.url}/`);
    expect(during.status).toBe(200);
    expect(during.body).toMatch(/Our status database is unavailable/);
    expect(during.body).toContain('Metrics ingestion delayed');
    const api = await freshGet(`${w.url}/api/v2/summary.json`);
    expect(api.status).toBe(200);

    await new Promise((r) => setTimeout(r, Math.max(0, outageFrom + OUTAGE_MS - Date.now())));
    // Every heartbeat sent during the outage was taken (202, or a replay to a retry), none refused.
    const duringOutage = agents.slice(0, 2).flatMap((a, i) => a.results.slice(sentBefore[i]));
    expect(duringOutage.length).toBeGreaterThan(40);
    console.log(`d1-outage: tries that got no answer: ${JSON.stringify(agents.flatMap((a) => a.errors))}`);
    expect(
      duringOutage.filter((r) => !LoopingAgent.taken(r)),
      agents.flatMap((a) => a.errors).join('\n'),
    ).toEqual([]);
    // The quiet agent was paged during the outage, once, within its deadline + 2 s.
    const pages = receiver.requests.filter((r) => r.body.includes('"window.opened"'));
    expect(pages).toHaveLength(1);
    expect(pages[0]?.at).toBeGreaterThanOrEqual(quietDeadline);
    expect(pages[0]?.at).toBeLessThanOrEqual(quietDeadline + 2000);

    rename('away_', '');
    const backAt = Date.now();
    // The sweep (the minute cron in production) retries what waits; live heartbeats do it too.
    await fetch(`${w.url}/__scheduled?cron=*+*+*+*+*`);
    await waitFor(
      "the quiet agent's window and its delivery in D1",
      async () => {
        try {
          return d1Query<{ n: number }>(w.persistTo, "SELECT count(*) AS n FROM delivery_attempts WHERE outcome = 'delivered'")[0]?.n === 1;
        } catch {
          return false;
        }
      },
      60_000,
      1000,
    );
    const windows = d1Query<{ agent_id: string; cause: string; confirmed_at: number }>(
      w.persistTo,
      'SELECT agent_id, cause, confirmed_at FROM windows',
    );
    expect(windows).toEqual([{ agent_id: 'quiet', cause: 'agent_silent', confirmed_at: quietDeadline }]);
    // Confirmed at its deadline, during the outage, not when D1 came back.
    expect(quietDeadline).toBeLessThan(backAt);
    const opened = JSON.parse(receiver.requests.find((r) => r.body.includes('"window.opened"'))?.body ?? '{}') as { timestamp: string };
    expect(Date.parse(opened.timestamp)).toBeLessThan(backAt);
    // No page twice once D1 is back.
    expect(receiver.requests.filter((r) => r.body.includes('"window.opened"'))).toHaveLength(1);
    // The steady agents' state in D1 moved on past the outage.
    const rows = d1Query<{ id: string; last_heartbeat_at: number }>(
      w.persistTo,
      "SELECT id, last_heartbeat_at FROM agents WHERE id LIKE 'steady-%' ORDER BY id",
    );
    expect(rows.map((r) => r.id)).toEqual(['steady-1', 'steady-2']);
    // The page says nothing of a saved copy once D1 answers again.
    await waitFor(
      'the page back on live data',
      async () => !(await freshGet(`${w.url}/`)).body.includes('Our status database is unavailable'),
      30_000,
      1000,
    );
  }, 180_000);
});
