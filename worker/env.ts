import type { AgentMonitor } from './durable/agent-monitor.ts';
import type { Watchdog } from './durable/watchdog.ts';

/** Bindings and settings from wrangler.toml, secrets, and (locally) .dev.vars. */
export interface Env {
  DB: D1Database;
  AGENT: DurableObjectNamespace<AgentMonitor>;
  WATCHDOG: DurableObjectNamespace<Watchdog>;
  BLINDSPOT_AGENT_SECRETS?: string;
  /** JSON {"channel-id": "routing key, API key or webhook URL", "webhook-id": {"url": "...", "secret": "whsec_..."}}. */
  BLINDSPOT_CHANNEL_SECRETS?: string;
  /** JSON {"name": "token"}: bearer tokens for /v1/admin routes. */
  BLINDSPOT_ADMIN_TOKENS?: string;
  /** Legacy single webhook, delivered as channel "webhook". */
  BLINDSPOT_WEBHOOK_URL?: string;
  BLINDSPOT_WEBHOOK_SECRET?: string;
  BLINDSPOT_PAGE_TITLE?: string;
  /** Seconds between the public surfaces' reads of D1 and the agents' objects (default 2; 0: every request). */
  BLINDSPOT_PUBLIC_REFRESH_S?: string;
  /** Most agents' objects one minute's sweep visits (default 9000: under the plan's subrequests per invocation); a larger fleet is visited in turns (jobs/sweep.ts). */
  BLINDSPOT_SWEEP_MAX_VISITS?: string;
  /** The watchdog configuration as YAML or JSON text; overrides the bundled blindspot.config.yaml. */
  BLINDSPOT_CONFIG?: string;
  /** JSON {"source-id": "token"}: the bearer token (or basic-auth password) of each Alertmanager source. */
  BLINDSPOT_ALERTMANAGER_TOKENS?: string;
}
