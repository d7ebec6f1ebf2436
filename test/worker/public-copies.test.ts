// The public copies each agent's object keeps in the Watchdog object: written after every decision,
// never replaced by an older one, kept across a restart, and gone after 30 days without a write.
import { abortAllDurableObjects, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { forPublic } from '../../worker/core/agent-state.ts';
import { heartbeatBody, sendHeartbeat } from './fixtures/requests.ts';

const watchdog = () => env.WATCHDOG.get(env.WATCHDOG.idFromName('watchdog'));
const copyOf = async (id: string) => (await watchdog().publicCopies()).find((c) => c.id === id)?.live;

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
    await watchdog().putPublicCopy('hotel', forPublic({ ...current, seq: 0, boot: 'older' }), current.lastHeartbeatAt - 60_000);
    expect(await copyOf('hotel')).toMatchObject({ seq: 1, boot: 'copies-2' });
    await abortAllDurableObjects();
    expect(await copyOf('hotel')).toMatchObject({ seq: 1, boot: 'copies-2' });
  });

  it('are pruned by the sweep tick after 30 days without a write', async () => {
    await sendHeartbeat(heartbeatBody({ seq: 1, boot: 'copies-3' }), { agent: 'india' });
    const copy = (await copyOf('india'))!;
    await runInDurableObject(
      watchdog(),
      (_i, state) => void state.storage.sql.exec("UPDATE public_copies SET at = at - 31 * 86400000 WHERE id = 'india'"),
    );
    await abortAllDurableObjects();
    await watchdog().tick(Date.now());
    expect(await copyOf('india')).toBeUndefined();
    expect(copy.agentId).toBe('india');
  });
});
