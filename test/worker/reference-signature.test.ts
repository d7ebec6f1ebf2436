// Heartbeats signed by the Standard Webhooks reference implementation, as an outside agent would.
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { BASE, errorCode, heartbeatBody, send } from './fixtures/requests.ts';
import { TEST_AGENT_SECRETS } from './fixtures/secrets.ts';

function referenceRequest(body: string, id: string, at: Date, signedBody = body): Request {
  const signature = new Webhook(TEST_AGENT_SECRETS.alpha[0]).sign(id, at, signedBody);
  return new Request(`${BASE}/v1/agents/alpha/heartbeats`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': signature,
    },
    body,
  });
}

describe('a heartbeat signed with the standardwebhooks reference package', () => {
  it('is accepted (202), then refused as a replay when sent again (409)', async () => {
    const body = JSON.stringify(heartbeatBody({ seq: 1, boot: 'reference-run' }));
    const first = await send(referenceRequest(body, 'msg_reference_1', new Date()));
    expect(first.status).toBe(202);
    const again = await send(referenceRequest(body, 'msg_reference_1', new Date()));
    expect(again.status).toBe(409);
    expect(await errorCode(again)).toBe('replay');
  });

  it('is refused when the body differs from what was signed (401)', async () => {
    const signed = JSON.stringify(heartbeatBody({ seq: 2, boot: 'reference-run-2' }));
    const changed = JSON.stringify(heartbeatBody({ seq: 3, boot: 'reference-run-2' }));
    const res = await send(referenceRequest(changed, 'msg_reference_2', new Date(), signed));
    expect(res.status).toBe(401);
    expect(await errorCode(res)).toBe('invalid_signature');
  });

  it('is refused when its timestamp is 10 minutes old (401)', async () => {
    const body = JSON.stringify(heartbeatBody({ seq: 4, boot: 'reference-run-3' }));
    const res = await send(referenceRequest(body, 'msg_reference_3', new Date(Date.now() - 10 * 60 * 1000)));
    expect(res.status).toBe(401);
    expect(await errorCode(res)).toBe('timestamp_out_of_range');
  });
});
