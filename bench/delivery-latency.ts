// Benchmark: from a window's confirmation to the first delivery attempt reaching the receiver.
// Real parts: wrangler dev (workerd + local D1) on 127.0.0.1, signed heartbeats over HTTP, and a
// Standard Webhooks receiver on 127.0.0.1. N agents (default 120) each send two blind heartbeats; the
// second confirms a window, and the Durable Object delivers it. Latency = receipt time at the
// receiver − the window's confirmed_at (same machine clock). Bounded: N windows, 120 s at most.
//   npx tsx bench/delivery-latency.ts [windows] [concurrency]
import { generateSecret, sign } from '../protocol/signature.ts';
import { machine, record } from './record.ts';
import { startTestWorker } from '../test/support/e2e-worker.ts';
import { startRecorder } from '../test/support/http-recorder.ts';

const N = Number(process.argv[2] ?? 120);
const CONCURRENCY = Number(process.argv[3] ?? 10);
const agentSecret = generateSecret();
const hookSecret = generateSecret();
const agents = Array.from({ length: N }, (_, i) => `bench-${String(i).padStart(4, '0')}`);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

async function heartbeat(url: string, agent: string, seq: number, boot: string): Promise<void> {
  const body = JSON.stringify({ v: 1, seq, boot, sent_at: new Date().toISOString(), interval_s: 60, grace_s: 60, signals: [{ name: 'bench.freshness', kind: 'freshness', value: 900, error: null }] });
  const id = `msg_${agent}_${seq}_${boot}`;
  const ts = Math.floor(Date.now() / 1000);
  const res = await fetch(`${url}/v1/agents/${agent}/heartbeats`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': await sign([agentSecret], id, ts, body) },
    body,
  });
  if (res.status !== 202) throw new Error(`${agent} seq ${seq}: HTTP ${res.status} ${await res.text()}`);
}

async function main(): Promise<void> {
  const receiver = await startRecorder();
  const config = {
    monitors: [{ id: 'bench-fresh', signal: 'bench.freshness', kind: 'freshness', blind: { max_age_s: 60 } }],
    notifications: { channels: [{ id: 'hook', type: 'webhook' }], repeat_interval_s: 0 },
  };
  const worker = await startTestWorker('bench', {
    BLINDSPOT_AGENT_SECRETS: JSON.stringify(Object.fromEntries(agents.map((a) => [a, [agentSecret]]))),
    BLINDSPOT_CONFIG: JSON.stringify(config),
    BLINDSPOT_CHANNEL_SECRETS: JSON.stringify({ hook: { url: `${receiver.url}/hook`, secret: hookSecret } }),
  });
  try {
    const boot = `bench-${Date.now()}`;
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < agents.length) {
          const agent = agents[next++] as string;
          await heartbeat(worker.url, agent, 1, boot);
          await heartbeat(worker.url, agent, 2, boot);
        }
      }),
    );
    const deadline = Date.now() + 120_000;
    while (receiver.requests.filter((r) => r.body.includes('"window.opened"')).length < N && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const latencies = receiver.requests
      .filter((r) => r.body.includes('"window.opened"'))
      .map((r) => r.at - Date.parse((JSON.parse(r.body) as { data: { window: { confirmed_at: string } } }).data.window.confirmed_at))
      .sort((a, b) => a - b);
    if (latencies.length < N) throw new Error(`only ${latencies.length} of ${N} windows were delivered within 120 s:\n${worker.worker?.output().slice(-3000) ?? ''}`);
    const result = {
      benchmark: 'detection-to-first-delivery-attempt',
      date: new Date().toISOString(),
      machine: machine(),
      windows: latencies.length,
      concurrency: CONCURRENCY,
      latency_ms: { p50: percentile(latencies, 50), p90: percentile(latencies, 90), p99: percentile(latencies, 99), max: latencies.at(-1) },
      target: 'p99 < 2000 ms',
      met: percentile(latencies, 99) < 2000,
    };
    record('delivery-latency', result);
    if (!result.met) process.exitCode = 1;
  } finally {
    await worker.stop();
    await receiver.close();
  }
}

await main();
