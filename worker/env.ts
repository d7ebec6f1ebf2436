import type { AgentMonitor } from './durable/agent-monitor.ts';

/** Bindings and settings from wrangler.toml, secrets, and (locally) .dev.vars. */
export interface Env {
  DB: D1Database;
  AGENT: DurableObjectNamespace<AgentMonitor>;
  BLINDSPOT_AGENT_SECRETS?: string;
  BLINDSPOT_WEBHOOK_URL?: string;
  BLINDSPOT_WEBHOOK_SECRET?: string;
  BLINDSPOT_PAGE_TITLE?: string;
}
