// Agents managed through the admin API, so adding one needs no redeploy and no hand-edited secret:
//   GET    /v1/admin/agents                 every agent and its keys (ids only, never a secret)
//   POST   /v1/admin/agents/:id             adds an agent; answers its first secret, once
//   POST   /v1/admin/agents/:id/keys        adds a key (rotation); answers the new secret, once
//   DELETE /v1/admin/agents/:id/keys/:key   revokes one key
//   DELETE /v1/admin/agents/:id             retires the agent: every key revoked (its heartbeats get 401),
//                                           every window it has open ended, its silence not paged
//   GET    /v1/admin/agents/:id/replication what the agent's object still owes D1: the queue, its oldest
//                                           batch, the batches set aside (refused for good) and dropped
//   POST   /v1/admin/agents/:id/replication/retry        the batches set aside go back in the queue
//                                           (once what D1 refused is fixed: a migration applied)
//   POST   /v1/admin/agents/:id/replication/acknowledge  forgets them and clears the dropped count
//                                           (what D1 lacks was seen; /healthz is content again)
//   GET    /v1/admin/replication            the same for the whole fleet, as the last sweep found it, and
//                                           the Watchdog object's own (its summaries, the watchdog_gap windows)
//   GET    /v1/admin/watchdog/replication   what the Watchdog object itself owes D1, as for an agent
//   POST   /v1/admin/watchdog/replication/retry | acknowledge   as for an agent, for the Watchdog object
// Agents in BLINDSPOT_AGENT_SECRETS are listed (source "setting") but changed only there.
import { Hono } from 'hono';
import { AGENT_ID_PATTERN } from '../../protocol/heartbeat.ts';
import type { AppEnv } from '../app-env.ts';
import { agentSecretsSetting } from '../config.ts';
import { CREDENTIALS_STORE, credentials, forgetSecrets } from '../durable/credentials.ts';
import type { Env } from '../env.ts';
import { ApiError, fromObject } from '../errors.ts';
import { noBody } from '../middleware/body-limit.ts';
import type { ObjectHealth } from '../durable/replicator.ts';
import type { AgentKey } from '../store/agent-keys.ts';
import type { QueueStats } from '../store/replication-queue.ts';

export const adminAgents = new Hono<AppEnv>();

const noStore = { 'cache-control': 'no-store' };
const KEY_ID = /^[0-9a-f]{12}$/;
const objectOf = (id: string) => `agent ${id}'s watchdog object`;

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
  for (const k of await fromObject(CREDENTIALS_STORE, () => credentials(c.env).agentKeys()))
    managed.set(k.agentId, [...(managed.get(k.agentId) ?? []), k]);
  const setting = agentSecretsSetting(c.env.BLINDSPOT_AGENT_SECRETS);
  const agents = [
    ...[...managed].map(([id, keys]) => ({ id, source: 'managed', keys: keys.map(keyShape), error: null })),
    ...[...setting.secrets].map(([id, secrets]) => ({ id, source: 'setting', keys: secrets.map(() => null), error: null })),
    ...[...setting.errors].filter(([id]) => id !== '*').map(([id, error]) => ({ id, source: 'setting', keys: [], error })),
  ].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return c.json({ agents, setting_error: setting.errors.get('*') ?? null }, 200, noStore);
});

async function addKey(c: { env: Env; var: AppEnv['Variables'] }, id: string, newAgent: boolean) {
  const setting = inSetting(c.env, id);
  const result = await fromObject(
    CREDENTIALS_STORE,
    async () => await credentials(c.env).addAgentKey(id, newAgent, setting, c.var.adminName),
  );
  forgetSecrets(id);
  if (!result.ok) throw new ApiError(result.refusal.status, result.refusal.code, result.refusal.message);
  return { agent: id, key: { ...keyShape(result.key), secret: result.secret } };
}

/**
 * The agent's object keeps a copy of its keys, for when the credentials store cannot be reached
 * (durable/kept-secrets.ts): told after every change, as the store holds them now.
 */
async function copyKeys(env: Env, id: string): Promise<void> {
  const secrets = await fromObject(CREDENTIALS_STORE, () => credentials(env).agentSecrets(id));
  await fromObject(`${objectOf(id)} (send the request again so that it keeps the agent's keys as they are now)`, () =>
    env.AGENT.get(env.AGENT.idFromName(id)).keepSecrets(secrets),
  );
}

adminAgents.post('/agents/:id', noBody(), async (c) => {
  const id = agentIdOf(c.req.param('id'));
  const added = await addKey(c, id, true);
  // An agent retired a moment ago and added back: its object takes its heartbeats again at once.
  await c.env.AGENT.get(c.env.AGENT.idFromName(id))
    .readmit()
    .then(() => copyKeys(c.env, id))
    .catch((e: unknown) => console.error(`agent ${id}: added, but its object could not be told:`, e));
  return c.json(added, 201, noStore);
});

adminAgents.post('/agents/:id/keys', noBody(), async (c) => {
  const id = agentIdOf(c.req.param('id'));
  const added = await addKey(c, id, false);
  // The copy without the new key only lacks it: the store stays the source of truth.
  await copyKeys(c.env, id).catch((e: unknown) => console.error(`agent ${id}: key added, but its object could not be told:`, e));
  return c.json(added, 201, noStore);
});

adminAgents.delete('/agents/:id/keys/:key', async (c) => {
  const id = agentIdOf(c.req.param('id'));
  const key = c.req.param('key');
  if (!KEY_ID.test(key)) throw new ApiError(400, 'invalid_key_id', 'a key id is the 12 hex digits blindspot agent list shows');
  const revoked = await fromObject(CREDENTIALS_STORE, () => credentials(c.env).revokeAgentKeys(id, key));
  forgetSecrets(id);
  // Not done until the object's copy lacks it too: the copy verifies heartbeats while the store is away.
  // (A DELETE sent again after the object could not be told finds the key gone from the store, and
  // still brings the copy in line before its 404.)
  if (revoked > 0 || (await fromObject(objectOf(id), () => c.env.AGENT.get(c.env.AGENT.idFromName(id)).keptSecrets())) !== null)
    await copyKeys(c.env, id);
  if (revoked === 0) throw new ApiError(404, 'unknown_key', `agent "${id}" has no key ${key}; blindspot agent list shows its keys`);
  return c.json({ agent: id, revoked: [key] }, 200, noStore);
});

adminAgents.delete('/agents/:id', async (c) => {
  const id = agentIdOf(c.req.param('id'));
  if (inSetting(c.env, id))
    throw new ApiError(409, 'agent_in_setting', `agent "${id}" is configured in BLINDSPOT_AGENT_SECRETS; remove it there`);
  const revoked = await fromObject(CREDENTIALS_STORE, () => credentials(c.env).revokeAgentKeys(id));
  forgetSecrets(id);
  const stub = c.env.AGENT.get(c.env.AGENT.idFromName(id));
  // No key left, but an object still watching the agent or keeping a copy of its keys (its keys revoked
  // one by one, or an earlier DELETE whose object could not be told): retiring it is what is left to do.
  const unfinished = async () => (await stub.watching()) || ((await stub.keptSecrets())?.length ?? 0) > 0;
  if (revoked === 0 && !(await fromObject(objectOf(id), unfinished)))
    throw new ApiError(404, 'unknown_agent', `no agent "${id}"; blindspot agent list shows them`);
  // Revoking is the operator's intent that the agent goes quiet: its silence is not a blind spot.
  const retired = await fromObject(`${objectOf(id)} (its keys are revoked; send the DELETE again to end its windows)`, async () => {
    await stub.keepSecrets([]);
    return await stub.retire();
  });
  return c.json({ agent: id, revoked, retired: retired !== null, windows_ended: retired?.closed ?? 0 }, 200, noStore);
});

/** An agent with a managed key or an entry in BLINDSPOT_AGENT_SECRETS, heard or not. */
async function isKnown(env: Env, id: string): Promise<boolean> {
  return inSetting(env, id) || (await fromObject(CREDENTIALS_STORE, () => credentials(env).agentKeys())).some((k) => k.agentId === id);
}

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

adminAgents.get('/agents/:id/replication', async (c) => {
  const id = agentIdOf(c.req.param('id'));
  const stub = c.env.AGENT.get(c.env.AGENT.idFromName(id));
  const [health, live, plan] = await fromObject(objectOf(id), () => Promise.all([stub.health(), stub.getStatus(), stub.alarmPlan()]));
  const q = health.replication;
  const heard = live !== null;
  if (!heard && q.length === 0 && q.setAside === 0 && q.dropped === 0 && !(await isKnown(c.env, id)))
    throw new ApiError(404, 'unknown_agent', `no agent "${id}"; blindspot agent list shows them`);
  return c.json(
    {
      agent: id,
      heard,
      ...owedOf(q),
      next_try_at: iso(plan.replicationDueAt),
      set_aside: setAsideOf(health),
      pending_notifications: health.pendingNotifications,
      stored_bytes: health.storedBytes,
    },
    200,
    noStore,
  );
});

/** An agent this watchdog knows (heard, or given a key), or a 404 naming how to list them. */
async function knownAgentStub(env: Env, id: string) {
  const stub = env.AGENT.get(env.AGENT.idFromName(id));
  const heard = (await fromObject(objectOf(id), () => stub.getStatus())) !== null;
  if (!heard && !(await isKnown(env, id))) throw new ApiError(404, 'unknown_agent', `no agent "${id}"; blindspot agent list shows them`);
  return stub;
}

adminAgents.post('/agents/:id/replication/retry', noBody(), async (c) => {
  const id = agentIdOf(c.req.param('id'));
  const stub = await knownAgentStub(c.env, id);
  const retried = await fromObject(objectOf(id), () => stub.retrySetAside());
  return c.json({ agent: id, retried_batches: retried }, 200, noStore);
});

adminAgents.post('/agents/:id/replication/acknowledge', noBody(), async (c) => {
  const id = agentIdOf(c.req.param('id'));
  const stub = await knownAgentStub(c.env, id);
  const gone = await fromObject(objectOf(id), () => stub.acknowledgeLosses());
  // /healthz and the fleet's figures follow at the sweep's next visit of the agent.
  return c.json({ agent: id, discarded_set_aside_batches: gone.setAside, cleared_dropped_batches: gone.dropped }, 200, noStore);
});

const WATCHDOG_OBJECT = 'the Watchdog object';
const watchdogStub = (env: Env) => env.WATCHDOG.get(env.WATCHDOG.idFromName('watchdog'));

/** What an object's queue holds, as the admin API shows it. */
function owedOf(q: QueueStats) {
  return {
    queued_batches: q.length,
    queued_bytes: q.bytes,
    oldest_queued_at: iso(q.oldestAt),
    set_aside_batches: q.setAside,
    dropped_batches: q.dropped,
  };
}

/** The newest set-aside batches, at most 20: each refused for good after its tries, with D1's last answer. */
const setAsideOf = (health: ObjectHealth) =>
  health.setAside.map((b) => ({
    seq: b.seq,
    created_at: iso(b.createdAt),
    set_aside_at: iso(b.setAsideAt),
    tries: b.tries,
    statements: b.statements,
    last_error: b.lastError,
  }));

adminAgents.get('/watchdog/replication', async (c) => {
  const health = await fromObject(WATCHDOG_OBJECT, () => watchdogStub(c.env).health());
  return c.json(
    {
      object: 'watchdog',
      ...owedOf(health.replication),
      set_aside: setAsideOf(health),
      pending_notifications: health.pendingNotifications,
      stored_bytes: health.storedBytes,
    },
    200,
    noStore,
  );
});

adminAgents.post('/watchdog/replication/retry', noBody(), async (c) => {
  const retried = await fromObject(WATCHDOG_OBJECT, () => watchdogStub(c.env).retrySetAside());
  return c.json({ object: 'watchdog', retried_batches: retried }, 200, noStore);
});

adminAgents.post('/watchdog/replication/acknowledge', noBody(), async (c) => {
  const gone = await fromObject(WATCHDOG_OBJECT, () => watchdogStub(c.env).acknowledgeLosses());
  return c.json({ object: 'watchdog', discarded_set_aside_batches: gone.setAside, cleared_dropped_batches: gone.dropped }, 200, noStore);
});

adminAgents.get('/replication', async (c) => {
  const { fleet, own } = await fromObject(WATCHDOG_OBJECT, () => watchdogStub(c.env).sweepHealth());
  const watchdog = owedOf(own);
  if (fleet === null)
    return c.json(
      {
        checked_at: null,
        agents: 0,
        queued_batches: 0,
        oldest_queued_at: null,
        set_aside_batches: 0,
        dropped_batches: 0,
        agents_with_losses_count: 0,
        agents_with_losses: [],
        watchdog,
      },
      200,
      noStore,
    );
  return c.json(
    {
      checked_at: iso(fleet.at),
      agents: fleet.agents,
      queued_batches: fleet.queued,
      oldest_queued_at: iso(fleet.oldestAt),
      set_aside_batches: fleet.setAside,
      dropped_batches: fleet.dropped,
      agents_with_losses_count: fleet.troubledAgents ?? fleet.troubled.length,
      agents_with_losses: fleet.troubled.map((t) => ({
        agent: t.agent,
        set_aside_batches: t.setAside,
        dropped_batches: t.dropped,
        last_error: t.lastError,
      })),
      watchdog,
    },
    200,
    noStore,
  );
});
