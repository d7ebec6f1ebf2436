import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { sign } from '../../protocol/signature.ts';
import { BASE, errorCode, heartbeatBody, send, sendHeartbeat, signedRequest, uniqueId } from './fixtures/requests.ts';
import { TEST_AGENT_SECRETS, WRONG_SECRET } from './fixtures/secrets.ts';

async function liveSeq(agent: string): Promise<number | null> {
  const live = await env.AGENT.get(env.AGENT.idFromName(agent)).getStatus();
  return live?.seq ?? null;
}

describe('POST /v1/agents/{agent}/heartbeats', () => {
  it('accepts a correctly signed heartbeat with 202 and the next deadline', async () => {
    const res = await sendHeartbeat(heartbeatBody({ interval_s: 20 }));
    expect(res.status).toBe(202);
    const json = (await res.json()) as { accepted: boolean; deadline_at: string };
    expect(json.accepted).toBe(true);
    const deadlineIn = Date.parse(json.deadline_at) - Date.now();
    // interval 20 s + default grace max(20, 10) = 40 s.
    expect(deadlineIn).toBeGreaterThan(38_000);
    expect(deadlineIn).toBeLessThanOrEqual(40_000);
  });

  it('accepts a signature made with the second secret of a rotating agent', async () => {
    const res = await sendHeartbeat(heartbeatBody(), { agent: 'rotating', secrets: [TEST_AGENT_SECRETS.rotating[1]] });
    expect(res.status).toBe(202);
  });

  it('accepts a header carrying several signatures when one of them matches', async () => {
    const body = JSON.stringify(heartbeatBody());
    const id = uniqueId();
    const ts = Math.floor(Date.now() / 1000);
    const header = `${await sign([WRONG_SECRET], id, ts, body)} ${await sign(TEST_AGENT_SECRETS.alpha, id, ts, body)}`;
    const res = await send(
      new Request(`${BASE}/v1/agents/alpha/heartbeats`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': header },
        body,
      }),
    );
    expect(res.status).toBe(202);
  });

  it('refuses a signature made with a wrong secret (401)', async () => {
    const res = await sendHeartbeat(heartbeatBody(), { secrets: [WRONG_SECRET] });
    expect(res.status).toBe(401);
    expect(await errorCode(res)).toBe('invalid_signature');
  });

  it('refuses a body changed after signing (401)', async () => {
    const request = await signedRequest(JSON.stringify(heartbeatBody({ seq: 1 })));
    const tampered = new Request(request, { body: JSON.stringify(heartbeatBody({ seq: 2 })) });
    const res = await send(tampered);
    expect(res.status).toBe(401);
    expect(await errorCode(res)).toBe('invalid_signature');
  });

  it.each([
    ['garbage', 'garbage'],
    ['a v2 scheme', 'v2,AAAA'],
    ['an empty signature', 'v1,'],
    ['bad base64', 'v1,!!!!'],
  ])('refuses %s in webhook-signature (401)', async (_label, header) => {
    const request = await signedRequest(JSON.stringify(heartbeatBody()));
    request.headers.set('webhook-signature', header);
    const res = await send(request);
    expect(res.status).toBe(401);
  });

  it('rejects the same webhook-id a second time as a replay (409) without changing state', async () => {
    const request = await signedRequest(JSON.stringify(heartbeatBody({ seq: 7, boot: 'replay-boot' })), { agent: 'rotating' });
    const again = request.clone() as Request;
    expect((await send(request)).status).toBe(202);
    const res = await send(again);
    expect(res.status).toBe(409);
    expect(await errorCode(res)).toBe('replay');
    expect(await liveSeq('rotating')).toBe(7);
  });

  it('rejects a seq that does not grow within one boot (409)', async () => {
    expect((await sendHeartbeat(heartbeatBody({ seq: 5, boot: 'order-1' }))).status).toBe(202);
    const res = await sendHeartbeat(heartbeatBody({ seq: 5, boot: 'order-1' }));
    expect(res.status).toBe(409);
    expect(await errorCode(res)).toBe('out_of_order');
    expect((await sendHeartbeat(heartbeatBody({ seq: 1, boot: 'order-2' }))).status).toBe(202);
  });

  it.each([
    [
      'an interval past silence.max_interval_s (600 by default)',
      { interval_s: 601 },
      'interval_too_long',
      /interval_s is 601; this watchdog takes at most 600 \(silence\.max_interval_s/,
    ],
    [
      'a grace past silence.max_grace_s (600 by default)',
      { interval_s: 15, grace_s: 86_400 },
      'grace_too_long',
      /grace_s is 86400; this watchdog takes at most 600 \(silence\.max_grace_s/,
    ],
  ])('refuses %s with a 422 naming the limit, and takes nothing', async (_label, over, code, message) => {
    const res = await sendHeartbeat(heartbeatBody({ ...over, boot: 'too-long' }), { agent: 'juliet' });
    expect(res.status).toBe(422);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe(code);
    expect(body.error.message).toMatch(message);
    expect(await liveSeq('juliet')).toBeNull();
  });

  it('takes the longest interval and grace the configuration allows', async () => {
    const res = await sendHeartbeat(heartbeatBody({ interval_s: 600, grace_s: 600, boot: 'longest' }), { agent: 'india' });
    expect(res.status).toBe(202);
    expect(Date.parse(((await res.json()) as { deadline_at: string }).deadline_at) - Date.now()).toBeGreaterThan(1_199_000);
  });

  it.each([
    ['10 minutes old', -600],
    ['301 s old', -301],
    ['10 minutes in the future', 600],
  ])('refuses a timestamp %s (401)', async (_label, offsetS) => {
    const res = await sendHeartbeat(heartbeatBody(), { timestamp: Math.floor(Date.now() / 1000) + offsetS });
    expect(res.status).toBe(401);
    expect(await errorCode(res)).toBe('timestamp_out_of_range');
  });

  it('accepts a timestamp 290 s old, inside the tolerance', async () => {
    const res = await sendHeartbeat(heartbeatBody({ seq: 100 }), { timestamp: Math.floor(Date.now() / 1000) - 290 });
    expect(res.status).toBe(202);
  });

  it('refuses an agent without a configured secret (401) and a malformed agent id (400)', async () => {
    const unknown = await sendHeartbeat(heartbeatBody(), { agent: 'nobody', secrets: TEST_AGENT_SECRETS.alpha });
    expect(unknown.status).toBe(401);
    expect(await errorCode(unknown)).toBe('unknown_agent');
    const bad = await sendHeartbeat(heartbeatBody(), { agent: 'Bad_Agent', secrets: TEST_AGENT_SECRETS.alpha });
    expect(bad.status).toBe(400);
    expect(await errorCode(bad)).toBe('invalid_agent_id');
  });

  it('refuses a 17 KiB body (413) whether or not it declares its length', async () => {
    const big = JSON.stringify(heartbeatBody({ padding: 'x'.repeat(17 * 1024) }));
    const declared = await send(await signedRequest(big));
    expect(declared.status).toBe(413);
    expect(await errorCode(declared)).toBe('body_too_large');

    const signed = await signedRequest(big);
    const bytes = new TextEncoder().encode(big);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 1024) controller.enqueue(bytes.slice(i, i + 1024));
        controller.close();
      },
    });
    const headers = new Headers(signed.headers);
    headers.delete('content-length');
    const streamed = await send(new Request(signed.url, { method: 'POST', headers, body: stream, duplex: 'half' } as RequestInit));
    expect(streamed.status).toBe(413);
  });

  it('refuses a non-JSON content type (415)', async () => {
    const res = await send(await signedRequest(JSON.stringify(heartbeatBody()), { contentType: 'text/plain' }));
    expect(res.status).toBe(415);
    expect(await errorCode(res)).toBe('unsupported_media_type');
  });

  it('accepts application/json with a charset parameter', async () => {
    const res = await send(
      await signedRequest(JSON.stringify(heartbeatBody({ seq: 200 })), { contentType: 'application/json; charset=utf-8' }),
    );
    expect(res.status).toBe(202);
  });

  it('refuses malformed JSON (400) and says so', async () => {
    const res = await send(await signedRequest('{"v":1,'));
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe('malformed_json');
  });

  it('refuses missing signature headers (400)', async () => {
    const res = await send(
      new Request(`${BASE}/v1/agents/alpha/heartbeats`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }),
    );
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe('missing_signature_headers');
  });

  it.each([
    ['a wrong protocol version', { v: 2 }, 'v'],
    ['a negative seq', { seq: -1 }, 'seq'],
    ['a fractional seq', { seq: 1.5 }, 'seq'],
    ['a sent_at that is not RFC 3339', { sent_at: 'yesterday' }, 'sent_at'],
    ['an interval of 0', { interval_s: 0 }, 'interval_s'],
    ['an interval given as a string', { interval_s: '15' }, 'interval_s'],
    ['65 signals', { signals: Array.from({ length: 65 }, (_, i) => ({ name: `s${i}`, kind: 'dropped', value: 0 })) }, 'signals'],
    ['an unknown signal kind', { signals: [{ name: 'x', kind: 'latency', value: 1 }] }, 'signals.0.kind'],
    ['a null value without an error', { signals: [{ name: 'x', kind: 'freshness', value: null }] }, 'unknown is not zero'],
    ['a sampling ratio above 1', { signals: [{ name: 'x', kind: 'sampling', value: 1.5 }] }, 'ratio'],
    [
      'two signals with the same name and labels',
      {
        signals: [
          { name: 'x', kind: 'dropped', value: 0 },
          { name: 'x', kind: 'dropped', value: 1 },
        ],
      },
      'same name',
    ],
  ])('refuses %s (422) and names the field', async (_label, override, fragment) => {
    const res = await sendHeartbeat(heartbeatBody(override));
    expect(res.status).toBe(422);
    const json = (await res.json()) as { error: { code: string; message: string } };
    expect(json.error.code).toBe('invalid_heartbeat');
    expect(json.error.message).toContain(fragment);
  });

  it("takes doctor's dry run like a heartbeat, and records nothing", async () => {
    const body = JSON.stringify(heartbeatBody({ seq: 1, boot: 'dry-run' }));
    const ok = await send(await signedRequest(body, { agent: 'kilo', path: 'check' }));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ ok: true, agent: 'kilo' });
    expect(await env.DB.prepare("SELECT count(*) AS n FROM agents WHERE id = 'kilo'").first<{ n: number }>()).toEqual({ n: 0 });
    // The same id again is not a replay: nothing was recorded.
    expect((await send(await signedRequest(body, { agent: 'kilo', path: 'check', id: 'msg_dry_1' }))).status).toBe(200);
    expect((await send(await signedRequest(body, { agent: 'kilo', path: 'check', id: 'msg_dry_1' }))).status).toBe(200);
  });

  it.each([
    ['an unknown agent', { agent: 'nobody-here' }, 401, 'unknown_agent'],
    ['a wrong secret', { agent: 'kilo', secrets: [WRONG_SECRET] }, 401, 'invalid_signature'],
    ['a clock 10 minutes off', { agent: 'kilo', timestamp: Math.floor(Date.now() / 1000) - 600 }, 401, 'timestamp_out_of_range'],
  ] as const)("refuses doctor's dry run from %s as it would the heartbeat", async (_what, options, status, code) => {
    const res = await send(await signedRequest(JSON.stringify(heartbeatBody()), { ...options, path: 'check' }));
    expect(res.status).toBe(status);
    expect(await errorCode(res)).toBe(code);
  });

  it("refuses doctor's dry run with a body the heartbeat route would refuse", async () => {
    const res = await send(await signedRequest(JSON.stringify({ v: 1, seq: -1 }), { agent: 'kilo', path: 'check' }));
    expect(res.status).toBe(422);
    expect(await errorCode(res)).toBe('invalid_heartbeat');
  });

  it('answers other methods with 405 and an Allow header', async () => {
    const res = await send(new Request(`${BASE}/v1/agents/alpha/heartbeats`));
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect(await errorCode(res)).toBe('method_not_allowed');
  });

  it('answers a method no route takes with one JSON 405 everywhere, naming the methods it does take', async () => {
    for (const [method, path, allow] of [
      ['POST', '/', 'GET, HEAD'],
      ['DELETE', '/api/v2/summary.json', 'GET, HEAD'],
      ['PUT', '/v1/agents/alpha/backfill', 'POST'],
      ['GET', '/v1/alertmanager/prod', 'POST'],
    ] as const) {
      const res = await send(new Request(`${BASE}${path}`, { method }));
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get('allow')).toBe(allow);
      expect(await errorCode(res)).toBe('method_not_allowed');
    }
  });

  it('sends the secure headers on every answer, and lets badges and the JSON be embedded elsewhere', async () => {
    for (const path of ['/', '/badge/metrics', '/api/v2/summary.json', '/v1/nothing']) {
      const res = await send(new Request(`${BASE}${path}`));
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('x-frame-options'), path).toBe('DENY');
      expect(res.headers.get('referrer-policy'), path).toBe('strict-origin-when-cross-origin');
      expect(res.headers.get('cross-origin-resource-policy'), path).toBe('cross-origin');
      expect(res.headers.get('content-security-policy'), path).toMatch(/default-src 'none'/);
      expect(res.headers.get('date'), path).not.toBeNull();
    }
  });

  it('answers unknown routes with a JSON 404', async () => {
    const res = await send(new Request(`${BASE}/v1/nothing`));
    expect(res.status).toBe(404);
    expect(await errorCode(res)).toBe('not_found');
  });
});
