// Opsgenie Alert API: create with alias = the window id (Opsgenie keeps one open alert per alias, so
// retries and reminders add to it), close by alias. US and EU instances; Opsgenie is being retired by
// Atlassian (REST APIs until 2027-04-05), so prefer PagerDuty or a webhook for new setups.
import type { Channel, Notification, SendResult } from './channel.ts';
import { postJson } from './channel.ts';
import { eventTime, facts, headline, linksFor, suppressionText, type WindowView } from './render.ts';

export const OPSGENIE_BASE = { us: 'https://api.opsgenie.com', eu: 'https://api.eu.opsgenie.com' } as const;

export interface OpsgenieConfig {
  id: string;
  apiKey: string;
  region: 'us' | 'eu';
  endpoint: string | null;
  timeoutMs: number;
  publicUrl: string | null;
  clock?: () => number;
}

export function opsgeniePriority(w: Pick<WindowView, 'severity' | 'level'>): 'P1' | 'P2' | 'P3' | 'P4' | 'P5' {
  if (w.severity === 'info') return 'P5';
  if (w.severity === 'warning') return w.level === 'degraded' ? 'P4' : 'P3';
  return w.level === 'degraded' ? 'P3' : w.level === 'unknown' ? 'P2' : 'P1';
}

export function opsgenieRequest(
  n: Notification,
  config: Pick<OpsgenieConfig, 'publicUrl'>,
  now: number,
): { path: string; body: Record<string, unknown> } {
  const links = linksFor(n.body, config.publicUrl);
  const linkText = [links.statusPage && `Status page: ${links.statusPage}`, links.gapReport && `Gap report: ${links.gapReport}`]
    .filter(Boolean)
    .join('\n');
  if (n.type === 'watchdog.summary') {
    const alias = `blindspot:${n.eventId}`.slice(0, 512);
    return {
      path: '/v2/alerts',
      body: {
        message: headline(n.body, now).slice(0, 130),
        alias,
        description: `${n.body.data.text ?? ''}\n${linkText}`.slice(0, 15_000),
        priority: 'P4',
        source: 'blindspot',
        tags: ['blindspot', 'watchdog'],
      },
    };
  }
  const w = n.body.data.window as WindowView;
  if (n.type === 'window.closed') {
    return {
      path: `/v2/alerts/${encodeURIComponent(w.id)}/close?identifierType=alias`,
      body: { source: 'blindspot', note: headline(n.body, now).slice(0, 25_000) },
    };
  }
  const held = suppressionText(w);
  return {
    path: '/v2/alerts',
    body: {
      message: headline(n.body, now).slice(0, 130),
      alias: w.id.slice(0, 512),
      description: [headline(n.body, now), held, linkText].filter(Boolean).join('\n\n').slice(0, 15_000),
      priority: opsgeniePriority(w),
      entity: w.agent,
      source: 'blindspot',
      tags: ['blindspot', w.component, w.cause, w.level],
      details: Object.fromEntries([...facts(w, now), ['Window', w.id], ['Event', n.type]]),
    },
  };
}

export function opsgenieChannel(config: OpsgenieConfig): Channel {
  const clock = config.clock ?? Date.now;
  const base = (config.endpoint ?? OPSGENIE_BASE[config.region]).replace(/\/+$/, '');
  return {
    id: config.id,
    type: 'opsgenie',
    timeoutMs: config.timeoutMs,
    send(n: Notification): Promise<SendResult> {
      const { path, body } = opsgenieRequest(n, config, eventTime(n.body));
      return postJson(
        `${base}${path}`,
        JSON.stringify(body),
        { timeoutMs: config.timeoutMs, headers: { authorization: `GenieKey ${config.apiKey}` }, redact: [config.apiKey] },
        clock,
      );
    },
  };
}
