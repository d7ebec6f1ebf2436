// history.atom (RFC 4287) and history.rss (RSS 2.0): incidents and maintenance, newest first, each
// entry carrying its updates. And a shields.io endpoint badge per component.
import { type Context, Hono } from 'hono';
import { cors } from 'hono/cors';
import type { AppEnv } from '../app-env.ts';
import { cacheSecondsFor } from '../core/component-view.ts';
import { STATUS_WORDS } from '../core/status-words.ts';
import { ApiError } from '../errors.ts';
import { incidents as incidentShapes, maintenances as maintenanceShapes, worstStatus } from '../public/statuspage.ts';
import { GATHERED_AT } from '../public/response-cache.ts';
import { kept } from './public-api.ts';
import { type PublicState, publicState } from '../public/state.ts';

export const feeds = new Hono<AppEnv>();

for (const path of ['/history.*', '/badge/*'])
  feeds.use(path, cors({ origin: '*', allowMethods: ['GET', 'HEAD', 'OPTIONS'], maxAge: 86_400 }));

/**
 * Text as XML 1.0 can carry it: markup escaped, and what XML forbids outright (control characters
 * other than tab and line breaks, lone surrogates, U+FFFE and U+FFFF) dropped, since no escape exists
 * for them and one would make the whole feed unreadable.
 */
const xml = (s: string) =>
  s
    .replace(
      // biome-ignore lint/suspicious/noControlCharactersInRegex: matching exactly the characters XML 1.0 forbids
      /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g,
      '',
    )
    .replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[ch] as string);

interface Entry {
  id: string;
  title: string;
  link: string;
  published: string;
  updated: string;
  /** Plain text lines: "<time> <Status> — <body>", newest first. */
  lines: string[];
}

function entries(s: PublicState): Entry[] {
  const label = (status: string) => status.replace(/_/g, ' ').replace(/^./, (ch) => ch.toUpperCase());
  const all = [...incidentShapes(s), ...maintenanceShapes(s, 'all')].map((i) => ({
    id: i.shortlink,
    title: 'scheduled_for' in i ? `Maintenance: ${i.name}` : i.name,
    link: i.shortlink,
    published: i.created_at,
    updated: i.updated_at,
    lines: i.incident_updates.map((u) => `${u.display_at} ${label(u.status)} — ${u.body}`),
  }));
  return all.sort((a, b) => b.updated.localeCompare(a.updated)).slice(0, 50);
}

const HEADERS = { 'cache-control': 'public, max-age=60', 'x-content-type-options': 'nosniff' };

/** Entry text as HTML for feed readers: every piece escaped, one paragraph per update. */
const html = (lines: readonly string[]) => lines.map((l) => `<p>${xml(l)}</p>`).join('');

feeds.get('/history.atom', (c) =>
  kept(c, async () => {
    const s = await publicState(c.env, c.executionCtx, c.req.url);
    const base = s.url.replace(/\/$/, '');
    const list = entries(s);
    const body = [
      '<?xml version="1.0" encoding="utf-8"?>',
      '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">',
      `<id>${xml(`${base}/history.atom`)}</id>`,
      `<title>${xml(`${s.title}: incident history`)}</title>`,
      `<updated>${list[0]?.updated ?? new Date(s.now).toISOString()}</updated>`,
      `<link rel="alternate" type="text/html" href="${xml(`${base}/`)}"/>`,
      `<link rel="self" type="application/atom+xml" href="${xml(`${base}/history.atom`)}"/>`,
      `<author><name>${xml(s.title)}</name></author>`,
      ...list.map((e) =>
        [
          '<entry>',
          `<id>${xml(e.id)}</id>`,
          `<title>${xml(e.title)}</title>`,
          `<link rel="alternate" type="text/html" href="${xml(e.link)}"/>`,
          `<published>${e.published}</published>`,
          `<updated>${e.updated}</updated>`,
          `<content type="html">${xml(html(e.lines))}</content>`,
          '</entry>',
        ].join(''),
      ),
      '</feed>',
    ].join('\n');
    return c.body(body, 200, { ...HEADERS, [GATHERED_AT]: String(s.gatheredAt), 'content-type': 'application/atom+xml; charset=utf-8' });
  }),
);

feeds.get('/history.rss', (c) =>
  kept(c, async () => {
    const s = await publicState(c.env, c.executionCtx, c.req.url);
    const base = s.url.replace(/\/$/, '');
    const rfc822 = (iso: string) => new Date(iso).toUTCString();
    const list = entries(s);
    const body = [
      '<?xml version="1.0" encoding="utf-8"?>',
      '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">',
      '<channel>',
      `<title>${xml(`${s.title}: incident history`)}</title>`,
      `<link>${xml(`${base}/`)}</link>`,
      `<description>${xml(`Incidents and maintenance of ${s.title}`)}</description>`,
      `<atom:link href="${xml(`${base}/history.rss`)}" rel="self" type="application/rss+xml"/>`,
      `<lastBuildDate>${rfc822(list[0]?.updated ?? new Date(s.now).toISOString())}</lastBuildDate>`,
      ...list.map((e) =>
        [
          '<item>',
          `<title>${xml(e.title)}</title>`,
          `<link>${xml(e.link)}</link>`,
          `<guid isPermaLink="false">${xml(e.id)}</guid>`,
          `<pubDate>${rfc822(e.published)}</pubDate>`,
          `<description>${xml(html(e.lines))}</description>`,
          '</item>',
        ].join(''),
      ),
      '</channel>',
      '</rss>',
    ].join('\n');
    return c.body(body, 200, { ...HEADERS, [GATHERED_AT]: String(s.gatheredAt), 'content-type': 'application/rss+xml; charset=utf-8' });
  }),
);

/**
 * shields.io endpoint JSON: https://img.shields.io/endpoint?url=<this URL>. `cacheSeconds` and
 * max-age never outlast the evidence (shields.io itself keeps a badge at least its own default).
 */
async function badge(c: Context<AppEnv>) {
  const wanted = (c.req.param('component') ?? '').replace(/\.json$/, '');
  const s = await publicState(c.env, c.executionCtx, c.req.url);
  const component = s.views.find((v) => v.id === wanted);
  const members = s.views.filter(
    (v) =>
      v.group !== null &&
      v.group
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^-|-$/g, '') === wanted,
  );
  if (component === undefined && members.length === 0)
    throw new ApiError(
      404,
      'unknown_component',
      `no component "${wanted.slice(0, 100)}"; components are ${s.views.map((v) => v.id).join(', ')}`,
    );
  const status = component?.status ?? worstStatus(members.map((m) => m.status));
  const name = component?.name ?? (members[0]?.group as string);
  const cacheSeconds = cacheSecondsFor(s.subjects, s.now);
  return c.json(
    { schemaVersion: 1, label: name, message: STATUS_WORDS[status].badge.message, color: STATUS_WORDS[status].badge.color, cacheSeconds },
    200,
    {
      'cache-control': `public, max-age=${cacheSeconds}`,
      [GATHERED_AT]: String(s.gatheredAt),
    },
  );
}

feeds.get('/badge/:component{[^/]+\\.json}', (c) => kept(c, () => badge(c)));
