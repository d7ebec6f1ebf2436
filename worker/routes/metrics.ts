// GET /metrics: the watchdog seen by the stack it watches, in the Prometheus text format, for an
// admin token with the "read" scope (Prometheus's `authorization: { credentials: … }`). Each agent's
// state and heartbeat age, open windows by cause, the paging outbox (pending, oldest, dead letters),
// the objects' replication queues and the sweep's last tick. What cannot be read now is left out
// and said: blindspot_d1_up 0, a missing family; never a made-up zero.
import { Hono } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { viewAgent } from '../core/agent-view.ts';
import { exposition, type Family } from '../core/exposition.ts';
import type { Env } from '../env.ts';
import { verifyAdminToken } from '../middleware/verify-admin-token.ts';
import { publicState } from '../public/state.ts';
import { d1Wait, within } from '../durable/clock.ts';

export const metrics = new Hono<AppEnv>();

metrics.get('/metrics', verifyAdminToken(), async (c) => {
  const now = Date.now();
  const [s, d1, objects] = await Promise.all([
    publicState(c.env, c.executionCtx, c.req.url, now),
    within(fromD1(c.env), d1Wait.ms, 'D1').catch((e: unknown) => {
      console.error('/metrics: D1 could not be read:', e);
      return null;
    }),
    c.env.WATCHDOG.get(c.env.WATCHDOG.idFromName('watchdog'))
      .sweepHealth()
      .catch((e: unknown) => {
        console.error('/metrics: the Watchdog object could not be read:', e);
        return null;
      }),
  ]);
  const seconds = (ms: number) => Math.max(0, (now - ms) / 1000);
  const families: Family[] = [
    {
      name: 'blindspot_agent_state',
      help: 'What the watchdog says of each agent now: 1 for its state (operational, degraded, blind, stopped, unverified, no_data).',
      type: 'gauge',
      samples: s.subjects.map(({ id, live }) => ({
        labels: { agent: id, state: live === undefined ? 'unverified' : viewAgent(id, live, now, s.watchdogStalled).state },
        value: 1,
      })),
    },
    {
      name: 'blindspot_agent_last_heartbeat_age_seconds',
      help: 'Seconds since the agent’s last heartbeat was taken.',
      type: 'gauge',
      samples: s.subjects.flatMap(({ id, live }) =>
        live == null ? [] : [{ labels: { agent: id }, value: seconds(live.lastHeartbeatAt) }],
      ),
    },
    {
      name: 'blindspot_watchdog_stalled',
      help: '1 while the watchdog’s own sweep has stopped: nothing it shows is verified.',
      type: 'gauge',
      samples: [{ value: s.watchdogStalled ? 1 : 0 }],
    },
    { name: 'blindspot_d1_up', help: '1 if D1 answered this scrape.', type: 'gauge', samples: [{ value: d1 === null ? 0 : 1 }] },
  ];
  if (s.lastTickAt != null)
    families.push({
      name: 'blindspot_sweep_last_tick_timestamp_seconds',
      help: 'When the one-minute sweep last ran (Unix seconds).',
      type: 'gauge',
      samples: [{ value: s.lastTickAt / 1000 }],
    });
  if (d1 !== null)
    families.push(
      {
        name: 'blindspot_windows_open',
        help: 'Blind windows open now, by cause.',
        type: 'gauge',
        samples: d1.open.map((r) => ({ labels: { cause: r.cause }, value: r.n })),
      },
      { name: 'blindspot_outbox_pending', help: 'Notifications waiting to be delivered.', type: 'gauge', samples: [{ value: d1.pending }] },
      {
        name: 'blindspot_outbox_oldest_pending_age_seconds',
        help: 'Age of the oldest notification waiting to be delivered (0 when none waits).',
        type: 'gauge',
        samples: [{ value: d1.oldestPendingAt === null ? 0 : seconds(d1.oldestPendingAt) }],
      },
      {
        name: 'blindspot_outbox_dead_letters',
        help: 'Notifications given up on (dead letters).',
        type: 'gauge',
        samples: [{ value: d1.dead }],
      },
    );
  if (objects !== null) {
    // By object: the agents' objects summed as the last sweep found them, and the Watchdog object's own
    // (its summaries and watchdog_gap windows), read now.
    // own is absent from an object still running the code before it (a deploy under way): left out.
    const { fleet, own = null } = objects;
    const by = (agents: number | undefined, watchdog: number | undefined) => [
      ...(agents === undefined ? [] : [{ labels: { object: 'agents' }, value: agents }]),
      ...(watchdog === undefined ? [] : [{ labels: { object: 'watchdog' }, value: watchdog }]),
    ];
    families.push(
      {
        name: 'blindspot_replication_queued',
        help: 'Batches the objects hold for D1: the agents’ as the last sweep found them, the Watchdog’s own now.',
        type: 'gauge',
        samples: by(fleet?.queued, own?.length),
      },
      {
        name: 'blindspot_replication_oldest_age_seconds',
        help: 'Age of the oldest batch waiting for D1 (0 when none waits).',
        type: 'gauge',
        samples: by(
          fleet === null ? undefined : fleet.oldestAt === null ? 0 : seconds(fleet.oldestAt),
          own === null ? undefined : own.oldestAt === null ? 0 : seconds(own.oldestAt),
        ),
      },
      {
        name: 'blindspot_replication_set_aside',
        help: 'Batches D1 refused for good and kept aside (history D1 lacks), until retried or acknowledged.',
        type: 'gauge',
        samples: by(fleet?.setAside, own?.setAside),
      },
      {
        name: 'blindspot_replication_dropped',
        help: 'Batches dropped because an object’s queue or set-aside store was full (history D1 lacks), until acknowledged.',
        type: 'gauge',
        samples: by(fleet?.dropped, own?.dropped),
      },
    );
  }
  return c.body(exposition(families), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'cache-control': 'no-store' });
});

/** Open windows by cause and the paging outbox, in one batch. */
async function fromD1(env: Env) {
  const [open, outbox] = await env.DB.batch<Record<string, unknown>>([
    env.DB.prepare('SELECT cause, count(*) AS n FROM windows WHERE ended_at IS NULL GROUP BY cause ORDER BY cause'),
    env.DB.prepare(
      "SELECT sum(state = 'pending') AS pending, min(CASE WHEN state = 'pending' THEN created_at END) AS oldest, sum(state = 'dead') AS dead FROM outbox WHERE state IN ('pending', 'dead')",
    ),
  ]);
  const row = (outbox?.results[0] ?? {}) as { pending: number | null; oldest: number | null; dead: number | null };
  return {
    open: ((open?.results ?? []) as { cause: string; n: number }[]).map((r) => ({ cause: r.cause, n: Number(r.n) })),
    pending: Number(row.pending ?? 0),
    oldestPendingAt: row.oldest ?? null,
    dead: Number(row.dead ?? 0),
  };
}
