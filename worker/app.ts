import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { methodNotAllowed } from 'hono/method-not-allowed';
import { secureHeaders } from 'hono/secure-headers';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { AppEnv } from './app-env.ts';
import { ConfigError } from './config.ts';
import { ApiError, d1Unavailable, errorBody } from './errors.ts';
import { admin } from './routes/admin.ts';
import { adminView } from './routes/admin-view.ts';
import { feeds } from './routes/feeds.ts';
import { gaps } from './routes/gaps.ts';
import { alertmanager } from './routes/alertmanager.ts';
import { health } from './routes/health.ts';
import { metrics } from './routes/metrics.ts';
import { heartbeats } from './routes/heartbeats.ts';
import { publicApi } from './routes/public-api.ts';
import { statusPage } from './routes/status-page.ts';

export const app = new Hono<AppEnv>();

// Every answer: Hono's secure headers (no MIME sniffing, no framing, no referrer beyond the origin),
// and a CSP that allows nothing unless the page or admin view set their own. Resources may be
// embedded from other origins: badges and the widget's JSON are meant to be. A Date header
// (Cloudflare's edge adds one; workerd alone does not) is how agents learn the Worker's clock.
app.use(
  '*',
  secureHeaders({
    overwrite: false,
    contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
    crossOriginResourcePolicy: 'cross-origin',
    referrerPolicy: 'strict-origin-when-cross-origin',
    xFrameOptions: 'DENY',
  }),
);
app.use('*', async (c, next) => {
  await next();
  if (!c.res.headers.has('date')) c.res.headers.set('date', new Date().toUTCString());
});
// One answer for a method a route does not take: 405, the methods it does take, JSON.
app.use(
  '*',
  methodNotAllowed({
    app,
    onMethodNotAllowed: (c, methods) =>
      c.json(
        errorBody('method_not_allowed', `${c.req.method} is not taken here; ${new URL(c.req.url).pathname} takes ${methods.join(', ')}`),
        405,
        { allow: methods.join(', ') },
      ),
  }),
);

app.route('/', statusPage);
app.route('/', publicApi);
app.route('/', feeds);
app.route('/', gaps);
app.route('/', health);
app.route('/', metrics);
app.route('/v1/agents', heartbeats);
app.route('/v1/alertmanager', alertmanager);
app.route('/v1/admin', admin);
app.route('/', adminView);

app.notFound((c) => c.json(errorBody('not_found', `no route for ${c.req.method} ${new URL(c.req.url).pathname}`), 404));

app.onError((err, c) => {
  if (err instanceof ApiError) return c.json(errorBody(err.code, err.message), err.status, err.headers);
  if (err instanceof HTTPException && err.res !== undefined) return err.getResponse();
  if (err instanceof HTTPException)
    return c.json(errorBody('http_error', err.message || 'request refused'), err.status as ContentfulStatusCode);
  if (err instanceof ConfigError) {
    console.error('configuration error:', err.message);
    return c.json(errorBody('server_misconfigured', err.message), 500);
  }
  const outage = d1Unavailable(err);
  if (outage !== null) {
    console.error(`D1 could not answer ${c.req.method} ${new URL(c.req.url).pathname}:`, err.message);
    return c.json(errorBody(outage.code, outage.message), outage.status, outage.headers);
  }
  console.error('unhandled error:', err);
  return c.json(errorBody('internal_error', 'the watchdog failed to handle this request; it has been logged'), 500);
});
