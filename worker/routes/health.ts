import { Hono } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { agentSecretsSetting } from '../config.ts';
import { channelRegistry } from '../notify/registry.ts';
import { createDb } from '../store/db.ts';
import { channelStates, notificationCounts } from '../store/deliveries.ts';
import { watchConfig } from '../watch-config.ts';

export const health = new Hono<AppEnv>();

/**
 * Liveness of the Worker itself; says nothing about the agents. It answers 503, with every problem
 * listed, when someone must act: the watchdog configuration is invalid (detection runs on the
 * defaults), an agent's secret entry is malformed (that agent is refused), a channel cannot send (missing or malformed secret), or a channel answered 410 and is
 * disabled. Dead-lettered notifications are counted too.
 */
health.get('/healthz', async (c) => {
  const { errors, source, config } = watchConfig(c.env);
  const registry = channelRegistry(c.env, config.notifications);
  const channelErrors = registry.info.filter((i) => i.error !== null).map((i) => `channel ${i.id}: ${i.error}`);
  let disabled: string[] = [];
  let dead = 0;
  let store: string | null = null;
  try {
    const db = createDb(c.env.DB);
    disabled = (await channelStates(db)).filter((s) => s.disabled_at !== null).map((s) => `channel ${s.channel_id}: ${s.disabled_reason}`);
    dead = (await notificationCounts(db)).filter((r) => r.state === 'dead').reduce((n, r) => n + Number(r.n), 0);
  } catch (e: unknown) {
    console.error('healthz: D1 could not be read:', e);
    store = 'D1 could not be read; notification state is unknown';
  }
  const agentErrors = [...agentSecretsSetting(c.env.BLINDSPOT_AGENT_SECRETS).errors.values()];
  const ok = errors.length === 0 && channelErrors.length === 0 && disabled.length === 0 && store === null && agentErrors.length === 0;
  const body = {
    ok,
    config: { source, errors },
    agents: { errors: agentErrors },
    notifications: { channels: registry.info.length, errors: [...channelErrors, ...disabled, ...(store === null ? [] : [store])], dead_lettered: dead },
  };
  return c.json(body, ok ? 200 : 503, { 'cache-control': 'no-store' });
});
