// Flapping on real parts: signed heartbeats over HTTP to wrangler dev (workerd + local D1) every 5 s
// for 10 minutes, with a freshness signal that alternates stale / fresh on every heartbeat. On-call
// must get exactly one notification for all of it.
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSecret, sign } from '../../protocol/signature.ts';
import { startTestWorker, type TestWorker } from '../support/e2e-worker.ts';
import { type Recorder, startRecorder } from '../support/http-recorder.ts';

const INTERVAL_S = 5;
const DURATION_S = 600;
const agentSecret = generateSecret();
const webhookSecret = generateSecret();
let worker: TestWorker | undefined;
let receiver: Recorder | undefined;
interface Event {
  type: string;
  data: { window: { monitor: string; cause: string } };
}
/** Verified on arrival: Standard Webhooks refuses timestamps older than 5 minutes, and the run is 10. */
const events: (Event | Error)[] = [];

beforeAll(async () => {
  receiver = await startRecorder();
  receiver.answer((req) => {
    try {
      events.push(new Webhook(webhookSecret).verify(req.body, req.headers as Record<string, string>) as Event);
    } catch (e: unknown) {
      events.push(e instanceof Error ? e : new Error(String(e)));
    }
    return { status: 202, body: '{}' };
  });
  worker = await startTestWorker('flap', {
    BLINDSPOT_AGENT_SECRETS: `{"flappy":["${agentSecret}"]}`,
    BLINDSPOT_CONFIG: '{}',
    BLINDSPOT_WEBHOOK_URL: `${receiver.url}/events`,
    BLINDSPOT_WEBHOOK_SECRET: webhookSecret,
  });
}, 90_000);

afterAll(async () => {
  await worker?.stop();
  await receiver?.close();
});

/** Sends one heartbeat, retrying wrangler dev's occasional 503 the way the agent does. */
async function heartbeat(seq: number, freshnessS: number): Promise<number> {
  const body = JSON.stringify({ v: 1, seq, boot: 'flap-run', sent_at: new Date().toISOString(), interval_s: INTERVAL_S, grace_s: INTERVAL_S, signals: [{ name: 'metrics.freshness', kind: 'freshness', value: freshnessS, unit: 's', error: null }] });
  const id = `msg_flap_${seq}`;
  let status = 0;
  for (let attempt = 0; attempt < 4; attempt++) {
    const timestamp = Math.floor(Date.now() / 1000);
    const res = await fetch(`${worker!.url}/v1/agents/flappy/heartbeats`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': await sign([agentSecret], id, timestamp, body) },
      body,
    });
    status = res.status;
    await res.arrayBuffer();
    if (status !== 503) return status;
    await new Promise((r) => setTimeout(r, 250));
  }
  return status;
}

describe('a flapping signal', () => {
  it('alternating on every heartbeat for 10 minutes produces exactly one notification', async () => {
    const start = Date.now();
    const statuses: number[] = [];
    for (let i = 0; i * INTERVAL_S <= DURATION_S; i++) {
      statuses.push(await heartbeat(i + 1, i % 2 === 0 ? 900 : 5));
      const wait = start + (i + 1) * INTERVAL_S * 1000 - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    // 409 is a retried heartbeat that had in fact been taken (its replay); anything else is a failure.
    expect(statuses.filter((s) => s !== 202 && s !== 409), worker!.worker?.output()).toEqual([]);
    await new Promise((r) => setTimeout(r, 3000));
    expect(events.map((e) => (e instanceof Error ? e.message : [e.type, e.data.window.monitor, e.data.window.cause]))).toEqual([['window.opened', 'auto:metrics.freshness', 'flapping']]);
  }, (DURATION_S + 120) * 1000);
});
