// Routing (pure) and the channel registry's handling of hostile secret settings.
import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../../../config/load.ts';
import type { Notifications } from '../../../config/resolve.ts';
import { deliveriesFor, routingTable, summaryChannels } from '../../../worker/core/routing.ts';
import { channelRegistry } from '../../../worker/notify/registry.ts';

function notifications(yaml: string): Notifications {
  const r = loadConfigText(yaml);
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.config.notifications;
}

const w = (over: Partial<{ agentId: string; monitor: string; component: string; severity: 'critical' | 'warning' | 'info' }> = {}) => ({
  agentId: 'prod-1',
  monitor: 'metrics-freshness',
  component: 'metrics',
  severity: 'critical' as const,
  ...over,
});

describe('routing', () => {
  const n = notifications(`
notifications:
  repeat_interval_s: 1800
  channels: [{ id: pd, type: pagerduty }, { id: slack, type: slack }, { id: teams, type: teams }]
  routes:
    - { channels: [pd], severities: [critical], repeat_interval_s: 3600 }
    - { channels: [pd, slack], agents: ["prod-*"], repeat_interval_s: 0 }
    - { channels: [teams], components: [tracing], monitors: ["trace-*"] }
`);
  const table = routingTable(n, []);

  it('sends a window to every channel of every route it matches, once each, the shorter non-zero repeat winning', () => {
    expect(deliveriesFor(table, w())).toEqual([
      { channel: 'pd', repeatIntervalS: 3600 },
      { channel: 'slack', repeatIntervalS: 0 },
    ]);
    expect(deliveriesFor(table, w({ agentId: 'staging-1', severity: 'warning' }))).toEqual([]);
    expect(deliveriesFor(table, w({ agentId: 'staging-1', monitor: 'trace-sampling', component: 'tracing', severity: 'info' }))).toEqual([
      { channel: 'teams', repeatIntervalS: 1800 },
    ]);
    expect(deliveriesFor(table, w({ agentId: 'staging-1', monitor: 'trace-sampling', component: 'metrics' }))).toEqual([
      { channel: 'pd', repeatIntervalS: 3600 },
    ]);
  });

  it('without routes every channel hears everything; the legacy webhook always does; summaries go to every routed channel', () => {
    const open = routingTable(notifications('notifications: { channels: [{ id: a, type: slack }, { id: b, type: discord }] }'), [
      'webhook',
    ]);
    expect(deliveriesFor(open, w({ severity: 'info' })).map((d) => d.channel)).toEqual(['a', 'b', 'webhook']);
    expect(deliveriesFor(open, w())[0]?.repeatIntervalS).toBe(3600);
    expect(summaryChannels(table)).toEqual(['pd', 'slack', 'teams']);
    expect(deliveriesFor(routingTable(notifications(''), []), w())).toEqual([]);
  });
});

describe('channel secrets (BLINDSPOT_CHANNEL_SECRETS)', () => {
  const n = notifications(`
notifications:
  channels: [{ id: pd, type: pagerduty }, { id: og, type: opsgenie }, { id: slack, type: slack }, { id: hook, type: webhook }]
`);
  const errorsOf = (env: Record<string, string | undefined>) =>
    Object.fromEntries(channelRegistry(env, n).info.map((i) => [i.id, i.error]));
  const SECRET_LOOKING = 'sk-live-9f8e7d6c5b4a39281706f5e4d3c2b1a0';

  it('names the missing entry and what to put there', () => {
    expect(errorsOf({})).toEqual({
      pd: 'BLINDSPOT_CHANNEL_SECRETS has no entry "pd"; set it to the 32-character Integration Key (routing key) of an Events API v2 integration',
      og: 'BLINDSPOT_CHANNEL_SECRETS has no entry "og"; set it to an Opsgenie API key (of an API integration)',
      slack: 'BLINDSPOT_CHANNEL_SECRETS has no entry "slack"; set it to the incoming-webhook URL (https://hooks.slack.com/services/...)',
      hook: 'BLINDSPOT_CHANNEL_SECRETS has no entry "hook"; set it to {"url": "https://...", "secret": "whsec_..."} (blindspot-agent keygen makes a secret)',
    });
  });

  it.each([
    ['not JSON', '{pd: abc'],
    ['an array', '["a"]'],
    ['a number map', '{"pd": 5}'],
  ])('refuses %s as a whole, for every channel, without echoing it', (_what, raw) => {
    const errors = Object.values(errorsOf({ BLINDSPOT_CHANNEL_SECRETS: raw }));
    expect(errors.every((e) => e?.startsWith('BLINDSPOT_CHANNEL_SECRETS '))).toBe(true);
    expect(errors.join()).not.toContain(raw);
  });

  it('refuses a value of the wrong shape for its type, naming the channel, never the value', () => {
    const errors = errorsOf({
      BLINDSPOT_CHANNEL_SECRETS: JSON.stringify({
        pd: `${SECRET_LOOKING}!`,
        og: 'short',
        slack: `javascript:${SECRET_LOOKING}`,
        hook: { url: 'https://h.example.com', secret: SECRET_LOOKING },
      }),
    });
    expect(errors['pd']).toMatch(/^BLINDSPOT_CHANNEL_SECRETS\["pd"\] is not valid for a channel of type pagerduty/);
    expect(errors['og']).toMatch(/^BLINDSPOT_CHANNEL_SECRETS\["og"\] is not valid for a channel of type opsgenie/);
    expect(errors['slack']).toMatch(/^BLINDSPOT_CHANNEL_SECRETS\["slack"\] is not valid for a channel of type slack/);
    expect(errors['hook']).toBe(
      'BLINDSPOT_CHANNEL_SECRETS["hook"].secret must be "whsec_" + base64 of 24 to 64 random bytes (blindspot-agent keygen makes one)',
    );
    expect(JSON.stringify(errors)).not.toContain(SECRET_LOOKING);
  });

  it('the legacy webhook is routed even while malformed, and says why it cannot send', () => {
    const r = channelRegistry({ BLINDSPOT_WEBHOOK_URL: 'not a url', BLINDSPOT_WEBHOOK_SECRET: 'whsec_x' }, notifications(''));
    expect(r.info).toEqual([
      { id: 'webhook', type: 'webhook', source: 'BLINDSPOT_WEBHOOK_URL', error: 'BLINDSPOT_WEBHOOK_URL must be an http(s) URL' },
    ]);
    expect(r.channels.size).toBe(0);
    expect(deliveriesFor(r.routing, w()).map((d) => d.channel)).toEqual(['webhook']);
  });
});
