// The public status API in Atlassian Statuspage v2 shapes (status.json, components.json, summary.json,
// incidents, scheduled maintenances), so existing widgets, bots and clients read it unchanged. The
// shapes are in public/statuspage.ts; here are the routes, their caching and their CORS.
import { type Context, Hono } from 'hono';
import { cors } from 'hono/cors';
import type { AppEnv } from '../app-env.ts';
import { cacheSecondsFor } from '../core/component-view.ts';
import { GATHERED_AT, keptAnswer } from '../public/response-cache.ts';
import { type PublicState, publicState } from '../public/state.ts';
import { components, incidents, maintenances, page, status } from '../public/statuspage.ts';

export const publicApi = new Hono<AppEnv>();

publicApi.use('/api/v2/*', cors({ origin: '*', allowMethods: ['GET', 'HEAD', 'OPTIONS'], maxAge: 86_400 }));

const state = (c: Context<AppEnv>) => publicState(c.env, c.executionCtx, c.req.url);

/** The answer as kept for the refresh period (public/response-cache.ts), built by `build` when not. */
export const kept = (c: Context<AppEnv>, build: () => Promise<Response>) =>
  keptAnswer(c.env, new URL(c.req.url).pathname, Date.now(), build, c.executionCtx);

/** Cached no longer than the evidence behind the claims stays fresh. */
export const cacheHeaders = (s: PublicState) => ({
  'cache-control': `public, max-age=${cacheSecondsFor(s.subjects, s.now)}`,
  [GATHERED_AT]: String(s.gatheredAt),
});

publicApi.get('/api/v2/status.json', (c) =>
  kept(c, async () => {
    const s = await state(c);
    return c.json({ page: page(s), status: status(s) }, 200, cacheHeaders(s));
  }),
);

publicApi.get('/api/v2/components.json', (c) =>
  kept(c, async () => {
    const s = await state(c);
    return c.json({ page: page(s), components: components(s) }, 200, cacheHeaders(s));
  }),
);

publicApi.get('/api/v2/summary.json', (c) =>
  kept(c, async () => {
    const s = await state(c);
    // As Statuspage: unresolved incidents, and maintenance that is upcoming or in progress.
    return c.json(
      {
        page: page(s),
        status: status(s),
        components: components(s),
        incidents: incidents(s, true),
        scheduled_maintenances: maintenances(s, 'all').filter((m) => m.status !== 'completed'),
      },
      200,
      cacheHeaders(s),
    );
  }),
);

publicApi.get('/api/v2/incidents.json', (c) =>
  kept(c, async () => {
    const s = await state(c);
    return c.json({ page: page(s), incidents: incidents(s) }, 200, cacheHeaders(s));
  }),
);

publicApi.get('/api/v2/incidents/unresolved.json', (c) =>
  kept(c, async () => {
    const s = await state(c);
    return c.json({ page: page(s), incidents: incidents(s, true) }, 200, cacheHeaders(s));
  }),
);

publicApi.get('/api/v2/scheduled-maintenances.json', (c) =>
  kept(c, async () => {
    const s = await state(c);
    return c.json({ page: page(s), scheduled_maintenances: maintenances(s, 'all') }, 200, cacheHeaders(s));
  }),
);

publicApi.get('/api/v2/scheduled-maintenances/upcoming.json', (c) =>
  kept(c, async () => {
    const s = await state(c);
    return c.json({ page: page(s), scheduled_maintenances: maintenances(s, 'upcoming') }, 200, cacheHeaders(s));
  }),
);

publicApi.get('/api/v2/scheduled-maintenances/active.json', (c) =>
  kept(c, async () => {
    const s = await state(c);
    return c.json({ page: page(s), scheduled_maintenances: maintenances(s, 'active') }, 200, cacheHeaders(s));
  }),
);
