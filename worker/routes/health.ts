import { Hono } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { watchConfig } from '../watch-config.ts';

export const health = new Hono<AppEnv>();

/**
 * Liveness of the Worker itself; says nothing about the agents. An invalid watchdog configuration
 * makes it 503 with every error listed: detection still runs, on the defaults, but someone must fix it.
 */
health.get('/healthz', (c) => {
  const { errors, source } = watchConfig(c.env);
  if (errors.length > 0) return c.json({ ok: false, config: { source, errors } }, 503, { 'cache-control': 'no-store' });
  return c.json({ ok: true, config: { source, errors: [] } }, 200, { 'cache-control': 'no-store' });
});
