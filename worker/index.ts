import { app } from './app.ts';
import { ConfigError, parseWebhookConfig } from './config.ts';
import type { Env } from './env.ts';
import { runSweep } from './jobs/sweep.ts';
import { webhookChannel } from './notify/webhook.ts';
import { createDb } from './store/db.ts';

export { AgentMonitor } from './durable/agent-monitor.ts';
export { Watchdog } from './durable/watchdog.ts';

export default {
  fetch: app.fetch,
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(runSweep(sweepDeps(env)));
  },
} satisfies ExportedHandler<Env>;

export function sweepDeps(env: Env) {
  const watchdog = env.WATCHDOG.get(env.WATCHDOG.idFromName('watchdog'));
  return {
    db: createDb(env.DB),
    d1: env.DB,
    tick: (now: number) => watchdog.tick(now),
    ensureAlarm: (agentId: string, now: number) => env.AGENT.get(env.AGENT.idFromName(agentId)).ensureAlarm(now),
    channel: webhookOrNull(env),
    notify: Boolean(env.BLINDSPOT_WEBHOOK_URL?.trim()),
    now: Date.now,
  };
}

/** A broken notification setting is logged every sweep but never stops the deadline checks. */
function webhookOrNull(env: Env) {
  try {
    const webhook = parseWebhookConfig(env.BLINDSPOT_WEBHOOK_URL, env.BLINDSPOT_WEBHOOK_SECRET);
    return webhook === null ? null : webhookChannel(webhook);
  } catch (e: unknown) {
    if (!(e instanceof ConfigError)) throw e;
    console.error(`notifications are not sent: ${e.message}`);
    return null;
  }
}
