import { REPLAY_WINDOW_S } from '../../protocol/heartbeat.ts';

/** webhook-id → when it was accepted (ms). */
export type SeenIds = Record<string, number>;

export function pruneSeen(seen: SeenIds, now: number): SeenIds {
  const cutoff = now - REPLAY_WINDOW_S * 1000;
  const kept: SeenIds = {};
  for (const [id, at] of Object.entries(seen)) if (at > cutoff) kept[id] = at;
  return kept;
}

export function isReplay(seen: SeenIds, id: string, now: number): boolean {
  const at = seen[id];
  return at !== undefined && at > now - REPLAY_WINDOW_S * 1000;
}
