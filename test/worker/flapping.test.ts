// A signal that flaps on every heartbeat for 10 minutes, through the real heartbeat route and the
// agent's Durable Object on a virtual clock, delivered to real receivers: one flapping window, one
// page per channel, no resolve while it keeps flapping. (The core runs the same rule on hours of
// simulated time in core/engine/hysteresis-and-flapping.test.ts; this is the same promise end to end
// through routes, storage and notifiers, without waiting 10 real minutes.)
import { describe, expect, it } from 'vitest';
import { received } from './fixtures/hub.ts';
import { deliverAt } from './fixtures/paging.ts';
import { setClock } from './fixtures/durable.ts';
import { heartbeatBody, sendHeartbeat } from './fixtures/requests.ts';
import { DAY_AHEAD } from './fixtures/simulated.ts';

const AGENT = 'page-flap';
const INTERVAL_S = 5;
const DURATION_S = 600;

describe('a flapping signal', () => {
  it('alternating stale / fresh on every heartbeat for 10 minutes pages once per channel', async () => {
    const start = Math.ceil(DAY_AHEAD / 300_000) * 300_000;
    const boot = `boot-flap-${Date.now()}`;
    const statuses: number[] = [];
    for (let i = 0; i * INTERVAL_S <= DURATION_S; i++) {
      const now = start + i * INTERVAL_S * 1000;
      await setClock(AGENT, now);
      const body = heartbeatBody({
        seq: i + 1,
        boot,
        sent_at: new Date(now).toISOString(),
        interval_s: INTERVAL_S,
        grace_s: INTERVAL_S,
        signals: [{ name: 'metrics.freshness', kind: 'freshness', value: i % 2 === 0 ? 900 : 5, unit: 's', error: null }],
      });
      statuses.push((await sendHeartbeat(body, { agent: AGENT })).status);
      await deliverAt(now, AGENT);
    }
    expect(statuses.filter((s) => s !== 202)).toEqual([]);
    const events = (await received('hook'))
      .filter((r) => r.body.includes(AGENT))
      .map((r) => JSON.parse(r.body) as { type: string; data: { window: { monitor: string; cause: string } } });
    expect(events.map((e) => [e.type, e.data.window.monitor, e.data.window.cause])).toEqual([
      ['window.opened', 'metrics-fresh', 'flapping'],
    ]);
    // Every other routed channel got the same one trigger, and nothing else.
    for (const channel of ['pd', 'og', 'slack', 'discord', 'teams']) {
      expect(
        (await received(channel)).filter((r) => r.body.includes(AGENT) || r.path.includes(AGENT)),
        channel,
      ).toHaveLength(1);
    }
  });
});
