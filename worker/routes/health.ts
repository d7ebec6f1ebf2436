import { Hono } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { agentSecretsSetting } from '../config.ts';
import { historyLossErrors } from '../core/replication-policy.ts';
import { sweepNeverRan, sweepStalled } from '../core/watchdog-ticks.ts';
import type { Env } from '../env.ts';
import { firstHeardAt } from '../store/agents.ts';
import type { FleetReplication } from '../store/fleet-losses.ts';
import type { QueueStats } from '../store/replication-queue.ts';
import { channelRegistry } from '../notify/registry.ts';
import { d1Wait, within } from '../durable/clock.ts';
import { createDb } from '../store/db.ts';
import { channelStates, notificationCounts } from '../store/deliveries.ts';
import { watchConfig } from '../watch-config.ts';

export const health = new Hono<AppEnv>();

/**
 * Liveness of the Worker itself; says nothing about the agents. It answers 503, with every problem
 * listed, when someone must act: the watchdog configuration is invalid (detection runs on the
 * defaults), an agent's secret entry is malformed (that agent is refused), a channel cannot send (missing or malformed secret), or a channel answered 410 and is
 * disabled, the minute sweep has not run for 5 minutes (the cron stopped: every agent shows unverified) or
 * has never run though agents were heard long ago (no cron deployed), or a batch of history (an agent's or the Watchdog object's own) was set aside or dropped. Dead-lettered notifications are counted too.
 */
health.get('/healthz', async (c) => {
  const { errors, source, config } = watchConfig(c.env);
  const registry = channelRegistry(c.env, config.notifications);
  const channelErrors = registry.info.filter((i) => i.error !== null).map((i) => `channel ${i.id}: ${i.error}`);
  let disabled: string[] = [];
  let dead = 0;
  let store: string | null = null;
  try {
    const db = createDb(c.env.DB);
    const [states, counts] = await within(Promise.all([channelStates(db), notificationCounts(db)]), d1Wait.ms, 'D1');
    disabled = states.filter((s) => s.disabled_at !== null).map((s) => `channel ${s.channel_id}: ${s.disabled_reason}`);
    dead = counts.filter((r) => r.state === 'dead').reduce((n, r) => n + Number(r.n), 0);
  } catch (e: unknown) {
    console.error('healthz: D1 could not be read:', e);
    store = 'D1 could not be read; notification state is unknown';
  }
  const agentErrors = [...agentSecretsSetting(c.env.BLINDSPOT_AGENT_SECRETS).errors.values()];
  let fleet: FleetReplication | null = null;
  let own: QueueStats | null = null;
  // When the minute sweep last ran: null if it never did, undefined if the Watchdog object could not be asked.
  let lastTickAt: number | null | undefined;
  try {
    // own is absent from an object still running the code before it (a deploy under way).
    ({ fleet, own = null, lastTickAt } = await c.env.WATCHDOG.get(c.env.WATCHDOG.idFromName('watchdog')).sweepHealth());
  } catch (e: unknown) {
    console.error('healthz: the Watchdog object could not be read:', e);
  }
  const now = Date.now();
  const sweep = await sweepErrors(c.env, lastTickAt, now);
  const losses = historyLossErrors(
    fleet === null ? null : { setAside: fleet.setAside, dropped: fleet.dropped, agents: fleet.troubledAgents ?? fleet.troubled.length },
    own,
  );
  const ok =
    errors.length === 0 &&
    channelErrors.length === 0 &&
    disabled.length === 0 &&
    store === null &&
    agentErrors.length === 0 &&
    sweep.errors.length === 0 &&
    losses.agents.length === 0 &&
    losses.watchdog.length === 0;
  const body = {
    ok,
    config: { source, errors },
    agents: { errors: agentErrors },
    // The watchdog's own minute sweep (the cron): stopped for 5 minutes, nothing it shows is verified;
    // never run though agents were heard long ago, its cron is missing.
    sweep: { last_ran_at: lastTickAt === undefined || lastTickAt === null ? null : new Date(lastTickAt).toISOString(), ...sweep },
    // What each agent's object still owes D1, as the last sweep found it: queued batches wait for D1;
    // set-aside batches were refused for good (history D1 lacks); dropped ones outgrew the queue.
    replication:
      fleet === null
        ? null
        : {
            checked_at: new Date(fleet.at).toISOString(),
            agents: fleet.agents,
            queued_batches: fleet.queued,
            oldest_queued_at: fleet.oldestAt === null ? null : new Date(fleet.oldestAt).toISOString(),
            set_aside_batches: fleet.setAside,
            dropped_batches: fleet.dropped,
            agents_with_losses_count: fleet.troubledAgents ?? fleet.troubled.length,
            agents_with_losses: fleet.troubled,
            errors: losses.agents,
          },
    // What the Watchdog object itself owes D1: the history of its summaries and of the gaps in its own
    // ticks (watchdog_gap windows). Read now, not at the last sweep.
    watchdog_replication:
      own === null
        ? null
        : {
            queued_batches: own.length,
            oldest_queued_at: own.oldestAt === null ? null : new Date(own.oldestAt).toISOString(),
            set_aside_batches: own.setAside,
            dropped_batches: own.dropped,
            errors: losses.watchdog,
          },
    notifications: {
      channels: registry.info.length,
      errors: [...channelErrors, ...disabled, ...(store === null ? [] : [store])],
      dead_lettered: dead,
    },
  };
  return c.json(body, ok ? 200 : 503, { 'cache-control': 'no-store' });
});

const CRON_FIX = `Check the Worker's cron trigger ([triggers] crons = ["* * * * *"] in wrangler.toml) and its logs`;

/** What is wrong with the watchdog's own minute sweep: stopped, never run though agents were heard long ago, or unknown. */
async function sweepErrors(env: Env, lastTickAt: number | null | undefined, now: number): Promise<{ stalled: boolean; errors: string[] }> {
  const minutesAgo = (t: number) => Math.round((now - t) / 60_000);
  if (sweepStalled(lastTickAt, now))
    return {
      stalled: true,
      errors: [
        lastTickAt === undefined || lastTickAt === null
          ? 'the Watchdog object could not be asked when the minute sweep last ran: nothing shown can be verified'
          : `the minute sweep last ran ${new Date(lastTickAt).toISOString()}, ${minutesAgo(lastTickAt)} minutes ago: the public surfaces show every agent unverified. ${CRON_FIX}`,
      ],
    };
  if (lastTickAt !== null) return { stalled: false, errors: [] };
  // Never run: a Worker just deployed, or one without its cron. D1 says since when agents are heard.
  const first = await within(firstHeardAt(createDb(env.DB)), d1Wait.ms, 'D1').catch(() => null);
  return sweepNeverRan(lastTickAt, first, now)
    ? {
        stalled: false,
        errors: [
          `no minute sweep has ever run, though the first agent was heard ${minutesAgo(first as number)} minutes ago: gaps in the watchdog's own running are told by nobody and old history is never pruned. ${CRON_FIX}`,
        ],
      }
    : { stalled: false, errors: [] };
}
