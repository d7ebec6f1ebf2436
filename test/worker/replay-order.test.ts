// A batch replayed late (set aside after D1 refused it, then retried by an operator once D1 was fixed)
// reaches D1 after batches the object sent later: it must not undo their newer decisions. Real D1,
// the statements as the objects send them (store/windows.ts, store/agents.ts, store/outbox.ts).
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { LiveState } from '../../worker/core/agent-state.ts';
import type { BlindWindow } from '../../worker/core/blind-window.ts';
import { upsertAgent } from '../../worker/store/agents.ts';
import type { OutboxRow } from '../../worker/store/object-outbox.ts';
import { mirrorRow } from '../../worker/store/outbox.ts';
import { createDb, runBatch } from '../../worker/store/db.ts';
import { upsertWindow } from '../../worker/store/windows.ts';
import { runInDurableObject } from 'cloudflare:test';
import type { Replicator } from '../../worker/durable/replicator.ts';
import { agentRow } from './fixtures/d1.ts';
import { agentStub, heardAgo } from './fixtures/durable.ts';
import { heartbeatBody, sendHeartbeat, uniqueId } from './fixtures/requests.ts';
import { fresh, SimulatedAgent } from './fixtures/simulated.ts';
import { getMeta } from '../../worker/store/object-live.ts';

const db = createDb(env.DB);
const t0 = Date.parse('2026-12-04T10:00:00Z');
const row = (id: string) =>
  env.DB.prepare('SELECT level, peak_value, ended_at, decided_at FROM windows WHERE id = ?')
    .bind(id)
    .first<{ level: string; peak_value: number | null; ended_at: number | null; decided_at: number | null }>();

function blindWindow(agentId: string, over: Partial<BlindWindow> = {}): BlindWindow {
  return {
    id: `${agentId}:fresh:${over.startedAt ?? t0}`,
    agentId,
    monitor: 'fresh',
    component: 'metrics',
    severity: 'critical',
    cause: 'stale',
    level: 'degraded',
    signal: 'metrics.freshness',
    startedAt: t0,
    confirmedAt: t0,
    endedAt: null,
    peakValue: 90,
    suppressedBy: null,
    paged: true,
    ...over,
  };
}

describe('a batch replayed after newer ones reached D1', () => {
  it("does not lower a window's level or peak, nor reopen it", async () => {
    const agent = `replay-w-${uniqueId()}`;
    const opened = blindWindow(agent);
    const worse = blindWindow(agent, { level: 'blind', peakValue: 400 });
    const ended = { ...worse, endedAt: t0 + 300_000 };
    await runBatch(env.DB, upsertWindow(db, opened, t0));
    // The escalation was set aside; the close reached D1; then the escalation is retried.
    await runBatch(env.DB, upsertWindow(db, ended, t0 + 300_000));
    await runBatch(env.DB, upsertWindow(db, worse, t0 + 60_000));
    expect(await row(opened.id)).toEqual({ level: 'blind', peak_value: 400, ended_at: t0 + 300_000, decided_at: t0 + 300_000 });
    // The opening itself, replayed last, changes nothing either.
    await runBatch(env.DB, upsertWindow(db, opened, t0));
    expect(await row(opened.id)).toMatchObject({ level: 'blind', peak_value: 400, ended_at: t0 + 300_000 });
  });

  it("an older window's opening does not close the monitor's newer open window", async () => {
    const agent = `replay-open-${uniqueId()}`;
    const older = blindWindow(agent);
    const newer = blindWindow(agent, { startedAt: t0 + 600_000, confirmedAt: t0 + 600_000 });
    await runBatch(env.DB, upsertWindow(db, { ...older, endedAt: t0 + 120_000 }, t0 + 120_000));
    await runBatch(env.DB, upsertWindow(db, newer, t0 + 600_000));
    await runBatch(env.DB, upsertWindow(db, older, t0));
    expect((await row(newer.id))?.ended_at).toBeNull();
    expect((await row(older.id))?.ended_at).toBe(t0 + 120_000);
  });

  it("a close replayed late replaces the end D1 inferred when the monitor's next window opened", async () => {
    const agent = `replay-inferred-${uniqueId()}`;
    const older = blindWindow(agent);
    const newer = blindWindow(agent, { startedAt: t0 + 90_000, confirmedAt: t0 + 90_000 });
    await runBatch(env.DB, upsertWindow(db, older, t0));
    // The close (at +20 s) was set aside; the next window's opening closed the older one at its own start.
    await runBatch(env.DB, upsertWindow(db, newer, t0 + 90_000));
    expect((await row(older.id))?.ended_at).toBe(t0 + 90_000);
    await runBatch(env.DB, upsertWindow(db, { ...older, endedAt: t0 + 20_000 }, t0 + 20_000));
    expect((await row(older.id))?.ended_at).toBe(t0 + 20_000);
    expect((await row(newer.id))?.ended_at).toBeNull();
  });

  it('an open window still closes an older one D1 holds open (a close D1 never got)', async () => {
    const agent = `replay-lost-close-${uniqueId()}`;
    const older = blindWindow(agent);
    const newer = blindWindow(agent, { startedAt: t0 + 600_000, confirmedAt: t0 + 600_000 });
    await runBatch(env.DB, upsertWindow(db, older, t0));
    await runBatch(env.DB, upsertWindow(db, newer, t0 + 600_000));
    expect((await row(older.id))?.ended_at).toBe(t0 + 600_000);
    expect((await row(newer.id))?.ended_at).toBeNull();
  });

  it("does not turn the agent's row back to an older state", async () => {
    const id = `replay-agent-${uniqueId()}`;
    const live = (state: string, at: number) =>
      ({
        agentId: id,
        kind: 'agent',
        state,
        stateSince: at,
        boot: 'b1',
        intervalS: 15,
        graceS: 15,
        firstSeenAt: t0,
        lastHeartbeatAt: at,
        deadlineAt: at + 30_000,
      }) as unknown as LiveState;
    await runBatch(env.DB, [upsertAgent(db, live('up', t0), t0)]);
    await runBatch(env.DB, [upsertAgent(db, live('blind', t0 + 120_000), t0 + 120_000)]);
    await runBatch(env.DB, [upsertAgent(db, live('up', t0 + 60_000), t0 + 60_000)]);
    expect(await env.DB.prepare('SELECT state, updated_at FROM agents WHERE id = ?').bind(id).first()).toEqual({
      state: 'blind',
      updated_at: t0 + 120_000,
    });
    // A newer decision still goes through.
    await runBatch(env.DB, [upsertAgent(db, live('up', t0 + 180_000), t0 + 180_000)]);
    expect(await env.DB.prepare('SELECT state FROM agents WHERE id = ?').bind(id).first('state')).toBe('up');
  });

  it('a window written before decided_at existed takes the next decision', async () => {
    const agent = `replay-legacy-${uniqueId()}`;
    const w = blindWindow(agent);
    await runBatch(env.DB, upsertWindow(db, w, t0));
    await env.DB.prepare('UPDATE windows SET decided_at = NULL WHERE id = ?').bind(w.id).run();
    await runBatch(env.DB, upsertWindow(db, { ...w, level: 'blind' }, t0 + 1_000));
    expect(await row(w.id)).toMatchObject({ level: 'blind', decided_at: t0 + 1_000 });
  });

  it("does not turn a notification's copy back to pending once it was delivered", async () => {
    const id = `replay-n-${uniqueId()}`;
    const pending: OutboxRow = {
      seq: 1,
      id,
      event_id: `${id}:opened`,
      event_type: 'window.opened',
      channel_id: 'webhook',
      agent_id: 'replay-agent',
      window_id: `${id}:w`,
      payload: '{}',
      repeat_interval_s: 0,
      created_at: t0,
      state: 'pending',
      attempts: 0,
      next_attempt_at: t0,
      claimed_until: null,
      claim_token: null,
      delivered_at: null,
      finished_at: null,
      last_status: null,
      last_error: null,
    };
    const delivered: OutboxRow = {
      ...pending,
      state: 'delivered',
      attempts: 1,
      delivered_at: t0 + 2_000,
      finished_at: t0 + 2_000,
      last_status: 202,
    };
    const copy = () => env.DB.prepare('SELECT state, attempts FROM outbox WHERE id = ?').bind(id).first();
    await runBatch(env.DB, [mirrorRow(db, delivered, t0 + 2_000)]);
    await runBatch(env.DB, [mirrorRow(db, pending, t0)]);
    expect(await copy()).toEqual({ state: 'delivered', attempts: 1 });
    // Retried from a dead letter later: a newer decision goes through.
    await runBatch(env.DB, [mirrorRow(db, { ...delivered, state: 'pending', finished_at: null }, t0 + 9_000)]);
    expect(await copy()).toEqual({ state: 'pending', attempts: 1 });
  });

  it("stamps each decision past the last, so D1 follows the object's order though a decision is taken at an earlier time", async () => {
    // A restart decided at a clock 60 s behind the heartbeat before it (the object's own order is what counts).
    expect((await sendHeartbeat(heartbeatBody({ boot: 'kilo-b1' }), { agent: 'kilo' })).status).toBe(202);
    const restarted = await heardAgo('kilo', 60_000, (sent_at) =>
      sendHeartbeat(heartbeatBody({ boot: 'kilo-b2', sent_at }), { agent: 'kilo' }),
    );
    expect(restarted.status).toBe(202);
    expect((await agentRow('kilo'))?.boot).toBe('kilo-b2');

    // Stamps run past the last even when the clock goes back (an hour ahead: past every stamp above).
    const base = Date.now() + 3_600_000;
    const stamps = await runInDurableObject(agentStub('kilo'), (instance) => {
      const replicator = (instance as unknown as { replicator: Replicator }).replicator;
      return [replicator.decisionStamp(base), replicator.decisionStamp(base - 60_000), replicator.decisionStamp(base + 5_000)];
    });
    expect(stamps).toEqual([base, base + 1, base + 5_000]);
  });

  it('a heartbeat that changes nothing takes no stamp: no write on the hot path for it', async () => {
    const agent = new SimulatedAgent(`replay-quiet-${uniqueId()}`);
    const stamp = () => runInDurableObject(agentStub(agent.id), (_o, state) => getMeta(state.storage.sql, 'decision_stamp'));
    // The first heartbeat changes something (first seen): it is stamped.
    expect((await agent.heartbeat(0, [fresh('metrics.freshness', 5)])).status).toBe('accepted');
    const first = await stamp();
    expect(first).toBe(String(agent.at(0)));
    // The next ones, on time and as fresh, change nothing.
    for (const s of [5, 10, 15]) expect((await agent.heartbeat(s, [fresh('metrics.freshness', 5)])).status).toBe('accepted');
    expect(await stamp()).toBe(first);
  });
});
