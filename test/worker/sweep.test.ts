import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import worker from '../../worker/index.ts';
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
