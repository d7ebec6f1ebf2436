// Each channel's payload, checked field by field against the provider's published format, as
// received by a real HTTP receiver on 127.0.0.1. The generic webhook is verified with the
// standardwebhooks package.
import { env } from 'cloudflare:workers';
import { Webhook } from 'standardwebhooks';
import { beforeAll, describe, expect, it } from 'vitest';
import type { HubRequest } from '../support/receiver-hub.ts';
import { HOOK_SECRET, OPSGENIE_KEY, PD_ROUTING_KEY } from './fixtures/channels.ts';
import { received } from './fixtures/hub.ts';
import { deliverAt, rowsOf } from './fixtures/paging.ts';
import { fresh, SimulatedAgent } from './fixtures/simulated.ts';

const AGENT = 'page-format';
const a = new SimulatedAgent(AGENT);
const mine = (reqs: HubRequest[]) => reqs.filter((r) => r.body.includes(AGENT) || r.path.includes(AGENT));
const bodies = async (receiver: string) =>
  // biome-ignore lint/suspicious/noExplicitAny: each provider's JSON is checked field by field below
  mine(await received(receiver)).map((r) => ({ ...r, json: JSON.parse(r.body || '{}') as Record<string, any> }));

describe('channel payloads', () => {
  let windowId: string;

  beforeAll(async () => {
    // prometheus.up 900 s old, twice: blind (max_age_s 60), confirmed at the second heartbeat.
    await a.heartbeat(0, [fresh('prometheus.up', 900)]);
    await a.heartbeat(5, [fresh('prometheus.up', 900)]);
    const opened = await deliverAt(a.at(5), AGENT);
    // The seventh, the legacy webhook on port 9, refuses and is retried.
    expect(opened).toMatchObject({ delivered: 6, retrying: 1, dead: 0 });
    // Healthy again from second 10: recover_for is 3 heartbeats and 60 s.
    for (let s = 10; s <= 75; s += 5) await a.heartbeat(s, [fresh('prometheus.up', 1)]);
    const closed = await deliverAt(a.at(75), AGENT);
    expect(closed).toMatchObject({ delivered: 6, retrying: 1, dead: 0 });
    windowId = `${AGENT}:prometheus-up:${a.at(0)}`;
  });

  it('queues one row per routed channel, in the same batch as the window, and the legacy webhook too', async () => {
    const rows = await rowsOf(AGENT);
    const byChannel = (c: string) => rows.filter((r) => r.channel_id === c).map((r) => `${r.event_type}:${r.state}`);
    // The trigger's delivery planned a reminder (repeat_interval_s 600); the close cancelled it.
    for (const c of ['pd', 'og', 'slack', 'discord', 'teams', 'hook'])
      expect(byChannel(c)).toEqual(['window.opened:delivered', 'window.repeat:cancelled', 'window.closed:delivered']);
    // The legacy webhook (port 9, refusing) was routed everything too; its rows wait.
    expect(byChannel('webhook')).toEqual(['window.opened:pending', 'window.closed:pending']);
    const { results } = await env.DB.prepare('SELECT id, notified_at FROM windows WHERE agent_id = ?')
      .bind(AGENT)
      .all<{ id: string; notified_at: number | null }>();
    expect(results).toEqual([{ id: windowId, notified_at: a.at(5) }]);
  });

  it('PagerDuty: trigger and resolve share dedup_key = the window id (Events API v2)', async () => {
    const [trigger, resolve, ...more] = await bodies('pd');
    expect(more).toEqual([]);
    expect(trigger?.path).toBe('/pd/v2/enqueue');
    expect(trigger?.headers['content-type']).toBe('application/json');
    const t = trigger!.json;
    expect(Object.keys(t).sort()).toEqual(['client', 'client_url', 'dedup_key', 'event_action', 'links', 'payload', 'routing_key']);
    expect(t).toMatchObject({
      routing_key: PD_ROUTING_KEY,
      event_action: 'trigger',
      dedup_key: windowId,
      client: 'Blindspot',
      client_url: 'https://status.example.test/',
    });
    expect(t.payload).toMatchObject({
      source: AGENT,
      severity: 'critical',
      component: 'metrics',
      group: 'prometheus-up',
      class: 'stale',
      timestamp: new Date(a.at(0)).toISOString(),
    });
    expect(t.payload.summary.length).toBeLessThanOrEqual(1024);
    expect(t.payload.summary).toBe(
      'BLIND: prometheus-up on page-format: telemetry is stale (peak 900), for 5 s. Held back while this is down (not paged separately): metrics-fresh.',
    );
    expect(t.payload.custom_details).toMatchObject({
      window_id: windowId,
      event: 'window.opened',
      peak_value: '900',
      signal: 'prometheus.up',
      thresholds: { kind: 'freshness', degraded: { maxAgeS: 120 }, blind: { maxAgeS: 60 } },
      held_back: ['metrics-fresh'],
    });
    expect(t.links).toEqual([
      { href: 'https://status.example.test/', text: 'Status page' },
      { href: `https://status.example.test/gaps?from=${encodeURIComponent(new Date(a.at(0)).toISOString())}`, text: 'Gap report' },
    ]);
    expect(resolve?.json).toEqual({ routing_key: PD_ROUTING_KEY, event_action: 'resolve', dedup_key: windowId });
  });

  it('Opsgenie: create with alias = window id, close by alias, GenieKey auth, EU endpoint override', async () => {
    const [create, close, ...more] = await bodies('og');
    expect(more).toEqual([]);
    expect(create?.path).toBe('/og/v2/alerts');
    expect(create?.headers['authorization']).toBe(`GenieKey ${OPSGENIE_KEY}`);
    const c = create!.json;
    expect(c).toMatchObject({
      alias: windowId,
      priority: 'P1',
      entity: AGENT,
      source: 'blindspot',
      tags: ['blindspot', 'metrics', 'stale', 'blind'],
    });
    expect(c.message.length).toBeLessThanOrEqual(130);
    expect(c.description).toContain('Gap report: https://status.example.test/gaps?from=');
    expect(Object.values(c.details).every((v) => typeof v === 'string')).toBe(true);
    expect(close?.path).toBe(`/og/v2/alerts/${encodeURIComponent(windowId)}/close?identifierType=alias`);
    expect(close?.json).toMatchObject({ source: 'blindspot' });
    expect(close?.json.note).toMatch(/^RESOLVED: prometheus-up on page-format sees again after 10 s blind/);
  });

  it('Slack: Block Kit with a plain-text fallback', async () => {
    const [open, closed] = await bodies('slack');
    expect(open?.path).toBe('/slack/services/T000/B000/XXXX');
    expect(open?.json.text).toMatch(/^BLIND: prometheus-up on page-format: telemetry is stale/);
    const [section, context, actions] = open!.json.blocks;
    expect(section).toEqual({ type: 'section', text: { type: 'mrkdwn', text: `:red_circle: *${open!.json.text}*` } });
    expect(context.type).toBe('context');
    expect(context.elements[0]).toMatchObject({ type: 'mrkdwn' });
    expect(context.elements[1].text).toBe('Held back while this is down (not paged separately): metrics-fresh.');
    expect(actions.elements.map((e: { url: string }) => e.url)).toEqual([
      'https://status.example.test/',
      expect.stringMatching(/^https:\/\/status\.example\.test\/gaps\?from=/),
    ]);
    expect(closed?.json.blocks[0].text.text).toMatch(/^:large_green_circle: \*RESOLVED/);
  });

  it('Discord: content within 2000 characters, one embed, no mentions', async () => {
    const [open, closed] = await bodies('discord');
    const d = open!.json;
    expect(d.content.length).toBeLessThanOrEqual(2000);
    expect(d.allowed_mentions).toEqual({ parse: [] });
    expect(d.embeds).toHaveLength(1);
    expect(d.embeds[0]).toMatchObject({ color: 0xd93025, timestamp: new Date(a.at(5)).toISOString() });
    expect(d.embeds[0].fields).toContainEqual({ name: 'Agent', value: AGENT, inline: true });
    expect(closed!.json.embeds[0].color).toBe(0x188038);
  });

  it('Teams: an Adaptive Card wrapped as a message, for Workflows webhooks', async () => {
    const [open] = await bodies('teams');
    const t = open!.json;
    expect(t.type).toBe('message');
    expect(t.attachments).toHaveLength(1);
    expect(t.attachments[0].contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(t.attachments[0].content).toMatchObject({ type: 'AdaptiveCard', version: '1.4' });
    expect(t.attachments[0].content.body[0]).toMatchObject({ type: 'TextBlock', weight: 'Bolder', color: 'attention' });
    expect(t.attachments[0].content.body[1].type).toBe('FactSet');
    expect(t.attachments[0].content.actions[0]).toEqual({
      type: 'Action.OpenUrl',
      title: 'Status page',
      url: 'https://status.example.test/',
    });
  });

  it('generic webhook: Standard Webhooks signature verifies, webhook-id is the event id, the body is the stored event', async () => {
    const hooks = await bodies('hook');
    expect(hooks.map((h) => h.headers['webhook-id'])).toEqual([`${windowId}:opened`, `${windowId}:closed`]);
    const verifier = new Webhook(HOOK_SECRET);
    for (const h of hooks) {
      const verified = verifier.verify(h.body, {
        'webhook-id': h.headers['webhook-id']!,
        'webhook-timestamp': h.headers['webhook-timestamp']!,
        'webhook-signature': h.headers['webhook-signature']!,
      });
      expect(verified).toEqual(h.json);
    }
    expect(hooks[0]?.json).toMatchObject({
      type: 'window.opened',
      timestamp: new Date(a.at(5)).toISOString(),
      data: {
        window: {
          id: windowId,
          agent: AGENT,
          monitor: 'prometheus-up',
          level: 'blind',
          cause: 'stale',
          ended_at: null,
          suppresses: ['metrics-fresh'],
        },
      },
    });
    expect(hooks[1]?.json).toMatchObject({
      type: 'window.closed',
      data: { window: { id: windowId, ended_at: new Date(a.at(10)).toISOString(), duration_s: 10 } },
    });
    // Tampering is caught.
    expect(() =>
      verifier.verify(hooks[0]!.body.replace('blind', 'up'), {
        'webhook-id': hooks[0]!.headers['webhook-id']!,
        'webhook-timestamp': hooks[0]!.headers['webhook-timestamp']!,
        'webhook-signature': hooks[0]!.headers['webhook-signature']!,
      }),
    ).toThrow();
  });

  it('logs every attempt with its status and latency', async () => {
    const { results } = await env.DB.prepare(
      'SELECT channel_id, attempt, status, outcome, latency_ms FROM delivery_attempts WHERE notification_id LIKE ?1 ORDER BY id',
    )
      .bind(`${windowId}:%`)
      .all<{ channel_id: string; attempt: number; status: number; outcome: string; latency_ms: number }>();
    expect(results.filter((r) => r.channel_id !== 'webhook')).toHaveLength(12);
    for (const r of results.filter((x) => x.channel_id !== 'webhook'))
      expect(r).toMatchObject({ attempt: 1, status: 202, outcome: 'delivered' });
    expect(results.every((r) => r.latency_ms >= 0)).toBe(true);
  });
});
