import { describe, expect, it } from 'vitest';
import { agentRow, outboxOf, windowsOf } from './fixtures/d1.ts';
import { agentStub } from './fixtures/durable.ts';
import { hostileBodies } from './fixtures/hostile-bodies.ts';
import { send, signedRequest } from './fixtures/requests.ts';

describe('200 malformed heartbeat bodies, each correctly signed', () => {
  it('get a 4xx JSON error each, never a 5xx, and change no state', async () => {
    const bodies = hostileBodies(200);
    expect(bodies).toHaveLength(200);
    const statuses = new Map<number, number>();
    for (const body of bodies) {
      const res = await send(await signedRequest(body, { agent: 'alpha' }));
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const json = (await res.json()) as { error?: { code: string; message: string } };
      expect(res.status, body.slice(0, 200)).toBeGreaterThanOrEqual(400);
      expect(res.status, body.slice(0, 200)).toBeLessThan(500);
      expect(json.error?.message.length).toBeGreaterThan(0);
    }
    expect([...statuses.keys()].sort(), JSON.stringify([...statuses])).toEqual([400, 413, 422].filter((s) => statuses.has(s)));
    expect(statuses.get(422)).toBeGreaterThan(100);
    expect(await agentStub('alpha').getStatus()).toBeNull();
    expect(await agentRow('alpha')).toBeNull();
    expect(await windowsOf('alpha')).toEqual([]);
    expect(await outboxOf('alpha')).toEqual([]);
  });

  it('refuses invalid UTF-8 with 400', async () => {
    const request = await signedRequest('{"v":1}');
    const broken = new Request(request, { body: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]) });
    const res = await send(broken);
    // The signature is over other bytes, so either refusal is right; it must not be a 5xx.
    expect([400, 401]).toContain(res.status);
  });
});
