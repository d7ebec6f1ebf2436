import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHeartbeat } from '../../agent/heartbeat.ts';
import { createSender } from '../../agent/transport/sender.ts';
import { WorkerClock } from '../../agent/transport/worker-clock.ts';
import { parseHeartbeat } from '../../protocol/heartbeat.ts';
import { generateSecret, sign } from '../../protocol/signature.ts';
import { type Recorder, startRecorder } from '../support/http-recorder.ts';

const secret = generateSecret();
let recorder: Recorder;
beforeAll(async () => {
  recorder = await startRecorder();
});
afterAll(async () => {
  await recorder.close();
});

const body = buildHeartbeat({
  seq: 1,
  boot: 'b1',
  intervalS: 15,
  graceS: undefined,
  now: new Date(),
  signals: [{ name: 'metrics.freshness', kind: 'freshness', value: 3, unit: 's', error: null }],
});

describe("the agent's sender", () => {
  it('signs heartbeats that the standardwebhooks reference package verifies', async () => {
    recorder.answer(() => ({ status: 202, body: '{"accepted":true}' }));
    const send = createSender({ workerUrl: recorder.url, agentId: 'a1', secret, timeoutMs: 2000 });
    expect(await send('hb_b1_1', body)).toEqual({ kind: 'accepted' });
    const request = recorder.requests.at(-1);
    expect(request?.url).toBe('/v1/agents/a1/heartbeats');
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers['webhook-id']).toBe('hb_b1_1');
    const verified = new Webhook(secret).verify(request?.body ?? '', request?.headers as Record<string, string>);
    expect(verified).toEqual(JSON.parse(body));
    expect(parseHeartbeat(verified).ok).toBe(true);
  });

  it('is refused by the reference verifier under a different secret', async () => {
    const request = recorder.requests.at(-1);
    expect(() => new Webhook(generateSecret()).verify(request?.body ?? '', request?.headers as Record<string, string>)).toThrow();
  });

  it('signs with every secret during a key rotation, each verifiable on its own', async () => {
    const next = generateSecret();
    const header = await sign([secret, next], 'id-1', 1_800_000_000, body);
    expect(header.split(' ')).toHaveLength(2);
    for (const s of [secret, next]) {
      const expected = new Webhook(s).sign('id-1', new Date(1_800_000_000_000), body);
      expect(header.split(' ')).toContain(expected);
    }
  });

  it.each([
    [500, 'retry'],
    [503, 'retry'],
    [429, 'retry'],
    [409, 'duplicate'],
    [401, 'rejected'],
    [422, 'rejected'],
  ])('classifies HTTP %i as %s', async (status, kind) => {
    recorder.answer(() => ({ status, body: JSON.stringify({ error: { code: 'x', message: 'y' } }), headers: { 'retry-after': '7' } }));
    const outcome = await createSender({ workerUrl: recorder.url, agentId: 'a1', secret, timeoutMs: 2000 })('id', body);
    expect(outcome.kind).toBe(kind);
    if (status === 429) expect(outcome).toMatchObject({ retryAfterMs: 7000 });
  });

  it('gives up on a Worker that does not answer within the timeout, as a retry', async () => {
    recorder.answer(() => 'hang');
    const outcome = await createSender({ workerUrl: recorder.url, agentId: 'a1', secret, timeoutMs: 300 })('id', body);
    expect(outcome).toMatchObject({ kind: 'retry', reason: 'no answer within 300 ms' });
  });

  it('does not follow a redirect with a signed heartbeat, and says where worker_url points instead', async () => {
    recorder.answer(() => ({
      status: 308,
      body: '',
      headers: { location: 'https://blindspot.example.workers.dev/v1/agents/a1/heartbeats' },
    }));
    const outcome = await createSender({ workerUrl: recorder.url, agentId: 'a1', secret, timeoutMs: 2000 })('id-redirect', body);
    expect(outcome).toEqual({
      kind: 'rejected',
      status: 308,
      code: 'redirect',
      message: 'worker_url redirects to https://blindspot.example.workers.dev/v1/agents/a1/heartbeats; configure that URL instead',
    });
  });

  it("signs with the Worker's time when the agent's clock is 10 minutes off: one refusal, then accepted, and the clock is kept", async () => {
    for (const skewMs of [600_000, -600_000]) {
      // A stand-in for the Worker's timestamp check, against the recorder's own (true) clock.
      recorder.answer((req) => {
        const off = Number(req.headers['webhook-timestamp']) - Date.now() / 1000;
        return Math.abs(off) > 300
          ? { status: 401, body: '{"error":{"code":"timestamp_out_of_range","message":"off"}}' }
          : { status: 202, body: '{"accepted":true}' };
      });
      const clock = new WorkerClock(() => Date.now() + skewMs);
      const send = createSender({ workerUrl: recorder.url, agentId: 'a1', secret, timeoutMs: 2000, clock });
      const before = recorder.requests.length;
      expect(await send('hb_skew_1', body)).toEqual({ kind: 'accepted' });
      expect(recorder.requests.length - before).toBe(2);
      expect(await send('hb_skew_2', body)).toEqual({ kind: 'accepted' });
      expect(recorder.requests.length - before).toBe(3);
      expect(Math.abs(clock.now() - Date.now())).toBeLessThan(1500);
    }
  });
});
