// How an agent's object keeps its public copy in the Watchdog object current (see
// store/public-copies.ts, sharded by public-shards.ts): after each decision, waiting for it a bounded time, so a heartbeat
// answered is on the page. If the copy cannot be written it ages, and what it says turns unverified
// at its deadline: never green on a copy nobody refreshed.
import { forPublic, type LiveState } from '../core/agent-state.ts';
import type { Env } from '../env.ts';
import { type Clock, waitAtMost } from './clock.ts';
import { copyShardFor } from './public-shards.ts';

/** How long a decision waits for its public copy (the Watchdog object may be slow or away). */
const PUBLISH_WAIT_MS = 1000;

export async function publishCopy(env: Env, live: LiveState | null, now: number, clock: Clock): Promise<void> {
  if (live === null) return;
  const copy = forPublic(live);
  const writing = copyShardFor(env, copy.agentId)
    .putPublicCopy(copy.agentId, copy, now)
    .catch((e: unknown) => console.error(`agent ${copy.agentId}: public copy not written:`, e));
  await waitAtMost(writing, PUBLISH_WAIT_MS, clock);
}
