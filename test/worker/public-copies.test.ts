// The public copies each agent's object keeps in the Watchdog object: written after every decision,
// sharded by agent id, never replaced by an older one, kept across a restart, and gone after 30 days without a write.
import { abortAllDurableObjects, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { forPublic } from '../../worker/core/agent-state.ts';
import { COPY_REFRESH_MS } from '../../worker/durable/public-copy.ts';
import { copyShardFor, PUBLIC_SHARDS, readAllCopies, shardOf } from '../../worker/durable/public-shards.ts';
import { sweepDeps } from '../../worker/index.ts';
import { runSweep } from '../../worker/jobs/sweep.ts';
import { agentStub } from './fixtures/durable.ts';
import { heartbeatBody, sendHeartbeat } from './fixtures/requests.ts';

const shard = (id: string) => copyShardFor(env, id);
const copyOf = async (id: string) => (await readAllCopies(env)).find((c) => c.id === id)?.live;

describe('public copies', () => {
  it('are written by the agent before its heartbeat is answered, without what only the object needs', async () => {
    const res = await sendHeartbeat(heartbeatBody({ seq: 7, boot: 'copies-1' }), { agent: 'golf' });
    expect(res.status).toBe(202);
    const copy = await copyOf('golf');
    expect(copy).toMatchObject({ agentId: 'golf', seq: 7, boot: 'copies-1', state: 'up' });
    expect(copy?.rollup).toEqual({ buckets: {}, signals: {} });
    expect(Object.values(copy?.monitors ?? {}).every((m) => Object.keys(m.baselines).length === 0)).toBe(true);
  });

  it('never take an older copy over a newer one, and survive a restart of the Watchdog object', async () => {
    await sendHeartbeat(heartbeatBody({ seq: 1, boot: 'copies-2' }), { agent: 'hotel' });
    const current = (await copyOf('hotel'))!;
    await shard('hotel').putPublicCopy('hotel', forPublic({ ...current, seq: 0, boot: 'older' }), current.lastHeartbeatAt - 60_000);
    expect(await copyOf('hotel')).toMatchObject({ seq: 1, boot: 'copies-2' });
    await abortAllDurableObjects();
    expect(await copyOf('hotel')).toMatchObject({ seq: 1, boot: 'copies-2' });
  });

  it('are pruned by the hourly sweep after 30 days without a write, in whichever shard holds them', async () => {
    // An agent long removed: its object is never visited again, so nothing rewrites its copy.
    await sendHeartbeat(heartbeatBody({ seq: 1, boot: 'copies-3' }), { agent: 'india' });
    const copy = (await copyOf('india'))!;
    await shard('gone').putPublicCopy('gone', { ...copy, agentId: 'gone' }, Date.now() - 31 * 86_400_000);
    expect(await copyOf('gone')).toBeDefined();
    await abortAllDurableObjects();
    const report = await runSweep(sweepDeps(env));
    expect(report.pruned).toBe(true);
    expect(await copyOf('gone')).toBeUndefined();
    // A live agent's copy stays (the sweep's visit refreshes it when it may be stale).
    expect(await copyOf('india')).toMatchObject({ boot: 'copies-3' });
  });

  it("are rewritten by the sweep's visit only when they may be stale: a new instance, or an hour after the last write", async () => {
    // A 10-minute interval: nothing falls due in the first minute, so no decision rewrites the copy then.
    await sendHeartbeat(heartbeatBody({ seq: 1, boot: 'copies-4', interval_s: 600 }), { agent: 'juliet' });
    const writtenAt = () =>
      runInDurableObject(shard('juliet'), (_w, state) =>
        Number(state.storage.sql.exec<{ at: number }>('SELECT at FROM public_copies WHERE id = ?', 'juliet').one().at),
      );
    const first = await writtenAt();
    expect(await agentStub('juliet').visit(first + 60_000)).toMatchObject({ ensured: 'ok' });
    expect(await writtenAt()).toBe(first);
    await agentStub('juliet').visit(first + COPY_REFRESH_MS);
    expect(await writtenAt()).toBe(first + COPY_REFRESH_MS);
    // A new instance does not know what was written: its first visit writes the copy.
    await abortAllDurableObjects();
    await agentStub('juliet').visit(first + COPY_REFRESH_MS + 60_000);
    expect(await writtenAt()).toBe(first + COPY_REFRESH_MS + 60_000);
  });

  it('spread a fleet over every shard', () => {
    const counts = new Array(PUBLIC_SHARDS).fill(0);
    for (let i = 0; i < 1000; i++) counts[shardOf(`agent-${i}`)]++;
    // Evenly enough that no shard takes twice its share.
    for (const n of counts) expect(n).toBeGreaterThan(1000 / PUBLIC_SHARDS / 2);
    for (const n of counts) expect(n).toBeLessThan((1000 / PUBLIC_SHARDS) * 2);
  });
});
