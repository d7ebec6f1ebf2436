// Load: 1000 simulated agents, each a heartbeat every 5 s, for 5 minutes at full strength (200 signed
// heartbeats a second) against the Worker under wrangler dev on 127.0.0.1. No agent may get a false
// blind window, every heartbeat must be taken before its deadline, and the 20 agents that stop 4
// minutes in must each be found at their deadline and paged, while the load goes on.
// The fleet comes up over its first minute, as a rollout does. All 1000 first seen within 5 s (1000
// Durable Objects created at once) makes wrangler dev's local proxy drop about 10 % of those first
// requests on a 2-vCPU machine ("Your worker restarted mid-request", the proxy's connection to workerd
// reset); that is the development server, not the Worker, and a real agent retries such a 503.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSecret } from '../../protocol/signature.ts';
import { startTestWorker, type TestWorker } from '../support/e2e-worker.ts';
import { fleetOf, percentile, postSigned, secretsFor, signedHeartbeat } from '../support/fleet.ts';
import { type Recorder, startRecorder } from '../support/http-recorder.ts';
import { d1Query } from '../support/local-d1.ts';
import { waitFor } from '../support/ports.ts';

const AGENTS = 1000;
const INTERVAL_S = 5;
/** The fleet's first heartbeats spread over this long; then all 1000 send for RUN_MS. */
const RAMP_MS = 60_000;
const RUN_MS = 5 * 60_000;
const SILENT = 20;
const SILENT_FROM_MS = RAMP_MS + 4 * 60_000;
/** In-flight requests at most: the generator's own bound, far above the 200 a second it needs. */
const CONCURRENCY = 512;

const secret = generateSecret();
const hookSecret = generateSecret();
const agents = fleetOf(AGENTS, 'load');
const silent = new Set(agents.filter((_, i) => i % (AGENTS / SILENT) === 7));
let w: TestWorker;
let receiver: Recorder;

beforeAll(async () => {
  receiver = await startRecorder();
  w = await startTestWorker('load', {
    BLINDSPOT_AGENT_SECRETS: secretsFor(agents, secret),
    BLINDSPOT_CONFIG: JSON.stringify({
      monitors: [{ id: 'fresh', signal: 'metrics.freshness', kind: 'freshness', blind: { max_age_s: 120 } }],
      notifications: { channels: [{ id: 'hook', type: 'webhook' }], repeat_interval_s: 0 },
    }),
    BLINDSPOT_CHANNEL_SECRETS: JSON.stringify({ hook: { url: `${receiver.url}/hook`, secret: hookSecret } }),
  });
}, 90_000);

afterAll(async () => {
  await w?.stop();
  await receiver?.close();
});

interface Sent {
  agent: string;
  seq: number;
  /** When the generator meant to send it, when it did, and when the answer came. */
  dueAt: number;
  sentAt: number;
  answeredAt: number;
  status: number;
  deadlineAt: number | null;
}

describe('1000 agents at a 5 s interval for 5 minutes, after a 1-minute rollout', () => {
  it('no false window, no heartbeat after its deadline, and every agent that stops is found and paged', async () => {
    const boot = `load-${Date.now()}`;
    const start = Date.now() + 1000;
    // Each agent keeps its own phase within the interval, as real agents started at random would.
    // Agent i starts i × 60 ms in, which also spreads the fleet over the 5 s interval.
    const queue = agents.flatMap((agent, i) => {
      const phase = Math.floor((i / AGENTS) * RAMP_MS);
      const beats: { agent: string; seq: number; dueAt: number }[] = [];
      for (let seq = 1; phase + (seq - 1) * INTERVAL_S * 1000 < RAMP_MS + RUN_MS; seq++) {
        const dueAt = start + phase + (seq - 1) * INTERVAL_S * 1000;
        if (silent.has(agent) && dueAt - start >= SILENT_FROM_MS) break;
        beats.push({ agent, seq, dueAt });
      }
      return beats;
    });
    queue.sort((a, b) => a.dueAt - b.dueAt);
    const sent: Sent[] = [];
    // Each heartbeat leaves at its time whatever the ones before it are doing (a slow answer must
    // not hold back other agents, as it would not in production); at most CONCURRENCY in flight.
    let inFlight = 0;
    let retried = 0;
    const flights: Promise<void>[] = [];
    for (const beat of queue) {
      const wait = beat.dueAt - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      while (inFlight >= CONCURRENCY) await new Promise((r) => setTimeout(r, 5));
      inFlight++;
      const sentAt = Date.now();
      const req = signedHeartbeat(beat.agent, secret, { seq: beat.seq, boot, intervalS: INTERVAL_S, signals: [{ name: 'metrics.freshness', kind: 'freshness', value: 4, error: null }] });
      // As the real agent does: a 503 or no answer is retried (after 1 s) until the next heartbeat is due.
      const send = async (): Promise<{ status: number; deadlineAt: number | null }> => {
        for (;;) {
          const result = await postSigned(w.url, req, 20_000).catch((e: unknown) => (console.error(`${beat.agent} seq ${beat.seq}: ${String(e)}`), { status: 0, deadlineAt: null }));
          if ((result.status !== 503 && result.status !== 0) || Date.now() + 1000 >= beat.dueAt + INTERVAL_S * 1000) return result;
          retried++;
          await new Promise((r) => setTimeout(r, 1000));
        }
      };
      flights.push(
        send()
          .then((result) => {
            inFlight--;
            sent.push({ ...beat, sentAt, answeredAt: Date.now(), status: result.status, deadlineAt: result.deadlineAt });
          }),
      );
    }
    await Promise.all(flights);

    // The generator itself kept up: what follows judges the Worker, not a late client.
    const lag = sent.map((s) => s.sentAt - s.dueAt).sort((a, b) => a - b);
    const latency = sent.map((s) => s.answeredAt - s.sentAt).sort((a, b) => a - b);
    console.log(`load: ${sent.length} heartbeats, ${retried} sends retried after a 503 or no answer; send lag p99 ${percentile(lag, 99)} ms; answer p50 ${percentile(latency, 50)} ms, p99 ${percentile(latency, 99)} ms, max ${latency.at(-1)} ms`);
    // On two vCPUs the generator shares the machine with wrangler and workerd and falls behind by
    // seconds at the worst moments. That does not excuse the Worker: what is judged below is whether
    // each heartbeat, whenever it left, was taken before the deadline the previous one set.
    expect(percentile(lag, 50), 'the load generator is not keeping its schedule at all').toBeLessThan(1000);
    expect(sent.length).toBe(queue.length);
    expect(sent.filter((s) => s.status !== 202).map((s) => `${s.agent}#${s.seq}: ${s.status}`)).toEqual([]);

    // Every heartbeat was taken before the deadline the one before it set.
    const byAgent = new Map<string, Sent[]>();
    for (const s of sent) byAgent.set(s.agent, [...(byAgent.get(s.agent) ?? []), s]);
    const missed: string[] = [];
    for (const [agent, beats] of byAgent) {
      beats.sort((a, b) => a.seq - b.seq);
      for (let i = 1; i < beats.length; i++) {
        const prev = beats[i - 1] as Sent;
        const cur = beats[i] as Sent;
        if (prev.deadlineAt === null || cur.answeredAt > prev.deadlineAt) missed.push(`${agent}#${cur.seq}`);
      }
    }
    expect(missed).toEqual([]);

    // The stopped agents: a window each, confirmed at its deadline, and a page each.
    const lastDeadline = Math.max(...sent.filter((s) => silent.has(s.agent)).map((s) => s.deadlineAt ?? 0));
    await waitFor('the stopped agents\' windows', async () => receiver.requests.filter((r) => r.body.includes('"window.opened"')).length >= SILENT, Math.max(0, lastDeadline - Date.now()) + 30_000, 500);
    const windows = d1Query<{ agent_id: string; cause: string; confirmed_at: number }>(w.persistTo, 'SELECT agent_id, cause, confirmed_at FROM windows ORDER BY agent_id');
    expect(windows.map((r) => r.agent_id)).toEqual([...silent].sort());
    expect(new Set(windows.map((r) => r.cause))).toEqual(new Set(['agent_silent']));
    for (const win of windows) {
      const last = (byAgent.get(win.agent_id) ?? []).at(-1) as Sent;
      expect(win.confirmed_at, win.agent_id).toBe(last.deadlineAt);
    }
    // Found on time: the outbox row is written when the Durable Object's alarm confirms the window.
    const found = d1Query<{ agent_id: string; created_at: number; confirmed_at: number }>(
      w.persistTo,
      "SELECT o.agent_id, o.created_at, w.confirmed_at FROM outbox o JOIN windows w ON w.id = o.window_id WHERE o.event_type = 'window.opened'",
    );
    expect(found).toHaveLength(SILENT);
    const late = found.map((f) => f.created_at - f.confirmed_at).sort((a, b) => a - b);
    console.log(`load: deadline → window confirmed, p50 ${percentile(late, 50)} ms, max ${late.at(-1)} ms`);
    expect(late.at(-1)).toBeLessThan(5000);
    const paged = new Set(receiver.requests.filter((r) => r.body.includes('"window.opened"')).map((r) => (JSON.parse(r.body) as { data: { window: { agent: string } } }).data.window.agent));
    expect(paged).toEqual(silent);
  }, RAMP_MS + RUN_MS + 180_000);
});
