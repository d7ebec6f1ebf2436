// /healthz and the watchdog's own minute sweep: a sweep stopped for 5 minutes, or never run though
// agents were heard long ago (a Worker deployed without its cron), is something an operator must fix.
// Real workerd and D1; a file of its own, so D1 lists only the agents these tests write.
import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { sweepDeps } from '../../worker/index.ts';
import { runSweep } from '../../worker/jobs/sweep.ts';
import type { Watchdog } from '../../worker/durable/watchdog.ts';
import { READ_TOKEN } from './fixtures/channels.ts';
import { adminRequest, BASE, send } from './fixtures/requests.ts';

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

  describe("the Watchdog object's own history (its summaries, the gaps in its ticks)", () => {
    const admin = adminRequest;
    const gapWindows = (startedAt: number) =>
      env.DB.prepare("SELECT count(*) AS n FROM windows WHERE agent_id = '*' AND cause = 'watchdog_gap' AND started_at = ?")
        .bind(startedAt)
        .first<number>('n');
    /**
     * A gap in the ticks whose window D1 refuses for good (a real refusal: a trigger), tried until it
     * is set aside: the Watchdog's clock moves past each backoff.
     */
    async function refusedGap(): Promise<number> {
      const now = Date.now();
      let t = now;
      await runInDurableObject(watchdog(), (w: Watchdog) => {
        w.clock = { now: () => t };
      });
      await env.DB.exec(
        "CREATE TRIGGER refuse_watchdog_gap BEFORE INSERT ON windows WHEN NEW.agent_id = '*' AND NEW.cause = 'watchdog_gap' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
      );
      try {
        await lastTickWas(now - 10 * 60_000);
        const report = await sweepAt(now);
        expect(report.gap).not.toBeNull();
        for (let i = 0; i < 3; i++) {
          t += 30 * 60_000;
          await watchdog().deliverSummaries();
        }
        return report.gap?.startedAt as number;
      } finally {
        await runInDurableObject(watchdog(), (w: Watchdog) => {
          w.clock = { now: () => Date.now() };
        });
        await env.DB.exec('DROP TRIGGER refuse_watchdog_gap');
      }
    }
    const healthz = async () => {
      const res = await send(new Request(`${BASE}/healthz`));
      return {
        status: res.status,
        body: (await res.json()) as { ok: boolean; watchdog_replication: (Record<string, unknown> & { errors: string[] }) | null },
      };
    };
    // This pool's Worker has a channel left unconfigured on purpose, so /healthz is 503 whatever these
    // tests do: they read the Watchdog's own part (its words, and that they fail /healthz alone, are
    // tested in core/history-losses.test.ts).

    it('a batch D1 refuses for good: /healthz, the admin API and /metrics say so; retried once D1 takes it, the window reaches D1', async () => {
      const startedAt = await refusedGap();
      expect(await gapWindows(startedAt)).toBe(0);
      const unwell = await healthz();
      expect(unwell.status).toBe(503);
      expect(unwell.body.watchdog_replication).toEqual({
        queued_batches: 0,
        oldest_queued_at: null,
        set_aside_batches: 1,
        dropped_batches: 0,
        errors: [expect.stringMatching(/D1 lacks history of the Watchdog object.*1 batch\(es\) set aside.*blindspot watchdog replication/)],
      });
      const own = await admin('GET', '/watchdog/replication', { token: READ_TOKEN });
      expect(own.status).toBe(200);
      expect(await own.json()).toMatchObject({
        object: 'watchdog',
        set_aside_batches: 1,
        set_aside: [{ tries: 3, last_error: expect.stringMatching(/refused by the test/) }],
      });
      const fleet = (await (await admin('GET', '/replication', { token: READ_TOKEN })).json()) as { watchdog: unknown };
      expect(fleet.watchdog).toMatchObject({ set_aside_batches: 1, dropped_batches: 0 });
      const metrics = await (await send(new Request(`${BASE}/metrics`, { headers: { authorization: `Bearer ${READ_TOKEN}` } }))).text();
      expect(metrics).toMatch(/^blindspot_replication_set_aside\{object="watchdog"\} 1$/m);

      const retried = await admin('POST', '/watchdog/replication/retry');
      expect(retried.status).toBe(200);
      expect(await retried.json()).toEqual({ object: 'watchdog', retried_batches: 1 });
      await watchdog().deliverSummaries();
      expect(await gapWindows(startedAt)).toBe(1);
      expect((await healthz()).body.watchdog_replication).toMatchObject({
        queued_batches: 0,
        set_aside_batches: 0,
        dropped_batches: 0,
        errors: [],
      });
    });

    it('acknowledged: forgotten, /healthz content again, D1 still without the window; hostile calls change nothing', async () => {
      const startedAt = await refusedGap();
      const cases: [string, Response, number, string][] = [
        ['a body', await admin('POST', '/watchdog/replication/retry', { body: '{"all":true}' }), 400, 'unexpected_body'],
        ['read token', await admin('POST', '/watchdog/replication/acknowledge', { token: READ_TOKEN }), 403, 'insufficient_scope'],
        ['no token', await admin('GET', '/watchdog/replication', { token: '' }), 401, 'bad_credentials'],
      ];
      for (const [what, res, status, error] of cases) {
        expect(res.status, what).toBe(status);
        expect(((await res.json()) as { error: { code: string } }).error.code, what).toBe(error);
      }
      expect((await healthz()).body.watchdog_replication).toMatchObject({ set_aside_batches: 1 });

      const res = await admin('POST', '/watchdog/replication/acknowledge');
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ object: 'watchdog', discarded_set_aside_batches: 1, cleared_dropped_batches: 0 });
      expect((await healthz()).body.watchdog_replication).toMatchObject({ set_aside_batches: 0, dropped_batches: 0, errors: [] });
      expect(await gapWindows(startedAt)).toBe(0);
    });
  });
});
