// An operator retires an agent (revokes it): its silence from then on is intended, so nothing is
// expected of it any more. Every window it has open ends now, so what paged is resolved, and no
// deadline, hold or reminder is left to fire. A heartbeat heard again (the agent added back) starts it
// afresh. Pure.
import type { WatchConfig } from '../../config/resolve.ts';
import { accountUntil } from './accounting.ts';
import type { Change, LiveState, Transition } from './agent-state.ts';
import { retire } from './monitor-instance.ts';

/**
 * How long a retired agent's heartbeats are refused: other Worker instances may trust its revoked
 * secret for their credentials cache's 10 s, and a heartbeat they let through must not bring it back.
 */
export const RETIRED_REFUSE_MS = 15_000;

/** Whether a heartbeat at `now` comes within the refusal after the agent was retired. */
export function refusedAsRetired(live: LiveState | null, now: number): boolean {
  const at = live?.retiredAt;
  return at !== undefined && now >= at && now - at < RETIRED_REFUSE_MS;
}

/** The agent was added again after it was retired: its heartbeats are taken at once. Null when nothing changes. */
export function readmitSubject(live: LiveState | null, now: number): Transition | null {
  if (live === null || !refusedAsRetired(live, now)) return null;
  return { next: { ...live, retiredAt: Math.min(live.retiredAt as number, now - RETIRED_REFUSE_MS) }, changes: [] };
}

/** Retires the agent at `now`: its time is accounted up to now, and none after (evaluateTimers). */
export function retireSubject(prev: LiveState, config: WatchConfig, now: number): Transition {
  const live = accountUntil(prev, config, now);
  const changes: Change[] = [];
  for (const inst of [...Object.values(live.monitors), ...(live.silence === null ? [] : [live.silence])])
    for (const c of retire(inst, now)) changes.push({ type: `window_${c.type}` as const, window: c.window });
  const next: LiveState = {
    ...live,
    state: 'stopped',
    stateSince: now,
    stopping: true,
    retiredAt: now,
    monitors: {},
    silence: null,
  };
  return { next, changes };
}
