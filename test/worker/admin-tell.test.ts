// The admin API tells each agent's object of a change to maintenance or silences before it answers.
// A tell that fails (the object reset or moved under the call) is tried again: an object not told
// goes by what it read last, up to 5 minutes old, and would page what the operator just silenced.
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Env } from '../../worker/env.ts';
import { tellAgents, tellRetry } from '../../worker/routes/admin-notices.ts';
import { failCalls } from '../support/failing-stub.ts';
import { ADMIN_TOKEN } from './fixtures/channels.ts';
import { storedLive } from './fixtures/durable.ts';
import { receivedFor } from './fixtures/hub.ts';
import { BASE, send, uniqueId } from './fixtures/requests.ts';
import { fresh, SimulatedAgent } from './fixtures/simulated.ts';

let tellsAsUsual = () => {};
afterEach(() => {
  tellsAsUsual();
  vi.restoreAllMocks();
});

/**
 * The next `times` tells to `agentId`'s object fail as a call to an object reset under it does, and the
 * API tries again at once (its waits between tries are the platform's, not what is tested). Counts the tries.
 */
function failTells(agentId: string, times: number, error?: () => Error): { tried: number } {
  const count = { tried: 0 };
  const waits = tellRetry.waitsMs;
  const restore = failCalls(env.AGENT, env.AGENT.idFromName(agentId), 'maintenanceChanged', times, () => count.tried++, error);
  tellRetry.waitsMs = waits.map(() => 0);
  tellsAsUsual = () => {
    restore();
    tellRetry.waitsMs = waits;
  };
  return count;
}

async function silence(a: SimulatedAgent, fromS: number, untilS: number): Promise<Response> {
  return send(
    new Request(`${BASE}/v1/admin/silences`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        reason: 'planned database work',
        agents: [a.id],
        starts_at: new Date(a.at(fromS)).toISOString(),
        ends_at: new Date(a.at(untilS)).toISOString(),
      }),
    }),
  );
}

describe("the admin API's tell to an agent's object", () => {
  it('is tried again when it fails: the silence made just before the agent goes quiet is known, and nobody is paged', async () => {
    const a = new SimulatedAgent(`told-again-${uniqueId()}`);
    await a.heartbeat(0, [fresh('prometheus.up', 1)]);
    const tells = failTells(a.id, 2);
    const made = await silence(a, 0, 3600);
    expect(made.status).toBe(201);
    expect(((await made.json()) as { agents_not_told: string[] }).agents_not_told).toEqual([]);
    tellsAsUsual();
    expect(tells.tried).toBe(3);
    // The deadline (10 s) passes under the silence, well within the object's 5 minutes between reads.
    expect(await a.judge(10)).toBe('fired');
    expect((await storedLive(a.id))?.silence?.window).toMatchObject({
      paged: false,
      suppressedBy: expect.stringMatching(/^maintenance:silence:/),
    });
    expect(await receivedFor('pd', a.id)).toEqual([]);
  });

  it('that fails every time still answers 201 (the silence is stored), and the answer and the log name the object not told', async () => {
    const a = new SimulatedAgent(`never-told-${uniqueId()}`);
    await a.heartbeat(0, [fresh('prometheus.up', 1)]);
    const tells = failTells(a.id, 3);
    const errors = vi.spyOn(console, 'error');
    const made = await silence(a, 0, 3600);
    expect(made.status).toBe(201);
    expect(tells.tried).toBe(3);
    const { silence: row, agents_not_told } = (await made.json()) as { silence: { id: string }; agents_not_told: string[] };
    expect(agents_not_told).toEqual([a.id]);
    const stored = await env.DB.prepare('SELECT id FROM maintenances WHERE id = ?').bind(row.id).first<{ id: string }>();
    expect(stored?.id).toBe(row.id);
    expect(errors.mock.calls.map((c) => String(c[0]))).toContainEqual(expect.stringMatching(new RegExp(`could not be told \\(.*${a.id}`)));
  });

  it('is not tried again when the object says it is overloaded (more calls would deepen it): the answer names it', async () => {
    const a = new SimulatedAgent(`overloaded-${uniqueId()}`);
    await a.heartbeat(0, [fresh('prometheus.up', 1)]);
    const tells = failTells(a.id, 3, () => Object.assign(new Error('Durable Object is overloaded. (simulated)'), { overloaded: true }));
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const made = await silence(a, 0, 3600);
    expect(made.status).toBe(201);
    expect(tells.tried).toBe(1);
    expect(((await made.json()) as { agents_not_told: string[] }).agents_not_told).toEqual([a.id]);
  });

  it('tells a fleet 16 objects at a time, every one of them, and names those it could not tell', async () => {
    const fleet = Array.from({ length: 60 }, (_, i) => `fleet-tell-${String(i).padStart(2, '0')}`);
    const broken = new Set([fleet[7], fleet[41]]);
    let open = 0;
    let most = 0;
    const told = new Set<string>();
    tellRetry.waitsMs = tellRetry.waitsMs.map(() => 0);
    tellsAsUsual = () => (tellRetry.waitsMs = [50, 250]);
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const objects = {
      idFromName: (name: string) => name,
      get: (name: string) => ({
        maintenanceChanged: async () => {
          open++;
          most = Math.max(most, open);
          // A yield, not a wait: every slot's call is in flight before the first one answers.
          await new Promise<void>((r) => queueMicrotask(r));
          open--;
          if (broken.has(name)) throw new Error('object reset (simulated)');
          told.add(name);
        },
      }),
    };
    const failed = await tellAgents({
      ...env,
      AGENT: objects as unknown as Env['AGENT'],
      BLINDSPOT_AGENT_SECRETS: JSON.stringify(
        Object.fromEntries(fleet.map((id, i) => [id, [`whsec_${btoa(`fleet-tell-secret-${i}-0123456789`)}`]])),
      ),
    });
    expect(failed).toEqual([fleet[7], fleet[41]]);
    expect(fleet.filter((id) => !broken.has(id)).every((id) => told.has(id))).toBe(true);
    expect(most).toBe(16);
  });
});
