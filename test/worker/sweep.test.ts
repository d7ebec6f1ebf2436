import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import worker, { sweepDeps } from '../../worker/index.ts';
import { runSweep } from '../../worker/jobs/sweep.ts';
import { shiftIntoPast, storedAlarm, storedLive } from './fixtures/durable.ts';
import { windowsOf } from './fixtures/d1.ts';
import { heartbeatBody, sendHeartbeat } from './fixtures/requests.ts';

async function runCron(): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: '* * * * *' }), env, ctx);
  await waitOnExecutionContext(ctx);
}

describe('the one-minute sweep', () => {
  it('re-arms an agent whose alarm was lost', async () => {
    await sendHeartbeat(heartbeatBody({ interval_s: 60 }), { agent: 'india' });
    await shiftIntoPast('india', 0);
    expect(await storedAlarm('india')).toBeNull();
    await runCron();
    expect(await storedAlarm('india')).toBe((await storedLive('india'))?.deadlineAt);
    expect(await windowsOf('india')).toHaveLength(0);
  });

  it('opens the window of an agent whose deadline passed without an alarm', async () => {
    await sendHeartbeat(heartbeatBody({ interval_s: 5, grace_s: 5 }), { agent: 'juliet' });
    const live = await shiftIntoPast('juliet', 30_000);
    await runCron();
    const [window] = await windowsOf('juliet');
    expect(window).toMatchObject({ cause: 'agent_silent', confirmed_at: live.deadlineAt, ended_at: null });
  });
});

describe('pruning', () => {
  it('deletes rollups, events and evidence past their retention, and keeps what is recent', async () => {
    const now = Date.now() + 86_400_000;
    const day = 86_400_000;
    const rollup = "INSERT INTO agent_days (agent_id, day, monitors) VALUES ('prune', ?, '{\"agent\":[86400,0,0,0,0]}')";
    await env.DB.batch([
      env.DB.prepare(rollup).bind(now - 401 * day),
      env.DB.prepare(rollup).bind(now - 399 * day),
      env.DB.prepare(
        "INSERT INTO alert_evidence (source, fingerprint, starts_at, alertname, status, ends_at, labels, annotations, received_at) VALUES ('prune', 'fp', 1, 'X', 'firing', NULL, '{}', '{}', ?)",
      ).bind(now - 31 * day),
    ]);
    const report = await runSweep({ ...sweepDeps(env), now: () => now });
    expect(report.pruned).toBe(true);
    const left = await env.DB.prepare("SELECT day FROM agent_days WHERE agent_id = 'prune'").all<{ day: number }>();
    expect(left.results).toEqual([{ day: now - 399 * day }]);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM alert_evidence WHERE source = 'prune'").first('n')).toBe(0);
  });
});
