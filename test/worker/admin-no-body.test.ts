// Admin routes that take no body refuse one with fields: an operator who sends
// {"interval_s": 30} to "add agent" must not read the 201 as the interval being set.
import { describe, expect, it } from 'vitest';
import { ADMIN_TOKEN } from './fixtures/channels.ts';
import { BASE, send, uniqueId } from './fixtures/requests.ts';

const post = (path: string, body?: string) =>
  send(
    new Request(`${BASE}/v1/admin${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body }),
    }),
  );

async function agents(): Promise<string[]> {
  const res = await send(new Request(`${BASE}/v1/admin/agents`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }));
  return ((await res.json()) as { agents: { id: string }[] }).agents.map((a) => a.id);
}

async function refusal(res: Response): Promise<{ status: number; code: string; message: string }> {
  const json = (await res.json()) as { error: { code: string; message: string } };
  return { status: res.status, ...json.error };
}

describe('an admin route that takes no body', () => {
  it.each([
    '/agents/ID',
    '/agents/ID/keys',
    '/channels/webhook/test',
    '/channels/webhook/enable',
    '/notifications/nothing-here/retry',
    '/maintenances/nothing-here/start',
    '/maintenances/nothing-here/complete',
  ])('POST %s: a body with fields is a 400 naming the route, and nothing is changed', async (route) => {
    const id = `no-body-${uniqueId()}`;
    const path = route.replace('ID', id);
    for (const body of ['{"interval_s":30}', 'interval=30', '[]', 'null']) {
      const got = await refusal(await post(path, body));
      expect(got, body).toEqual({
        status: 400,
        code: 'unexpected_body',
        message: expect.stringContaining(`POST /v1/admin${path} takes no body`),
      });
    }
    expect(await agents()).not.toContain(id);
    // Over 1 KiB: refused before it is read through.
    expect((await refusal(await post(path, `{"x":"${'a'.repeat(2000)}"}`))).code).toBe('body_too_large');
  });

  it('takes none, an empty one, or {} as before', async () => {
    for (const body of [undefined, '', ' {  } ']) {
      const id = `no-body-ok-${uniqueId()}`;
      const res = await post(`/agents/${id}`, body);
      expect(res.status, await res.clone().text()).toBe(201);
      expect(await agents()).toContain(id);
    }
  });
});
