// Each agent's Durable Object is the system of record: a batch D1 refuses for good is set aside and
// blocks nothing, windows never end before they start, and objects deployed with older stored state
// carry it over. Real workerd, real local D1, real receivers; the object's clock is virtual.
import { abortAllDurableObjects, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { windowEvent } from '../../worker/core/window-event.ts';
import type { AgentMonitor } from '../../worker/durable/agent-monitor.ts';
import { MAX_QUEUED_BATCHES, MAX_QUEUED_BYTES, MAX_SET_ASIDE_BATCHES } from '../../worker/core/replication-policy.ts';
import { setMeta } from '../../worker/store/object-live.ts';
import { sweepDeps } from '../../worker/index.ts';
import { runSweep } from '../../worker/jobs/sweep.ts';
import { windowsOf } from './fixtures/d1.ts';
import { READ_TOKEN } from './fixtures/channels.ts';
import { adminRequest, BASE, send, uniqueId } from './fixtures/requests.ts';
import { agentStub, storedLive } from './fixtures/durable.ts';
import { receivedFor } from './fixtures/hub.ts';
import { deliverAt, rowsOf } from './fixtures/paging.ts';
import { fresh, SimulatedAgent } from './fixtures/simulated.ts';

const health = (agent: string) => agentStub(agent).health();

describe('the object and D1', () => {
  it('a batch D1 refuses deterministically is set aside after its tries; the next silence still pages and reaches D1', async () => {
    const a = new SimulatedAgent('page-refused');
    // A real refusal from D1 itself: a trigger that aborts this agent's first_seen event, every time.
    await env.DB.exec(
      `CREATE TRIGGER refuse_page_refused BEFORE INSERT ON agent_events WHEN NEW.agent_id = 'page-refused' AND NEW.type = 'first_seen' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`,
    );
    try {
      for (let s = 0; s <= 10; s += 5) expect(await a.heartbeat(s, [fresh('metrics.freshness', 1)])).toMatchObject({ status: 'accepted' });
      const h = await health(a.id);
      expect(h.setAside).toEqual([expect.objectContaining({ tries: 3, lastError: expect.stringMatching(/refused by the test/) })]);
      expect(h.replication).toMatchObject({ length: 0, setAside: 1, dropped: 0 });

      expect(await a.judge(20)).toBe('fired');
      expect((await rowsOf(a.id, 'pd')).map((r) => r.event_type)).toEqual(['window.opened']);
      await deliverAt(a.at(26), a.id);
      expect((await receivedFor('pd', a.id)).map((r) => JSON.parse(r.body).event_action)).toEqual(['trigger']);
      expect(await windowsOf(a.id)).toEqual([expect.objectContaining({ monitor: 'agent', cause: 'agent_silent', ended_at: null })]);
      expect((await health(a.id)).replication.length).toBe(0);

      // The sweep gathers every object's queue; /healthz names the agent whose history D1 lacks.
      await runSweep(sweepDeps(env));
      const healthz = await send(new Request(`${BASE}/healthz`));
      expect(healthz.status).toBe(503);
      const body = (await healthz.json()) as {
        replication: { set_aside_batches: number; agents_with_losses: { agent: string; lastError: string }[] };
      };
      expect(body.replication.set_aside_batches).toBeGreaterThanOrEqual(1);
      expect(body.replication.agents_with_losses).toContainEqual(
        expect.objectContaining({ agent: a.id, lastError: expect.stringMatching(/refused by the test/) }),
      );

      // The admin API says the same, agent by agent (read scope is enough) and for the fleet.
      const read = (path: string) => send(new Request(`${BASE}/v1/admin${path}`, { headers: { authorization: `Bearer ${READ_TOKEN}` } }));
      const mine = await read(`/agents/${a.id}/replication`);
      expect(mine.status).toBe(200);
      expect(await mine.json()).toMatchObject({
        agent: a.id,
        heard: true,
        queued_batches: 0,
        oldest_queued_at: null,
        set_aside_batches: 1,
        dropped_batches: 0,
        set_aside: [{ tries: 3, statements: expect.any(Number), last_error: expect.stringMatching(/refused by the test/) }],
      });
      const fleet = await read('/replication');
      expect(fleet.status).toBe(200);
      const fleetBody = (await fleet.json()) as { agents_with_losses: unknown[]; agents_with_losses_count: number };
      expect(fleetBody.agents_with_losses).toContainEqual(
        expect.objectContaining({ agent: a.id, set_aside_batches: 1, last_error: expect.stringMatching(/refused by the test/) }),
      );
      expect(fleetBody.agents_with_losses_count).toBe(fleetBody.agents_with_losses.length);
    } finally {
      await env.DB.exec('DROP TRIGGER refuse_page_refused');
    }
  });

  it('an object reset while a heartbeat waits for D1 loses nothing: its decision and the page it queued were stored before the wait', async () => {
    const a = new SimulatedAgent('reset-mid-wait');
    await a.every(0, 5, () => [fresh('metrics.freshness', 1)]);
    // D1 and the clock's wait never answer: the next heartbeat, which finds the agent silent, parks in its wait for D1.
    await runInDurableObject(agentStub(a.id), (o: AgentMonitor) => {
      o.replicator.d1 = { batch: () => new Promise(() => {}), prepare: env.DB.prepare.bind(env.DB) } as unknown as D1Database;
      o.clock = { now: () => a.at(40), sleep: () => new Promise(() => {}) };
    });
    const body = {
      v: 1 as const,
      seq: 3,
      boot: a.boot,
      sent_at: new Date(a.at(40)).toISOString(),
      interval_s: 5,
      grace_s: 5,
      signals: [fresh('metrics.freshness', 1)],
    };
    const parked = agentStub(a.id).receiveHeartbeat(a.id, 'hb-parked', body, a.at(40));
    // Wait for the stored decision (asking the object, not the clock); by then the heartbeat is parked, unanswered.
    for (let i = 0; i < 100 && (await storedLive(a.id))?.seq !== 3; i++);
    expect((await storedLive(a.id))?.seq).toBe(3);
    const answer = (p: Promise<unknown>) =>
      p.then(
        () => 'answered',
        () => 'failed',
      );
    expect(await Promise.race([answer(parked), Promise.resolve('waiting')])).toBe('waiting');
    await abortAllDurableObjects();
    expect(await answer(parked)).toBe('failed');

    // A new instance, from storage alone: the late heartbeat's decision is there (the silence it found, and its page queued), and D1 gets it.
    const live = await runInDurableObject(agentStub(a.id), (o: AgentMonitor) => o.getStatus());
    expect(live).toMatchObject({ seq: 3, lastHeartbeatAt: a.at(40) });
    expect(live?.silence?.window).toMatchObject({ cause: 'agent_silent', startedAt: a.at(10), paged: true });
    expect((await rowsOf(a.id)).map((r) => [r.event_type, r.state])).toEqual([['window.opened', 'pending']]);
    // The agent retries the heartbeat it got no answer for: that webhook id was taken (409 to the agent), not decided twice.
    expect(await agentStub(a.id).receiveHeartbeat(a.id, 'hb-parked', body, a.at(41))).toEqual({ status: 'replay' });
    expect(await rowsOf(a.id)).toHaveLength(1);
  });

  it('grace 0, the alarm opening the silence just before a heartbeat stamped earlier: every stored window ends at or after its start', async () => {
    const a = new SimulatedAgent('race-grace0', undefined, 5);
    await agentStub(a.id).receiveHeartbeat(
      a.id,
      'race-1',
      { v: 1, seq: 1, boot: a.boot, sent_at: new Date(a.at(0)).toISOString(), interval_s: 5, grace_s: 0, signals: [] },
      a.at(0),
    );
    expect(await a.judge(5)).toBe('fired');
    // Stamped at 4.9 s, taken after the alarm opened the window at 5 s.
    for (const [seq, at] of [
      [2, 4.9],
      [3, 9.9],
    ] as const)
      await agentStub(a.id).receiveHeartbeat(
        a.id,
        `race-${seq}`,
        { v: 1, seq, boot: a.boot, sent_at: new Date(a.at(at)).toISOString(), interval_s: 5, grace_s: 0, signals: [] },
        a.at(at),
      );
    const windows = await windowsOf(a.id);
    expect(windows).toHaveLength(1);
    for (const w of windows) expect(w.ended_at).toBeGreaterThanOrEqual(w.started_at);
    expect((await health(a.id)).replication).toMatchObject({ length: 0, setAside: 0 });
  });

  it('D1 refusing every write for 7 simulated days: heartbeats stay accepted, the queue stays within its bounds, drops are counted', async () => {
    const a = new SimulatedAgent('d1-week', undefined, 300);
    await runInDurableObject(agentStub(a.id), (object) => {
      (object as AgentMonitor).replicator.d1 = {
        batch: () => Promise.reject(new Error('D1_ERROR: injected outage: database unavailable')),
      } as unknown as D1Database;
    });
    for (let s = 0; s <= 7 * 86_400; s += 300) expect((await a.heartbeat(s, [fresh('metrics.freshness', 1)])).status).toBe('accepted');
    const h = await health(a.id);
    expect(h.replication.length).toBeLessThanOrEqual(MAX_QUEUED_BATCHES);
    expect(h.replication.bytes).toBeLessThanOrEqual(MAX_QUEUED_BYTES);
    expect(h.replication.dropped).toBeGreaterThan(0);
    expect(h.storedBytes).toBeLessThan(8 * MAX_QUEUED_BYTES);
  }, 60_000);
});

describe('batches set aside, and the operator', () => {
  const admin = adminRequest;
  /** An agent whose first_seen event D1 refuses for good (a real refusal: a trigger), so its first batch is set aside. */
  async function withRefusedBatch(id: string): Promise<SimulatedAgent> {
    const a = new SimulatedAgent(id);
    await env.DB.exec(
      `CREATE TRIGGER refuse_${id.replaceAll('-', '_')} BEFORE INSERT ON agent_events WHEN NEW.agent_id = '${id}' AND NEW.type = 'first_seen' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`,
    );
    for (let s = 0; s <= 10; s += 5) await a.heartbeat(s, [fresh('metrics.freshness', 1)]);
    expect((await health(id)).replication).toMatchObject({ length: 0, setAside: 1 });
    return a;
  }
  const firstSeen = (id: string) =>
    env.DB.prepare("SELECT count(*) AS n FROM agent_events WHERE agent_id = ? AND type = 'first_seen'").bind(id).first<number>('n');

  it('retries them once what D1 refused is fixed: the history reaches D1 and nothing is left aside', async () => {
    const id = `retry-aside-${uniqueId()}`;
    await withRefusedBatch(id);
    expect(await firstSeen(id)).toBe(0);
    await env.DB.exec(`DROP TRIGGER refuse_${id.replaceAll('-', '_')}`);
    const res = await admin('POST', `/agents/${id}/replication/retry`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ agent: id, retried_batches: 1 });
    // Sent at once; the object is asked again until its queue is empty (each call waits for D1).
    await agentStub(id).deliverNotifications();
    expect((await health(id)).replication).toMatchObject({ length: 0, setAside: 0, dropped: 0 });
    expect(await firstSeen(id)).toBe(1);
  });

  it('acknowledges them: forgotten, the dropped count cleared, and the fleet no longer names the agent after the next sweep', async () => {
    const id = `ack-aside-${uniqueId()}`;
    await withRefusedBatch(id);
    await runInDurableObject(agentStub(id), (_o, state) => setMeta(state.storage.sql, 'replication_dropped', '3'));
    await runSweep(sweepDeps(env));
    const named = async () =>
      (
        (await (await admin('GET', '/replication', { token: READ_TOKEN })).json()) as { agents_with_losses: { agent: string }[] }
      ).agents_with_losses.map((t) => t.agent);
    expect(await named()).toContain(id);
    const res = await admin('POST', `/agents/${id}/replication/acknowledge`, { body: '{}' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ agent: id, discarded_set_aside_batches: 1, cleared_dropped_batches: 3 });
    expect((await health(id)).replication).toMatchObject({ setAside: 0, dropped: 0 });
    await runSweep(sweepDeps(env));
    expect(await named()).not.toContain(id);
    // Asked again: nothing left to forget.
    expect(await (await admin('POST', `/agents/${id}/replication/acknowledge`)).json()).toMatchObject({
      discarded_set_aside_batches: 0,
      cleared_dropped_batches: 0,
    });
  });

  it('refuses what it cannot do: an unknown agent 404, a bad id or a body 400, a read-only token 403, each with a JSON error and nothing changed', async () => {
    const id = `refuse-aside-${uniqueId()}`;
    await withRefusedBatch(id);
    const cases: [string, Response, number, string][] = [
      ['unknown agent', await admin('POST', '/agents/nobody-here/replication/retry'), 404, 'unknown_agent'],
      ['bad id', await admin('POST', '/agents/NOT..an..id!/replication/acknowledge'), 400, 'invalid_agent_id'],
      ['a body', await admin('POST', `/agents/${id}/replication/retry`, { body: '{"all":true}' }), 400, 'unexpected_body'],
      ['read token', await admin('POST', `/agents/${id}/replication/acknowledge`, { token: READ_TOKEN }), 403, 'insufficient_scope'],
    ];
    for (const [what, res, status, error] of cases) {
      expect(res.status, what).toBe(status);
      expect(((await res.json()) as { error: { code: string } }).error.code, what).toBe(error);
    }
    expect((await health(id)).replication).toMatchObject({ setAside: 1 });
  });

  it(`keeps at most ${MAX_SET_ASIDE_BATCHES} set aside: the oldest beyond are dropped and counted, so a D1 refusing everything for good cannot grow the object`, async () => {
    const id = `bound-aside-${uniqueId()}`;
    const a = new SimulatedAgent(id);
    await a.heartbeat(0, [fresh('metrics.freshness', 1)]);
    await agentStub(id).deliverNotifications();
    await runInDurableObject(agentStub(id), async (object, state) => {
      const o = object as AgentMonitor;
      o.replicator.d1 = {
        prepare: (q: string) => env.DB.prepare(q),
        batch: () => Promise.reject(new Error('D1_ERROR: UNIQUE constraint failed: windows.id')),
      } as unknown as D1Database;
      // 250 batches on their last try (each refused twice already): every one is set aside.
      const sql = state.storage.sql;
      for (let i = 0; i < 250; i++)
        sql.exec(
          'INSERT INTO replication (statements, bytes, created_at, tries, next_try_at) VALUES (?, ?, 0, 2, 0)',
          '[{"sql":"SELECT 1","parameters":[]}]',
          34,
        );
      await o.replicator.flush(true);
    });
    const h = await health(id);
    expect(h.replication).toMatchObject({ length: 0, setAside: MAX_SET_ASIDE_BATCHES, dropped: 250 - MAX_SET_ASIDE_BATCHES });
    // The newest are kept, for the operator to read.
    expect(h.setAside[0]?.seq).toBeGreaterThan((h.setAside.at(-1)?.seq ?? 0) + 18);
  });
});

describe('an object deployed with the older stored state', () => {
  it('carries over its live state, seen ids and waiting D1 batches, and delivers the notifications D1 held pending for it', async () => {
    const agent = 'page-upgrade';
    const now = Date.now();
    const window = {
      id: `${agent}:agent:${now - 60_000}`,
      agentId: agent,
      monitor: 'agent',
      component: 'metrics',
      severity: 'critical' as const,
      cause: 'agent_silent' as const,
      level: 'blind' as const,
      signal: null,
      startedAt: now - 60_000,
      confirmedAt: now - 50_000,
      endedAt: null,
      peakValue: null,
      suppressedBy: null,
      paged: true,
    };
    const legacyLive = {
      kind: 'agent',
      agentId: agent,
      boot: 'old-boot',
      seq: 7,
      intervalS: 5,
      graceS: 5,
      firstSeenAt: now - 3_600_000,
      lastHeartbeatAt: now - 65_000,
      lastSentAt: now - 65_000,
      deadlineAt: now - 55_000,
      state: 'blind',
      stateSince: now - 60_000,
      openWindow: window,
      stopping: false,
      monitors: {},
      accountedAt: now - 60_000,
      lastFlushAt: now - 60_000,
      rollup: { buckets: {}, signals: {} },
      lastCheckAt: now - 50_000,
    };
    const event = windowEvent('window.opened', window, now - 50_000);
    await env.DB.prepare(
      `INSERT INTO outbox (id, event_id, event_type, channel_id, agent_id, window_id, payload, repeat_interval_s, created_at, next_attempt_at) VALUES (?, ?, ?, 'hook', ?, ?, ?, 0, ?, ?)`,
    )
      .bind(`${event.id}@hook`, event.id, event.type, agent, window.id, event.payload, now - 50_000, now - 50_000)
      .run();
    await runInDurableObject(agentStub(agent), async (_object, state) => {
      // An object of that deployment kept only these values: no table of its own yet.
      expect(state.storage.sql.exec("SELECT count(*) AS n FROM sqlite_master WHERE name IN ('agent', 'instances')").one().n).toBe(0);
      await state.storage.put({
        live: legacyLive,
        seen: { 'old-webhook-id': now - 1000 },
        pending: [
          [
            {
              sql: 'INSERT INTO agent_events (agent_id, at, type, detail) VALUES (?, ?, ?, ?)',
              parameters: [agent, now - 3_600_000, 'first_seen', null],
            },
          ],
        ],
      });
    });
    await abortAllDurableObjects();

    const live = await agentStub(agent).getStatus();
    expect(live).toMatchObject({ agentId: agent, seq: 7, state: 'blind', silence: { window: { id: window.id } } });
    const replay = await agentStub(agent).receiveHeartbeat(agent, 'old-webhook-id', {
      v: 1,
      seq: 8,
      boot: 'old-boot',
      sent_at: new Date(now).toISOString(),
      interval_s: 5,
      signals: [],
    });
    expect(replay).toEqual({ status: 'replay' });
    await runInDurableObject(agentStub(agent), async (_object, state) => {
      expect(await state.storage.get('live')).toBeUndefined();
    });

    await agentStub(agent).ensureAlarm();
    expect((await rowsOf(agent, 'hook')).map((r) => `${r.event_type} ${r.state}`)).toEqual(['window.opened delivered']);
    expect((await receivedFor('hook', agent)).map((r) => r.headers['webhook-id'])).toEqual([event.id]);
    const { results } = await env.DB.prepare("SELECT type FROM agent_events WHERE agent_id = ? AND type = 'first_seen'").bind(agent).all();
    expect(results).toHaveLength(1);
    const mirrored = await env.DB.prepare('SELECT state FROM outbox WHERE id = ?').bind(`${event.id}@hook`).first<{ state: string }>();
    expect(mirrored?.state).toBe('delivered');
  });
});
