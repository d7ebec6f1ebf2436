import type { Env } from './env.ts';

/** Where an added agent's secrets came from: the credentials store, or its object's copy while the store is away. */
export type KeysFrom = 'store' | 'copy';

export interface AppEnv {
  Bindings: Env;
  Variables: {
    /** The request body, read once under the size limit. */
    rawBody: string;
    /** The agent whose signature was verified. */
    agentId: string;
    /** The secrets this agent may sign with: from BLINDSPOT_AGENT_SECRETS, or added through the admin API. */
    agentSecrets: readonly string[];
    /** For an agent added through the admin API (unset for one in BLINDSPOT_AGENT_SECRETS). */
    keysFrom?: KeysFrom;
    /** The name of the admin token that was presented. */
    adminName: string;
  };
}
