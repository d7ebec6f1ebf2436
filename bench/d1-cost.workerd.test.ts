// Benchmark: what heartbeats cost in D1. Real parts: the agent's Durable Object and a local D1 in
// workerd (vitest-pool-workers), driven on a simulated clock through the same RPC the route uses.
// Figures:
//  - steady state, per heartbeat: D1 write batches, statements, rows written (as D1 reports them),
//    and reads, over 2 hours of one agent at a 15 s interval (first heartbeat excluded);
//  - bytes: AGENTS agents for 30 simulated days, retention applied as the daily sweep does, then
//    D1's size against the same database before (the baseline, same run). At a 300 s interval: D1
//    holds one row per agent and day whatever the interval, so a shorter one would only take longer
//    to simulate (only the signals' sample counts differ).
// Each agent sends SIGNALS signals: the two the fixture's monitors watch and ten more, as a small
// Prometheus probe would. Results are printed as BENCH_RESULT lines; vitest.bench.config.ts records them.
import { env } from 'cloudflare:workers';
import { expect, it } from 'vitest';
import type { Signal } from '../protocol/heartbeat.ts';
import { pruneQueries } from '../worker/store/rollups.ts';
import { createDb, runBatch } from '../worker/store/db.ts';
import { fresh, SimulatedAgent } from '../test/worker/fixtures/simulated.ts';

const AGENTS = 3;
const DAYS = 30;
const signals = (): Signal[] => [
  fresh('prometheus.up', 2),
  fresh('metrics.freshness', 5),
  ...Array.from({ length: 10 }, (_, i): Signal => ({ name: `probe.extra_${i}`, kind: 'sampling', value: 0.99, error: null })),
];

/** D1's own reading of the database's size, in bytes. */
async function sizeOf(): Promise<number> {
  const r = await env.DB.prepare('SELECT 1').run();
  return r.meta.size_after;
}

/** Monitor instances the engine keeps rollups for (the fixture's monitors, per matching signal, and built-ins). */
async function instancesOf(agentId: string): Promise<number> {
  const row = await env.DB.prepare('SELECT count(DISTINCT m.key) AS n FROM agent_days d, json_each(d.monitors) m WHERE d.agent_id = ?')
    .bind(agentId)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

async function rowCounts(): Promise<Record<string, number>> {
  const tables = ['agent_days', 'agents', 'agent_events', 'windows', 'outbox'];
  const out: Record<string, number> = {};
  for (const t of tables) out[t] = ((await env.DB.prepare(`SELECT count(*) AS n FROM ${t}`).first<{ n: number }>())?.n ?? 0) as number;
  return out;
}

it('steady state: D1 writes, statements, rows and reads per heartbeat', async () => {
  const a = new SimulatedAgent('bench-steady', Math.ceil((Date.now() + 86_400_000) / 3_600_000) * 3_600_000, 15);
  await a.heartbeat(0, signals());
  const first = await a.writeStats();
  const seconds = 2 * 3600;
  await a.every(15, seconds, signals);
  const end = await a.writeStats();
  const heartbeats = seconds / 15;
  const per = (n: number) => Number((n / heartbeats).toFixed(4));
  const result = {
    benchmark: 'd1-steady-state',
    setup: {
      interval_s: 15,
      simulated_hours: 2,
      heartbeats,
      signals_per_heartbeat: signals().length,
      monitor_instances: await instancesOf('bench-steady'),
    },
    per_heartbeat: {
      write_batches: per(end.batches - first.batches),
      statements: per(end.statements - first.statements),
      rows_written: per(end.rowsWritten - first.rowsWritten),
      reads: per(end.reads - first.reads),
    },
    baseline_first_heartbeat: { write_batches: first.batches, statements: first.statements, rows_written: first.rowsWritten },
    target: 'at most 0.1 D1 writes per heartbeat, counted as write requests and as rows written',
    met: (end.batches - first.batches) / heartbeats <= 0.1 && (end.rowsWritten - first.rowsWritten) / heartbeats <= 0.1,
  };
  console.log(`BENCH_RESULT ${JSON.stringify(result)}`);
  expect(end.pending).toBe(0);
});

it(`bytes: ${AGENTS} agents for ${DAYS} days at 300 s`, async () => {
  const before = await sizeOf();
  const start = Math.ceil((Date.now() + 2 * 86_400_000) / 86_400_000) * 86_400_000;
  const agents = Array.from({ length: AGENTS }, (_, i) => new SimulatedAgent(`bench-bytes-${i}`, start, 300));
  const sizes: number[] = [];
  for (let day = 0; day < DAYS; day++) {
    for (const a of agents) await a.every(day * 86_400 + (day === 0 ? 0 : 300), (day + 1) * 86_400, signals);
    // The daily sweep's retention (400 days for day rows: nothing goes within the 30).
    await runBatch(env.DB, pruneQueries(createDb(env.DB), start + (day + 1) * 86_400_000));
    sizes.push(await sizeOf());
    console.log(`d1-bytes: day ${day + 1} of ${DAYS} simulated, D1 ${sizes.at(-1)} bytes`);
  }
  const after = sizes.at(-1) as number;
  const perAgentDay = (after - before) / AGENTS / DAYS;
  // What a day adds in the last week: the lasting cost.
  const lastWeek = ((sizes.at(-1) as number) - (sizes.at(-8) as number)) / 7 / AGENTS;
  const result = {
    benchmark: 'd1-bytes',
    setup: {
      agents: AGENTS,
      days: DAYS,
      interval_s: 300,
      signals_per_heartbeat: signals().length,
      monitor_instances: await instancesOf('bench-bytes-0'),
      retention: 'day rows (monitor seconds and signal stats) 400 days',
    },
    baseline_empty_bytes: before,
    after_bytes: after,
    rows: await rowCounts(),
    bytes_per_agent_per_day: Math.round(perAgentDay),
    bytes_per_agent_per_day_at_day_30: Math.round(lastWeek),
    ratio: { after_to_baseline: Number((after / before).toFixed(2)) },
    target: 'at most 16 KB of D1 per agent per day after 30 days',
    met: perAgentDay <= 16 * 1024,
  };
  console.log(`BENCH_RESULT ${JSON.stringify(result)}`);
  expect(after).toBeGreaterThan(before);
});
