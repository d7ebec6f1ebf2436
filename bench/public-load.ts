// Benchmark: the public surfaces when everyone reads them at once. Real parts: the Worker under
// wrangler dev (workerd, Durable Objects and their alarms, local D1) on 127.0.0.1, AGENTS agents with
// their own secrets, the default refresh period (BLINDSPOT_PUBLIC_REFRESH_S unset: 2 s).
//  1. Cost per read: GET /, /api/v2/summary.json and a trivial route (the JSON 404), ROUNDS
//     sequential requests each after a warm-up, in the same run. Target: p50 of each ≤ 2× trivial.
//  2. Interference: LOOPING agents heartbeat every 2 s for WINDOW_S seconds three times: with no
//     readers; with READS_PER_S requests a second to the trivial route (the control: what any
//     request costs on this machine, where wrangler's proxy, workerd and the load generator share two
//     CPUs); and with READS_PER_S public reads a second (the page, summary.json, status.json and a
//     badge in turn). In each phase SILENT agents send two heartbeats and stop: their alarms'
//     lateness is window decided (outbox.created_at) − deadline (windows.confirmed_at).
//     Targets: heartbeat p99 under public readers < 1.1× under the control's; alarm lateness p99
//     within 100 ms of the control's.
//   npx tsx bench/public-load.ts [agents] [rounds] [window_s]
import { generateSecret } from '../protocol/signature.ts';
import { startTestWorker, type TestWorker } from '../test/support/e2e-worker.ts';
import { fleetOf, LoopingAgent, percentile, postSigned, secretsFor, signedHeartbeat } from '../test/support/fleet.ts';
import { startRecorder } from '../test/support/http-recorder.ts';
import { d1Query } from '../test/support/local-d1.ts';
import { machine, record, versions } from './record.ts';

const AGENTS = Number(process.argv[2] ?? 1000);
const ROUNDS = Number(process.argv[3] ?? 200);
const WINDOW_S = Number(process.argv[4] ?? 60);
const LOOPING = 100;
const SILENT = 20;
const READS_PER_S = 200;
const secret = generateSecret();
const signals = [{ name: 'metrics.freshness', kind: 'freshness', value: 3, error: null }];

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: Number(percentile(s, 50).toFixed(2)), p99: Number(percentile(s, 99).toFixed(2)), n: s.length };
};

async function timed(url: string): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const start = performance.now();
    const res = await fetch(url);
    await res.arrayBuffer();
    times.push(performance.now() - start);
  }
  return times;
}

/** Every agent says it is up once, a few dozen at a time. */
async function firstHeartbeats(w: TestWorker, agents: readonly string[], intervalS: number): Promise<void> {
  for (let i = 0; i < agents.length; i += 50) {
    await Promise.all(
      agents.slice(i, i + 50).map(async (a) => {
        const r = await postSigned(w.url, signedHeartbeat(a, secret, { seq: 1, boot: 'bench', intervalS, signals }));
        if (r.status !== 202) throw new Error(`${a}: HTTP ${r.status} ${r.body}`);
      }),
    );
  }
}

/** READS_PER_S public reads a second until `until`; returns how many got a 200 and how many did not. */
const PUBLIC_PATHS = (process.env.BENCH_PATHS ?? '/,/api/v2/summary.json,/api/v2/status.json,/badge/metrics.json').split(',');

async function readers(w: TestWorker, until: number, paths: readonly string[]): Promise<{ ok: number; failed: number }> {
  let ok = 0;
  let failed = 0;
  const inFlight: Promise<void>[] = [];
  for (let n = 0; Date.now() < until; n++) {
    const due = until - WINDOW_S * 1000 + (n * 1000) / READS_PER_S;
    if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
    inFlight.push(
      fetch(`${w.url}${paths[n % paths.length]}`)
        .then(async (res) => {
          await res.arrayBuffer();
          res.status < 500 ? ok++ : failed++;
        })
        .catch(() => void failed++),
    );
  }
  await Promise.all(inFlight);
  return { ok, failed };
}

/** One phase: the looping agents' heartbeat latency, and the lateness of the silent agents' alarms. */
async function phase(w: TestWorker, name: string, paths: readonly string[] | null) {
  const looping = fleetOf(LOOPING, `${name}-loop`).map(
    (id) => new LoopingAgent(w.url, id, secret, { intervalS: 2, graceS: 10, boot: name, signals }),
  );
  const silent = fleetOf(SILENT, `${name}-silent`);
  const started = Date.now();
  const until = started + WINDOW_S * 1000;
  for (const a of looping) a.start();
  const reads = paths === null ? Promise.resolve({ ok: 0, failed: 0 }) : readers(w, until, paths);
  // Halfway through, the silent agents beat twice and stop: their deadlines fall inside the phase.
  await new Promise((r) => setTimeout(r, (WINDOW_S * 1000) / 2));
  for (const seq of [1, 2]) {
    await Promise.all(
      silent.map((a) => postSigned(w.url, signedHeartbeat(a, secret, { seq, boot: name, intervalS: 2, graceS: 2, signals }))),
    );
    await new Promise((r) => setTimeout(r, 1000));
  }
  await new Promise((r) => setTimeout(r, Math.max(0, until - Date.now())));
  for (const a of looping) a.stop();
  const served = await reads;
  const latencies = looping.flatMap((a) => a.results.filter((r) => r !== null && r.status === 202).map((r) => r!.ms));
  const missed = looping.reduce((n, a) => n + a.results.filter((r) => r === null || r.status !== 202).length, 0);
  const rows = d1Query<{ late: number }>(
    w.persistTo,
    `SELECT o.created_at - w.confirmed_at AS late FROM windows w JOIN outbox o ON o.window_id = w.id AND o.event_type = 'window.opened'
     WHERE w.agent_id IN (${silent.map((a) => `'${a}'`).join(',')})`,
  );
  return { heartbeat_ms: stats(latencies), heartbeats_not_taken: missed, alarm_lateness_ms: stats(rows.map((r) => r.late)), reads: served };
}

async function main(): Promise<void> {
  const receiver = await startRecorder();
  const fleet = fleetOf(AGENTS, 'reader');
  const phases = ['quiet', 'control', 'read'].flatMap((p) => [...fleetOf(LOOPING, `${p}-loop`), ...fleetOf(SILENT, `${p}-silent`)]);
  const w = await startTestWorker('bench-public', {
    BLINDSPOT_AGENT_SECRETS: secretsFor([...fleet, ...phases], secret),
    BLINDSPOT_CONFIG: JSON.stringify({
      components: [{ id: 'metrics', name: 'Metrics pipeline' }],
      defaults: { component: 'metrics' },
      monitors: [{ id: 'fresh', signal: 'metrics.freshness', kind: 'freshness' }],
      notifications: { channels: [{ id: 'hook', type: 'webhook' }], repeat_interval_s: 0 },
    }),
    BLINDSPOT_CHANNEL_SECRETS: JSON.stringify({ hook: { url: `${receiver.url}/hook`, secret: generateSecret() } }),
    // The default refresh period, as deployed (the test harness turns it off).
    BLINDSPOT_PUBLIC_REFRESH_S: process.env.BENCH_REFRESH_S ?? '2',
  });
  try {
    await firstHeartbeats(w, fleet, 600);
    for (const url of ['/', '/api/v2/summary.json', '/no-such-route']) await timed(`${w.url}${url}`);
    const page = await timed(`${w.url}/`);
    const summary = await timed(`${w.url}/api/v2/summary.json`);
    const trivial = await timed(`${w.url}/no-such-route`);
    const quiet = await phase(w, 'quiet', null);
    const control = await phase(w, 'control', ['/no-such-route']);
    const read = await phase(w, 'read', PUBLIC_PATHS);
    const ratio = (xs: number[]) => Number((stats(xs).p50 / stats(trivial).p50).toFixed(2));
    const result = {
      benchmark: 'public-load',
      date: new Date().toISOString(),
      machine: machine(),
      versions: versions(),
      setup: {
        agents: AGENTS + phases.length,
        rounds: ROUNDS,
        window_s: WINDOW_S,
        looping_agents: `${LOOPING}, a heartbeat every 2 s`,
        silent_agents_per_phase: SILENT,
        reads_per_s: READS_PER_S,
        refresh_s: Number(process.env.BENCH_REFRESH_S ?? 2),
        server: 'wrangler dev (workerd, Durable Objects, local D1) on 127.0.0.1',
      },
      latency_ms: { page: stats(page), summary: stats(summary), trivial_route: stats(trivial) },
      ratio_p50_to_trivial: { page: ratio(page), summary: ratio(summary) },
      quiet,
      with_trivial_requests: control,
      with_public_readers: read,
      heartbeat_p99_ratio: {
        public_readers_to_quiet: Number((read.heartbeat_ms.p99 / quiet.heartbeat_ms.p99).toFixed(2)),
        public_readers_to_trivial_requests: Number((read.heartbeat_ms.p99 / control.heartbeat_ms.p99).toFixed(2)),
      },
      target:
        'p50 of / and summary.json ≤ 2× the trivial route; heartbeat p99 under 200 public reads/s < 1.1× under 200 trivial requests/s; alarm lateness p99 within 100 ms of it',
      met:
        ratio(page) <= 2 &&
        ratio(summary) <= 2 &&
        read.heartbeat_ms.p99 < 1.1 * control.heartbeat_ms.p99 &&
        read.alarm_lateness_ms.p99 <= control.alarm_lateness_ms.p99 + 100,
    };
    record('public-load', result);
    if (!result.met) process.exitCode = 1;
  } finally {
    await w.stop();
    await receiver.close();
  }
}

await main();
