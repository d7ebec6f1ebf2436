// How an agent's object keeps its public copy in the Watchdog objects current (see
// store/public-copies.ts, sharded by public-shards.ts): after each decision, waiting for it a bounded
// time, so a heartbeat answered is on the page. If the copy cannot be written it ages, and what it
// says turns unverified at its deadline: never green on a copy nobody refreshed. The minute sweep's
// visit writes it again only when this instance has not written it, its last write failed, or it is
// an hour old: readers judge a copy against their own clock, so a quiet agent's copy needs no rewrite.
import { forPublic, type LiveState } from '../core/agent-state.ts';
import type { Env } from '../env.ts';
import { type Clock, waitAtMost } from './clock.ts';
import { copyShardFor } from './public-shards.ts';

/** How long a decision waits for its public copy (the Watchdog object may be slow or away). */
const PUBLISH_WAIT_MS = 1000;
/** How old a written copy may get before the sweep's visit writes it again (copies are pruned after 30 days unwritten). */
export const COPY_REFRESH_MS = 3_600_000;

export class PublicCopy {
  /** When this instance's last write was taken (memory only: a new instance writes at its first chance). */
  private writtenAt: number | null = null;

  constructor(private readonly env: Env) {}

  async publish(live: LiveState | null, now: number, clock: Clock): Promise<void> {
    if (live === null) return;
    const copy = forPublic(live);
    const writing = copyShardFor(this.env, copy.agentId)
      .putPublicCopy(copy.agentId, copy, now)
      .then(
        () => (this.writtenAt = Math.max(this.writtenAt ?? now, now)),
        (e: unknown) => {
          this.writtenAt = null;
          console.error(`agent ${copy.agentId}: public copy not written:`, e);
        },
      );
    await waitAtMost(writing, PUBLISH_WAIT_MS, clock);
  }

  /** The sweep's visit: writes the copy if this instance never did, the last write failed, or it is COPY_REFRESH_MS old. */
  async refresh(live: LiveState | null, now: number, clock: Clock): Promise<void> {
    if (this.writtenAt !== null && now - this.writtenAt < COPY_REFRESH_MS) return;
    await this.publish(live, now, clock);
  }
}
