// The public surfaces under a flood of readers: with the default refresh period, the reads behind them
// (D1, every agent's object, the watchdog) are made once per period and shared, and the answers are
// kept no longer than their own max-age; yet every claim is judged at the moment it is read.
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import worker from '../../worker/index.ts';
import { d1Wait } from '../../worker/durable/clock.ts';
import { GATHERED_AT, keptAnswer } from '../../worker/public/response-cache.ts';
import { publicState, refreshMs } from '../../worker/public/state.ts';
import { hangingD1 } from './fixtures/d1.ts';
import { BASE, heartbeatBody, sendHeartbeat } from './fixtures/requests.ts';

/** One Worker environment with a refresh period (long enough that this test never outlasts it), kept for the whole file as the platform keeps it. */
const defaults = { ...env, BLINDSPOT_PUBLIC_REFRESH_S: '60' };
const live = { ...env, BLINDSPOT_PUBLIC_REFRESH_S: '0' };

async function get(e: typeof env, path: string): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(`${BASE}${path}`), e, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}
const ctx = { waitUntil: () => undefined };
const unknownProbe = [{ name: 'metrics.freshness', kind: 'freshness', value: null, unit: 's', error: 'cannot reach Prometheus' }];

describe('public reads under load', () => {
  it('share one gathering per refresh period: a change made meanwhile shows only after it, while a live read sees it at once', async () => {
    expect((await sendHeartbeat(heartbeatBody({ interval_s: 60 }), { agent: 'bravo' })).status).toBe(202);
    const first = await get(defaults, '/api/v2/summary.json');
    expect(first.headers.get(GATHERED_AT), 'an internal header').toBeNull();
    const before = await first.text();
    expect(JSON.parse(before).components.find((c: { id: string }) => c.id === 'metrics').status).toBe('operational');

    // Another agent's probe cannot measure: the metrics pipeline is no longer verified.
    expect((await sendHeartbeat(heartbeatBody({ interval_s: 60, signals: unknownProbe }), { agent: 'charlie' })).status).toBe(202);
    const again = await get(defaults, '/api/v2/summary.json');
    expect(await again.text()).toBe(before);
    expect(Number(again.headers.get('age'))).toBeGreaterThanOrEqual(0);
    const fresh = JSON.parse(await (await get(live, '/api/v2/summary.json')).text());
    expect(fresh.components.find((c: { id: string }) => c.id === 'metrics').blindspot_status).toBe('unverified');
  });

  it('judges what it gathered at the moment of each read: evidence that aged past its deadline meanwhile is unverified', async () => {
    expect((await sendHeartbeat(heartbeatBody({ interval_s: 5, grace_s: 5 }), { agent: 'delta' })).status).toBe(202);
    const e = {
      ...env,
      BLINDSPOT_AGENT_SECRETS: JSON.stringify({ delta: ['whsec_P52w9oejdHi13x4SunQWhVx2JZqvNwdJ'] }),
      BLINDSPOT_PUBLIC_REFRESH_S: '60',
    };
    const t0 = Date.now();
    const early = await publicState(e, ctx, BASE, t0);
    const late = await publicState(e, ctx, BASE, t0 + 30_000);
    expect(late.gatheredAt).toBe(early.gatheredAt);
    const deltaLive = late.subjects.find((x) => x.id === 'delta')?.live;
    expect(deltaLive?.deadlineAt).toBeLessThan(t0 + 30_000);
    expect(early.views.find((v) => v.id === 'metrics')?.contributions.some((c) => c.agentId === 'delta' && c.evidence === 'verified')).toBe(
      true,
    );
    expect(late.views.find((v) => v.id === 'metrics')?.contributions.find((c) => c.agentId === 'delta')?.evidence).toBe('unverified');
  });

  it('once read, the 90-day aggregate is re-read behind the readers: a slow one holds nobody and trips no D1 wait', async () => {
    // The aggregate's statement never answers from the second read on; every other statement does.
    let slow = false;
    const db = new Proxy(env.DB, {
      get(target, key) {
        if (key === 'prepare') return (q: string) => (slow && q.includes('json_each') ? hangingD1().prepare(q) : target.prepare(q));
        const value = Reflect.get(target, key);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const e = { ...env, DB: db, BLINDSPOT_PUBLIC_REFRESH_S: '1' };
    const waits: Promise<unknown>[] = [];
    const background = { waitUntil: (p: Promise<unknown>) => void waits.push(p) };
    const t0 = Date.now();
    expect((await publicState(e, background, BASE, t0)).snapshot).toBeNull();
    slow = true;
    const saved = d1Wait.ms;
    d1Wait.ms = 50;
    try {
      // Past the aggregate's 5 minutes: it is read again, in the background; the reader gets the last one.
      const later = await publicState(e, background, BASE, t0 + 6 * 60_000);
      expect(later.snapshot).toBeNull();
      expect(later.gatheredAt).toBe(t0 + 6 * 60_000);
      expect(waits.length).toBeGreaterThan(0);
    } finally {
      d1Wait.ms = saved;
    }
  });

  it('keep an answer no longer than one refresh period from when its data was read, whatever its max-age', async () => {
    const e = { ...env, BLINDSPOT_PUBLIC_REFRESH_S: '10' };
    const t0 = Date.now();
    let builds = 0;
    const build = (gatheredAt: number) => async () => {
      builds++;
      return new Response('{}', { headers: { 'cache-control': 'public, max-age=10', [GATHERED_AT]: String(gatheredAt) } });
    };
    // Built 9 s into its gathering's 10 s period: kept for the 1 s left of it, not for its max-age.
    const first = await keptAnswer(e, '/kept', t0, build(t0 - 9_000));
    expect(first.headers.get(GATHERED_AT)).toBeNull();
    expect(first.headers.get('cache-control')).toBe('public, max-age=10');
    await keptAnswer(e, '/kept', t0 + 900, build(t0 + 900));
    expect(builds).toBe(1);
    await keptAnswer(e, '/kept', t0 + 1_000, build(t0 + 1_000));
    expect(builds).toBe(2);
    // Built as its data was read: kept for the whole period.
    await keptAnswer(e, '/kept', t0 + 9_900, build(t0 + 9_900));
    expect(builds).toBe(2);
    await keptAnswer(e, '/kept', t0 + 11_000, build(t0 + 11_000));
    expect(builds).toBe(3);
  });

  it('reads BLINDSPOT_PUBLIC_REFRESH_S as seconds from 0 to 60; anything else is said and the default (2 s) used', () => {
    expect(refreshMs({ BLINDSPOT_PUBLIC_REFRESH_S: undefined })).toBe(2000);
    expect(refreshMs({ BLINDSPOT_PUBLIC_REFRESH_S: '0' })).toBe(0);
    expect(refreshMs({ BLINDSPOT_PUBLIC_REFRESH_S: '600' })).toBe(60_000);
    const said = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      for (const bad of ['soon', '-1', '5s', 'soon', 'soon']) expect(refreshMs({ BLINDSPOT_PUBLIC_REFRESH_S: bad }), bad).toBe(2000);
      // Each bad value is said once per isolate, naming the setting and the fix, not on every read.
      expect(said.mock.calls.map(([m]) => m)).toEqual(
        ['soon', '-1', '5s'].map((bad) => `BLINDSPOT_PUBLIC_REFRESH_S is "${bad}"; give seconds from 0 to 60. Using 2`),
      );
    } finally {
      said.mockRestore();
    }
  });
});
