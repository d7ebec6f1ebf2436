import { app } from './app.ts';
import { parseWebhookConfig } from './config.ts';
import type { Env } from './env.ts';
import { runSweep } from './jobs/sweep.ts';
import { webhookChannel } from './notify/webhook.ts';
import { createDb } from './store/db.ts';

export { AgentMonitor } from './durable/agent-monitor.ts';

export default {
  fetch: app.fetch,
  async scheduled(_controller, env, ctx) {
    const webhook = parseWebhookConfig(env.BLINDSPOT_WEBHOOK_URL, env.BLINDSPOT_WEBHOOK_SECRET);
    ctx.waitUntil(
      runSweep({
        db: createDb(env.DB),
        ensureAlarm: (agentId) => env.AGENT.get(env.AGENT.idFromName(agentId)).ensureAlarm(),
        channel: webhook === null ? null : webhookChannel(webhook),
        now: Date.now,
      }),
    );
  },
} satisfies ExportedHandler<Env>;
