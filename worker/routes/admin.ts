// Admin API: the delivery log, channel state, test-fire, retrying a dead letter, re-enabling a
// channel; incidents, maintenance and silences (admin-notices.ts). Bearer token from
// BLINDSPOT_ADMIN_TOKENS, read or write scope. Secrets never appear in any answer.
import { Hono } from 'hono';
import * as v from 'valibot';
import type { AppEnv } from '../app-env.ts';
import { ApiError, fromObject } from '../errors.ts';
import { noBody } from '../middleware/body-limit.ts';
import { boundedReads } from '../middleware/bounded-reads.ts';
import { verifyAdminToken } from '../middleware/verify-admin-token.ts';
import { channelRegistry } from '../notify/registry.ts';
import { testFire } from '../notify/test-fire.ts';
import { createDb } from '../store/db.ts';
import {
  channelStates,
  getNotification,
  listNotifications,
  logTestAttempt,
  notificationCounts,
  setChannelEnabled,
} from '../store/deliveries.ts';
import { watchConfig } from '../watch-config.ts';
import { SUMMARY_OWNER } from '../durable/watchdog.ts';
import { adminAgents } from './admin-agents.ts';
import { adminTokens } from './admin-tokens.ts';
import { adminNotices, tellAgents } from './admin-notices.ts';

export const admin = new Hono<AppEnv>();
admin.use('*', verifyAdminToken());
admin.use('*', boundedReads);
admin.route('/', adminNotices);
admin.route('/', adminAgents);
admin.route('/', adminTokens);

const registryOf = (env: AppEnv['Bindings']) => channelRegistry(env, watchConfig(env).config.notifications);

admin.get('/channels', async (c) => {
  const db = createDb(c.env.DB);
  const registry = registryOf(c.env);
  const states = new Map((await channelStates(db)).map((s) => [s.channel_id, s]));
  const counts = await notificationCounts(db);
  const iso = (t: number | null | undefined) => (t == null ? null : new Date(t).toISOString());
  const channels = registry.info.map((i) => {
    const s = states.get(i.id);
    const count = (state: string) => Number(counts.find((x) => x.channel_id === i.id && x.state === state)?.n ?? 0);
    return {
      id: i.id,
      type: i.type,
      source: i.source,
      ready: i.error === null && s?.disabled_at == null,
      config_error: i.error,
      disabled_at: iso(s?.disabled_at),
      disabled_reason: s?.disabled_reason ?? null,
      last_success_at: iso(s?.last_success_at),
      last_failure_at: iso(s?.last_failure_at),
      last_error: s?.last_error ?? null,
      pending: count('pending'),
      dead: count('dead'),
      delivered: count('delivered'),
    };
  });
  return c.json({ channels }, 200, { 'cache-control': 'no-store' });
});

function knownChannel(env: AppEnv['Bindings'], id: string) {
  const registry = registryOf(env);
  const info = registry.info.find((i) => i.id === id);
  if (info === undefined)
    throw new ApiError(
      404,
      'unknown_channel',
      `no channel "${id}"; channels are ${registry.info.map((i) => i.id).join(', ') || '(none: add notifications.channels to the configuration)'}`,
    );
  return { registry, info };
}

admin.post('/channels/:id/test', noBody(), async (c) => {
  const id = c.req.param('id');
  const { registry, info } = knownChannel(c.env, id);
  const channel = registry.channels.get(id);
  if (channel === undefined) throw new ApiError(422, 'channel_not_ready', `channel "${id}" cannot send: ${info.error}`);
  const db = createDb(c.env.DB);
  const now = Date.now();
  const nonce = crypto.randomUUID();
  const result = await testFire(channel, now, nonce);
  let attempt = 0;
  for (const s of result.sent)
    await logTestAttempt(
      db,
      `blindspot-test:test-fire:${nonce}:${s.event === 'window.opened' ? 'opened' : 'closed'}@${id}`,
      id,
      ++attempt,
      now,
      s,
    );
  // A channel that proves itself is enabled again (after a 410), and its waiting notifications go out.
  if (result.ok) {
    await setChannelEnabled(db, id, Date.now());
    await tellAgents(c.env);
  }
  return c.json({ channel: id, type: channel.type, ...result }, 200, { 'cache-control': 'no-store' });
});

admin.post('/channels/:id/enable', noBody(), async (c) => {
  const id = c.req.param('id');
  knownChannel(c.env, id);
  await setChannelEnabled(createDb(c.env.DB), id, Date.now());
  await tellAgents(c.env);
  return c.json({ channel: id, enabled: true });
});

const STATES = ['pending', 'delivered', 'dead', 'cancelled'] as const;
const ListQuery = v.object({
  state: v.optional(v.picklist(STATES, `state is one of ${STATES.join(', ')}`)),
  channel: v.optional(v.pipe(v.string(), v.maxLength(63, 'channel is at most 63 characters'))),
  agent: v.optional(v.pipe(v.string(), v.maxLength(63, 'agent is at most 63 characters'))),
  limit: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,4}$/, 'limit is a whole number from 1 to 500'),
      v.transform(Number),
      v.minValue(1, 'limit is at least 1'),
      v.maxValue(500, 'limit is at most 500'),
    ),
    '100',
  ),
  before: v.optional(v.pipe(v.string(), v.regex(/^\d{1,15}$/, 'before is a notification seq (a whole number)'), v.transform(Number))),
});

admin.get('/notifications', async (c) => {
  const parsed = v.safeParse(ListQuery, c.req.query());
  if (!parsed.success)
    throw new ApiError(
      400,
      'invalid_query',
      parsed.issues.map((i) => `${i.path?.map((p) => p.key).join('.') ?? 'query'}: ${i.message}`).join('; '),
    );
  const rows = await listNotifications(createDb(c.env.DB), parsed.output);
  const last = rows.at(-1);
  return c.json({ notifications: rows, next_before: rows.length === parsed.output.limit && last !== undefined ? last.seq : null }, 200, {
    'cache-control': 'no-store',
  });
});

admin.get('/notifications/:id', async (c) => {
  const row = await getNotification(createDb(c.env.DB), c.req.param('id'));
  if (row === null) throw new ApiError(404, 'unknown_notification', `no notification "${c.req.param('id')}"`);
  return c.json({ notification: row }, 200, { 'cache-control': 'no-store' });
});

admin.post('/notifications/:id/retry', noBody(), async (c) => {
  const id = c.req.param('id');
  const db = createDb(c.env.DB);
  const row = await getNotification(db, id);
  if (row === null) throw new ApiError(404, 'unknown_notification', `no notification "${id}"`);
  // The object that owns the row is its system of record; D1's copy follows.
  const owner =
    row.agent_id === SUMMARY_OWNER
      ? c.env.WATCHDOG.get(c.env.WATCHDOG.idFromName('watchdog'))
      : c.env.AGENT.get(c.env.AGENT.idFromName(row.agent_id));
  const result = await fromObject(`the owner of notification ${id}`, () => owner.retryNotification(id));
  if (result === 'unknown')
    throw new ApiError(
      404,
      'unknown_notification',
      `notification "${id}" is no longer held by its owner (it finished more than a week ago)`,
    );
  if (result === 'not_dead')
    throw new ApiError(
      409,
      'not_dead',
      `notification "${id}" is ${row.state === 'dead' ? 'already queued again' : row.state}; only a dead-lettered notification can be retried`,
    );
  return c.json({ notification: id, state: 'pending' }, 202);
});
