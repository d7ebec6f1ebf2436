// Benchmark: from an agent's deadline to its window being confirmed, and to the first attempt to
// page it. Real parts: wrangler dev (workerd, Durable Objects and their alarms, local D1) on
// 127.0.0.1, signed heartbeats over HTTP, and a Standard Webhooks receiver on 127.0.0.1.
// N agents (default 120) send a few heartbeats (interval 2 s, grace 2 s) and then all go silent in
// the same second, as a network partition would silence them. For each window:
//   deadline   = windows.confirmed_at (the deadline the Worker set at the last heartbeat)
//   confirmed  = outbox.created_at (written by the alarm in the same D1 batch as the window)
//   attempted  = the first delivery_attempts.at of its page; received = when the receiver got it.
// The baseline, in the same run, is one agent going silent alone. Bounded: 120 s of waiting.
//   npx tsx bench/detection-latency.ts [agents]
import { generateSecret } from '../protocol/signature.ts';
import { startTestWorker, type TestWorker } from '../test/support/e2e-worker.ts';
import { fleetOf, percentile, postSigned, secretsFor, signedHeartbeat } from '../test/support/fleet.ts';
import { startRecorder, type Recorder } from '../test/support/http-recorder.ts';
import { d1Query } from '../test/support/local-d1.ts';
import { machine, record, versions } from './record.ts';

const N = Number(process.argv[2] ?? 120);
const TARGET_P99_MS = 2000;
const agentSecret = generateSecret();
const hookSecret = generateSecret();

interface Row {
  agent_id: string;
  deadline: number;
  confirmed: number;
  attempted: number;
}

async function silence(
  w: TestWorker,
  receiver: Recorder,
  agents: string[],
): Promise<{ toConfirmed: number[]; toAttempt: number[]; toReceived: number[] }> {
  const boot = `bench-${Date.now()}`;
  for (let seq = 1; seq <= 3; seq++) {
    await Promise.all(
      agents.map(async (agent) => {
        const r = await postSigned(w.url, signedHeartbeat(agent, agentSecret, { seq, boot, intervalS: 2, graceS: 2, signals: [] }));
        if (r.status !== 202) throw new Error(`${agent}: HTTP ${r.status} ${r.body}`);
      }),
    );
    await new Promise((r) => setTimeout(r, 1000));
  }
  const wanted = new Set(agents);
  const opened = () =>
    receiver.requests.filter(
      (r) =>
        r.body.includes('"window.opened"') && wanted.has((JSON.parse(r.body) as { data: { window: { agent: string } } }).data.window.agent),
    );
  const until = Date.now() + 120_000;
  while (opened().length < agents.length && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
  if (opened().length < agents.length)
    throw new Error(
      `only ${opened().length} of ${agents.length} windows were paged within 120 s:\n${w.worker?.output().slice(-3000) ?? ''}`,
    );
  const list = agents.map((a) => `'${a}'`).join(',');
  const rows = d1Query<Row>(
    w.persistTo,
    `SELECT w.agent_id, w.confirmed_at AS deadline, o.created_at AS confirmed, (SELECT min(at - latency_ms) FROM delivery_attempts d WHERE d.notification_id = o.id) AS attempted
     FROM windows w JOIN outbox o ON o.window_id = w.id AND o.event_type = 'window.opened' WHERE w.agent_id IN (${list})`,
  );
  const deadlineOf = new Map(rows.map((r) => [r.agent_id, r.deadline]));
  const sorted = (xs: number[]) => xs.sort((a, b) => a - b);
  return {
    toConfirmed: sorted(rows.map((r) => r.confirmed - r.deadline)),
    toAttempt: sorted(rows.map((r) => r.attempted - r.deadline)),
    toReceived: sorted(
      opened().map(
        (r) => r.at - (deadlineOf.get((JSON.parse(r.body) as { data: { window: { agent: string } } }).data.window.agent) ?? Number.NaN),
      ),
    ),
  };
}

const stats = (xs: number[]) => ({ p50: percentile(xs, 50), p99: percentile(xs, 99), max: xs.at(-1) ?? null, n: xs.length });

async function main(): Promise<void> {
  const receiver = await startRecorder();
  const agents = fleetOf(N, 'silent');
  const w = await startTestWorker('bench-detect', {
    BLINDSPOT_AGENT_SECRETS: secretsFor([...agents, 'alone'], agentSecret),
    BLINDSPOT_CONFIG: JSON.stringify({ notifications: { channels: [{ id: 'hook', type: 'webhook' }], repeat_interval_s: 0 } }),
    BLINDSPOT_CHANNEL_SECRETS: JSON.stringify({ hook: { url: `${receiver.url}/hook`, secret: hookSecret } }),
  });
  try {
    const alone = await silence(w, receiver, ['alone']);
    const many = await silence(w, receiver, agents);
    const result = {
      benchmark: 'detection-latency',
      date: new Date().toISOString(),
      machine: machine(),
      versions: versions(),
      setup: {
        agents: N,
        interval_s: 2,
        grace_s: 2,
        silenced: 'all in the same second',
        server: 'wrangler dev (workerd, Durable Object alarms, local D1) on 127.0.0.1',
      },
      many_ms: {
        deadline_to_confirmed: stats(many.toConfirmed),
        deadline_to_first_attempt: stats(many.toAttempt),
        deadline_to_received: stats(many.toReceived),
      },
      baseline_one_agent_ms: {
        deadline_to_confirmed: stats(alone.toConfirmed),
        deadline_to_first_attempt: stats(alone.toAttempt),
        deadline_to_received: stats(alone.toReceived),
      },
      ratio: {
        first_attempt_p99_many_to_one: Number((percentile(many.toAttempt, 99) / Math.max(1, percentile(alone.toAttempt, 99))).toFixed(2)),
      },
      target: `deadline → first notification attempt p99 ≤ ${TARGET_P99_MS} ms`,
      met: percentile(many.toAttempt, 99) <= TARGET_P99_MS && percentile(many.toConfirmed, 99) <= TARGET_P99_MS,
    };
    record('detection-latency', result);
    if (!result.met) process.exitCode = 1;
  } finally {
    await w.stop();
    await receiver.close();
  }
}

await main();
