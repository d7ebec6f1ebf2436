// An operator retires an agent (revokes it): its silence from then on is intended, so nothing is
// expected of it any more. Every window it has open ends now, so what paged is resolved, and no
// deadline, hold or reminder is left to fire. A heartbeat heard again (the agent added back) starts it
// afresh. Pure.
import type { WatchConfig } from '../../config/resolve.ts';
import { accountUntil } from './accounting.ts';
import type { Change, LiveState, Transition } from './agent-state.ts';
import { retire } from './monitor-instance.ts';

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
