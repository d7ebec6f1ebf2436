// The public status page: server-rendered HTML, no script, one inline stylesheet allowed by its hash.
import { type Context, Hono } from 'hono';
import { etag } from 'hono/etag';
import { STYLE } from '../../ui/components/page-shell.tsx';
import { GAP_STYLE } from '../../ui/pages/gap-report.tsx';
import { renderStatusPage } from '../../ui/render.ts';
import type { AppEnv } from '../app-env.ts';
import { viewAgent } from '../core/agent-view.ts';
import { cacheSecondsFor, indicatorOf, reloadSecondsFor } from '../core/component-view.ts';
import { publicState } from '../public/state.ts';
import { GATHERED_AT } from '../public/response-cache.ts';
import { kept } from './public-api.ts';

export const statusPage = new Hono<AppEnv>();

async function sha256Base64(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  return btoa(String.fromCharCode(...digest));
}

const styleHashes = new Map<string, Promise<string>>();

/** Only the page's own stylesheet, by its hash; `formAction` is where its forms may submit. The app adds the other secure headers. */
async function securityHeaders(style: string, formAction: string): Promise<Record<string, string>> {
  let hash = styleHashes.get(style);
  if (hash === undefined) styleHashes.set(style, (hash = sha256Base64(style)));
  return {
    'content-security-policy': `default-src 'none'; style-src 'sha256-${await hash}'; img-src data:; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`,
  };
}

export const pageSecurityHeaders = () => securityHeaders(STYLE, "'none'");
export const gapPageHeaders = () => securityHeaders(GAP_STYLE, "'self'");

// A reload that changed nothing costs a 304 (Hono's etag, over the ETag the cached page carries).
statusPage.get('/', etag(), (c) => kept(c, () => renderPage(c)));

async function renderPage(c: Context<AppEnv>): Promise<Response> {
  const s = await publicState(c.env, c.executionCtx, c.req.url);
  const agents = s.subjects.map(({ id, live }) =>
    live === undefined
      ? {
          agentId: id,
          state: 'unverified' as const,
          verifiedAt: null,
          deadlineAt: null,
          blindSince: null,
          why: 'its state could not be read',
          troubled: [],
        }
      : viewAgent(id, live, s.now, s.watchdogStalled),
  );
  const html = renderStatusPage({
    title: s.title,
    now: s.now,
    indicator: indicatorOf(s.views.map((v) => v.status)),
    views: s.views,
    uptime: s.uptime,
    incidents: s.incidents,
    maintenances: s.maintenances,
    agents,
    snapshot: s.snapshot,
    watchdogStalled: s.watchdogStalled,
    reloadS: reloadSecondsFor(s.subjects, s.now),
  });
  const etag = `W/"${(await sha256Base64(html)).slice(0, 27)}"`;
  const headers = {
    ...(await pageSecurityHeaders()),
    etag,
    'cache-control': `public, max-age=${cacheSecondsFor(s.subjects, s.now)}, must-revalidate`,
    vary: 'accept-encoding',
    [GATHERED_AT]: String(s.gatheredAt),
  };
  return c.html(html, 200, headers);
}
