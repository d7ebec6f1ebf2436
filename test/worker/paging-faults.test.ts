// Paging when receivers misbehave: down for ten minutes, rate-limiting, hanging, rejecting, gone;
// and a Durable Object restart in the middle of a delivery. The delivery code, D1 and the receivers
// are real; only the clock is simulated (injected), so ten minutes take a second.
import { abortAllDurableObjects } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { sweepDeps } from '../../worker/index.ts';
import { DEFAULT_CHANNEL_TIMEOUT_S } from '../../config/resolve.ts';
import { SETTLE_MS } from '../../worker/core/agent-state.ts';
import { leaseMs } from '../../worker/durable/outbox-sender.ts';
import { runSweep } from '../../worker/jobs/sweep.ts';
import { agentStub, setClock, storedAlarm } from './fixtures/durable.ts';
import { cue, receivedFor, uncue } from './fixtures/hub.ts';
import { deliverAt, rowsOf } from './fixtures/paging.ts';
import { fresh, SimulatedAgent } from './fixtures/simulated.ts';
import type { HubRequest } from '../support/receiver-hub.ts';

const PAGED = ['pd', 'og', 'slack', 'discord', 'teams', 'hook'];
const blind = [fresh('prometheus.up', 900)];
const healthy = [fresh('prometheus.up', 1)];

/** Opens a window at second 0 (confirmed at 5); returns its id. */
async function openWindow(a: SimulatedAgent): Promise<string> {
  await a.heartbeat(0, blind);
  await a.heartbeat(5, blind);
  return `${a.id}:prometheus-up:${a.at(0)}`;
}

/** Healthy heartbeats from `from` until the window closes (recover_for: 3 heartbeats and 60 s). */
async function recover(a: SimulatedAgent, from: number): Promise<void> {
  for (let s = from; s <= from + 65; s += 5) await a.heartbeat(s, healthy);
}

/** Plays the outbox forward, to each next due time on `channels` in turn, until nothing is pending there or `until` passes. */
async function play(agent: string, from: number, until: number, channels: readonly string[]): Promise<{ now: number; done: boolean }> {
  let now = from;
  // A day of retries at the 5-minute ceiling is about 600 steps.
  for (let i = 0; i < 1500; i++) {
    await deliverAt(now, agent);
    const pending = (await rowsOf(agent)).filter((r) => r.state === 'pending' && channels.includes(r.channel_id));
    if (pending.length === 0) return { now, done: true };
    const later = pending.map((r) => r.next_attempt_at).filter((t) => t > now);
    const next = later.length > 0 ? Math.min(...later) : now + 1_000;
    if (next > until) return { now, done: false };
    now = next;
  }
  throw new Error('the outbox did not settle in 1500 steps');
}

/** Per receiver, the distinct (dedup key, action) pairs a provider would see after deduplication. */
function dedupKeys(receiver: string, reqs: HubRequest[]): string[] {
  const key = (r: HubRequest) => {
    const j = JSON.parse(r.body || '{}');
    if (receiver === 'pd') return `${j.event_action} ${j.dedup_key}`;
    if (receiver === 'og')
      return r.path.includes('/close') ? `close ${decodeURIComponent(r.path.split('/')[4] ?? '')}` : `create ${j.alias}`;
    if (receiver === 'hook') return `${r.headers['webhook-id']}`;
    return (j.text ?? j.content ?? j.attachments?.[0]?.content?.body?.[0]?.text ?? '').split(':')[0];
  };
  return [...new Set(reqs.map(key))].sort();
}

describe('paging through faults', () => {
  it('a receiver down for 10 minutes: every notification goes out once it returns, one trigger and one resolve per window and channel', async () => {
    const a = new SimulatedAgent('page-outage');
    for (const r of PAGED) await cue(r, { match: a.id, ...(r === 'pd' || r === 'slack' ? { mode: 'reset' as const } : { status: 503 }) });
    const id = await openWindow(a);
    await recover(a, 240); // the window closes during the outage, 5 minutes in
    // Ten simulated minutes of failing attempts.
    expect(await play(a.id, a.at(5), a.at(600), PAGED)).toMatchObject({ done: false });
    for (const r of PAGED) await uncue(r, a.id);
    const { now: done, done: settled } = await play(a.id, a.at(601), a.at(3 * 3600), PAGED);
    expect(settled).toBe(true);

    const rows = (await rowsOf(a.id)).filter((r) => PAGED.includes(r.channel_id));
    expect(rows.map((r) => `${r.channel_id} ${r.event_type} ${r.state}`).sort()).toEqual(
      // The window closed before its trigger got out, so no reminder was ever planned.
      PAGED.flatMap((c) => [`${c} window.closed delivered`, `${c} window.opened delivered`]).sort(),
    );
    // Backoff: many tries during the outage, but not a storm; three in the first minute.
    const { results: attempts } = await env.DB.prepare('SELECT at FROM delivery_attempts WHERE notification_id = ? ORDER BY attempt')
      .bind(`${id}:opened@pd`)
      .all<{ at: number }>();
    expect(attempts.filter((x) => x.at < a.at(65)).length).toBeGreaterThanOrEqual(3);
    expect(attempts.length).toBeLessThan(15);
    expect(done).toBeLessThan(a.at(600 + 3600));
    for (const r of PAGED) {
      const reqs = await receivedFor(r, a.id);
      const keys = dedupKeys(r, reqs);
      if (r === 'pd') expect(keys).toEqual([`resolve ${id}`, `trigger ${id}`]);
      else if (r === 'og') expect(keys).toEqual([`close ${id}`, `create ${id}`]);
      else if (r === 'hook') expect(keys).toEqual([`${id}:closed`, `${id}:opened`]);
      else expect(keys).toHaveLength(2);
      // The resolve never overtakes its trigger.
      const last = JSON.parse(reqs.at(-1)?.body || '{}');
      if (r === 'pd') expect(last.event_action).toBe('resolve');
    }
  });

  it('honours 429 with Retry-After: 30', async () => {
    const a = new SimulatedAgent('page-ratelimit');
    await cue('pd', { match: a.id, status: 429, headers: { 'retry-after': '30' }, body: '429 - Request Limit Exceeded', times: 1 });
    await openWindow(a);
    await deliverAt(a.at(5), a.id);
    const [row] = await rowsOf(a.id, 'pd');
    expect(row).toMatchObject({ state: 'pending', attempts: 1, last_status: 429, next_attempt_at: a.at(35) });
    expect(row?.last_error).toBe('receiver answered HTTP 429: 429 - Request Limit Exceeded');
    await deliverAt(a.at(34), a.id);
    expect(await receivedFor('pd', a.id)).toHaveLength(1);
    await deliverAt(a.at(35), a.id);
    expect(await receivedFor('pd', a.id)).toHaveLength(2);
    expect((await rowsOf(a.id, 'pd'))[0]).toMatchObject({ state: 'delivered', attempts: 2, last_status: 202 });
  });

  it('retries a receiver that does not answer within the channel timeout', async () => {
    const a = new SimulatedAgent('page-slow');
    await cue('hook', { match: a.id, mode: 'hang', times: 1 });
    await openWindow(a);
    await deliverAt(a.at(5), a.id);
    const [row] = await rowsOf(a.id, 'hook');
    expect(row).toMatchObject({ state: 'pending', attempts: 1, last_status: null, last_error: 'no answer within 1 s' });
    await deliverAt(row!.next_attempt_at, a.id);
    expect((await rowsOf(a.id, 'hook'))[0]).toMatchObject({ state: 'delivered', attempts: 2 });
  });

  it('retries a page refused with 401 (a key being rotated) and delivers it once the receiver takes it', async () => {
    const a = new SimulatedAgent('page-key');
    await cue('pd', { match: a.id, status: 401, body: '{"message":"Invalid routing key"}', times: 1 });
    await openWindow(a);
    await deliverAt(a.at(5), a.id);
    const [row] = await rowsOf(a.id, 'pd');
    expect(row).toMatchObject({ state: 'pending', attempts: 1, last_status: 401 });
    await deliverAt(row!.next_attempt_at, a.id);
    expect((await rowsOf(a.id, 'pd'))[0]).toMatchObject({ state: 'delivered', attempts: 2 });
  });

  it('does not follow a redirect: the page is not sent to a host nobody configured, and is retried', async () => {
    const a = new SimulatedAgent('page-redirect');
    const leak = `${env.RECEIVER_URL}/leak/${a.id}`;
    await cue('hook', { match: a.id, status: 302, headers: { location: leak }, body: '', times: 1 });
    await openWindow(a);
    await deliverAt(a.at(5), a.id);
    const [row] = await rowsOf(a.id, 'hook');
    expect(row).toMatchObject({ state: 'pending', attempts: 1, last_status: 302 });
    expect(row?.last_error).toBe('receiver answered HTTP 302: a redirect, not followed: point the channel at the final URL');
    expect(await receivedFor('leak', a.id)).toEqual([]);
    await deliverAt(row!.next_attempt_at, a.id);
    expect((await rowsOf(a.id, 'hook'))[0]).toMatchObject({ state: 'delivered', attempts: 2 });
  });

  it('reads only the start of an error body that never ends, and keeps the status', async () => {
    const a = new SimulatedAgent('page-endless');
    await cue('og', { match: a.id, mode: 'endless', status: 503, times: 1 });
    await openWindow(a);
    await deliverAt(a.at(5), a.id);
    const [row] = await rowsOf(a.id, 'og');
    expect(row).toMatchObject({ state: 'pending', attempts: 1, last_status: 503 });
    expect(row?.last_error).toMatch(/^receiver answered HTTP 503: x{300}…$/);
  });

  it('dead-letters a notification the receiver rejects (400), visibly, and keeps the provider message', async () => {
    const a = new SimulatedAgent('page-reject');
    const error = JSON.stringify({ status: 'invalid event', message: 'Event object is invalid', errors: ["'payload.summary' is missing"] });
    await cue('pd', { match: a.id, status: 400, body: error, times: 1 });
    await openWindow(a);
    const report = await deliverAt(a.at(5), a.id);
    expect(report.dead).toBe(1);
    const [row] = await rowsOf(a.id, 'pd');
    expect(row).toMatchObject({ state: 'dead', attempts: 1, last_status: 400 });
    expect(row?.last_error).toBe(
      "dead-lettered: the receiver rejected it (receiver answered HTTP 400: Event object is invalid: 'payload.summary' is missing)",
    );
    // Never sent again.
    await deliverAt(a.at(3600), a.id);
    expect(await receivedFor('pd', a.id)).toHaveLength(1);
  });

  it('treats 410 Gone as "channel disabled": nothing more is sent to it, nothing is lost, and the error is visible', async () => {
    const a = new SimulatedAgent('page-spare-gone');
    await cue('spare', { match: a.id, status: 410, body: '{"message": "Unknown Webhook", "code": 10015}' });
    await openWindow(a);
    const report = await deliverAt(a.at(5), a.id);
    expect(report.disabled).toEqual(['spare']);
    const state = await env.DB.prepare('SELECT * FROM channel_state WHERE channel_id = ?')
      .bind('spare')
      .first<{ disabled_at: number; disabled_reason: string }>();
    expect(state?.disabled_at).toBe(a.at(5));
    expect(state?.disabled_reason).toMatch(/410 Gone.*POST \/v1\/admin\/channels\/spare\/test/);
    await recover(a, 10);
    await deliverAt(a.at(3600), a.id);
    expect(await receivedFor('spare', a.id)).toHaveLength(1);
    expect((await rowsOf(a.id, 'spare')).map((r) => `${r.event_type} ${r.state}`)).toEqual([
      'window.opened pending',
      'window.closed pending',
    ]);
    // Enabled again (as a successful test-fire does), both go out, in order.
    await uncue('spare', a.id);
    await env.DB.prepare('UPDATE channel_state SET disabled_at = NULL, disabled_reason = NULL WHERE channel_id = ?').bind('spare').run();
    await agentStub(a.id).maintenanceChanged(); // what the admin API's enable and test-fire do after this update
    await deliverAt(a.at(3601), a.id);
    await deliverAt(a.at(3602), a.id);
    expect((await rowsOf(a.id, 'spare')).map((r) => `${r.event_type} ${r.state}`)).toEqual([
      'window.opened delivered',
      'window.closed delivered',
    ]);
  });

  it('gives up after the horizon with a dead-letter record, never silently', async () => {
    const a = new SimulatedAgent('page-spare-horizon');
    await cue('spare', { match: a.id, status: 503 });
    await openWindow(a);
    expect(await play(a.id, a.at(5), a.at(2 * 3600), ['spare'])).toMatchObject({ done: true });
    const [row] = await rowsOf(a.id, 'spare');
    expect(row?.state).toBe('dead');
    expect(row?.last_error).toMatch(/^dead-lettered: gave up after \d+ attempt\(s\) \(receiver answered HTTP 503/);
    const { results } = await env.DB.prepare('SELECT outcome FROM delivery_attempts WHERE notification_id = ? ORDER BY attempt')
      .bind(row!.id)
      .all<{ outcome: string }>();
    expect(results.at(-1)?.outcome).toBe('dead');
    expect(results.slice(0, -1).every((r) => r.outcome === 'retry')).toBe(true);
    await uncue('spare', a.id);
    // An hour of simulated retries (the fixture's give_up_after_s), each a real delivery attempt and D1 write.
  }, 30_000);

  it("a channel that answers again gets its backlog at once, not at each row's own backoff", async () => {
    const a = new SimulatedAgent('page-spare-backlog');
    await cue('spare', { match: a.id, status: 503 });
    const id = await openWindow(a);
    // Five failed tries, the agent sending all along: the row's next try is now minutes away.
    let t = 5;
    let last = 5;
    for (let tries = 0; tries < 5; tries++) {
      for (let s = last + 5; s <= t; s += 5) last = (await a.heartbeat(s, blind), s);
      await deliverAt(a.at(t), a.id);
      const [row] = await rowsOf(a.id, 'spare');
      if (tries < 4) t = Math.ceil(((row?.next_attempt_at ?? a.at(t)) - a.start) / 1000);
    }
    const [waiting] = await rowsOf(a.id, 'spare');
    expect(waiting).toMatchObject({ event_id: `${id}:opened`, state: 'pending' });
    expect(waiting!.attempts).toBe(5);
    await uncue('spare', a.id);
    // The agent falls silent: its silence window's page is the first thing the channel takes again,
    // and the older page in backoff goes out in the same run, minutes before its own next try.
    const silentAt = last + 10;
    const judgedAt = silentAt + SETTLE_MS / 1000;
    expect(a.at(judgedAt)).toBeLessThan(waiting!.next_attempt_at);
    await a.judge(silentAt);
    await deliverAt(a.at(judgedAt), a.id);
    const rows = await rowsOf(a.id, 'spare');
    expect(rows.filter((r) => r.event_type === 'window.opened').map((r) => r.state)).toEqual(['delivered', 'delivered']);
  });

  it('reminds while the window stays open (repeat_interval_s 600) on the same dedup key, and stops at the close', async () => {
    const a = new SimulatedAgent('page-repeat');
    const id = await openWindow(a);
    await deliverAt(a.at(5), a.id);
    await deliverAt(a.at(604), a.id);
    expect(await receivedFor('pd', a.id)).toHaveLength(1);
    await deliverAt(a.at(605), a.id);
    const pd = (await receivedFor('pd', a.id)).map((r) => JSON.parse(r.body));
    expect(pd.map((b) => `${b.event_action} ${b.dedup_key}`)).toEqual([`trigger ${id}`, `trigger ${id}`]);
    expect(pd[1].payload.summary).toMatch(/^STILL BLIND: prometheus-up on page-repeat: telemetry is stale \(peak 900\), for 10 min/);
    expect(pd[1].payload.custom_details.reminder).toBe(1);
    expect((await receivedFor('hook', a.id)).map((r) => r.headers['webhook-id'])).toEqual([`${id}:opened`, `${id}:repeat:1`]);
    await recover(a, 700);
    await deliverAt(a.at(2000), a.id);
    const after = (await receivedFor('pd', a.id)).map((r) => JSON.parse(r.body).event_action);
    expect(after).toEqual(['trigger', 'trigger', 'resolve']);
    expect((await rowsOf(a.id, 'pd')).map((r) => `${r.event_type} ${r.state}`)).toEqual([
      'window.opened delivered',
      'window.repeat delivered',
      'window.repeat cancelled',
      'window.closed delivered',
    ]);
  });

  it('a silence the watchdog noticed 3 minutes late pages once it is on time: one trigger on its dedup key, reminders, the resolve when the agent returns', async () => {
    const a = new SimulatedAgent('page-late');
    await a.heartbeat(0, healthy);
    // The deadline was at 10 s; nothing evaluated it until 190 s (the alarm lost, the sweep stalled).
    expect(await a.alarm(190)).toBe('fired');
    await deliverAt(a.at(190), a.id);
    expect(await receivedFor('pd', a.id)).toHaveLength(0);
    // The next evaluation is on time: the window still open pages now.
    expect(await a.alarm(220)).toBe('fired');
    await deliverAt(a.at(220), a.id);
    const [opened] = (await rowsOf(a.id, 'pd')).filter((r) => r.event_type === 'window.opened');
    const id = opened?.window_id as string;
    expect(id).toMatch(/^page-late:/);
    expect(dedupKeys('pd', await receivedFor('pd', a.id))).toEqual([`trigger ${id}`]);
    // Still silent ten minutes on: a reminder on the same dedup key.
    await deliverAt(a.at(820), a.id);
    const pd = (await receivedFor('pd', a.id)).map((r) => JSON.parse(r.body));
    expect(pd.map((b) => `${b.event_action} ${b.dedup_key}`)).toEqual([`trigger ${id}`, `trigger ${id}`]);
    expect(pd[1].payload.custom_details.reminder).toBe(1);
    // The agent returns: the window closes and its resolve goes out on the same key, once.
    await recover(a, 900);
    await deliverAt(a.at(2000), a.id);
    const after = (await receivedFor('pd', a.id)).map((r) => `${JSON.parse(r.body).event_action} ${JSON.parse(r.body).dedup_key}`);
    expect(after).toEqual([`trigger ${id}`, `trigger ${id}`, `resolve ${id}`]);
  });

  it('the sweep is the safety net: it delivers what no alarm took up', async () => {
    const a = new SimulatedAgent('page-sweep');
    const id = await openWindow(a);
    await setClock(a.id, a.at(6));
    const report = await runSweep({ ...sweepDeps(env), now: () => a.at(6) });
    expect(report.checked).toBeGreaterThanOrEqual(1);
    expect(
      (await rowsOf(a.id)).filter((r) => PAGED.includes(r.channel_id) && r.event_type === 'window.opened').map((r) => r.state),
    ).toEqual(PAGED.map(() => 'delivered'));
    expect(dedupKeys('pd', await receivedFor('pd', a.id))).toEqual([`trigger ${id}`]);
  });

  it('a Durable Object restart mid-delivery loses nothing: the lease runs out, the alarm takes the row up again', async () => {
    // Real time this once: the object delivers on its own right after the window opens.
    const a = new SimulatedAgent('page-restart', Date.now() - 20_000, 600);
    await cue('pd', { match: a.id, mode: 'hang' });
    const id = await openWindow(a);
    // The object delivers on its own (waitUntil after the window change); wait until pd holds the request.
    await expect.poll(() => receivedFor('pd', a.id).then((r) => r.length), { timeout: 10_000 }).toBe(1);
    const claimed = (await rowsOf(a.id, 'pd')).find((r) => r.id === `${id}:opened@pd`) as
      | { state: string; claimed_until: number }
      | undefined;
    expect(claimed?.state).toBe('pending');
    // The alarm is at the lease's end (or earlier), so the platform comes back for it.
    expect(await storedAlarm(a.id)).toBeLessThanOrEqual(claimed!.claimed_until);

    await abortAllDurableObjects(); // the object dies with the request in flight
    await uncue('pd', a.id);
    const stillPending = (await rowsOf(a.id, 'pd')).find((r) => r.id === `${id}:opened@pd`);
    expect(stillPending).toMatchObject({ state: 'pending', attempts: 0 });
    expect(await storedAlarm(a.id)).toBeLessThanOrEqual(claimed!.claimed_until);
    // Before the lease ends nobody else takes it; after, the alarm's delivery does.
    await deliverAt(claimed!.claimed_until - 1, a.id);
    expect(await receivedFor('pd', a.id)).toHaveLength(1);
    await deliverAt(claimed!.claimed_until + 1, a.id);
    const reqs = await receivedFor('pd', a.id);
    expect(reqs).toHaveLength(2); // at least once: the same trigger twice, one alert after dedup
    expect(dedupKeys('pd', reqs)).toEqual([`trigger ${id}`]);
    // The lease outlives pd's send (its time-out, the default 10 s) by the margin.
    expect(claimed!.claimed_until - a.at(5)).toBeGreaterThanOrEqual(leaseMs({ timeoutMs: DEFAULT_CHANNEL_TIMEOUT_S * 1000 }));
    expect(leaseMs({ timeoutMs: DEFAULT_CHANNEL_TIMEOUT_S * 1000 })).toBeGreaterThan(DEFAULT_CHANNEL_TIMEOUT_S * 1000);
    expect((await rowsOf(a.id, 'pd'))[0]).toMatchObject({ state: 'delivered', attempts: 1 });
  });
});
