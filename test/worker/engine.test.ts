import { abortAllDurableObjects } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { outboxOf, windowsOf } from './fixtures/d1.ts';
import { engineDue, storedAlarm } from './fixtures/durable.ts';
import { DAY_AHEAD, fresh, SimulatedAgent } from './fixtures/simulated.ts';

const healthy = () => [fresh('prometheus.up', 2), fresh('metrics.freshness', 5)];

describe('the engine in its Durable Object', () => {
  it('opens a stale-metrics window in D1 with its first bad observation, and queues the page with it', async () => {
    const a = new SimulatedAgent('engine-stale');
    await a.every(0, 10, healthy);
    await a.every(15, 20, () => [fresh('prometheus.up', 2), fresh('metrics.freshness', 900)]);
    const [w] = await windowsOf('engine-stale');
    expect(w).toMatchObject({
      monitor: 'metrics-fresh',
      component: 'metrics',
      cause: 'stale',
      level: 'blind',
      signal: 'metrics.freshness',
      started_at: a.at(15),
      confirmed_at: a.at(20),
      ended_at: null,
      peak_value: 900,
      suppressed_by: null,
    });
    expect((await outboxOf('engine-stale')).map((o) => o.event_type)).toEqual(['window.opened']);
  });

  it('records a window behind a down dependency without paging it', async () => {
    const a = new SimulatedAgent('engine-deps');
    await a.every(0, 5, () => [fresh('prometheus.up', 900), fresh('metrics.freshness', 900)]);
    const rows = await windowsOf('engine-deps');
    expect(rows.map((w) => [w.monitor, w.suppressed_by])).toEqual([
      ['prometheus-up', null],
      ['metrics-fresh', 'depends_on:prometheus-up'],
    ]);
    expect((await outboxOf('engine-deps')).map((o) => o.window_id)).toEqual([rows[0]?.id]);
  });

  it('arms its alarm at a hold that completes on time alone, and a restart keeps it', async () => {
    const a = new SimulatedAgent('engine-hold', undefined, 30);
    await a.heartbeat(0, [fresh('metrics.freshness', 900)]);
    await a.heartbeat(30, [fresh('metrics.freshness', 900)]);
    await a.heartbeat(60, [fresh('metrics.freshness', 1)]);
    await a.heartbeat(90, [fresh('metrics.freshness', 1)]);
    // recover_for is 3 heartbeats and 60 s; with 30 s heartbeats the 60 s end first... at the third good one.
    expect(await engineDue('engine-hold')).toBe(a.at(90) + 60_000);
    // The alarm is the engine's due time unless an outbox retry comes first (the test webhook refuses).
    const alarm = await storedAlarm('engine-hold');
    expect(alarm).toBeLessThanOrEqual(a.at(90) + 60_000);
    await abortAllDurableObjects();
    expect(await storedAlarm('engine-hold')).toBe(alarm);
    expect(await engineDue('engine-hold')).toBe(a.at(90) + 60_000);
  });

  it('in steady state writes D1 at most once per agent per minute, rollups included', async () => {
    // Starts on the hour, so the ten minutes fall in one hourly bucket whatever the time of day.
    const a = new SimulatedAgent('engine-budget', Math.ceil(DAY_AHEAD / 3_600_000) * 3_600_000);
    // 10 minutes at 5 s (121 heartbeats), and the minute after, over which each agent's write of a
    // finished bucket is spread (flushSpreadMs).
    await a.every(0, 660, healthy);
    const stats = await a.writeStats();
    // The first heartbeat (agent row, first_seen) and one rollup flush per completed 5-minute bucket.
    expect(stats.batches).toBeLessThanOrEqual(1 + 2);
    expect(stats.pending).toBe(0);
    // One row for the agent's day: each monitor's seconds summed over the two flushes, every signal's stats merged.
    const days = await env.DB.prepare('SELECT day, monitors, signals FROM agent_days WHERE agent_id = ?')
      .bind('engine-budget')
      .all<{ day: number; monitors: string; signals: string }>();
    expect(days.results).toHaveLength(1);
    const [row] = days.results;
    expect(row?.day).toBe(Math.floor(a.start / 86_400_000) * 86_400_000);
    expect(JSON.parse(row?.monitors ?? '{}')).toEqual({
      agent: [600, 0, 0, 0, 0],
      clock_skew: [600, 0, 0, 0, 0],
      'metrics-fresh': [600, 0, 0, 0, 0],
      'prometheus-up': [600, 0, 0, 0, 0],
    });
    const signals = JSON.parse(row?.signals ?? '{}') as Record<
      string,
      [string, number | null, number | null, number | null, number, number]
    >;
    const signal = Object.values(signals).find(([name]) => name === 'metrics.freshness');
    expect(signal?.slice(0, 4)).toEqual(['metrics.freshness', 5, 5, 5]);
    const samples = signal?.[4] ?? 0;
    // Every heartbeat up to the second flush, which came within the minute after the tenth.
    expect(samples).toBeGreaterThanOrEqual(121);
    expect(samples).toBeLessThanOrEqual(133);
  });

  it('keeps taking heartbeats while D1 refuses writes, and writes everything once it is back', async () => {
    const a = new SimulatedAgent('engine-d1-down');
    await a.every(0, 5, healthy);
    await env.DB.exec('ALTER TABLE windows RENAME TO windows_away');
    try {
      await a.every(10, 15, () => [fresh('prometheus.up', 2), fresh('metrics.freshness', 900)]);
      expect((await a.writeStats()).pending).toBeGreaterThan(0);
    } finally {
      await env.DB.exec('ALTER TABLE windows_away RENAME TO windows');
    }
    expect(await windowsOf('engine-d1-down')).toEqual([]);
    await a.heartbeat(20, [fresh('prometheus.up', 2), fresh('metrics.freshness', 900)]);
    expect((await a.writeStats()).pending).toBe(0);
    expect(await windowsOf('engine-d1-down')).toEqual([
      expect.objectContaining({ monitor: 'metrics-fresh', started_at: a.at(10), confirmed_at: a.at(15) }),
    ]);
    expect((await outboxOf('engine-d1-down')).map((o) => o.event_type)).toEqual(['window.opened']);
  });

  it('a stopping heartbeat makes the silence after it expected: a window, no page', async () => {
    const a = new SimulatedAgent('engine-stopping');
    await a.heartbeat(0, healthy());
    await a.heartbeat(5, healthy(), { stopping: true });
    expect(await a.judge(15)).toBe('fired');
    expect(await windowsOf('engine-stopping')).toEqual([
      expect.objectContaining({ monitor: 'agent', cause: 'agent_stopped', suppressed_by: 'agent_stopped' }),
    ]);
    expect(await outboxOf('engine-stopping')).toEqual([]);
    const { results } = await env.DB.prepare('SELECT type FROM agent_events WHERE agent_id = ? ORDER BY at').bind('engine-stopping').all();
    expect(results).toEqual([{ type: 'first_seen' }, { type: 'stopping' }]);
  });
});
