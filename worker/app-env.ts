import type { Env } from './env.ts';

export interface AppEnv {
  Bindings: Env;
  Variables: {
    /** The request body, read once under the size limit. */
    rawBody: string;
    /** The agent whose signature was verified. */
    agentId: string;
    /** The secrets this agent may sign with: from BLINDSPOT_AGENT_SECRETS, or added through the admin API. */
    agentSecrets: readonly string[];
    /** The name of the admin token that was presented. */
    adminName: string;
  };
}
