// Notification receivers that fail, then recover: one answers 500, one 429 with Retry-After, one
// does not answer within the channel's timeout, each for the first 6 s of the incident. Five agents
// go silent and come back meanwhile. Every trigger and every resolve must reach every channel, with
// one webhook-id each, and nothing may be left in the outbox or dead-lettered.
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSecret } from '../../protocol/signature.ts';
import { startTestWorker, type TestWorker } from '../support/e2e-worker.ts';
import { fleetOf, LoopingAgent, secretsFor } from '../support/fleet.ts';
import { type RecordedRequest, type Recorder, startRecorder } from '../support/http-recorder.ts';
import { d1Query } from '../support/local-d1.ts';
import { waitFor } from '../support/ports.ts';

/**
 * The windows open 2 to 3 s in, so each page's first try fails, and a retry may too (full jitter, within 8 s).
 * At 12 s a page failed three times and waited out the minute's ceiling: 75 s in a CI run.
 */
const FAILING_MS = 6_000;
const secret = generateSecret();
const hookSecret = generateSecret();
const agentIds = fleetOf(5, 'recv');
const channels = ['errors', 'throttled', 'slow'] as const;
const receivers = new Map<string, Recorder>();
let w: TestWorker;
const agents: LoopingAgent[] = [];

function delivered(channel: string): { webhookId: string; type: string; window: string }[] {
  const r = receivers.get(channel) as Recorder;
  return r.requests
    .filter((q) => q.answered === 202)
    .map((q) => {
      const e = new Webhook(hookSecret).verify(q.body, q.headers as Record<string, string>) as {
        type: string;
        data: { window: { id: string } };
      };
      return { webhookId: String(q.headers['webhook-id']), type: e.type, window: e.data.window.id };
    });
}

beforeAll(async () => {
  for (const c of channels) receivers.set(c, await startRecorder());
  w = await startTestWorker('receivers', {
    BLINDSPOT_AGENT_SECRETS: secretsFor(agentIds, secret),
    BLINDSPOT_CONFIG: JSON.stringify({
      notifications: { channels: channels.map((id) => ({ id, type: 'webhook', timeout_s: 2 })), repeat_interval_s: 0 },
    }),
    BLINDSPOT_CHANNEL_SECRETS: JSON.stringify(
      Object.fromEntries(channels.map((c) => [c, { url: `${receivers.get(c)?.url}/hook`, secret: hookSecret }])),
    ),
  });
}, 90_000);

afterAll(async () => {
  for (const a of agents) a.stop();
  await w?.stop();
  for (const r of receivers.values()) await r.close();
});

describe('receivers that fail, then recover', () => {
  it('get every trigger and every resolve, once each by webhook-id, and the outbox empties', async () => {
    for (const id of agentIds) agents.push(new LoopingAgent(w.url, id, secret, { intervalS: 1, graceS: 2, boot: 'b1' }));
    for (const a of agents) a.start();
    await waitFor('five agents up', async () => agents.every((a) => a.results.some((r) => r?.status === 202)), 20_000);

    const failUntil = Date.now() + FAILING_MS;
    // While the outage lasts every request fails, but no notification more than twice: full jitter can
    // put two retries inside it, and a third failure waits out the minute's retry ceiling (49 s in a
    // CI run), which would check nothing more.
    const failures = new Map<string, number>();
    const failing = (channel: string, req: RecordedRequest) => {
      const key = `${channel} ${String(req.headers['webhook-id'])}`;
      const n = failures.get(key) ?? 0;
      if (Date.now() >= failUntil || n >= 2) return false;
      failures.set(key, n + 1);
      return true;
    };
    receivers
      .get('errors')
      ?.answer((req) => (failing('errors', req) ? { status: 500, body: '{"error":"boom"}' } : { status: 202, body: '{}' }));
    receivers
      .get('throttled')
      ?.answer((req) =>
        failing('throttled', req) ? { status: 429, body: '{}', headers: { 'retry-after': '5' } } : { status: 202, body: '{}' },
      );
    receivers.get('slow')?.answer((req) => (failing('slow', req) ? 'hang' : { status: 202, body: '{}' }));

    for (const a of agents) a.stop();
    await new Promise((r) => setTimeout(r, 8000));
    for (const a of agents) a.start();
    // Retries back off (8 s, 16 s, then a minute's ceiling, with jitter): bounded at 3 minutes.
    await waitFor(
      'every trigger and resolve at every channel',
      async () => channels.every((c) => new Set(delivered(c).map((e) => e.webhookId)).size >= agentIds.length * 2),
      180_000,
      1000,
    ).catch((e: unknown) => {
      // Say what each channel took and what the outbox (D1's copy) still holds, with its next tries.
      const got = channels.map((c) => `${c}: ${new Set(delivered(c).map((x) => x.webhookId)).size} of ${agentIds.length * 2}`).join(', ');
      const rows = d1Query(w.persistTo, "SELECT id, state, attempts, next_attempt_at, last_error FROM outbox WHERE state != 'delivered'");
      throw new Error(
        `${String(e)}\ndelivered: ${got}\nnow ${Date.now()}, outbox rows not delivered: ${JSON.stringify(rows)}\n${w.worker?.output().slice(-3000) ?? ''}`,
      );
    });
    for (const a of agents) a.stop();

    const windows = d1Query<{ id: string }>(w.persistTo, 'SELECT id FROM windows');
    expect(windows).toHaveLength(agentIds.length);
    for (const c of channels) {
      const got = delivered(c);
      for (const win of windows) {
        for (const type of ['window.opened', 'window.closed']) {
          const these = got.filter((e) => e.window === win.id && e.type === type);
          expect(new Set(these.map((e) => e.webhookId)).size, `${c}: ${win.id} ${type}`).toBe(1);
        }
      }
      // The fault was real: this receiver refused or dropped attempts before it took them.
      expect((receivers.get(c) as Recorder).requests.length, c).toBeGreaterThan(got.length);
    }
    const attempts = d1Query<{ channel_id: string; outcome: string; status: number | null; n: number }>(
      w.persistTo,
      'SELECT channel_id, outcome, status, count(*) AS n FROM delivery_attempts GROUP BY channel_id, outcome, status ORDER BY channel_id, outcome',
    );
    console.log(`receivers: ${JSON.stringify(attempts)}`);
    expect(attempts.filter((a) => a.channel_id === 'errors' && a.status === 500).length).toBe(1);
    expect(attempts.filter((a) => a.channel_id === 'throttled' && a.status === 429).length).toBe(1);
    expect(attempts.filter((a) => a.channel_id === 'slow' && a.status === null).length).toBeGreaterThanOrEqual(1);
    // The receiver has each request before the Worker has written down its answer: wait for that.
    const left = () =>
      d1Query<{ state: string; n: number }>(
        w.persistTo,
        "SELECT state, count(*) AS n FROM outbox WHERE state <> 'delivered' GROUP BY state",
      );
    await waitFor('the outbox all delivered', async () => left().length === 0, 30_000, 1000).catch(() => undefined);
    expect(left()).toEqual([]);
  }, 300_000);
});
