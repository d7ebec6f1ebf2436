// Benchmark: the gap report's core over a long link outage. 10 000 backfilled heartbeats of one agent
// (15 s apart: 41.7 hours spooled, one stale reading in 50), with 200 of its windows around them and
// 50 other agents' feeds, through gapReport() itself (pure: no I/O, so the figure is the CPU cost a
// Worker pays per report). Baseline in the same run: the same report without the backfill.
//   npx tsx bench/gap-report.ts [heartbeats]
import { resolveConfig } from '../config/resolve.ts';
import type { BackfilledHeartbeat } from '../worker/core/link-outages.ts';
import { gapReport, type WindowRecord } from '../worker/core/gap-report.ts';
import { machine, record } from './record.ts';

const N = Number(process.argv[2] ?? 10_000);
const TARGET_MS = 1000;
const T0 = Date.UTC(2026, 10, 20);
const resolved = resolveConfig({});
if (!resolved.ok) throw new Error(resolved.errors.join('; '));
const config = resolved.config;

const backfill: BackfilledHeartbeat[] = Array.from({ length: N }, (_, i) => ({
  agentId: 'spooler',
  boot: 'b1',
  seq: i + 1,
  sentAt: T0 + i * 15_000,
  intervalS: 15,
  signals: [{ name: 'metrics.freshness', kind: 'freshness', value: i % 50 === 0 ? 900 : 5, unit: 's', error: null }],
}));
const windows: WindowRecord[] = Array.from({ length: 200 }, (_, i) => ({
  id: `w-${i}`,
  agentId: 'spooler',
  monitor: 'agent',
  component: 'monitoring',
  cause: 'agent_silent',
  level: 'blind',
  signal: null,
  startedAt: T0 + i * 600_000,
  confirmedAt: T0 + i * 600_000 + 15_000,
  notifiedAt: null,
  endedAt: T0 + i * 600_000 + 60_000,
  peakValue: null,
  suppressedBy: null,
  source: 'engine',
}));
const agents = [
  { id: 'spooler', firstSeenAt: T0 - 86_400_000 },
  ...Array.from({ length: 50 }, (_, i) => ({ id: `other-${i}`, firstSeenAt: T0 })),
];
const feeds = agents.map((a) => ({ agentId: a.id, monitor: 'agent' }));
const range = { start: T0, end: T0 + N * 15_000 + 60_000 };
const input = {
  config,
  range,
  objective: 0.999,
  filters: { agents: [], components: [], monitors: [], causes: [] },
  windows,
  agents,
  feeds,
};

function timed(withBackfill: boolean): { ms: number; rows: number } {
  const t0 = performance.now();
  const report = gapReport({ ...input, backfill: withBackfill ? backfill : [] });
  return { ms: performance.now() - t0, rows: report.rows.length };
}

timed(true); // warm-up
const runs = Array.from({ length: 5 }, () => timed(true));
const base = Array.from({ length: 5 }, () => timed(false));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const result = {
  benchmark: 'gap-report',
  date: new Date().toISOString(),
  machine: machine(),
  setup: { backfilled_heartbeats: N, interval_s: 15, windows: windows.length, agents: agents.length, runs: runs.length },
  ms: {
    with_backfill_median: Number(median(runs.map((r) => r.ms)).toFixed(1)),
    without_backfill_median: Number(median(base.map((r) => r.ms)).toFixed(1)),
  },
  rows: runs[0]?.rows,
  target: `a report over ${N} backfilled heartbeats of one agent within ${TARGET_MS} ms`,
  met: median(runs.map((r) => r.ms)) <= TARGET_MS,
};
record('gap-report', result);
if (!result.met) process.exitCode = 1;
