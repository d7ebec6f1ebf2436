// /healthz and the watchdog's own minute sweep: a sweep stopped for 5 minutes, or never run though
// agents were heard long ago (a Worker deployed without its cron), is something an operator must fix.
// Real workerd and D1; a file of its own, so D1 lists only the agents these tests write.
import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { sweepDeps } from '../../worker/index.ts';
import { runSweep } from '../../worker/jobs/sweep.ts';
import { BASE, send } from './fixtures/requests.ts';

const sweepAt = (now: number) => runSweep({ ...sweepDeps(env), now: () => now });

describe("/healthz and the watchdog's own minute sweep", () => {
  const watchdog = () => env.WATCHDOG.get(env.WATCHDOG.idFromName('watchdog'));
  // The tick as the Watchdog keeps it (its storage key): set directly, as a cron stopped long ago would leave it.
  const lastTickWas = (at: number | null) =>
    runInDurableObject(watchdog(), async (_instance, state) => {
      if (at === null) await state.storage.delete('ticks');
      else await state.storage.put('ticks', { lastTickAt: at });
    });
  /** An agent D1 lists, first heard at `at` (as its object writes the row). */
  const heard = (id: string, at: number) =>
    env.DB.prepare(
      "INSERT INTO agents (id, kind, state, state_since, boot, interval_s, grace_s, first_seen_at, last_heartbeat_at, deadline_at, updated_at) VALUES (?, 'agent', 'up', ?, 'b', 60, 60, ?, ?, ?, ?)",
    )
      .bind(id, at, at, at, at + 120_000, at)
      .run();
  const healthz = async () => {
    const res = await send(new Request(`${BASE}/healthz`));
    return {
      status: res.status,
      body: (await res.json()) as { ok: boolean; sweep: { last_ran_at: string | null; stalled: boolean; errors: string[] } },
    };
  };

  it('answers 503 naming the cron once the sweep has not run for 5 minutes, and is content again once it runs', async () => {
    const now = Date.now();
    await lastTickWas(now - 6 * 60_000);
    const stalled = await healthz();
    expect(stalled.status).toBe(503);
    expect(stalled.body.ok).toBe(false);
    expect(stalled.body.sweep).toMatchObject({ last_ran_at: new Date(now - 6 * 60_000).toISOString(), stalled: true });
    expect(stalled.body.sweep.errors).toEqual([expect.stringMatching(/minute sweep last ran .*6 minutes ago.*cron trigger/)]);

    // Four minutes is not yet stalled; a sweep that runs now is not either.
    await lastTickWas(now - 4 * 60_000);
    expect((await healthz()).body.sweep).toMatchObject({ stalled: false, errors: [] });
    await sweepAt(Date.now());
    const after = await healthz();
    expect(after.body.sweep).toMatchObject({ stalled: false, errors: [] });
    expect(Date.parse(after.body.sweep.last_ran_at as string)).toBeGreaterThanOrEqual(now);
  });

  it('says no sweep ran yet, without failing, on a Worker whose first cron has not come', async () => {
    await lastTickWas(null);
    await env.DB.exec('DELETE FROM agents');
    const { body } = await healthz();
    expect(body.sweep).toEqual({ last_ran_at: null, stalled: false, errors: [] });
    // Its first agent heard a minute ago: still a Worker just deployed.
    await heard('healthz-new', Date.now() - 60_000);
    expect((await healthz()).body.sweep).toEqual({ last_ran_at: null, stalled: false, errors: [] });
  });

  it('answers 503 when no sweep has ever run though an agent was heard over 5 minutes ago: the cron trigger is missing', async () => {
    await lastTickWas(null);
    await env.DB.exec('DELETE FROM agents');
    await heard('healthz-old', Date.now() - 7 * 60_000);
    const { status, body } = await healthz();
    expect(status).toBe(503);
    expect(body.sweep).toMatchObject({ last_ran_at: null, stalled: false });
    expect(body.sweep.errors).toEqual([
      expect.stringMatching(/no minute sweep has ever run, though the first agent was heard 7 minutes ago.*cron trigger/),
    ]);
    // The first cron comes: nothing is wrong any more.
    await sweepAt(Date.now());
    expect((await healthz()).body.sweep).toMatchObject({ stalled: false, errors: [] });
  });
});
