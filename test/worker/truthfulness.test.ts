// The truthfulness matrix: each scenario the watchdog exists for, read on every surface that can
// claim "operational" (the page, status.json, summary.json, components.json, the badge), through the
// real Worker in workerd with a real local D1. No cell may claim operational without fresh evidence;
// the scenarios with fresh, good, measured evidence must claim it everywhere (so the check can fail
// both ways), and no answer may be cached longer than that evidence stays fresh.
//
// The agent's object runs on a virtual clock anchored a minute in the past, so its deadlines fall
// where each scenario needs them relative to the real clock the public routes read.
import { PUBLIC_SHARDS } from '../../worker/durable/public-shards.ts';
import { abortAllDurableObjects, createExecutionContext, runInDurableObject, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import worker from '../../worker/index.ts';
import { alert, payload, TEST_ALERTMANAGER_TOKENS } from './fixtures/alertmanager.ts';
import { ADMIN_TOKEN } from './fixtures/channels.ts';
import { agentStub, engineDue, fireAlarm, setClock } from './fixtures/durable.ts';
import { BASE, send, sendHeartbeat } from './fixtures/requests.ts';

const AGENT = 'truth';
const INTERVAL_S = 5;

type Signals = { name: string; kind: string; value: number | null; unit: string; error: string | null }[];
const fresh = (value = 5): Signals => [{ name: 'metrics.freshness', kind: 'freshness', value, unit: 's', error: null }];
const upAndFresh = (up = 1): Signals => [...fresh(), { name: 'prometheus.up', kind: 'freshness', value: up, unit: 's', error: null }];
const cannotMeasure: Signals = [
  { name: 'metrics.freshness', kind: 'freshness', value: null, unit: 's', error: 'cannot reach Prometheus at http://127.0.0.1:9090' },
];

/** One agent on a virtual clock: heartbeats through the real route, alarms as the platform runs them. */
class Agent {
  private seq = 0;
  private boot = `boot-${crypto.randomUUID()}`;
  /** The real time the scenario ends at: offsets are seconds before it. */
  readonly end = Date.now();

  at(offsetS: number): number {
    return this.end + offsetS * 1000;
  }

  async beat(offsetS: number, signals: Signals, over: { stopping?: boolean; newBoot?: boolean; skewS?: number } = {}) {
    await this.alarmsUntil(offsetS);
    if (over.newBoot) (this.boot = `boot-${crypto.randomUUID()}`), (this.seq = 0);
    await setClock(AGENT, this.at(offsetS));
    const body = {
      v: 1,
      seq: ++this.seq,
      boot: this.boot,
      sent_at: new Date(this.at(offsetS) + (over.skewS ?? 0) * 1000).toISOString(),
      interval_s: INTERVAL_S,
      grace_s: INTERVAL_S,
      signals,
      ...(over.stopping ? { stopping: true } : {}),
    };
    const res = await sendHeartbeat(body, { agent: AGENT });
    expect(res.status, await res.clone().text()).toBe(202);
    return this;
  }

  /** Heartbeats every interval over [from, to] seconds (offsets), signals chosen per beat. */
  async every(from: number, to: number, signals: (i: number) => Signals) {
    for (let t = from, i = 0; t <= to; t += INTERVAL_S, i++) await this.beat(t, signals(i));
    return this;
  }

  /** Runs every alarm the engine asks for up to `offsetS`, each at its own time. */
  async alarmsUntil(offsetS: number) {
    for (let i = 0; i < 100; i++) {
      const due = await engineDue(AGENT);
      if (due === null || due > this.at(offsetS)) break;
      await setClock(AGENT, due);
      await fireAlarm(AGENT);
    }
    await setClock(AGENT, this.at(offsetS));
    return this;
  }
}

async function admin(path: string, body: unknown): Promise<void> {
  const res = await send(
    new Request(`${BASE}/v1/admin${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }),
  );
  expect(res.status, await res.clone().text()).toBe(201);
}

/** The Alertmanager Watchdog alert from both configured sources: the alert path component verified, on the real clock. */
async function alertPathAlive(): Promise<void> {
  for (const source of ['prod', 'other'] as const) {
    const res = await send(
      new Request(`${BASE}/v1/alertmanager/${source}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_ALERTMANAGER_TOKENS[source]}` },
        body: JSON.stringify(payload([alert('Watchdog', { startsAt: new Date().toISOString() })])),
      }),
    );
    expect(res.status, await res.clone().text()).toBe(200);
  }
}

/** A public maintenance of the metrics component, in progress for the next hour. */
const maintenanceNow = () =>
  admin('/maintenances', {
    name: 'Prometheus upgrade',
    body: 'Upgrading.',
    components: ['metrics'],
    scheduled_for: new Date(Date.now() - 120_000).toISOString(),
    scheduled_until: new Date(Date.now() + 3_600_000).toISOString(),
  });

const watchdog = () => env.WATCHDOG.get(env.WATCHDOG.idFromName('watchdog'));
const setLastTick = (at: number | null) =>
  runInDurableObject(watchdog(), async (_i, state) => {
    if (at === null) await state.storage.delete('ticks');
    else await state.storage.put('ticks', { lastTickAt: at });
  });

/** D1 refusing every call, as during an outage. */
const refusingD1 = {
  prepare: () => {
    throw new Error('D1_ERROR: simulated outage');
  },
  batch: () => Promise.reject(new Error('D1_ERROR: simulated outage')),
  exec: () => Promise.reject(new Error('D1_ERROR: simulated outage')),
} as unknown as D1Database;

interface Surfaces {
  /** Per surface: does it claim operational? */
  claims: Record<string, boolean>;
  /** max-age of every answer (s), and the badge's cacheSeconds. */
  cache: Record<string, number>;
  summary: {
    status: { indicator: string; description: string; blindspot_indicator: string };
    components: { id: string; status: string }[];
  };
  html: string;
}

async function read(d1Down = false): Promise<Surfaces> {
  const get = async (path: string) => {
    const request = new Request(`${BASE}${path}`);
    if (!d1Down) return send(request);
    const ctx = createExecutionContext();
    const res = await worker.fetch(request, { ...env, DB: refusingD1 }, ctx);
    await waitOnExecutionContext(ctx);
    return res;
  };
  const answers = Object.fromEntries(
    await Promise.all(
      ['/', '/api/v2/status.json', '/api/v2/summary.json', '/api/v2/components.json', '/badge/metrics.json'].map(
        async (p) => [p, await get(p)] as const,
      ),
    ),
  );
  const maxAge = (p: string) => Number(/max-age=(\d+)/.exec(answers[p]?.headers.get('cache-control') ?? '')?.[1] ?? Number.NaN);
  for (const [p, res] of Object.entries(answers)) expect(res.status, p).toBe(200);
  const html = await answers['/']!.text();
  const status = (await answers['/api/v2/status.json']!.json()) as Surfaces['summary'];
  const summary = (await answers['/api/v2/summary.json']!.json()) as Surfaces['summary'];
  const components = (await answers['/api/v2/components.json']!.json()) as Pick<Surfaces['summary'], 'components'>;
  const badge = (await answers['/badge/metrics.json']!.json()) as { message: string; color: string; cacheSeconds: number };
  const metrics = (list: { id: string; status: string }[]) => list.find((c) => c.id === 'metrics')?.status;
  const componentRow = html.slice(
    html.indexOf('<li id="component-metrics">'),
    html.indexOf('class="bars"', html.indexOf('<li id="component-metrics">')),
  );
  const agentRow = html.slice(
    html.indexOf(`<span class="name">${AGENT}</span>`),
    html.indexOf('</li>', html.indexOf(`<span class="name">${AGENT}</span>`)),
  );
  const saysFine = (s: Surfaces['summary']['status']) => s.indicator === 'none' || /operational/i.test(s.description);
  return {
    claims: {
      'page headline': /class="overall operational"|All systems operational/.test(html),
      'page component': /class="state operational"/.test(componentRow),
      'page agent': /class="state operational"/.test(agentRow),
      'status.json': saysFine(status.status),
      'summary.json status': saysFine(summary.status),
      'summary.json component': metrics(summary.components) === 'operational',
      'components.json': metrics(components.components) === 'operational',
      badge: badge.message === 'operational' || badge.color === 'brightgreen',
    },
    cache: {
      ...Object.fromEntries(Object.keys(answers).map((p) => [p, maxAge(p)])),
      'badge cacheSeconds': badge.cacheSeconds,
    },
    summary,
    html,
  };
}

interface Scenario {
  name: string;
  /** Fresh, good, measured evidence: every surface must say operational (or these surfaces, and no other). */
  green: boolean | string[];
  d1Down?: boolean;
  run(a: Agent): Promise<unknown>;
}

const SCENARIOS: Scenario[] = [
  { name: 'fresh, good evidence (the control)', green: true, run: (a) => a.every(-60, -2, () => fresh()) },
  { name: 'agent killed, its deadline judged', green: false, run: (a) => a.every(-60, -30, () => fresh()).then(() => a.alarmsUntil(0)) },
  { name: 'agent killed, deadline passed unjudged', green: false, run: (a) => a.every(-60, -15, () => fresh()) },
  {
    name: 'agent stopped on purpose',
    green: false,
    run: (a) =>
      a
        .every(-60, -35, () => fresh())
        .then(() => a.beat(-30, fresh(), { stopping: true }))
        .then(() => a.alarmsUntil(0)),
  },
  { name: 'probe unknown on the first heartbeat', green: false, run: (a) => a.beat(-2, cannotMeasure) },
  {
    name: 'probe unknown on a later heartbeat',
    green: false,
    run: (a) => a.every(-60, -7, () => fresh()).then(() => a.beat(-2, cannotMeasure)),
  },
  {
    name: 'probe removed by a restart',
    green: false,
    run: (a) => a.every(-60, -7, () => fresh()).then(() => a.beat(-2, [], { newBoot: true })),
  },
  { name: 'agent with no probes', green: false, run: (a) => a.every(-20, -2, () => []) },
  {
    name: 'watchdog stalled',
    green: false,
    run: (a) => a.every(-60, -2, () => fresh()).then(() => setLastTick(Date.now() - 10 * 60_000)),
  },
  { name: 'D1 down, agent fresh (live evidence still counts)', green: true, d1Down: true, run: (a) => a.every(-60, -2, () => fresh()) },
  {
    name: 'D1 down, agent killed',
    green: false,
    d1Down: true,
    run: (a) => a.every(-60, -30, () => fresh()).then(() => a.alarmsUntil(0)),
  },
  {
    // The agent itself is alive and measured; only the component is under maintenance.
    name: 'declared maintenance',
    green: ['page agent'],
    run: async (a) => {
      await maintenanceNow();
      await a.every(-60, -2, () => fresh());
    },
  },
  {
    name: 'silence over a stale pipeline',
    green: false,
    run: async (a) => {
      await admin('/silences', { reason: 'rebuilding', agents: [AGENT], ends_at: new Date(Date.now() + 3_600_000).toISOString() });
      await a.every(-60, -2, () => fresh(100_000));
    },
  },
  { name: 'depends_on: Prometheus down under fresh metrics', green: false, run: (a) => a.every(-60, -2, () => upAndFresh(100_000)) },
  { name: 'flapping', green: false, run: (a) => a.every(-60, -2, (i) => fresh(i % 2 === 0 ? 5 : 100_000)) },
  { name: 'clock skew', green: false, run: (a) => a.every(-60, -2, () => fresh()).then(() => a.beat(-1, fresh(), { skewS: 600 })) },
];

beforeEach(async () => {
  // Each scenario starts from nothing: the agent's object, what D1 remembers, the watchdog's ticks.
  for (const id of [AGENT, 'alertmanager:prod', 'alertmanager:other'])
    await runInDurableObject(agentStub(id), async (_i, state) => {
      await state.storage.deleteAlarm();
      await state.storage.deleteAll();
    });
  for (let n = 0; n < PUBLIC_SHARDS; n++)
    await runInDurableObject(
      env.WATCHDOG.get(env.WATCHDOG.idFromName(`public-copies:${n}`)),
      (_i, state) => void state.storage.sql.exec('DELETE FROM public_copies'),
    );
  // A restart of every object, the Watchdog too: nothing of the last scenario stays in memory.
  await abortAllDurableObjects();
  await env.DB.batch(['agents', 'windows', 'maintenances', 'outbox'].map((t) => env.DB.prepare(`DELETE FROM ${t}`)));
  await setLastTick(null);
});

describe('never green without proof: scenario × surface', () => {
  it.each(SCENARIOS)('$name', async (scenario) => {
    const agent = new Agent();
    await scenario.run(agent);
    // The other component (the alert path) is verified in every scenario: each row is about the metrics pipeline.
    await alertPathAlive();
    const s = await read(scenario.d1Down);
    const cells = Object.entries(s.claims);
    const expected = (surface: string) => (Array.isArray(scenario.green) ? scenario.green.includes(surface) : scenario.green);
    expect(
      cells.filter(([surface, claims]) => claims && !expected(surface)).map(([surface]) => surface),
      'claimed operational',
    ).toEqual([]);
    expect(
      cells.filter(([surface, claims]) => !claims && expected(surface)).map(([surface]) => surface),
      'failed to say operational',
    ).toEqual([]);
    // Cached no longer than the claim holds: at most until the agent's deadline (a 2 s floor), never over 10 s.
    const left = Math.max(2, Math.floor((agent.at(-2) + 2 * INTERVAL_S * 1000 - Date.now()) / 1000));
    for (const [surface, seconds] of Object.entries(s.cache)) {
      expect(seconds, surface).toBeGreaterThanOrEqual(2);
      expect(seconds, surface).toBeLessThanOrEqual(scenario.green === false ? 10 : left);
    }
  });

  it('says "Stopped on purpose" with when, and a headline and indicator that agree, for an agent stopped on purpose', async () => {
    const agent = new Agent();
    await agent.every(-60, -35, () => fresh());
    await agent.beat(-30, fresh(), { stopping: true });
    await agent.alarmsUntil(0);
    await alertPathAlive();
    const s = await read();
    expect(s.summary.status).toEqual({
      indicator: 'minor',
      description: 'Status Not Verified: monitoring was stopped on purpose',
      blindspot_indicator: 'stopped',
    });
    expect(s.summary.components.find((c) => c.id === 'metrics')).toMatchObject({
      status: 'degraded_performance',
      blindspot_status: 'stopped',
    });
    expect(s.html).toContain('class="overall stopped"');
    expect(s.html).toContain('Status not verified: some monitoring was stopped on purpose.');
    expect(s.html).toMatch(/class="state stopped">Stopped on purpose<\/span> · <span class="meta">since <time/);
    expect(s.html).not.toContain('Under maintenance');
  });

  it('reports declared maintenance as Statuspage does: indicator "maintenance", "Service Under Maintenance", and the headline agrees', async () => {
    await maintenanceNow();
    await new Agent().every(-60, -2, () => fresh());
    await alertPathAlive();
    const s = await read();
    expect(s.summary.status).toEqual({
      indicator: 'maintenance',
      description: 'Service Under Maintenance',
      blindspot_indicator: 'maintenance',
    });
    expect(s.html).toContain('class="overall under_maintenance" role="status">Under maintenance.');
  });
});
