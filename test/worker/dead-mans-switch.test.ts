import { abortAllDurableObjects, runDurableObjectAlarm } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { agentStub, engineDue, fireAlarm, heardAgo, storedAlarm, storedLive } from './fixtures/durable.ts';
import { agentRow, outboxOf, windowsOf } from './fixtures/d1.ts';
import { heartbeatBody, sendHeartbeat } from './fixtures/requests.ts';

const FAST = { interval_s: 5, grace_s: 5 };

describe("the dead-man's switch", () => {
  it('arms the alarm at the absolute deadline: receive time + interval + grace', async () => {
    const before = Date.now();
    expect((await sendHeartbeat(heartbeatBody(FAST), { agent: 'bravo' })).status).toBe(202);
    const live = await storedLive('bravo');
    expect(live?.deadlineAt).toBeGreaterThanOrEqual(before + 10_000);
    expect(live?.deadlineAt).toBeLessThanOrEqual(Date.now() + 10_000);
    expect(await storedAlarm('bravo')).toBe(live?.deadlineAt);
  });

  it('uses max(interval, 10 s) as grace when the agent asks for none', async () => {
    await sendHeartbeat(heartbeatBody({ interval_s: 3 }), { agent: 'hotel' });
    const short = await storedLive('hotel');
    expect(short?.graceS).toBe(10);
    await sendHeartbeat(heartbeatBody({ interval_s: 30, seq: 2, boot: short?.boot }), { agent: 'hotel' });
    expect((await storedLive('hotel'))?.graceS).toBe(30);
  });

  it('opens a blind window when the alarm fires after the deadline', async () => {
    const sent = await heardAgo('charlie', 11_000, (sent_at) => sendHeartbeat(heartbeatBody({ ...FAST, sent_at }), { agent: 'charlie' }));
    expect(sent.status).toBe(202);
    const live = (await storedLive('charlie')) as NonNullable<Awaited<ReturnType<typeof storedLive>>>;
    await fireAlarm('charlie');

    const [window, ...others] = await windowsOf('charlie');
    expect(others).toHaveLength(0);
    expect(window).toMatchObject({
      cause: 'agent_silent',
      monitor: 'agent',
      started_at: live.lastHeartbeatAt + 5_000,
      confirmed_at: live.deadlineAt,
      ended_at: null,
    });
    expect((await agentRow('charlie'))?.state).toBe('blind');
    expect((await storedLive('charlie'))?.state).toBe('blind');

    const [opened] = await outboxOf('charlie');
    expect(opened).toMatchObject({ event_type: 'window.opened', window_id: window?.id, delivered_at: null });
    // The receiver in this test refuses connections: the attempt is recorded, not lost.
    expect(opened?.attempts).toBe(1);
    expect(opened?.last_error).toMatch(/request failed/);
  });

  it('opens only one window however often the alarm runs while blind', async () => {
    await heardAgo('delta', 11_000, (sent_at) => sendHeartbeat(heartbeatBody({ ...FAST, sent_at }), { agent: 'delta' }));
    await fireAlarm('delta');
    await fireAlarm('delta');
    // Nothing is due for a blind agent but its rollups: the sweep finds it in order.
    expect(await agentStub('delta').ensureAlarm()).toBe('ok');
    expect(await windowsOf('delta')).toHaveLength(1);
  });

  it('closes the window once heartbeats are back (ended at the first) and notifies the close', async () => {
    const first = heartbeatBody({ ...FAST, seq: 1 });
    await heardAgo('echo', 11_000, (sent_at) => sendHeartbeat({ ...first, sent_at }, { agent: 'echo' }));
    await fireAlarm('echo');

    const before = Date.now();
    expect((await sendHeartbeat(heartbeatBody({ ...FAST, seq: 2, boot: first.boot }), { agent: 'echo' })).status).toBe(202);
    const back = Date.now();
    expect((await windowsOf('echo'))[0]?.ended_at).toBeNull();
    expect((await sendHeartbeat(heartbeatBody({ ...FAST, seq: 3, boot: first.boot }), { agent: 'echo' })).status).toBe(202);
    const [window] = await windowsOf('echo');
    expect(window?.ended_at).toBeGreaterThanOrEqual(before);
    expect(window?.ended_at).toBeLessThanOrEqual(back);
    // The heartbeats heard either side: what a backfill must continue for the gap report to call it a link outage.
    expect(JSON.parse(window?.anchors ?? 'null')).toEqual({ before: { boot: first.boot, seq: 1 }, after: { boot: first.boot, seq: 3 } });
    expect((await agentRow('echo'))?.state).toBe('up');
    const live = await storedLive('echo');
    expect(live).toMatchObject({ state: 'up', silence: { window: null }, seq: 3 });
    expect(await engineDue('echo')).toBe(live?.deadlineAt);
    expect(await storedAlarm('echo')).toBeLessThanOrEqual(live?.deadlineAt ?? 0);
    expect((await outboxOf('echo')).map((e) => e.event_type)).toEqual(['window.opened', 'window.closed']);
  });

  it('does nothing but re-arm when the alarm runs before the deadline', async () => {
    await sendHeartbeat(heartbeatBody(FAST), { agent: 'foxtrot' });
    const deadline = (await storedLive('foxtrot'))?.deadlineAt;
    expect(await runDurableObjectAlarm(agentStub('foxtrot'))).toBe(true);
    expect(await windowsOf('foxtrot')).toHaveLength(0);
    expect(await storedAlarm('foxtrot')).toBe(deadline);
  });

  it('keeps the deadline and the alarm when the Durable Object restarts', async () => {
    await sendHeartbeat(heartbeatBody(FAST), { agent: 'golf' });
    const before = await storedLive('golf');
    await abortAllDurableObjects();
    const after = await agentStub('golf').getStatus();
    expect(after?.deadlineAt).toBe(before?.deadlineAt);
    expect(await storedAlarm('golf')).toBe(before?.deadlineAt);
  });
});
