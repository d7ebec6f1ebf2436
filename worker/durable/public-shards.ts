// Where each subject's public copy lives: one of a few Watchdog-class objects chosen by its id, so a
// fleet's heartbeats spread their writes over several objects instead of queueing on one (10 000
// agents at a 15 s interval are 667 writes a second; eight shards take about 83 each). Readers ask
// every shard at once; the main Watchdog object does none of this work.
import type { Env } from '../env.ts';
import type { LiveState } from '../core/agent-state.ts';

export const PUBLIC_SHARDS = 8;

/** FNV-1a over the id: stable across deploys, spread evenly. */
export function shardOf(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return (h >>> 0) % PUBLIC_SHARDS;
}

const ids = new Map<number, DurableObjectId>();
const shard = (env: Env, n: number) => {
  let id = ids.get(n);
  if (id === undefined) ids.set(n, (id = env.WATCHDOG.idFromName(`public-copies:${n}`)));
  return env.WATCHDOG.get(id);
};

export function copyShardFor(env: Env, id: string) {
  return shard(env, shardOf(id));
}

/** Every subject's copy, from all shards; throws if any shard cannot be read (the caller then says so). */
export async function readAllCopies(env: Env): Promise<{ id: string; live: LiveState }[]> {
  const parts = await Promise.all(Array.from({ length: PUBLIC_SHARDS }, (_, n) => shard(env, n).publicCopies()));
  return parts.flat();
}

/** The id of every subject with a public copy, from all shards; throws if any shard cannot be read. */
export async function readAllCopyIds(env: Env): Promise<string[]> {
  const parts = await Promise.all(Array.from({ length: PUBLIC_SHARDS }, (_, n) => shard(env, n).publicCopyIds()));
  return parts.flat();
}

/** Drops copies nobody wrote since `before` in every shard; returns how many went. */
export async function pruneAllCopies(env: Env, before: number): Promise<number> {
  const counts = await Promise.all(Array.from({ length: PUBLIC_SHARDS }, (_, n) => shard(env, n).prunePublicCopies(before)));
  return counts.reduce((a, b) => a + b, 0);
}
