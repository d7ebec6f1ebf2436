import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSecret, sign } from '../../protocol/signature.ts';
import { startEventReceiver } from '../../scripts/event-receiver.ts';

const secret = generateSecret();
const printed: string[] = [];
let url = '';
let close: () => void = () => {};

beforeAll(async () => {
  const server = await startEventReceiver(0, secret, (line) => printed.push(line));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/blindspot-events`;
  close = () => server.close();
});
afterAll(() => close());

/** Posts a body to the demo receiver, signed with `key` as the Worker signs its webhook events. */
async function post(body: string, key = secret): Promise<number> {
  const id = `msg_${printed.length}_${Math.random().toString(36).slice(2)}`;
  const ts = Math.floor(Date.now() / 1000);
  const headers = { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': await sign([key], id, ts, body) };
  return (await fetch(url, { method: 'POST', body, headers })).status;
}

describe("npm start's event receiver", () => {
  it('prints a window event with its agent, cause and times', async () => {
    const window = { agent: 'demo', cause: 'silence', started_at: '2026-12-03T00:00:00Z', ended_at: null };
    expect(await post(JSON.stringify({ type: 'window.opened', data: { window } }))).toBe(204);
    expect(printed.at(-1)).toBe('[events] window.opened: agent demo silence, started 2026-12-03T00:00:00Z');
  });

  it("prints a watchdog summary's sentence, not that it is not JSON", async () => {
    const text = 'The watchdog was not running for 3 minutes.';
    expect(await post(JSON.stringify({ type: 'watchdog.summary', data: { text, gap: {}, windows: [] } }))).toBe(204);
    expect(printed.at(-1)).toBe(`[events] watchdog.summary: ${text}`);
  });

  it('refuses a body that is not JSON, and one signed with another key', async () => {
    expect(await post('{"type":')).toBe(400);
    expect(printed.at(-1)).toBe('[events] received an event that is not JSON');
    expect(await post('{}', generateSecret())).toBe(401);
    expect(printed.at(-1)).toBe('[events] refused an event with a bad signature');
  });
});
