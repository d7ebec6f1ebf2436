// The Worker killed (SIGKILL) and started again after every agent's deadline has passed, with real
// agent processes sending through it. A restarted Worker holds no heartbeats: the agents' own retries
// bring them, up to half an interval apart (agent/loop.ts: backoff with full jitter, capped at
// interval/2). The overdue alarms run as the Worker comes back; each waits for the agent's next retry
// (stallHoldMs: half the interval and a second, 11 s at 20 s) before it judges the silence, and the
// retry ends it: the silence was the watchdog's, not the agent's, and nobody is paged.
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSecret } from '../../protocol/signature.ts';
import { killAndWait } from '../support/child.ts';
import { startTestWorker, type TestWorker } from '../support/e2e-worker.ts';
import { agentSecret, hookedWorkerVars } from '../support/fleet.ts';
import { type Recorder, startRecorder } from '../support/http-recorder.ts';
import { d1Query } from '../support/local-d1.ts';
import { waitFor } from '../support/ports.ts';

/** At 20 s the agent's retries come up to 10 s apart: twice the flat 5 s wait this once had. */
const INTERVAL_S = 20;
/** Deadline 22 s after each heartbeat: a short test, and every deadline passes while the Worker is down. */
const GRACE_S = 2;
/**
 * Twelve agents, each retrying on its own random schedule: with a flat 5 s wait, the chance that
 * every one's retry comes within it after the Worker's return is small, and the test fails. The
 * length of the wait is checked exactly by the core's tests (test/worker/core/engine/silence.test.ts).
 */
const AGENTS = Array.from({ length: 12 }, (_, i) => `r${i + 1}`);
/** Down a second past the last deadline, then the start-up of wrangler and workerd (about 3 s). */
const DOWN_MS = (INTERVAL_S + GRACE_S + 1) * 1000;
const secret = generateSecret();
const hookSecret = generateSecret();
let w: TestWorker;
let receiver: Recorder;
const children = new Map<string, { child: ChildProcess; log: string }>();

function opened(): string[] {
  return receiver.requests
    .map(
      (r) =>
        new Webhook(hookSecret).verify(r.body, r.headers as Record<string, string>) as {
          type: string;
          data: { window: { agent: string; cause?: string } };
        },
    )
    .filter((e) => e.type === 'window.opened')
    .map((e) => `${e.data.window.agent} ${e.data.window.cause ?? ''}`.trim());
}

/** Whether the running wrangler (since its last start) answered a heartbeat of `id` with 202. */
const taken = (id: string) => (w.worker?.output() ?? '').includes(`POST /v1/agents/${id}/heartbeats 202`);

/** A wait or check that fails says what the agents and wrangler last printed. */
function autopsy(): string {
  const tail = (text: string) => text.slice(-2000);
  return [...children.entries()]
    .map(([id, c]) => `--- ${id}:\n${tail(c.log)}`)
    .concat(`--- wrangler:\n${tail(w.worker?.output() ?? '(not running)')}`)
    .join('\n');
}

beforeAll(async () => {
  receiver = await startRecorder();
  w = await startTestWorker('agent-retries', hookedWorkerVars(AGENTS, secret, `${receiver.url}/hook`, hookSecret));
  for (const id of AGENTS) {
    const config = join(w.dir, `${id}.yaml`);
    writeFileSync(
      config,
      `agent_id: ${id}\nworker_url: ${w.url}\nsecret: ${agentSecret(secret, id)}\ninterval_s: ${INTERVAL_S}\ngrace_s: ${GRACE_S}\nsend_timeout_s: 2\nspool_dir: ${join(w.dir, `spool-${id}`)}\nprobes: [{ type: demo }]\n`,
    );
    const child = spawn(process.execPath, ['bin/blindspot-agent.js', 'run', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    const state = { child, log: '' };
    child.stderr?.on('data', (d) => (state.log += d));
    children.set(id, state);
  }
}, 90_000);

afterAll(async () => {
  for (const c of children.values()) await killAndWait(c.child);
  await w?.stop();
  await receiver?.close();
});

describe('the Worker killed and started again after the deadlines of real agents passed', () => {
  it("waits for each agent's next retry and pages nobody", async () => {
    await waitFor('a heartbeat of every agent taken', async () => AGENTS.every(taken), 60_000, 500).catch((e: unknown) => {
      throw new Error(`${String(e)}\n${autopsy()}`);
    });
    await w.crash();
    const downAt = Date.now();
    await new Promise((r) => setTimeout(r, DOWN_MS));
    await w.resume();
    const upAt = Date.now();
    console.log(
      `agent retries: the Worker was down ${upAt - downAt} ms, past every agent's deadline (at most ${INTERVAL_S + GRACE_S} s after the kill)`,
    );

    // Every agent's retry is taken once the Worker is back (at most 10 s apart, and the first
    // request of a fresh workerd is slower).
    const firstTaken = new Map<string, number>();
    await waitFor(
      'a heartbeat of every agent taken after the restart',
      async () => {
        for (const id of AGENTS) if (!firstTaken.has(id) && taken(id)) firstTaken.set(id, Date.now() - upAt);
        return firstTaken.size === AGENTS.length;
      },
      30_000,
      100,
    ).catch((e: unknown) => {
      throw new Error(`${String(e)}\n${autopsy()}`);
    });
    console.log(
      `agent retries: each agent's first heartbeat taken after the restart, ms after it: ${JSON.stringify(Object.fromEntries(firstTaken))}`,
    );
    // The held-up evaluations end (11 s) and anything they paged is delivered (the receiver answers at once).
    await new Promise((r) => setTimeout(r, 14_000));
    expect(opened(), autopsy()).toEqual([]);
    // Nothing is left open either: the silence while the Worker was down is not the agents'.
    const open = d1Query<{ agent_id: string; cause: string }>(w.persistTo, 'SELECT agent_id, cause FROM windows WHERE ended_at IS NULL');
    expect(open).toEqual([]);
  }, 150_000);
});
