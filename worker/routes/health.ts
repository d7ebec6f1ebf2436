import { Hono } from 'hono';
import type { AppEnv } from '../app-env.ts';

export const health = new Hono<AppEnv>();

/** Liveness of the Worker itself; says nothing about the agents. */
health.get('/healthz', (c) => c.json({ ok: true }, 200, { 'cache-control': 'no-store' }));
