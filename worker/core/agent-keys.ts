// Whether an agent or a key may be added through the admin API: bounds that keep the credentials
// object small, and no agent managed in two places at once. Pure.

/** Keys one agent may hold at once: enough to rotate (new key, roll out, revoke the old). */
export const MAX_KEYS_PER_AGENT = 4;
/** Agents the credentials object keeps. */
export const MAX_MANAGED_AGENTS = 10_000;

export type KeyRefusal = { status: 404 | 409; code: string; message: string };

export interface KeyFacts {
  agentId: string;
  /** Adding a new agent (agent add), or a key to an existing one (agent rotate). */
  newAgent: boolean;
  /** Keys the agent holds now in the credentials object. */
  keys: number;
  /** Agents the credentials object holds now. */
  agents: number;
  /** Whether BLINDSPOT_AGENT_SECRETS names the agent. */
  inSetting: boolean;
}

export function refuseKey(f: KeyFacts): KeyRefusal | null {
  if (f.inSetting)
    return {
      status: 409,
      code: 'agent_in_setting',
      message: `agent "${f.agentId}" is configured in BLINDSPOT_AGENT_SECRETS; rotate its secret there, or remove it from there and add it here`,
    };
  if (f.newAgent && f.keys > 0)
    return {
      status: 409,
      code: 'agent_exists',
      message: `agent "${f.agentId}" exists; blindspot agent rotate ${f.agentId} adds a key to it`,
    };
  if (!f.newAgent && f.keys === 0)
    return { status: 404, code: 'unknown_agent', message: `no agent "${f.agentId}"; blindspot agent add ${f.agentId} adds it` };
  if (f.keys >= MAX_KEYS_PER_AGENT)
    return {
      status: 409,
      code: 'too_many_keys',
      message: `agent "${f.agentId}" holds ${f.keys} keys, the most it may; revoke one first (blindspot agent revoke ${f.agentId} --key <id>)`,
    };
  if (f.newAgent && f.agents >= MAX_MANAGED_AGENTS)
    return { status: 409, code: 'too_many_agents', message: `${f.agents} agents are managed, the most there may be; revoke one first` };
  return null;
}
