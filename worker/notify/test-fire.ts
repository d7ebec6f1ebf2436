// A test notification, to prove a channel works end to end: a made-up window on agent
// "blindspot-test" that is opened and, for paging channels, closed again at once, so PagerDuty and
// Opsgenie do not keep an open alert. It does not go through the outbox; each attempt is logged.
import type { WindowEventType } from '../core/window-event.ts';
import type { Channel, SendResult } from './channel.ts';
import { parseBody } from './render.ts';

export interface TestFireResult {
  ok: boolean;
  sent: { event: WindowEventType; status: number | null; outcome: SendResult['outcome']; latency_ms: number; error: string | null }[];
}

function testPayload(type: 'window.opened' | 'window.closed', windowId: string, startedAt: number, now: number): string {
  return JSON.stringify({
    type,
    timestamp: new Date(now).toISOString(),
    data: {
      window: {
        id: windowId,
        agent: 'blindspot-test',
        monitor: 'test-fire',
        component: 'monitoring',
        severity: 'info',
        cause: 'test',
        level: 'degraded',
        signal: null,
        started_at: new Date(startedAt).toISOString(),
        confirmed_at: new Date(startedAt).toISOString(),
        ended_at: type === 'window.closed' ? new Date(now).toISOString() : null,
        duration_s: (now - startedAt) / 1000,
        peak_value: null,
        suppressed_by: null,
        thresholds: null,
        suppresses: [],
      },
    },
  });
}

export async function testFire(channel: Channel, now: number, nonce: string): Promise<TestFireResult> {
  const windowId = `blindspot-test:test-fire:${nonce}`;
  const types: ('window.opened' | 'window.closed')[] =
    channel.type === 'pagerduty' || channel.type === 'opsgenie' ? ['window.opened', 'window.closed'] : ['window.opened'];
  const result: TestFireResult = { ok: true, sent: [] };
  for (const type of types) {
    const payload = testPayload(type, windowId, now, now);
    const eventId = `${windowId}:${type === 'window.opened' ? 'opened' : 'closed'}`;
    const r = await channel.send({ id: `${eventId}@${channel.id}`, eventId, type, payload, body: parseBody(payload) });
    result.sent.push({ event: type, status: r.status, outcome: r.outcome, latency_ms: Math.round(r.latencyMs), error: r.error });
    if (r.outcome !== 'delivered') {
      result.ok = false;
      break;
    }
  }
  return result;
}
