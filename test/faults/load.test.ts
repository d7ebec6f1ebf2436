// Load: 1000 simulated agents, each a heartbeat every 5 s, for 30 s at full strength (200 signed
// heartbeats a second) against the Worker in workerd on 127.0.0.1. No agent may get a false blind
// window, every heartbeat the Worker takes must come before its deadline, the Worker may refuse
// none, and the 20 agents that stop 10 s into the full load must each be found at their deadline and paged,
// while the load goes on.
// The Worker runs through Miniflare, not wrangler dev (test/support/direct-worker.ts says why): the
// load reaches workerd as it reaches the Worker in production, with no development proxy between.
// The fleet comes up over its first 20 s, as a rollout does: all 1000 first seen within 5 s (1000
// Durable Objects created at once) is a burst under which workerd has reset reused keep-alive
// connections. The generator retries a request that got no answer as an agent does, and a heartbeat
// lost on every try is counted, bounded, and must not have cost its agent a window.
// workerd's state (the objects' SQLite and the local D1) is on a memory file system where there is
// one (vitest.config.ts, which the fault suite's config imports): on disk every storage transaction
// waits for an fsync, whose latency is the machine's disk, not the Worker's (bench:ingest on one
// machine: ratio 0.41 on disk, 0.62 in memory), and this test measures the Worker. One CI run on disk saw workerd answer at p50 1.5 s for a whole minute with
// nothing else running; a slow disk is a possible cause, not a proven one.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSecret } from '../../protocol/signature.ts';
import { type DirectWorker, processReport, startDirectWorker } from '../support/direct-worker.ts';
import { fetchErrorText, fleetOf, percentile, postSigned, secretsFor, signedHeartbeat } from '../support/fleet.ts';
import { type Recorder, startRecorder } from '../support/http-recorder.ts';
import { d1Query } from '../support/local-d1.ts';
import { waitFor } from '../support/ports.ts';

const AGENTS = 1000;
const INTERVAL_S = 5;
/** The fleet's first heartbeats spread over this long; then all 1000 send for RUN_MS. */
const RAMP_MS = 20_000;
const RUN_MS = 30_000;
const SILENT = 20;
/** The silent agents stop here: their deadlines (15 s on) fall while the whole fleet still sends. */
const SILENT_FROM_MS = RAMP_MS + 10_000;
/** In-flight requests at most: the generator's own bound, far above the 200 a second it needs. */
const CONCURRENCY = 512;
/** No HTTP answer for this long is the Worker gone: the test stops there and says so. */
const SILENCE_MS = 30_000;

const secret = generateSecret();
const hookSecret = generateSecret();
const agents = fleetOf(AGENTS, 'load');
const silent = new Set(agents.filter((_, i) => i % (AGENTS / SILENT) === 7));
let w: DirectWorker;
let receiver: Recorder;

beforeAll(async () => {
  receiver = await startRecorder();
  w = await startDirectWorker('load', {
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

/**
 * How one heartbeat ended. taken: the Worker answered 202, or 409 replay to a retry (it had taken an
 * earlier try whose answer was lost). lost: no try until the next heartbeat was due got an answer;
 * a real agent spools such a heartbeat and backfills it. refused: any answer but those, which is
 * the Worker's failure.
 */
type Outcome = 'taken' | 'lost' | 'refused';

interface Sent {
  agent: string;
  seq: number;
  /** When the generator meant to send it, when it first tried, and when the last answer came. */
  dueAt: number;
  sentAt: number;
  answeredAt: number;
  outcome: Outcome;
  /** The last answer: status (0: no answer) and body. */
  status: number;
  body: string;
  /**
   * The deadline the Worker set, as a range: exact from a 202; for a heartbeat taken on an earlier
   * try (409 replay) it lies between the first try and the replay's answer, plus interval and grace.
   */
  deadline: [number, number] | null;
}

/** The deadline a heartbeat sets: its interval plus the default grace, max(interval, 10 s). */
const DEADLINE_AFTER_MS = (INTERVAL_S + Math.max(INTERVAL_S, 10)) * 1000;
/**
 * Heartbeats that may get no answer on every try, at most (1 %). Each one is also judged below:
 * losing it must not open a window, so the Worker must still have taken the next one in time.
 */
const MAX_LOST_SHARE = 0.01;

/** What came back other than a 202, by status and body (retried ones too), for the log. */
function tally(answers: Map<string, number>, status: number, body: string): void {
  const key = `${status} ${body.slice(0, 200)}`;
  answers.set(key, (answers.get(key) ?? 0) + 1);
}

describe('1000 agents at a 5 s interval for 30 s, after a 20 s rollout', () => {
  it(
    'no false window, no heartbeat after its deadline, and every agent that stops is found and paged',
    async () => {
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
      console.log(`load: ${readFileSync('/proc/self/limits', 'utf8').match(/^Max open files.*$/m)?.[0] ?? 'open-file limit unknown'}`);
      const sent: Sent[] = [];
      // Each heartbeat leaves at its time whatever the ones before it are doing (a slow answer must
      // not hold back other agents, as it would not in production); at most CONCURRENCY in flight.
      let inFlight = 0;
      let retried = 0;
      const answers = new Map<string, number>();
      let lastAnswerAt = Date.now();
      const flights: Promise<void>[] = [];
      for (const beat of queue) {
        if (Date.now() - lastAnswerAt > SILENCE_MS) {
          const health = await fetch(`${w.url}/healthz`, { signal: AbortSignal.timeout(5000) }).then(
            (r) => `HTTP ${r.status}`,
            (e: unknown) => fetchErrorText(e),
          );
          throw new Error(
            `no HTTP answer at all for ${SILENCE_MS} ms (${JSON.stringify([...answers].slice(-5))}); /healthz now: ${health}; workerd:\n${processReport()}\nthe Worker's last output:\n${w.output().slice(-4000)}`,
          );
        }
        const wait = beat.dueAt - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        while (inFlight >= CONCURRENCY) await new Promise((r) => setTimeout(r, 5));
        inFlight++;
        const sentAt = Date.now();
        const req = signedHeartbeat(beat.agent, secret, {
          seq: beat.seq,
          boot,
          intervalS: INTERVAL_S,
          signals: [{ name: 'metrics.freshness', kind: 'freshness', value: 4, error: null }],
        });
        // As the real agent does: a heartbeat lost on the way is retried (after 1 s) until the next
        // one is due; a 409 replay to a retry means an earlier try was taken.
        const send = async (): Promise<Sent> => {
          for (let attempt = 1; ; attempt++) {
            const result = await postSigned(w.url, req, 20_000).catch((e: unknown) => ({
              status: 0,
              deadlineAt: null,
              body: fetchErrorText(e),
            }));
            const answeredAt = Date.now();
            if (result.status !== 0) lastAnswerAt = answeredAt;
            if (result.status !== 202) tally(answers, result.status, result.body);
            const done = (outcome: Outcome, deadline: [number, number] | null): Sent => ({
              ...beat,
              sentAt,
              answeredAt,
              outcome,
              status: result.status,
              body: result.body,
              deadline,
            });
            if (result.status === 202 && result.deadlineAt !== null) return done('taken', [result.deadlineAt, result.deadlineAt]);
            if (result.status === 409 && attempt > 1 && result.body.includes('"replay"'))
              return done('taken', [sentAt + DEADLINE_AFTER_MS, answeredAt + DEADLINE_AFTER_MS]);
            if (result.status !== 0) return done('refused', null);
            if (answeredAt + 1000 >= sentAt + INTERVAL_S * 1000) return done('lost', null);
            retried++;
            await new Promise((r) => setTimeout(r, 1000));
          }
        };
        flights.push(
          send().then((s) => {
            inFlight--;
            sent.push(s);
          }),
        );
      }
      await Promise.all(flights);

      const lag = sent.map((s) => s.sentAt - s.dueAt).sort((a, b) => a - b);
      const latency = sent.map((s) => s.answeredAt - s.sentAt).sort((a, b) => a - b);
      const lost = sent.filter((s) => s.outcome === 'lost');
      console.log(`load: answers other than 202 (status body: count): ${JSON.stringify([...answers])}`);
      console.log(
        `load: ${sent.length} heartbeats, ${retried} tries repeated after a loss on the way, ${lost.length} lost on every try; send lag p99 ${percentile(lag, 99)} ms; answer p50 ${percentile(latency, 50)} ms, p99 ${percentile(latency, 99)} ms, max ${latency.at(-1)} ms`,
      );
      // On two vCPUs the generator shares the machine with workerd and falls behind by
      // seconds at the worst moments. That does not excuse the Worker: what is judged below is whether
      // each heartbeat, whenever it left, was taken before the deadline the previous one set.
      expect(percentile(lag, 50), 'the load generator is not keeping its schedule at all').toBeLessThan(1000);
      expect(sent.length).toBe(queue.length);
      // The Worker refused nothing: no 4xx, no 5xx.
      expect(sent.filter((s) => s.outcome === 'refused').map((s) => `${s.agent}#${s.seq}: ${s.status} ${s.body.slice(0, 200)}`)).toEqual(
        [],
      );
      expect(
        lost.length,
        `heartbeats with no answer on any try: ${lost.map((s) => `${s.agent}#${s.seq} (${s.status} ${s.body.slice(0, 80)})`).join(', ')}`,
      ).toBeLessThanOrEqual(MAX_LOST_SHARE * sent.length);

      // Every heartbeat the Worker took came before the deadline the one taken before it had set.
      const byAgent = new Map<string, Sent[]>();
      for (const s of sent) if (s.outcome === 'taken') byAgent.set(s.agent, [...(byAgent.get(s.agent) ?? []), s]);
      const missed: string[] = [];
      for (const [agent, beats] of byAgent) {
        beats.sort((a, b) => a.seq - b.seq);
        for (let i = 1; i < beats.length; i++) {
          const prev = beats[i - 1] as Sent;
          const cur = beats[i] as Sent;
          if (prev.deadline === null || cur.answeredAt > prev.deadline[0]) missed.push(`${agent}#${cur.seq}`);
        }
      }
      expect(missed).toEqual([]);

      // The stopped agents: a window each, confirmed at its deadline, and a page each.
      const lastDeadline = Math.max(...[...silent].map((a) => byAgent.get(a)?.at(-1)?.deadline?.[1] ?? 0));
      await waitFor(
        "the stopped agents' windows",
        async () => receiver.requests.filter((r) => r.body.includes('"window.opened"')).length >= SILENT,
        Math.max(0, lastDeadline - Date.now()) + 30_000,
        500,
      );
      // No false window: the only windows are the stopped agents', lost heartbeats or not.
      const windows = d1Query<{ agent_id: string; cause: string; confirmed_at: number }>(
        w.persistTo,
        'SELECT agent_id, cause, confirmed_at FROM windows ORDER BY agent_id',
      );
      expect(windows.map((r) => r.agent_id)).toEqual([...silent].sort());
      expect(new Set(windows.map((r) => r.cause))).toEqual(new Set(['agent_silent']));
      for (const win of windows) {
        const [earliest, latest] = (byAgent.get(win.agent_id) ?? []).at(-1)?.deadline ?? [0, 0];
        expect(win.confirmed_at, win.agent_id).toBeGreaterThanOrEqual(earliest);
        expect(win.confirmed_at, win.agent_id).toBeLessThanOrEqual(latest);
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
      const paged = new Set(
        receiver.requests
          .filter((r) => r.body.includes('"window.opened"'))
          .map((r) => (JSON.parse(r.body) as { data: { window: { agent: string } } }).data.window.agent),
      );
      expect(paged).toEqual(silent);
    },
    RAMP_MS + RUN_MS + 180_000,
  );
});
