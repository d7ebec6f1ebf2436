// The Worker frozen (SIGSTOP: wrangler, workerd and all, as a paused VM or a stalled host would leave
// it) for 20 s while one agent keeps sending and another has stopped. When it runs again, its alarms
// are late and the heartbeats the frozen Worker held (or that timed out and came again) arrive just
// after them. The agent that kept sending was never silent: no page. The agent that stopped is paged,
// once the late look has waited for what was queued behind it. Then the same for freezes of a few
// seconds that end just after an agent's deadline, where the alarm is late by less than a second, or
// by so little (at most 250 ms) that it seems on time.
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

const opened = (agent: string) =>
  receiver.requests
    .map(
      (r) =>
        new Webhook(hookSecret).verify(r.body, r.headers as Record<string, string>) as {
          type: string;
          data: { window?: { agent: string } };
        },
    )
    .filter((e) => e.type === 'window.opened' && e.data.window?.agent === agent);

beforeAll(async () => {
  receiver = await startRecorder();
  w = await startTestWorker('frozen', hookedWorkerVars(['steady', 'gone', 'brief', 'edge'], secret, `${receiver.url}/hook`, hookSecret));
}, 90_000);

afterAll(async () => {
  for (const a of agents) a.stop();
  await w?.stop();
  await receiver?.close();
});

describe('the Worker frozen for 20 s', () => {
  it('pages nobody for the agent that kept sending, and still pages the one that stopped', async () => {
    // Interval 1 s, grace 2 s: each deadline is 3 s after the heartbeat, so both fall inside the freeze.
    const steady = new LoopingAgent(w.url, 'steady', secret, { intervalS: 1, graceS: 2, boot: 'b1' });
    const gone = new LoopingAgent(w.url, 'gone', secret, { intervalS: 1, graceS: 2, boot: 'b1' });
    agents.push(steady, gone);
    for (const a of agents) a.start();
    await waitFor('both agents up', async () => agents.every((a) => a.results.some((r) => r?.status === 202)), 20_000);
    gone.stop();

    await w.freeze(20_000);
    const thawedAt = Date.now();

    await waitFor('the stopped agent paged', async () => opened('gone').length >= 1, 30_000, 250);
    // The late look waits 5 s for what was queued; give the steady agent's window, were there one, time to page.
    await new Promise((r) => setTimeout(r, Math.max(0, thawedAt + 10_000 - Date.now())));
    expect(steady.results.at(-1)?.status).toBe(202);
    expect(opened('steady')).toEqual([]);
    expect(opened('gone')).toHaveLength(1);
    // What D1 holds for the steady agent: nothing, or its silence recorded as the watchdog's own gap.
    const windows = d1Query<{ agent_id: string; suppressed_by: string | null }>(
      w.persistTo,
      "SELECT agent_id, suppressed_by FROM windows WHERE agent_id = 'steady'",
    );
    for (const row of windows) expect(row.suppressed_by).toBe('watchdog_gap');
    console.log(`frozen: the steady agent's windows ${JSON.stringify(windows)}; its failed tries ${steady.errors.length}`);
    const goodbyes = await Promise.all([steady.leave()]);
    expect(goodbyes.map((r) => r?.status)).toEqual([202]);
  }, 90_000);

  it('pages nobody for a freeze of a few seconds that ends just after the deadline: the alarm, late by under a second, waits too', async () => {
    // Each freeze begins just after a heartbeat is taken, so the deadline it set falls 0.6 s (then 2 s)
    // before the freeze ends: the overdue alarm runs first, the heartbeat the freeze held just after
    // it. Waiting only when more than 3 s late, the alarm paged each time. The wait is 5 s; a page,
    // were there one, would be on its way 7 s after.
    await throughFreezes('brief', [3_600, 5_000], 7_000);
  }, 60_000);

  it('pages nobody for a freeze that ends within a quarter second after the deadline: the alarm, on time as it seems, waits 250 ms', async () => {
    // The deadline falls about 0.1 s (then 0.2 s) before the freeze ends, so the overdue alarm runs as
    // if on time (at most 250 ms late), the heartbeat the freeze held just after it. Judging at once,
    // the alarm paged a silence that never was. The wait is 250 ms; a page would be on its way 4 s after.
    await throughFreezes('edge', [3_100, 3_200], 4_000);
  }, 45_000);
});

/**
 * An agent sending every second (grace 2 s: each deadline 3 s after its heartbeat) through freezes of
 * the Worker of `freezes` ms, each begun just after a heartbeat is taken, `settleMs` apart: the agent
 * is never silent, so nobody is paged, and it is still taken at the end.
 */
async function throughFreezes(id: string, freezes: number[], settleMs: number): Promise<void> {
  const agent = new LoopingAgent(w.url, id, secret, { intervalS: 1, graceS: 2, boot: 'b1' });
  agents.push(agent);
  agent.start();
  const taken = () => agent.results.filter((r) => r?.status === 202).length;
  for (const ms of freezes) {
    const before = taken();
    await waitFor('a heartbeat taken', async () => taken() > before, 10_000, 5);
    await w.freeze(ms);
    await new Promise((r) => setTimeout(r, settleMs));
  }
  expect(agent.results.at(-1)?.status).toBe(202);
  expect(opened(id)).toEqual([]);
  expect((await agent.leave())?.status).toBe(202);
}
