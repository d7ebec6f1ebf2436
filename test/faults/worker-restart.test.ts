// The Worker process killed (SIGKILL: wrangler, workerd and all) in the middle of an incident, while a
// page is in flight and while another agent's deadline is due, then started again on the same state.
// Nothing may be lost: both windows open and are paged, each trigger is one webhook-id however often it
// is retried (at-least-once, deduplicated by the receiver), the resolves are sent, and the agent that
// kept sending through the restart gets no window.
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSecret } from '../../protocol/signature.ts';
import { startTestWorker, type TestWorker } from '../support/e2e-worker.ts';
import { hookedWorkerVars, LoopingAgent } from '../support/fleet.ts';
import { type Recorder, startRecorder } from '../support/http-recorder.ts';
import { d1Query } from '../support/local-d1.ts';
import { waitFor } from '../support/ports.ts';

const secret = generateSecret();
const hookSecret = generateSecret();
let w: TestWorker;
let receiver: Recorder;
const agents: LoopingAgent[] = [];

interface Event {
  webhookId: string;
  type: string;
  window: string;
  agent: string;
}

function events(): Event[] {
  return receiver.requests.map((r) => {
    const e = new Webhook(hookSecret).verify(r.body, r.headers as Record<string, string>) as {
      type: string;
      data: { window: { id: string; agent: string } };
    };
    return { webhookId: String(r.headers['webhook-id']), type: e.type, window: e.data.window.id, agent: e.data.window.agent };
  });
}

// What a failure needs to be explained: every outbox row and attempt as D1 has them, and what the receiver got when.
function autopsy(): string {
  const rows = d1Query(
    w.persistTo,
    'SELECT seq, id, state, attempts, created_at, next_attempt_at, claimed_until, claim_token, delivered_at, last_status, last_error FROM outbox ORDER BY seq',
  );
  const attempts = d1Query(w.persistTo, 'SELECT notification_id, attempt, at, status, outcome, error FROM delivery_attempts ORDER BY id');
  const got = receiver.requests.map((r) => ({ at: r.at, id: r.headers['webhook-id'] }));
  return JSON.stringify({ rows, attempts, got }, null, 1);
}

const delivered = (agent: string, type: string) => events().filter((e) => e.agent === agent && e.type === type);

beforeAll(async () => {
  receiver = await startRecorder();
  w = await startTestWorker('restart', hookedWorkerVars(['paged', 'due', 'steady'], secret, `${receiver.url}/hook`, hookSecret));
}, 90_000);

afterAll(async () => {
  for (const a of agents) a.stop();
  await w?.stop();
  await receiver?.close();
});

describe('the Worker killed and restarted mid-incident', () => {
  it('loses no window, pages each once (by webhook-id), and still sends the resolves', async () => {
    const paged = new LoopingAgent(w.url, 'paged', secret, { intervalS: 1, graceS: 2, boot: 'b1' });
    const due = new LoopingAgent(w.url, 'due', secret, { intervalS: 1, graceS: 6, boot: 'b1' });
    // grace 60 s: the restart is shorter than its deadline, so a window here would be a false one.
    const steady = new LoopingAgent(w.url, 'steady', secret, { intervalS: 1, graceS: 60, boot: 'b1' });
    agents.push(paged, due, steady);
    for (const a of agents) a.start();
    await waitFor('three agents up', async () => agents.every((a) => a.results.some((r) => r?.status === 202)), 20_000);
    await new Promise((r) => setTimeout(r, 3000));

    // The receiver holds the first page open: the Worker dies with that delivery in flight.
    let held = false;
    receiver.answer(() => (held ? { status: 202, body: '{}' } : ((held = true), 'hang')));
    paged.stop();
    await waitFor('the page in flight', async () => receiver.requests.length >= 1, 20_000, 100);
    // The second agent stops now; its deadline (6 s on) falls while the Worker is down.
    due.stop();
    const dueDeadline = due.lastDeadline();
    await w.crash();
    const downAt = Date.now();
    await new Promise((r) => setTimeout(r, Math.max(0, dueDeadline - Date.now()) + 2000));
    await w.resume();
    const upAt = Date.now();
    console.log(`restart: the Worker was down ${upAt - downAt} ms; "due"'s deadline passed ${upAt - dueDeadline} ms before it came back`);

    // The deadline that passed while it was down fires when it is back, and is paged.
    await waitFor(
      'the window of the agent whose deadline passed while the Worker was down, delivered',
      async () => delivered('due', 'window.opened').length >= 1,
      30_000,
      250,
    );
    // The crashed delivery is taken up again when its lease runs out (the webhook's 10 s time-out + 15 s).
    await waitFor(
      'the page that was in flight, delivered again',
      async () => receiver.requests.filter((r) => r.body.includes('"window.opened"') && r.body.includes('"paged"')).length >= 2,
      90_000,
      500,
    );

    paged.start();
    due.start();
    await waitFor(
      'both resolves',
      async () => delivered('paged', 'window.closed').length >= 1 && delivered('due', 'window.closed').length >= 1,
      30_000,
      250,
    );
    // A clean shutdown: agents that merely fell silent here would open new windows, rightly paged,
    // while the checks below run (paged's grace is 2 s), and their pages would be in flight at the end.
    const goodbyes = await Promise.all(agents.map((a) => a.leave()));
    expect(goodbyes.map((r) => r?.status)).toEqual([202, 202, 202]);
    // Past paged's deadline (3 s on): its silence after a clean stop is recorded as agent_stopped, never paged.
    await new Promise((r) => setTimeout(r, 5000));

    const windows = d1Query<{ agent_id: string; cause: string; ended_at: number | null; suppressed_by: string | null }>(
      w.persistTo,
      'SELECT agent_id, cause, ended_at, suppressed_by FROM windows ORDER BY agent_id, started_at',
    );
    expect(windows.filter((r) => r.cause !== 'agent_stopped').map((r) => [r.agent_id, r.cause, r.ended_at !== null])).toEqual([
      ['due', 'agent_silent', true],
      ['paged', 'agent_silent', true],
    ]);
    expect(windows.filter((r) => r.cause === 'agent_stopped').map((r) => [r.agent_id, r.suppressed_by])).toContainEqual([
      'paged',
      'agent_stopped',
    ]);
    // At least once, and never a second trigger: every delivery of a window's page carries one webhook-id.
    for (const agent of ['paged', 'due']) {
      for (const type of ['window.opened', 'window.closed']) {
        const got = delivered(agent, type);
        expect(got.length, `${agent} ${type}`).toBeGreaterThanOrEqual(1);
        expect(new Set(got.map((e) => e.webhookId)).size, `${agent} ${type}: distinct webhook-ids`).toBe(1);
      }
    }
    expect(events().filter((e) => e.agent === 'steady')).toEqual([]);
    // The receiver has each request before the Worker has written down its answer: wait for that.
    const undelivered = () =>
      d1Query<{ id: string; state: string; attempts: number; next_attempt_at: number; last_error: string | null }>(
        w.persistTo,
        "SELECT id, state, attempts, next_attempt_at, last_error FROM outbox WHERE state <> 'delivered'",
      );
    await waitFor('the outbox all delivered', async () => undelivered().length === 0, 90_000, 1000).catch(() => undefined);
    expect(undelivered(), autopsy()).toEqual([]);
  }, 330_000);
});
