// Chat channels: Slack (Block Kit), Discord (embeds), Microsoft Teams (an Adaptive Card through a
// Workflows webhook). One short message per event; the webhook URL is the secret.
import type { Channel, Notification, SendResult } from './channel.ts';
import { postJson } from './channel.ts';
import { type EventBody, eventTime, facts, headline, type Links, linksFor, suppressionText, type WindowView } from './render.ts';

export interface ChatConfig {
  id: string;
  url: string;
  timeoutMs: number;
  publicUrl: string | null;
  clock?: () => number;
}

type Tone = 'bad' | 'warn' | 'good' | 'info';

function toneOf(body: EventBody): Tone {
  if (body.type === 'window.closed') return 'good';
  if (body.type === 'watchdog.summary') return 'info';
  return body.data.window?.level === 'degraded' ? 'warn' : 'bad';
}

const EMOJI: Record<Tone, string> = {
  bad: ':red_circle:',
  warn: ':large_orange_circle:',
  good: ':large_green_circle:',
  info: ':information_source:',
};

function detailLines(body: EventBody, now: number): string[] {
  const w = body.data.window;
  if (w === undefined) return body.data.text === undefined ? [] : [body.data.text];
  const held = suppressionText(w);
  const lines = [
    facts(w, now)
      .filter(([k]) => k !== 'Cause')
      .map(([k, v]) => `${k}: ${v}`)
      .join(' · '),
  ];
  if (held) lines.push(held);
  return lines;
}

function linkPairs(links: Links): [string, string][] {
  const pairs: [string, string][] = [];
  if (links.statusPage !== null) pairs.push(['Status page', links.statusPage]);
  if (links.gapReport !== null) pairs.push(['Gap report', links.gapReport]);
  return pairs;
}

const escapeSlack = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function slackBody(n: Notification, publicUrl: string | null, now: number): Record<string, unknown> {
  const title = headline(n.body, now);
  const links = linkPairs(linksFor(n.body, publicUrl));
  const blocks: Record<string, unknown>[] = [
    { type: 'section', text: { type: 'mrkdwn', text: `${EMOJI[toneOf(n.body)]} *${escapeSlack(title)}*`.slice(0, 3000) } },
  ];
  const details = detailLines(n.body, now);
  if (details.length > 0)
    blocks.push({ type: 'context', elements: details.map((d) => ({ type: 'mrkdwn', text: escapeSlack(d).slice(0, 3000) })) });
  if (links.length > 0)
    blocks.push({ type: 'actions', elements: links.map(([text, url]) => ({ type: 'button', text: { type: 'plain_text', text }, url })) });
  return { text: title.slice(0, 3000), blocks };
}

const DISCORD_COLOUR: Record<Tone, number> = { bad: 0xd93025, warn: 0xf29900, good: 0x188038, info: 0x5f6368 };

export function discordBody(n: Notification, publicUrl: string | null, now: number): Record<string, unknown> {
  const title = headline(n.body, now);
  const links = linkPairs(linksFor(n.body, publicUrl));
  const w = n.body.data.window;
  const fields = w === undefined ? [] : facts(w, now).map(([name, value]) => ({ name, value: value.slice(0, 1024), inline: true }));
  const description = [...(w === undefined ? detailLines(n.body, now) : [suppressionText(w)]), ...links.map(([t, u]) => `[${t}](${u})`)]
    .filter(Boolean)
    .join('\n');
  return {
    content: title.slice(0, 2000),
    allowed_mentions: { parse: [] },
    embeds: [
      {
        title: title.slice(0, 256),
        description: description.slice(0, 4096),
        color: DISCORD_COLOUR[toneOf(n.body)],
        fields: fields.slice(0, 25),
        timestamp: n.body.timestamp,
      },
    ],
  };
}

const TEAMS_STYLE: Record<Tone, string> = { bad: 'attention', warn: 'warning', good: 'good', info: 'default' };

export function teamsBody(n: Notification, publicUrl: string | null, now: number): Record<string, unknown> {
  const title = headline(n.body, now);
  const links = linkPairs(linksFor(n.body, publicUrl));
  const w: WindowView | undefined = n.body.data.window;
  const body: Record<string, unknown>[] = [
    { type: 'TextBlock', text: title, weight: 'Bolder', size: 'Medium', wrap: true, color: TEAMS_STYLE[toneOf(n.body)] },
  ];
  if (w !== undefined) {
    body.push({ type: 'FactSet', facts: facts(w, now).map(([title, value]) => ({ title, value })) });
    const held = suppressionText(w);
    if (held) body.push({ type: 'TextBlock', text: held, wrap: true, isSubtle: true });
  } else {
    for (const line of detailLines(n.body, now)) body.push({ type: 'TextBlock', text: line, wrap: true });
  }
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body,
          actions: links.map(([t, url]) => ({ type: 'Action.OpenUrl', title: t, url })),
        },
      },
    ],
  };
}

function chatChannel(
  type: 'slack' | 'discord' | 'teams',
  render: (n: Notification, publicUrl: string | null, now: number) => Record<string, unknown>,
) {
  return (config: ChatConfig): Channel => {
    const clock = config.clock ?? Date.now;
    return {
      id: config.id,
      type,
      timeoutMs: config.timeoutMs,
      send: (n: Notification): Promise<SendResult> =>
        postJson(
          config.url,
          JSON.stringify(render(n, config.publicUrl, eventTime(n.body))),
          { timeoutMs: config.timeoutMs, redact: [config.url] },
          clock,
        ),
    };
  };
}

export const slackChannel = chatChannel('slack', slackBody);
export const discordChannel = chatChannel('discord', discordBody);
export const teamsChannel = chatChannel('teams', teamsBody);
