// PagerDuty Events API v2: a window's trigger and resolve share dedup_key = the window id, so
// retries and reminders land on the one alert and the resolve closes it. The watchdog's summary is a
// change event: it tells what happened while the watchdog was down, and opens no incident.
import type { Channel, Notification, SendResult } from './channel.ts';
import { postJson } from './channel.ts';
import { causeText, eventTime, facts, formatValue, headline, linksFor, suppressionText, type WindowView } from './render.ts';

export const PAGERDUTY_BASE = { us: 'https://events.pagerduty.com', eu: 'https://events.eu.pagerduty.com' } as const;

export interface PagerDutyConfig {
  id: string;
  routingKey: string;
  region: 'us' | 'eu';
  /** Base URL in place of PagerDuty's (the paths /v2/enqueue and /v2/change/enqueue are added). */
  endpoint: string | null;
  timeoutMs: number;
  publicUrl: string | null;
  clock?: () => number;
}

/** Our severities and levels to PagerDuty's: blind critical pages as critical, degraded one step lower. */
export function pagerDutySeverity(w: Pick<WindowView, 'severity' | 'level'>): 'critical' | 'error' | 'warning' | 'info' {
  if (w.severity === 'info') return 'info';
  if (w.severity === 'warning') return w.level === 'degraded' ? 'info' : 'warning';
  return w.level === 'degraded' ? 'warning' : w.level === 'unknown' ? 'error' : 'critical';
}

export function pagerDutyBody(
  n: Notification,
  config: Pick<PagerDutyConfig, 'routingKey' | 'publicUrl'>,
  now: number,
): { url: 'events' | 'change'; body: Record<string, unknown> } {
  const links = linksFor(n.body, config.publicUrl);
  const linkList = [
    links.statusPage && { href: links.statusPage, text: 'Status page' },
    links.gapReport && { href: links.gapReport, text: 'Gap report' },
  ].filter(Boolean);
  if (n.type === 'watchdog.summary') {
    return {
      url: 'change',
      body: {
        routing_key: config.routingKey,
        payload: {
          summary: headline(n.body, now).slice(0, 1024),
          source: 'blindspot-watchdog',
          timestamp: n.body.timestamp,
          custom_details: {
            gap: n.body.data.gap ?? null,
            windows: (n.body.data.windows ?? []).map((w) => `${w.agent}/${w.monitor}: ${w.cause} since ${w.started_at}`),
          },
        },
        links: linkList,
      },
    };
  }
  const w = n.body.data.window as WindowView;
  if (n.type === 'window.closed')
    return { url: 'events', body: { routing_key: config.routingKey, event_action: 'resolve', dedup_key: w.id } };
  const held = suppressionText(w);
  return {
    url: 'events',
    body: {
      routing_key: config.routingKey,
      event_action: 'trigger',
      dedup_key: w.id,
      payload: {
        summary: `${headline(n.body, now)}${held ? `. ${held}` : ''}`.slice(0, 1024),
        source: w.agent,
        severity: pagerDutySeverity(w),
        timestamp: w.started_at,
        component: w.component,
        group: w.monitor,
        class: w.cause,
        custom_details: {
          what: causeText(w.cause),
          ...Object.fromEntries(facts(w, now).map(([k, v]) => [k.toLowerCase().replace(/ /g, '_'), v])),
          peak_value: w.peak_value === null ? null : formatValue(w.peak_value),
          thresholds: w.thresholds ?? null,
          held_back: w.suppresses ?? [],
          window_id: w.id,
          event: n.type,
          ...(n.body.data.repeat === undefined ? {} : { reminder: n.body.data.repeat }),
        },
      },
      client: 'Blindspot',
      ...(links.statusPage === null ? {} : { client_url: links.statusPage }),
      links: linkList,
    },
  };
}

export function pagerDutyChannel(config: PagerDutyConfig): Channel {
  const clock = config.clock ?? Date.now;
  const base = (config.endpoint ?? PAGERDUTY_BASE[config.region]).replace(/\/+$/, '');
  return {
    id: config.id,
    type: 'pagerduty',
    timeoutMs: config.timeoutMs,
    send(n: Notification): Promise<SendResult> {
      const { url, body } = pagerDutyBody(n, config, eventTime(n.body));
      const target = url === 'events' ? `${base}/v2/enqueue` : `${base}/v2/change/enqueue`;
      return postJson(
        target,
        JSON.stringify(body),
        { timeoutMs: config.timeoutMs, redact: [config.routingKey], describe: (_s, text) => describeError(text) },
        clock,
      );
    },
  };
}

/** PagerDuty's error body: {"status":"invalid event","message":"Event object is invalid","errors":["..."]}. */
function describeError(text: string): string {
  try {
    const parsed = JSON.parse(text) as { message?: unknown; errors?: unknown };
    const errors = Array.isArray(parsed.errors) ? parsed.errors.filter((e) => typeof e === 'string').join('; ') : '';
    return [typeof parsed.message === 'string' ? parsed.message : '', errors].filter(Boolean).join(': ').slice(0, 300);
  } catch {
    return text.replace(/\s+/g, ' ').trim().slice(0, 300);
  }
}
