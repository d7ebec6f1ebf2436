import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import worker, { sweepDeps } from '../../worker/index.ts';
import { SETTLE_MS } from '../../worker/core/agent-state.ts';
import { d1Wait } from '../../worker/durable/clock.ts';
import { credentials } from '../../worker/durable/credentials.ts';
import { knownSubjects } from '../../worker/durable/known-subjects.ts';
import { readAllCopyIds } from '../../worker/durable/public-shards.ts';
import type { ObjectHealth } from '../../worker/durable/agent-monitor.ts';
import { runSweep, SWEEP_START_BUDGET_MS, type SweepDeps } from '../../worker/jobs/sweep.ts';
import type { FleetReplication } from '../../worker/store/fleet-losses.ts';
import { DEFAULT_SWEEP_MAX_VISITS, parseSweepMaxVisits, sweepTurn, visitedIn } from '../../worker/core/watchdog-ticks.ts';
import { ADMIN_TOKEN } from './fixtures/channels.ts';
import { agentStub, engineDue, heardAgo, loseAlarm, setClock, storedAlarm, storedLive } from './fixtures/durable.ts';
import { hangingD1, windowsOf } from './fixtures/d1.ts';
import { receivedFor } from './fixtures/hub.ts';
import { BASE, heartbeatBody, send, sendHeartbeat, uniqueId } from './fixtures/requests.ts';
import { fresh, SimulatedAgent } from './fixtures/simulated.ts';

async function runCron(): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: '* * * * *' }), env, ctx);
  await waitOnExecutionContext(ctx);
}

describe('the one-minute sweep', () => {
  it('re-arms an agent whose alarm was lost', async () => {
    await sendHeartbeat(heartbeatBody({ interval_s: 60 }), { agent: 'india' });
    await loseAlarm('india');
    expect(await storedAlarm('india')).toBeNull();
    await runCron();
    expect(await storedAlarm('india')).toBe((await storedLive('india'))?.deadlineAt);
    expect(await windowsOf('india')).toHaveLength(0);
  });

  it('opens the window of an agent whose deadline passed without an alarm', async () => {
    // A sweep at its deadline is on time: it waits 250 ms for heartbeats queued behind it, then the
    // next evaluation pages (one more than 250 ms later waits 5 s: watchdog-gap.test.ts).
    await heardAgo('juliet', 11_000, (sent_at) =>
      sendHeartbeat(heartbeatBody({ interval_s: 5, grace_s: 5, sent_at }), { agent: 'juliet' }),
    );
    const live = (await storedLive('juliet')) as NonNullable<Awaited<ReturnType<typeof storedLive>>>;
    await runSweep({ ...sweepDeps(env), now: () => live.deadlineAt });
    expect(await windowsOf('juliet')).toHaveLength(0);
    expect(await engineDue('juliet')).toBe(live.deadlineAt + SETTLE_MS);
    await runSweep({ ...sweepDeps(env), now: () => live.deadlineAt + SETTLE_MS });
    const [window] = await windowsOf('juliet');
    expect(window).toMatchObject({ cause: 'agent_silent', confirmed_at: live.deadlineAt, ended_at: null });
  });
});

describe("the sweep, when an operator's silence ends", () => {
  it('pages the silence window the silence kept quiet when the alarm set for its end was lost', async () => {
    const a = new SimulatedAgent(`page-silence-over-${uniqueId()}`);
    await silencedAndSilent(a, 60);
    // The alarm set for the silence's end (60 s) is lost; the minute sweep visits at 75 s, the agent still away.
    await loseAlarm(a.id);
    await setClock(a.id, a.at(75));
    expect(await a.alarm(75)).toBe('fired');
    await pagedOnce(a);
  });

  it('pages the silence window of a silence lifted while its object could not be told, within five minutes', async () => {
    const a = new SimulatedAgent(`page-silence-lifted-${uniqueId()}`);
    const id = await silencedAndSilent(a, 3600);
    // Lifted as the admin API's DELETE does, but its object not told (it could not be reached then).
    await env.DB.prepare('UPDATE maintenances SET completed_at = ?1, updated_at = ?1 WHERE id = ?2').bind(Date.now(), id).run();
    // No heartbeat comes to re-read the pauses; the sweep's visit once the last read (at 10 s) is five
    // minutes old does, and finds the silence gone. Not the silence's old end, an hour away.
    await setClock(a.id, a.at(315));
    expect(await a.alarm(315)).toBe('fired');
    await pagedOnce(a);
  });
});

const admin = (path: string, method: string, body?: string) =>
  send(
    new Request(`${BASE}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body }),
    }),
  );

/** Heard at 0, silenced by an operator until `untilS`, silent past its deadline (10 s): recorded, not paged. Returns the silence's id. */
async function silencedAndSilent(a: SimulatedAgent, untilS: number): Promise<string> {
  await a.heartbeat(0, [fresh('prometheus.up', 1)]);
  const iso = (second: number) => new Date(a.at(second)).toISOString();
  const made = await admin(
    '/v1/admin/silences',
    'POST',
    JSON.stringify({ reason: 'db work', agents: [a.id], starts_at: iso(0), ends_at: iso(untilS) }),
  );
  expect(made.status).toBe(201);
  await agentStub(a.id).maintenanceChanged();
  expect(await a.judge(10)).toBe('fired');
  expect((await storedLive(a.id))?.silence?.window).toMatchObject({
    paged: false,
    suppressedBy: expect.stringMatching(/^maintenance:silence:/),
  });
  return ((await made.json()) as { silence: { id: string } }).silence.id;
}

/** The silence window is paged now, the agent still away, and PagerDuty got its trigger. */
async function pagedOnce(a: SimulatedAgent): Promise<void> {
  expect((await storedLive(a.id))?.silence?.window).toMatchObject({
    cause: 'agent_silent',
    paged: true,
    suppressedBy: null,
    endedAt: null,
  });
  let sent: string[] = [];
  for (let i = 0; i < 50 && sent.length === 0; i++) {
    sent = (await receivedFor('pd', a.id)).map((r) => JSON.parse(r.body).event_action as string);
    if (sent.length === 0) await new Promise((r) => setTimeout(r, 20));
  }
  expect(sent).toEqual(['trigger']);
}

describe('the sweep under strain', () => {
  it('checks every agent even when the watchdog tick cannot be recorded', async () => {
    await sendHeartbeat(heartbeatBody({ interval_s: 60 }), { agent: 'kilo' });
    await loseAlarm('kilo');
    expect(await storedAlarm('kilo')).toBeNull();
    const report = await runSweep({ ...sweepDeps(env), tick: () => Promise.reject(new Error('the Watchdog object is away')) });
    expect(report.rearmed).toContain('kilo');
    expect(await storedAlarm('kilo')).toBe((await storedLive('kilo'))?.deadlineAt);
  });

  it('still tells the gap its tick found when no list of agents can be read, and leaves the fleet as last recorded', async () => {
    const now = Date.parse('2026-12-04T13:20:00Z');
    const told: (string | undefined)[] = [];
    const report = await runSweep({
      ...sweepDeps(env),
      tick: async () => ({ gap: { id: `watchdog:gap:${now - 600_000}`, startedAt: now - 600_000, endedAt: now }, previousTickAt: now }),
      subjects: () => Promise.reject(new Error('no list of agents could be read')),
      summarise: async (late) => void told.push(late.gap?.id),
      // Recording an empty fleet would clear what agents lost: none was visited.
      recordFleet: async () => void told.push('fleet recorded'),
      now: () => now,
    });
    expect(report).toMatchObject({ checked: 0, failed: [] });
    expect(told).toEqual([`watchdog:gap:${now - 600_000}`]);
  });

  it('finds the agents by their public copies while D1 cannot list them: a silence whose alarm was lost is still opened', async () => {
    await heardAgo('hotel', 11_000, (sent_at) => sendHeartbeat(heartbeatBody({ interval_s: 5, grace_s: 5, sent_at }), { agent: 'hotel' }));
    const deadline = (await storedLive('hotel'))?.deadlineAt as number;
    await env.DB.exec('ALTER TABLE agents RENAME TO agents_away');
    try {
      await runSweep({ ...sweepDeps(env), now: () => deadline });
      const report = await runSweep({ ...sweepDeps(env), now: () => deadline + SETTLE_MS });
      expect(report.fired).toContain('hotel');
      expect((await storedLive('hotel'))?.silence?.window).toMatchObject({ cause: 'agent_silent', endedAt: null });
    } finally {
      await env.DB.exec('ALTER TABLE agents_away RENAME TO agents');
    }
  });

  it('finds an agent added through the admin API by the credentials store, while D1 cannot list it and no public copy names it', async () => {
    const added = await credentials(env).addAgentKey('keyed-only', true, false, 'test');
    expect(added.ok).toBe(true);
    await env.DB.exec('ALTER TABLE agents RENAME TO agents_away');
    try {
      expect(await readAllCopyIds(env)).not.toContain('keyed-only');
      expect(await knownSubjects(env)).toContain('keyed-only');
      // Retired (every key revoked), it is no longer listed by the store.
      await credentials(env).revokeAgentKeys('keyed-only');
      expect(await knownSubjects(env)).not.toContain('keyed-only');
    } finally {
      await env.DB.exec('ALTER TABLE agents_away RENAME TO agents');
    }
  });

  it("finds the agents the Worker's secret setting names and its Alertmanager sources, while D1 cannot list them and no public copy names them", async () => {
    await env.DB.exec('ALTER TABLE agents RENAME TO agents_away');
    try {
      const copies = await readAllCopyIds(env);
      for (const id of ['foxtrot', 'alertmanager:prod', 'alertmanager:other']) expect(copies).not.toContain(id);
      expect(await knownSubjects(env)).toEqual(expect.arrayContaining(['foxtrot', 'alertmanager:prod', 'alertmanager:other']));
    } finally {
      await env.DB.exec('ALTER TABLE agents_away RENAME TO agents');
    }
  });

  it('goes on without a D1 that hangs: the agents are found by their public copies and an overdue silence is opened', async () => {
    await heardAgo('golf', 11_000, (sent_at) => sendHeartbeat(heartbeatBody({ interval_s: 5, grace_s: 5, sent_at }), { agent: 'golf' }));
    await loseAlarm('golf');
    const saved = d1Wait.ms;
    d1Wait.ms = 50;
    try {
      // At its deadline: on time.
      const now = (await storedLive('golf'))?.deadlineAt as number;
      const deps = sweepDeps({ ...env, DB: hangingD1() });
      // Not the first sweep of an hour: the hourly prune is not this test's. (The tick before in the same
      // hour: a minute before would be the hour before whenever the test runs in an hour's first minute.)
      const report = await runSweep({ ...deps, tick: async () => ({ gap: null, previousTickAt: now }), now: () => now });
      expect(report.fired).toContain('golf');
      expect((await storedLive('golf'))?.silence?.window).toMatchObject({ cause: 'agent_silent', endedAt: null });
    } finally {
      d1Wait.ms = saved;
    }
  });

  it('visits at most 16 objects at once, and every one of them', async () => {
    const now = Date.now();
    const ids = Array.from({ length: 60 }, (_, i) => `sweep-load-${i}`);
    await env.DB.batch(
      ids.map((id) =>
        env.DB.prepare(
          "INSERT INTO agents (id, kind, state, state_since, boot, interval_s, grace_s, first_seen_at, last_heartbeat_at, deadline_at, updated_at) VALUES (?, 'agent', 'up', ?, 'b', 60, 60, ?, ?, ?, ?)",
        ).bind(id, now, now, now, now + 120_000, now),
      ),
    );
    let open = 0;
    let most = 0;
    const visited = new Set<string>();
    const deps = sweepDeps(env);
    const report = await runSweep({
      ...deps,
      visit: async (id) => {
        open++;
        most = Math.max(most, open);
        visited.add(id);
        await new Promise((r) => setTimeout(r, 5));
        open--;
        return {
          ensured: 'ok',
          health: {
            replication: { length: 0, bytes: 0, oldestAt: null, setAside: 0, dropped: 0 },
            setAside: [],
            pendingNotifications: 0,
            storedBytes: 0,
          },
        };
      },
    });
    expect(ids.every((id) => visited.has(id))).toBe(true);
    expect(report.failed).toEqual([]);
    expect(most).toBe(16);
  });
});

const quietHealth = {
  replication: { length: 0, bytes: 0, oldestAt: null, setAside: 0, dropped: 0 },
  setAside: [],
  pendingNotifications: 0,
  storedBytes: 0,
};

describe('a fleet larger than one sweep may visit (the platform caps subrequests per invocation)', () => {
  const fleet = Array.from({ length: 25 }, (_, i) => `turn-${String(i).padStart(2, '0')}`);
  const minute = (m: number) => Date.parse('2026-12-04T10:05:00Z') + m * 60_000 + 1_234;

  it('visits at most maxVisits agents, starting after the last one the previous sweep started, so every agent is visited within ceil(n / maxVisits) sweeps', () => {
    expect(sweepTurn(fleet, 10, null)).toEqual(fleet.slice(0, 10));
    expect(sweepTurn(fleet, 10, 'turn-09')).toEqual(fleet.slice(10, 20));
    // Past the end it wraps round; an agent gone since is placed by its name.
    expect(sweepTurn(fleet, 10, 'turn-19')).toEqual([...fleet.slice(20), ...fleet.slice(0, 5)]);
    expect(sweepTurn(fleet, 10, 'turn-12x')).toEqual(fleet.slice(13, 23));
    expect(sweepTurn(fleet, 10, 'zzz')).toEqual(fleet.slice(0, 10));
    // A fleet that fits is visited whole, from where the last sweep stopped (its time ran out there).
    expect(sweepTurn(fleet, 25, 'turn-06')).toEqual([...fleet.slice(7), ...fleet.slice(0, 7)]);
    // The list may come in any order: the turn follows the sorted one.
    expect(sweepTurn([...fleet].reverse(), 3, 'turn-03')).toEqual(fleet.slice(4, 7));
    expect(sweepTurn([], 10, 'turn-03')).toEqual([]);
    // From any starting point, chained turns cover the fleet in three sweeps.
    for (const after of [null, ...fleet]) {
      const seen = new Set<string>();
      let cursor = after;
      for (let i = 0; i < 3; i++) {
        const turn = sweepTurn(fleet, 10, cursor);
        for (const id of turn) seen.add(id);
        cursor = turn.at(-1) ?? null;
      }
      expect(seen).toEqual(new Set(fleet));
    }
  });

  it('reads BLINDSPOT_SWEEP_MAX_VISITS as a whole number from 1; anything else is said and the default used', () => {
    expect(parseSweepMaxVisits(undefined)).toEqual({ visits: DEFAULT_SWEEP_MAX_VISITS, error: null });
    expect(parseSweepMaxVisits(' ')).toEqual({ visits: DEFAULT_SWEEP_MAX_VISITS, error: null });
    expect(parseSweepMaxVisits('900')).toEqual({ visits: 900, error: null });
    for (const bad of ['0', '-5', '1.5', 'lots', '1e9', 'NaN']) {
      const read = parseSweepMaxVisits(bad);
      expect(read.visits).toBe(DEFAULT_SWEEP_MAX_VISITS);
      expect(read.error).toMatch(/BLINDSPOT_SWEEP_MAX_VISITS is ".*"; give a whole number of visits from 1/);
    }
  });

  it('visits its turn, still records the tick, the fleet and the summary, and the Watchdog keeps where it stopped for the next sweep', async () => {
    // A Watchdog object of this test's own, so its ticks and cursor are nobody else's.
    const watchdog = env.WATCHDOG.get(env.WATCHDOG.idFromName(`sweep-turns-${uniqueId()}`));
    const visited: string[][] = [];
    const calls: string[] = [];
    const deps: SweepDeps = {
      ...sweepDeps(env),
      subjects: async () => fleet,
      // Each sweep has a gap to tell (so a summary to send); the tick and cursor are the real object's.
      tick: async (now) => {
        calls.push('tick');
        const ticked = await watchdog.tick(now);
        return { ...ticked, gap: { id: `watchdog:gap:turns:${now}`, startedAt: now - 300_000, endedAt: now } };
      },
      visit: async (id) => (visited.at(-1)?.push(id), { ensured: 'ok', health: quietHealth }),
      recordFleet: async (f, resumeAfter) => {
        calls.push(`fleet ${f.agents}`);
        await watchdog.recordFleet(f, resumeAfter);
      },
      summarise: async (late) => void calls.push(`summary ${late.gap?.id.startsWith('watchdog:gap:turns:')}`),
      maxVisits: 10,
    };
    for (const m of [0, 1, 2]) {
      visited.push([]);
      const report = await runSweep({ ...deps, now: () => minute(m) });
      expect(report).toMatchObject({ checked: 10, deferred: 15, failed: [] });
    }
    expect(visited).toEqual([fleet.slice(0, 10), fleet.slice(10, 20), [...fleet.slice(20), ...fleet.slice(0, 5)]]);
    expect(calls).toEqual(Array(3).fill(['tick', 'fleet 10', 'summary true']).flat());
    visited.push([]);
    const all = await runSweep({ ...deps, maxVisits: DEFAULT_SWEEP_MAX_VISITS, now: () => minute(3) });
    expect(all).toMatchObject({ checked: 25, deferred: 0 });
    expect(visited.at(-1)).toEqual([...fleet.slice(5), ...fleet.slice(0, 5)]);
  });
});

describe('the losses of a fleet visited in turns', () => {
  const fleet = Array.from({ length: 25 }, (_, i) => `loss-${String(i).padStart(2, '0')}`);
  const minute = (m: number) => Date.parse('2026-12-04T12:05:00Z') + m * 60_000;
  const lost = (setAside: number, dropped: number) => ({
    ...quietHealth,
    replication: { ...quietHealth.replication, setAside, dropped },
    setAside: [
      { seq: 1, createdAt: minute(0), setAsideAt: minute(0), tries: 3, lastError: 'D1_ERROR: UNIQUE constraint failed', statements: 2 },
    ],
  });

  it('tells which agents a run covers, wrapping round the sorted list', () => {
    const run = { whole: false, after: 'loss-19', through: 'loss-04' };
    expect(['loss-20', 'loss-24', 'loss-00', 'loss-04', 'zzz'].every((id) => visitedIn(run, id))).toBe(true);
    expect(['loss-05', 'loss-19', 'loss-10'].some((id) => visitedIn(run, id))).toBe(false);
    expect(visitedIn({ whole: false, after: null, through: 'loss-09' }, 'loss-00')).toBe(true);
    expect(visitedIn({ whole: false, after: null, through: 'loss-09' }, 'loss-10')).toBe(false);
    expect(visitedIn({ whole: false, after: 'loss-09', through: 'loss-19' }, 'loss-09')).toBe(false);
    expect(visitedIn({ whole: false, after: 'loss-09', through: null }, 'loss-10')).toBe(false);
    expect(visitedIn({ whole: true, after: 'loss-09', through: 'loss-10' }, 'loss-24')).toBe(true);
  });

  it('counts an agent with losses until a sweep visits it and finds none, however many sweeps pass it by', async () => {
    const watchdog = env.WATCHDOG.get(env.WATCHDOG.idFromName(`sweep-losses-${uniqueId()}`));
    const healthOf = new Map<string, ObjectHealth>([['loss-03', lost(2, 0)]]);
    const deps: SweepDeps = {
      ...sweepDeps(env),
      subjects: async () => fleet,
      tick: (now) => watchdog.tick(now),
      visit: async (id) => ({ ensured: 'ok', health: healthOf.get(id) ?? quietHealth }),
      recordFleet: (f, resumeAfter) => watchdog.recordFleet(f, resumeAfter),
      summarise: async () => undefined,
      maxVisits: 10,
    };
    const sweep = async (m: number) => {
      await runSweep({ ...deps, now: () => minute(m) });
      return (await watchdog.fleet()) as FleetReplication;
    };
    // Sweep 1 visits 00..09: loss-03 lost two batches.
    expect(await sweep(0)).toMatchObject({
      agents: 10,
      setAside: 2,
      dropped: 0,
      troubledAgents: 1,
      troubled: [{ agent: 'loss-03', setAside: 2 }],
    });
    // Sweep 2 visits 10..19, and finds loss-12 dropped one; loss-03, not visited, still counts.
    healthOf.set('loss-12', lost(0, 1));
    expect(await sweep(1)).toMatchObject({ agents: 10, setAside: 2, dropped: 1, troubledAgents: 2 });
    // Sweep 3 visits 20..24 and 00..04, but loss-03's object does not answer: what it lost still counts.
    const answering = deps.visit;
    deps.visit = (id, now) => (id === 'loss-03' ? Promise.reject(new Error('the object was reset')) : answering(id, now));
    expect(await sweep(2)).toMatchObject({ setAside: 2, dropped: 1, troubledAgents: 2 });
    deps.visit = answering;
    // Sweep 4 visits 05..14: an operator dealt with loss-03's batches meanwhile, but it is not visited.
    healthOf.delete('loss-03');
    expect(await sweep(3)).toMatchObject({ setAside: 2, troubledAgents: 2 });
    // Sweeps 5 and 6 visit 15..24 and 00..09: loss-03 is found whole.
    await sweep(4);
    const foundWhole = await sweep(5);
    expect(foundWhole).toMatchObject({ setAside: 0, dropped: 1, troubledAgents: 1, troubled: [{ agent: 'loss-12', dropped: 1 }] });
    // A fleet visited whole forgets an agent no longer listed.
    const whole = await runSweep({
      ...deps,
      subjects: async () => fleet.filter((id) => id !== 'loss-12'),
      maxVisits: 100,
      now: () => minute(6),
    });
    expect(whole.deferred).toBe(0);
    expect(await watchdog.fleet()).toMatchObject({ setAside: 0, dropped: 0, troubledAgents: 0, troubled: [] });
  });
});

describe('a sweep whose visits are slow (a D1 that hangs, channels that time out)', () => {
  const fleet = Array.from({ length: 40 }, (_, i) => `slow-${String(i).padStart(2, '0')}`);
  const slowDeps = (clock: { now: number }, visited: string[][], calls: string[]): SweepDeps => {
    let cursor: string | null = null;
    return {
      ...sweepDeps(env),
      subjects: async () => fleet,
      // Each sweep has a gap to tell (so a summary to send); its tick before is in the same hour (so no prune).
      tick: async (now) => (
        calls.push('tick'),
        {
          gap: { id: `watchdog:gap:slow:${now}`, startedAt: now - 300_000, endedAt: now },
          previousTickAt: now,
          resumeAfter: cursor,
        }
      ),
      visit: async (id) => {
        visited.at(-1)?.push(id);
        clock.now += 1_000;
        await Promise.resolve();
        return { ensured: 'ok', health: quietHealth };
      },
      recordFleet: async (f, resumeAfter) => {
        calls.push(`fleet ${f.agents} after ${resumeAfter}`);
        cursor = resumeAfter;
      },
      summarise: async () => void calls.push('summary'),
      now: () => clock.now,
    };
  };

  it(`starts no visit ${SWEEP_START_BUDGET_MS / 1000} s after it began: the fleet and summary are not held, and the next sweep starts with the agents it did not reach`, async () => {
    // Each visit started moves the injected clock on by a second: 30 fit in a sweep's time.
    const clock = { now: Date.parse('2026-12-04T11:00:30Z') };
    const visited: string[][] = [];
    const calls: string[] = [];
    const deps = slowDeps(clock, visited, calls);
    for (let sweep = 0; sweep < 3; sweep++) {
      visited.push([]);
      const report = await runSweep(deps);
      expect(report).toMatchObject({ checked: 30, deferred: 10, failed: [] });
      clock.now += 60_000;
    }
    expect(visited).toEqual([fleet.slice(0, 30), [...fleet.slice(30), ...fleet.slice(0, 20)], [...fleet.slice(20), ...fleet.slice(0, 10)]]);
    expect(calls).toEqual(['slow-29', 'slow-19', 'slow-09'].flatMap((last) => ['tick', `fleet 30 after ${last}`, 'summary']));
  });

  it('goes on without a visit that does not answer: it is named, the other agents are visited and the summary is sent', async () => {
    const clock = { now: Date.parse('2026-12-04T11:10:30Z') };
    const visited: string[][] = [[]];
    const calls: string[] = [];
    const deps = slowDeps(clock, visited, calls);
    const report = await runSweep({
      ...deps,
      waits: { ...deps.waits, visitMs: 50 },
      // slow-07's object never answers (it takes its second of the clock too).
      visit: (id, now) => (id === 'slow-07' ? ((clock.now += 1_000), new Promise(() => {})) : deps.visit(id, now)),
    });
    expect(report).toMatchObject({ checked: 30, deferred: 10, failed: ['slow-07'], unanswered: ['slow-07'] });
    expect(visited[0]).toHaveLength(29);
    expect(calls).toEqual(['tick', 'fleet 29 after slow-29', 'summary']);
  });
});

describe('pruning', () => {
  it('deletes rollups, events, evidence and closed windows past their retention, and keeps what is recent or open', async () => {
    const now = Date.now() + 86_400_000;
    const day = 86_400_000;
    const rollup = "INSERT INTO agent_days (agent_id, day, monitors) VALUES ('prune', ?, '{\"agent\":[86400,0,0,0,0]}')";
    await env.DB.batch([
      env.DB.prepare(rollup).bind(now - 401 * day),
      env.DB.prepare(rollup).bind(now - 399 * day),
      env.DB.prepare(
        "INSERT INTO alert_evidence (source, fingerprint, starts_at, alertname, status, ends_at, labels, annotations, received_at) VALUES ('prune', 'fp', 1, 'X', 'firing', NULL, '{}', '{}', ?)",
      ).bind(now - 31 * day),
    ]);
    const window = (id: string, started: number, ended: number | null) =>
      env.DB.prepare(
        "INSERT INTO windows (id, agent_id, monitor, cause, level, started_at, confirmed_at, ended_at) VALUES (?, 'prune', 'agent', 'agent_silent', 'blind', ?, ?, ?)",
      ).bind(id, started, started, ended);
    await env.DB.batch([
      window('prune-old', now - 402 * day, now - 401 * day),
      window('prune-recent', now - 402 * day, now - 399 * day),
      window('prune-open', now - 500 * day, null),
    ]);
    const report = await runSweep({ ...sweepDeps(env), now: () => now });
    expect(report.pruned).toBe(true);
    const windows = await env.DB.prepare("SELECT id FROM windows WHERE agent_id = 'prune' ORDER BY id").all<{ id: string }>();
    expect(windows.results.map((w) => w.id)).toEqual(['prune-open', 'prune-recent']);
    const left = await env.DB.prepare("SELECT day FROM agent_days WHERE agent_id = 'prune'").all<{ day: number }>();
    expect(left.results).toEqual([{ day: now - 399 * day }]);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM alert_evidence WHERE source = 'prune'").first('n')).toBe(0);
  });

  it('survives a D1 that refuses the prune: the sweep still ends with its report, and the next hour prunes', async () => {
    const now = Date.now() + 3 * 86_400_000;
    const day = 86_400_000;
    await env.DB.prepare("INSERT INTO agent_days (agent_id, day, monitors) VALUES ('prune-refused', ?, '{}')")
      .bind(now - 401 * day)
      .run();
    const refusing = {
      prepare: (q: string) => env.DB.prepare(q),
      batch: () => Promise.reject(new Error('D1_ERROR: database unavailable')),
    } as unknown as D1Database;
    const refused = await runSweep({ ...sweepDeps(env), d1: refusing, now: () => now });
    expect(refused.pruned).toBe(false);
    expect(refused.failed).toEqual([]);
    const count = () => env.DB.prepare("SELECT count(*) AS n FROM agent_days WHERE agent_id = 'prune-refused'").first('n');
    expect(await count()).toBe(1);
    const nextHour = await runSweep({ ...sweepDeps(env), now: () => now + 3_600_000 });
    expect(nextHour.pruned).toBe(true);
    expect(await count()).toBe(0);
  });

  it('goes on without a D1 that hangs under the prune: the report says it did not prune', async () => {
    const now = Date.now() + 4 * 86_400_000;
    const hung = await runSweep({ ...sweepDeps(env), d1: hangingD1(), waits: { visitMs: 25_000, pruneMs: 50 }, now: () => now });
    expect(hung.pruned).toBe(false);
    expect(hung.failed).toEqual([]);
  });
});
