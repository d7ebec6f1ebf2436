// Agents managed through the admin API, so adding one needs no redeploy and no hand-edited secret:
//   GET    /v1/admin/agents                 every agent and its keys (ids only, never a secret)
//   POST   /v1/admin/agents/:id             adds an agent; answers its first secret, once
//   POST   /v1/admin/agents/:id/keys        adds a key (rotation); answers the new secret, once
//   DELETE /v1/admin/agents/:id/keys/:key   revokes one key
//   DELETE /v1/admin/agents/:id             retires the agent: every key revoked (its heartbeats get 401),
//                                           every window it has open ended, its silence not paged
// Agents in BLINDSPOT_AGENT_SECRETS are listed (source "setting") but changed only there.
import { Hono } from 'hono';
import { AGENT_ID_PATTERN } from '../../protocol/heartbeat.ts';
import type { AppEnv } from '../app-env.ts';
import { agentSecretsSetting } from '../config.ts';
import { credentials, forgetSecrets } from '../durable/credentials.ts';
import type { Env } from '../env.ts';
import { ApiError } from '../errors.ts';
import type { AgentKey } from '../store/agent-keys.ts';

export const adminAgents = new Hono<AppEnv>();

const noStore = { 'cache-control': 'no-store' };
const KEY_ID = /^[0-9a-f]{12}$/;

function agentIdOf(raw: string | undefined): string {
  const id = raw ?? '';
  if (!AGENT_ID_PATTERN.test(id)) throw new ApiError(400, 'invalid_agent_id', 'agent ids match ^[a-z0-9][a-z0-9_.-]{0,62}$');
  return id;
}

const inSetting = (env: Env, id: string) => {
  const setting = agentSecretsSetting(env.BLINDSPOT_AGENT_SECRETS);
  return setting.secrets.has(id) || setting.errors.has(id);
};

const keyShape = (k: AgentKey) => ({ id: k.keyId, created_at: new Date(k.createdAt).toISOString(), created_by: k.createdBy });

adminAgents.get('/agents', async (c) => {
  const managed = new Map<string, AgentKey[]>();
  for (const k of await credentials(c.env).agentKeys()) managed.set(k.agentId, [...(managed.get(k.agentId) ?? []), k]);
  const setting = agentSecretsSetting(c.env.BLINDSPOT_AGENT_SECRETS);
  const agents = [
    ...[...managed].map(([id, keys]) => ({ id, source: 'managed', keys: keys.map(keyShape), error: null })),
    ...[...setting.secrets].map(([id, secrets]) => ({ id, source: 'setting', keys: secrets.map(() => null), error: null })),
    ...[...setting.errors].filter(([id]) => id !== '*').map(([id, error]) => ({ id, source: 'setting', keys: [], error })),
  ].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return c.json({ agents, setting_error: setting.errors.get('*') ?? null }, 200, noStore);
});

async function addKey(c: { env: Env; var: AppEnv['Variables'] }, id: string, newAgent: boolean) {
  const result = await credentials(c.env).addAgentKey(id, newAgent, inSetting(c.env, id), c.var.adminName);
  forgetSecrets(id);
  if (!result.ok) throw new ApiError(result.refusal.status, result.refusal.code, result.refusal.message);
  return { agent: id, key: { ...keyShape(result.key), secret: result.secret } };
}

adminAgents.post('/agents/:id', async (c) => {
  const id = agentIdOf(c.req.param('id'));
  const added = await addKey(c, id, true);
  // An agent retired a moment ago and added back: its object takes its heartbeats again at once.
  await c.env.AGENT.get(c.env.AGENT.idFromName(id))
    .readmit()
    .catch((e: unknown) => console.error(`agent ${id}: added, but its object could not be told:`, e));
  return c.json(added, 201, noStore);
});

adminAgents.post('/agents/:id/keys', async (c) => c.json(await addKey(c, agentIdOf(c.req.param('id')), false), 201, noStore));

adminAgents.delete('/agents/:id/keys/:key', async (c) => {
  const id = agentIdOf(c.req.param('id'));
  const key = c.req.param('key');
  if (!KEY_ID.test(key)) throw new ApiError(400, 'invalid_key_id', 'a key id is the 12 hex digits blindspot agent list shows');
  const revoked = await credentials(c.env).revokeAgentKeys(id, key);
  forgetSecrets(id);
  if (revoked === 0) throw new ApiError(404, 'unknown_key', `agent "${id}" has no key ${key}; blindspot agent list shows its keys`);
  return c.json({ agent: id, revoked: [key] }, 200, noStore);
});

adminAgents.delete('/agents/:id', async (c) => {
  const id = agentIdOf(c.req.param('id'));
  if (inSetting(c.env, id))
    throw new ApiError(409, 'agent_in_setting', `agent "${id}" is configured in BLINDSPOT_AGENT_SECRETS; remove it there`);
  const revoked = await credentials(c.env).revokeAgentKeys(id);
  forgetSecrets(id);
  if (revoked === 0) throw new ApiError(404, 'unknown_agent', `no agent "${id}"; blindspot agent list shows them`);
  // Revoking is the operator's intent that the agent goes quiet: its silence is not a blind spot.
  const retired = await c.env.AGENT.get(c.env.AGENT.idFromName(id)).retire();
  return c.json({ agent: id, revoked, retired: retired !== null, windows_ended: retired?.closed ?? 0 }, 200, noStore);
});
