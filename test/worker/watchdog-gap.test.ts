import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { sweepDeps } from '../../worker/index.ts';
import { runSweep } from '../../worker/jobs/sweep.ts';
import { SUMMARISED_RETENTION_MS, takeUntold } from '../../worker/store/summarised-windows.ts';
import { outboxOf, windowsOf } from './fixtures/d1.ts';
import { agentStub, storedAlarm, storedLive } from './fixtures/durable.ts';
import { uniqueId } from './fixtures/requests.ts';
import { fresh, SimulatedAgent } from './fixtures/simulated.ts';

const sweepAt = (now: number) => runSweep({ ...sweepDeps(env), now: () => now });

describe('the watchdog watches itself', () => {
  it('a gap in its own ticks becomes one watchdog window and one summary, not a page per agent', async () => {
    const agents = ['gap-a', 'gap-b', 'gap-c'].map((id) => new SimulatedAgent(id));
    for (const a of agents) await a.heartbeat(0, [fresh('metrics.freshness', 3)]);
    const start = agents[0]!.start;
    expect((await sweepAt(start + 5_000)).gap).toBeNull();

    // Neither alarms nor the cron ran for ten minutes; all three agents went silent meanwhile.
    const report = await sweepAt(start + 605_000);
    expect(report.gap).toMatchObject({ startedAt: start + 65_000, endedAt: start + 605_000 });
    expect(report.fired.sort()).toEqual(['gap-a', 'gap-b', 'gap-c']);
    expect(report.summarised).toBe(3);

    expect(await windowsOf('*')).toEqual([
      expect.objectContaining({ monitor: 'watchdog', cause: 'watchdog_gap', started_at: start + 65_000, ended_at: start + 605_000 }),
    ]);
    for (const a of agents) {
      const [w] = await windowsOf(a.id);
      // Recorded with its true times, told only in the summary.
      expect(w).toMatchObject({ cause: 'agent_silent', started_at: a.at(5), confirmed_at: a.at(10), suppressed_by: 'watchdog_gap' });
      expect(w?.notified_at).not.toBeNull();
      expect(await outboxOf(a.id)).toEqual([]);
    }
    const summaries = await outboxOf('*');
    // One event, sent once to every routed channel under the same event id.
    expect(new Set(summaries.map((o) => `${o.event_type} ${o.event_id}`)).size).toBe(1);
    expect(summaries[0]?.event_type).toBe('watchdog.summary');
    expect(summaries.map((o) => o.channel_id).sort()).toEqual([
      'discord',
      'hook',
      'og',
      'pd',
      'slack',
      'spare',
      'teams',
      'unset',
      'webhook',
    ]);
    const body = JSON.parse(summaries[0]!.payload) as { data: { windows: { agent: string }[]; text: string } };
    expect(body.data.windows.map((w) => w.agent).sort()).toEqual(['gap-a', 'gap-b', 'gap-c']);
    expect(body.data.text).toMatch(/not running for 540 s; 3 window\(s\) on 3 agent\(s\)/);

    // The next sweep on time finds nothing new to tell.
    const next = await sweepAt(start + 665_000);
    expect(next).toMatchObject({ gap: null, summarised: 0 });
    expect(await outboxOf('*')).toHaveLength(summaries.length);
  });

  it('sweeps that run together after the gap (crons queued while the Worker was stalled) tell each window once', async () => {
    // An hour after the first test's sweeps: the watchdog's ticks are its own, kept between tests.
    const agents = ['gap-d', 'gap-e'].map((id) => new SimulatedAgent(id, new SimulatedAgent('x').start + 3_600_000));
    for (const a of agents) await a.heartbeat(0, [fresh('metrics.freshness', 3)]);
    const start = agents[0]!.start;
    await sweepAt(start + 5_000);
    const before = new Set((await outboxOf('*')).map((o) => o.event_id));

    // The Worker stalled for ten minutes; the minute crons queued meanwhile all run at once.
    const reports = await Promise.all([sweepAt(start + 605_000), sweepAt(start + 605_100), sweepAt(start + 605_200)]);
    // Each may be handed the gap (it waits in the Watchdog until a summary takes it); it is told once.
    const gaps = new Set(reports.map((r) => r.gap?.id).filter((id) => id !== undefined));
    expect(gaps.size).toBe(1);

    const summaries = (await outboxOf('*')).filter((o) => !before.has(o.event_id) && o.channel_id === 'webhook');
    expect(summaries.map((o) => o.event_id)).toEqual([...gaps]);
    const told = summaries.flatMap((o) =>
      (JSON.parse(o.payload) as { data: { windows: { agent: string }[] } }).data.windows.map((w) => w.agent),
    );
    expect(told.sort()).toEqual(['gap-d', 'gap-e']);
    expect(summaries).toHaveLength(1);
  });

  it('keeps a gap its summary could not take (the Watchdog object reset between the calls): the next sweep tells it, once', async () => {
    // A Watchdog of this test's own, so its ticks and gaps are nobody else's.
    const w = env.WATCHDOG.get(env.WATCHDOG.idFromName(`gap-kept-${uniqueId()}`));
    const deps = { ...sweepDeps(env), tick: (now: number) => w.tick(now), recordFleet: async () => {} };
    const summarise: typeof deps.summarise = (late, channels, history) => w.summarise(late, channels, history);
    const t0 = Date.parse('2026-12-04T14:00:30Z');
    await runSweep({ ...deps, summarise, now: () => t0 });
    // Ten minutes without a tick; the summary's hand-over fails.
    const lost = await runSweep({
      ...deps,
      summarise: () => Promise.reject(new Error('Durable Object reset because its code was updated')),
      now: () => t0 + 600_000,
    });
    expect(lost.gap).toMatchObject({ startedAt: t0 + 60_000, endedAt: t0 + 600_000 });
    // The next sweep, on time, is handed the same gap and tells it; the one after has nothing to tell.
    const kept = await runSweep({ ...deps, summarise, now: () => t0 + 660_000 });
    expect(kept.gap).toEqual(lost.gap);
    expect(
      (await outboxOf('*'))
        .filter((o) => o.event_id === lost.gap?.id)
        .map((o) => o.channel_id)
        .sort(),
    ).toContain('webhook');
    const after = await runSweep({ ...deps, summarise, now: () => t0 + 720_000 });
    expect(after.gap).toBeNull();
    expect((await outboxOf('*')).filter((o) => o.event_id === lost.gap?.id && o.channel_id === 'webhook')).toHaveLength(1);
    const [window] = (await windowsOf('*')).filter((x) => x.id === lost.gap?.id);
    expect(window).toMatchObject({ cause: 'watchdog_gap', started_at: t0 + 60_000, ended_at: t0 + 600_000 });
  });

  it('remembers the windows it told for a day, then forgets them: its record stays bounded', async () => {
    const stub = env.WATCHDOG.get(env.WATCHDOG.idFromName('summarised-retention'));
    await runInDurableObject(stub, (_w, state) => {
      const sql = state.storage.sql;
      const t = 1_000_000_000_000;
      expect([...takeUntold(sql, ['w1', 'w2'], t)]).toEqual(['w1', 'w2']);
      expect([...takeUntold(sql, ['w2', 'w3'], t + 1000)]).toEqual(['w3']);
      expect([...takeUntold(sql, ['w1', 'w3'], t + SUMMARISED_RETENTION_MS)]).toEqual([]);
      // A day after they were told, w1 and w2 are forgotten (w3, told a second later, is not yet).
      expect([...takeUntold(sql, ['w1', 'w3'], t + SUMMARISED_RETENTION_MS + 1)]).toEqual(['w1']);
      expect(sql.exec<{ n: number }>('SELECT count(*) AS n FROM summarised_windows').one().n).toBe(2);
    });
  });
});

describe('a watchdog held up for less than two minutes (a stalled Worker, an alarm run late)', () => {
  // Interval 5 s, grace 5 s: the deadline is at 10. The Worker stalls from 3 s to 50 s; heartbeat 2,
  // sent at 5, waits behind the stall and is taken just after the late alarm.
  /** What the agent's object queued for its channels (for this component, the webhook). */
  const queued = (id: string) =>
    runInDurableObject(agentStub(id), (_o, state) =>
      state.storage.sql
        .exec<{ event_type: string }>('SELECT event_type FROM outbox')
        .toArray()
        .map((r) => r.event_type),
    );

  it('waits 5 s for the heartbeats queued behind it: one sent in time shows the agent never went silent, and nothing is paged', async () => {
    const a = new SimulatedAgent(`stall-queued-${uniqueId()}`);
    await a.heartbeat(0, [fresh('metrics.freshness', 3)]);
    expect(await a.alarm(50)).toBe('fired');
    expect(await storedAlarm(a.id)).toBe(a.at(55));
    await a.heartbeat(50.2, [fresh('metrics.freshness', 3)], { sent_at: new Date(a.at(5)).toISOString() });
    for (let t = 55; t <= 70; t += 5) {
      await a.alarm(t);
      await a.heartbeat(t, [fresh('metrics.freshness', 3)]);
    }
    const live = await storedLive(a.id);
    expect(live).toMatchObject({ state: 'up', silence: null });
    expect(await queued(a.id)).toEqual([]);
  });

  it('the agent really silent: the alarm re-armed for the end of the wait pages it, from when its heartbeat was due', async () => {
    const a = new SimulatedAgent(`stall-silent-${uniqueId()}`);
    await a.heartbeat(0, [fresh('metrics.freshness', 3)]);
    await a.alarm(50);
    expect((await storedLive(a.id))?.silence).toBeNull();
    expect(await a.alarm(55)).toBe('fired');
    expect((await storedLive(a.id))?.silence?.window).toMatchObject({ cause: 'agent_silent', startedAt: a.at(5), paged: true });
    expect(await queued(a.id)).toEqual(['window.opened']);
  });
});
