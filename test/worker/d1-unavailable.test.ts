// D1 failing under an admin request or the gap report (its tables renamed away: every statement on
// them fails, as in an outage): a 503 with Retry-After and a JSON body naming D1, not a 500. Input is
// still judged first (a bad body is a 400), a refused write writes nothing, the public surfaces still
// answer, and once D1 is back the same request succeeds. D1 that hangs: the public surfaces, /metrics
// and /healthz answer after a bounded wait, from the kept copy; an agent's object pages without it,
// and the Watchdog object still tells a gap in its ticks.
import { abortAllDurableObjects, createExecutionContext, runInDurableObject, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it } from 'vitest';
import { isD1Outage } from '../../worker/core/replication-policy.ts';
import { type AgentMonitor, VISIT_D1_WAIT_MS } from '../../worker/durable/agent-monitor.ts';
import type { Replicator } from '../../worker/durable/replicator.ts';
import type { Watchdog } from '../../worker/durable/watchdog.ts';
import worker, { sweepDeps } from '../../worker/index.ts';
import { runSweep } from '../../worker/jobs/sweep.ts';
import { d1Wait } from '../../worker/durable/clock.ts';
import { ADMIN_TOKEN } from './fixtures/channels.ts';
import { hangingD1 } from './fixtures/d1.ts';
import { createDb } from '../../worker/store/db.ts';

/** A D1 whose every call fails at once, as one in an outage. */
function refusingD1(): D1Database {
  const refuse = () => Promise.reject(new Error('D1_ERROR: simulated outage: database unavailable'));
  const statement = { bind: () => statement, all: refuse, first: refuse, run: refuse, raw: refuse };
  const db = { prepare: () => statement, batch: refuse, exec: refuse, dump: refuse, withSession: () => db };
  return db as unknown as D1Database;
}
import { agentStub, fireAlarm, storedLive } from './fixtures/durable.ts';
import { receivedFor } from './fixtures/hub.ts';
import { fresh, SimulatedAgent } from './fixtures/simulated.ts';
import { BASE, retryLater, send, uniqueId } from './fixtures/requests.ts';

const TABLES = ['incidents', 'incident_updates', 'maintenances', 'windows', 'outbox', 'delivery_attempts', 'channel_state'];
let away = false;

async function d1Down(): Promise<void> {
  await env.DB.exec(TABLES.map((t) => `ALTER TABLE ${t} RENAME TO ${t}_away;`).join(' '));
  away = true;
}
async function d1Back(): Promise<void> {
  if (!away) return;
  await env.DB.exec(TABLES.map((t) => `ALTER TABLE ${t}_away RENAME TO ${t};`).join(' '));
  away = false;
}
afterEach(d1Back);

const inMinutes = (m: number) => new Date(Date.now() + m * 60_000).toISOString();
const admin = (path: string, method = 'GET', body?: string) =>
  send(
    new Request(`${BASE}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body }),
    }),
  );

async function storageUnavailable(res: Response): Promise<void> {
  expect(await retryLater(res, 'storage_unavailable')).toMatch(/database \(D1\) could not answer now; retry/);
}

describe('D1 failing under an admin request', () => {
  it('reads and writes answer 503 with Retry-After, and a bad body is still a 400', async () => {
    await d1Down();
    for (const path of ['/v1/admin/incidents', '/v1/admin/maintenances', '/v1/admin/silences', '/v1/admin/notifications'])
      await storageUnavailable(await admin(path));
    await storageUnavailable(await admin('/v1/admin/incidents', 'POST', JSON.stringify({ name: 'Ingest lag', body: 'Looking.' })));
    await storageUnavailable(await admin('/v1/admin/silences', 'POST', JSON.stringify({ reason: 'db work', ends_at: inMinutes(30) })));
    await storageUnavailable(
      await admin(
        '/v1/admin/maintenances',
        'POST',
        JSON.stringify({ name: 'Upgrade', scheduled_for: inMinutes(60), scheduled_until: inMinutes(90) }),
      ),
    );
    await storageUnavailable(await admin('/api/v1/gaps'));
    expect((await admin('/v1/admin/silences', 'POST', '{"reason":')).status).toBe(400);
    expect((await admin('/v1/admin/silences', 'POST', JSON.stringify({ reason: 'no end' }))).status).toBe(400);
    // What customers read does not wait on D1.
    expect((await send(new Request(`${BASE}/api/v2/status.json`))).status).toBe(200);
  });

  it('the gap page says so in HTML with a 503, not as a report without gaps', async () => {
    await d1Down();
    const res = await admin('/gaps');
    const html = await res.text();
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(html).toContain('could not answer now; retry');
  });

  it('a refused silence wrote nothing, and sent again once D1 is back it is made once', async () => {
    const reason = `refused-then-made-${Date.now()}`;
    await d1Down();
    await storageUnavailable(await admin('/v1/admin/silences', 'POST', JSON.stringify({ reason, ends_at: inMinutes(30) })));
    await d1Back();
    expect((await admin('/v1/admin/silences', 'POST', JSON.stringify({ reason, ends_at: inMinutes(30) }))).status).toBe(201);
    const listed = (await (await admin('/v1/admin/silences')).json()) as { silences: { reason: string }[] };
    expect(listed.silences.filter((s) => s.reason === reason)).toHaveLength(1);
  });
});

describe('what counts as a D1 outage', () => {
  it('an outage, a lock, an overload or a lost connection; not a constraint or another error', () => {
    expect(isD1Outage('D1_ERROR: no such table: incidents: SQLITE_ERROR')).toBe(true);
    expect(isD1Outage('D1_ERROR: database is locked: SQLITE_BUSY')).toBe(true);
    expect(isD1Outage('D1 DB is overloaded. Too many requests queued.')).toBe(true);
    expect(isD1Outage('Network connection lost.')).toBe(true);
    expect(isD1Outage('D1_ERROR: UNIQUE constraint failed: incidents.id: SQLITE_CONSTRAINT')).toBe(false);
    expect(isD1Outage("Cannot read properties of undefined (reading 'id')")).toBe(false);
  });
});

describe('D1 that hangs under a public read', () => {
  it('the page, the API, /metrics and /healthz answer after the wait, from the kept copy', async () => {
    // A normal read first: it keeps the copy the hanging reads fall back to.
    const ctx0 = createExecutionContext();
    expect((await worker.fetch(new Request(`${BASE}/api/v2/summary.json`), env, ctx0)).status).toBe(200);
    await waitOnExecutionContext(ctx0);
    const saved = d1Wait.ms;
    d1Wait.ms = 50;
    try {
      const hung = { ...env, DB: hangingD1(), BLINDSPOT_PUBLIC_REFRESH_S: '0' };
      const get = async (path: string, headers: Record<string, string> = {}) => {
        const ctx = createExecutionContext();
        const res = await worker.fetch(new Request(`${BASE}${path}`, { headers }), hung, ctx);
        await waitOnExecutionContext(ctx);
        return res;
      };
      const summary = await get('/api/v2/summary.json');
      expect(summary.status).toBe(200);
      const body = (await summary.json()) as { page: { blindspot_snapshot: { taken_at: string } | null } };
      expect(body.page.blindspot_snapshot?.taken_at).toMatch(/^\d{4}-/);
      const page = await get('/');
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('Our status database is unavailable: incidents, maintenance and history are a saved copy from');
      const metrics = await get('/metrics', { authorization: `Bearer ${ADMIN_TOKEN}` });
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toMatch(/^blindspot_d1_up 0$/m);
      const health = await get('/healthz');
      expect(health.status).toBe(503);
      expect(((await health.json()) as { notifications: { errors: string[] } }).notifications.errors).toContain(
        'D1 could not be read; notification state is unknown',
      );
    } finally {
      d1Wait.ms = saved;
    }
  });
});

describe('D1 that hangs under an admin read', () => {
  it('the lists and the gap report answer 503 storage_unavailable once the wait has passed', async () => {
    const saved = d1Wait.ms;
    d1Wait.ms = 50;
    try {
      const hung = { ...env, DB: hangingD1() };
      const get = async (path: string) => {
        const ctx = createExecutionContext();
        const res = await worker.fetch(new Request(`${BASE}${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }), hung, ctx);
        await waitOnExecutionContext(ctx);
        return res;
      };
      for (const path of ['/v1/admin/incidents', '/v1/admin/silences', '/v1/admin/notifications', '/api/v1/gaps'])
        await storageUnavailable(await get(path));
      const page = await get('/gaps');
      expect(page.status).toBe(503);
      expect(await page.text()).toContain('could not answer now; retry');
    } finally {
      d1Wait.ms = saved;
    }
  });
});

describe('D1 that hangs under an agent object', () => {
  it("the alarm that finds a silence pages and ends: neither it nor the sweep's visit waits on D1", async () => {
    const a = new SimulatedAgent(`page-d1-hangs-${uniqueId()}`);
    await a.heartbeat(0, [fresh('prometheus.up', 1)]);
    const waits: number[] = [];
    await runInDurableObject(agentStub(a.id), (instance) => {
      const m = instance as AgentMonitor;
      m.replicator.d1 = hangingD1();
      // At the deadline (5 s + 5 s grace): on time; waiting on D1 takes no real time.
      m.clock = { now: () => a.at(10), sleep: (ms) => (waits.push(ms), Promise.resolve()) };
    });
    await fireAlarm(a.id);
    const window = (await storedLive(a.id))?.silence?.window;
    expect(window).toMatchObject({ cause: 'agent_silent', endedAt: null });
    expect((await receivedFor('pd', a.id)).map((r) => JSON.parse(r.body).event_action)).toEqual(['trigger']);
    waits.length = 0;
    expect(await agentStub(a.id).visit(a.at(70))).toMatchObject({ ensured: expect.any(String) });
    // The visit gave the hanging D1 a quarter of a second, not the 1.5 s a heartbeat gives it: a
    // fleet's visits under it do not pile the minute's sweeps up.
    expect(waits).toEqual([VISIT_D1_WAIT_MS]);
    // D1 has none of it yet: the batches wait in the object's queue.
    expect((await agentStub(a.id).health()).replication.length).toBeGreaterThan(0);
  });
});

/** An agent heard once (paged on every channel if it pages: its id starts "page-"), under an operator's silence of an hour its object holds. */
async function silencedAgent(
  prefix: string,
  toldFirst = false,
  /** With toldFirst: what happens between the tell and the first heartbeat. */
  beforeHeard: () => Promise<void> = async () => {},
): Promise<{ a: SimulatedAgent; id: string }> {
  const a = new SimulatedAgent(`${prefix}-${uniqueId()}`);
  if (!toldFirst) await a.heartbeat(0, [fresh('prometheus.up', 1)]);
  const iso = (second: number) => new Date(a.at(second)).toISOString();
  const made = await admin(
    '/v1/admin/silences',
    'POST',
    JSON.stringify({ reason: 'db work', agents: [a.id], starts_at: iso(0), ends_at: iso(3600) }),
  );
  expect(made.status).toBe(201);
  await agentStub(a.id).maintenanceChanged();
  // Told before its agent was ever heard: the object learns whose silences to keep with the first heartbeat.
  if (toldFirst) {
    await beforeHeard();
    await a.heartbeat(0, [fresh('prometheus.up', 1)]);
  }
  return { a, id: ((await made.json()) as { silence: { id: string } }).silence.id };
}

/** D1 goes away, the object is reset (evicted, redeployed), and the agent is silent to its deadline (5 s + 5 s grace), when its alarm runs. */
async function resetAndSilent(a: SimulatedAgent): Promise<void> {
  await d1Down();
  await abortAllDurableObjects();
  await runInDurableObject(agentStub(a.id), (instance) => {
    (instance as AgentMonitor).clock = { now: () => a.at(10), sleep: () => Promise.resolve() };
  });
  await fireAlarm(a.id);
}

describe("an operator's silence, with D1 away", () => {
  for (const toldFirst of [false, true])
    it(`is still known to an object reset meanwhile${toldFirst ? ', told before its agent was first heard' : ''}: the silence it covers is recorded, not paged`, async () => {
      const { a } = await silencedAgent(toldFirst ? 'page-told-first' : 'page-silenced-reset', toldFirst);
      await resetAndSilent(a);
      const window = (await storedLive(a.id))?.silence?.window;
      expect(window).toMatchObject({ cause: 'agent_silent', endedAt: null, suppressedBy: expect.stringMatching(/^maintenance:silence:/) });
      expect(await receivedFor('pd', a.id)).toEqual([]);
    });
});

describe("an operator's silence told to an object that never heard its agent, with D1 away", () => {
  it('is still known after a reset before the first heartbeat: the silence it covers is recorded, not paged', async () => {
    // Told (its object knows no agent yet); then D1 goes and the object is reset before the first heartbeat.
    const { a } = await silencedAgent('page-told-reset', true, async () => {
      await d1Down();
      await abortAllDurableObjects();
    });
    await runInDurableObject(agentStub(a.id), (instance) => {
      (instance as AgentMonitor).clock = { now: () => a.at(10), sleep: () => Promise.resolve() };
    });
    await fireAlarm(a.id);
    const window = (await storedLive(a.id))?.silence?.window;
    expect(window).toMatchObject({ cause: 'agent_silent', endedAt: null, suppressedBy: expect.stringMatching(/^maintenance:silence:/) });
    expect(await receivedFor('pd', a.id)).toEqual([]);
  });
});

describe("an operator's silence ended while the agent's object cannot read D1", () => {
  it('is let go at once (the admin API hands over what it read back): the silence after it pages', async () => {
    const { a, id } = await silencedAgent('page-silence-ended');
    // From here the object's own reads of D1 refuse; the admin API's D1 answers.
    await runInDurableObject(agentStub(a.id), (instance) => {
      const m = instance as unknown as { pauses: { db: unknown; maintenance: { id: string }[] }; clock: unknown };
      expect(m.pauses.maintenance.map((x) => x.id)).toContain(`silence:${id}`);
      m.pauses.db = createDb(refusingD1());
      m.clock = { now: () => a.at(10), sleep: () => Promise.resolve() };
    });
    expect((await admin(`/v1/admin/silences/${id}`, 'DELETE')).status).toBe(200);
    await fireAlarm(a.id);
    const window = (await storedLive(a.id))?.silence?.window;
    expect(window).toMatchObject({ cause: 'agent_silent', suppressedBy: null, paged: true });
    // Sent by the evaluation the admin API's call made, in the background of that call.
    let sent: string[] = [];
    for (let i = 0; i < 50 && sent.length === 0; i++) {
      sent = (await receivedFor('pd', a.id)).map((r) => JSON.parse(r.body).event_action as string);
      if (sent.length === 0) await new Promise((r) => setTimeout(r, 20));
    }
    expect(sent).toEqual(['trigger']);
  });
});

describe('D1 that hangs under the Watchdog object', () => {
  it('a gap in its ticks is still told: the summary goes out and the sweep ends', async () => {
    const a = new SimulatedAgent(`gap-d1-hangs-${uniqueId()}`);
    await a.heartbeat(0, [fresh('metrics.freshness', 3)]);
    await runInDurableObject(env.WATCHDOG.get(env.WATCHDOG.idFromName('watchdog')), (instance) => {
      const w = instance as unknown as Watchdog;
      (w as unknown as { replicator: Replicator }).replicator.d1 = hangingD1();
      w.clock = { now: () => Date.now(), sleep: () => Promise.resolve() };
    });
    const sweepAt = (now: number) => runSweep({ ...sweepDeps(env), now: () => now });
    expect((await sweepAt(a.at(5))).gap).toBeNull();
    // Neither alarms nor the cron ran for ten minutes, and the agent went silent meanwhile.
    const report = await sweepAt(a.at(605));
    expect(report.gap).not.toBeNull();
    expect(report.summarised).toBe(1);
    const told = (await receivedFor('pd', a.id)).map((r) => JSON.parse(r.body) as { event_action: string; payload?: { summary: string } });
    expect(told).toHaveLength(1);
    expect(told[0]?.payload?.summary).toMatch(/not running for/);
  });
});
