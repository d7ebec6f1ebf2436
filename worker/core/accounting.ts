// Adds the time since the last evaluation to the rollups, in the states that held during it.
import type { WatchConfig } from '../../config/resolve.ts';
import type { LiveState } from './agent-state.ts';
import { SILENCE_MONITOR } from './agent-state.ts';
import type { Level } from './blind-window.ts';
import { accrue, type RollupAcc, type RollupState } from './rollup.ts';
import { activeMaintenance } from './suppression.ts';
import { clonePlain } from './clone.ts';

const LEVEL_STATE: Record<Level, RollupState> = { up: 'good', degraded: 'degraded', unknown: 'unknown', blind: 'blind' };

export function accountUntil(live: LiveState, config: WatchConfig, now: number): LiveState {
  if (now <= live.accountedAt) return live;
  const from = live.accountedAt;
  const rollup: RollupAcc = clonePlain(live.rollup);
  const paused = (monitor: string) => activeMaintenance(config.maintenance, live.agentId, monitor, from) !== null;
  const silence = SILENCE_MONITOR[live.kind];
  const agentState: RollupState = live.state === 'stopped' || paused(silence) ? 'paused' : live.state === 'up' ? 'good' : 'blind';
  accrue(rollup, silence, agentState, from, now);
  for (const inst of Object.values(live.monitors)) {
    // While the agent is silent nothing is known about what it measures; a stopped agent is expected.
    const state: RollupState =
      live.state === 'stopped' ? 'paused' : live.state !== 'up' ? 'unknown' : paused(inst.monitor) ? 'paused' : LEVEL_STATE[inst.level];
    accrue(rollup, inst.monitor, state, from, now);
  }
  return { ...live, rollup, accountedAt: now };
}
