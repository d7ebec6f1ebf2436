// Benchmark: heartbeat ingest. Real parts: the Worker under wrangler dev (workerd, Durable Objects,
// local D1) on 127.0.0.1, loaded by autocannon with signed heartbeats from AGENTS simulated agents
// (round robin, each with its own growing seq, so every request is a new heartbeat the agent's
// Durable Object evaluates and stores). The baseline, in the same run, is a no-op Hono route: the
// same POST with the same body to a path no route takes, answered by the app's JSON 404 without
// reading the body. Rounds alternate baseline and ingest, so drift in the machine hits both alike.
// wrangler's local state (the objects' SQLite and the local D1) is kept on a memory file system where
// the machine has one, as the simulator's is: on disk, every storage transaction waits for an fsync
// whose latency is the machine's disk, not the Worker (2026-12-02, on one 2-vCPU AMD EPYC machine:
// ratio 0.39 to 0.41 on disk, 0.62 in memory; 0.52 on disk that morning on an Intel Xeon machine).
// BENCH_ON_DISK=1 keeps it on disk.
//   npx tsx bench/ingest.ts [agents] [connections] [seconds per round] [rounds]
import { tmpdir } from 'node:os';
import autocannon from 'autocannon';
import { generateSecret } from '../protocol/signature.ts';
import { startTestWorker } from '../test/support/e2e-worker.ts';
import { preferMemoryTmp } from '../test/support/memory-tmp.ts';
import { fleetOf, heartbeatBodyOf, postSigned, secretsFor, signedHeartbeat } from '../test/support/fleet.ts';
import { machine, record, versions } from './record.ts';

const AGENTS = Number(process.argv[2] ?? 200);
const CONNECTIONS = Number(process.argv[3] ?? 10);
const SECONDS = Number(process.argv[4] ?? 15);
const ROUNDS = Number(process.argv[5] ?? 2);
const TARGET_RATIO = 0.5;
const secret = generateSecret();
const agents = fleetOf(AGENTS, 'ingest');
const signals = [
  { name: 'metrics.freshness', kind: 'freshness', value: 4, error: null },
  { name: 'prometheus.up', kind: 'freshness', value: 2, error: null },
];

interface Round {
  rps: number;
  p50_ms: number;
  p99_ms: number;
  requests: number;
  non_2xx: number;
  errors: number;
}

function summary(r: autocannon.Result): Round {
  return {
    rps: r.requests.average,
    p50_ms: r.latency.p50,
    p99_ms: r.latency.p99,
    requests: r.requests.total,
    non_2xx: r.non2xx,
    errors: r.errors + r.timeouts,
  };
}

const mean = (xs: number[]) => Number((xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(1));

async function main(): Promise<void> {
  if (process.env.BENCH_ON_DISK !== '1') preferMemoryTmp();
  const worker = await startTestWorker('bench-ingest', {
    BLINDSPOT_AGENT_SECRETS: secretsFor(agents, secret),
    BLINDSPOT_CONFIG: JSON.stringify({
      monitors: [{ id: 'fresh', signal: 'metrics.freshness', kind: 'freshness', blind: { max_age_s: 120 } }],
    }),
  });
  try {
    const boot = `bench-${Date.now()}`;
    const seqs = new Map(agents.map((a) => [a, 1]));
    // Warm-up: every agent's first heartbeat (its first D1 write) before anything is measured.
    for (const a of agents) {
      const r = await postSigned(worker.url, signedHeartbeat(a, secret, { seq: 1, boot, intervalS: 15, signals }));
      if (r.status !== 202) throw new Error(`warm-up ${a}: HTTP ${r.status} ${r.body}`);
    }
    let next = 0;
    const ingest = () =>
      autocannon({
        url: worker.url,
        connections: CONNECTIONS,
        duration: SECONDS,
        requests: [
          {
            method: 'POST',
            setupRequest: (req) => {
              const agent = agents[next++ % agents.length] as string;
              const seq = (seqs.get(agent) as number) + 1;
              seqs.set(agent, seq);
              const signed = signedHeartbeat(agent, secret, { seq, boot, intervalS: 15, signals });
              return { ...req, path: signed.path, headers: signed.headers, body: signed.body };
            },
          },
        ],
      });
    const body = heartbeatBodyOf({ seq: 1, boot, intervalS: 15, signals });
    const noop = () =>
      autocannon({
        url: worker.url,
        connections: CONNECTIONS,
        duration: SECONDS,
        requests: [{ method: 'POST', path: '/v1/no-op', headers: { 'content-type': 'application/json' }, body }],
      });

    const rounds: { baseline: Round; ingest: Round }[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const baseline = summary(await noop());
      const taken = summary(await ingest());
      rounds.push({ baseline, ingest: taken });
      process.stdout.write(`round ${i + 1}: no-op ${baseline.rps} req/s, ingest ${taken.rps} req/s\n`);
    }
    const ingestRps = mean(rounds.map((r) => r.ingest.rps));
    const baselineRps = mean(rounds.map((r) => r.baseline.rps));
    const refused = rounds.reduce((n, r) => n + r.ingest.non_2xx + r.ingest.errors, 0);
    const ratio = Number((ingestRps / baselineRps).toFixed(2));
    const result = {
      benchmark: 'ingest',
      date: new Date().toISOString(),
      machine: machine(),
      versions: versions(),
      setup: {
        agents: AGENTS,
        connections: CONNECTIONS,
        seconds_per_round: SECONDS,
        rounds: ROUNDS,
        signals_per_heartbeat: signals.length,
        server: 'wrangler dev (workerd, local D1) on 127.0.0.1',
        local_state: `wrangler's local state under ${tmpdir()}`,
        // wrangler's local trace collector (on by default in wrangler dev, absent when deployed): off unless asked for.
        local_observability: process.env.X_LOCAL_OBSERVABILITY ?? 'false',
        load: 'autocannon, same process as nothing else',
      },
      ingest: {
        rps: ingestRps,
        p50_ms: mean(rounds.map((r) => r.ingest.p50_ms)),
        p99_ms: mean(rounds.map((r) => r.ingest.p99_ms)),
        not_accepted: refused,
      },
      baseline_noop_route: {
        rps: baselineRps,
        p50_ms: mean(rounds.map((r) => r.baseline.p50_ms)),
        p99_ms: mean(rounds.map((r) => r.baseline.p99_ms)),
      },
      rounds,
      ratio: { ingest_to_noop_rps: ratio },
      target: `ingest req/s ≥ ${TARGET_RATIO} × the no-op route's`,
      met: ratio >= TARGET_RATIO && refused === 0,
    };
    record('ingest', result);
    if (refused > 0) throw new Error(`${refused} heartbeats were not accepted during the benchmark`);
  } finally {
    await worker.stop();
  }
}

await main();
