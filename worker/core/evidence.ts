// What one monitor's latest observation proves right now: the rule behind every public claim. A
// monitor vouches for its pipeline only when its newest observation is good, was made by the
// agent's newest heartbeat, and that heartbeat's deadline has not passed. An observation that is
// bad or unknown but not yet confirmed by `for` proves nothing either way: the hold delays pages,
// never honesty. Liveness and clock skew vouch for the agent, never for a pipeline. Pure.
import { CLOCK_SKEW_MONITOR, type LiveState, SILENCE_MONITOR } from './agent-state.ts';
import { isBad, type Level } from './blind-window.ts';
import type { MonitorInstance } from './monitor-instance.ts';

/**
 * verified: the level stands on a fresh observation; unverified: nobody can say right now;
 * stopped: the agent announced its stop, so nothing watches this pipeline on purpose.
 */
export type EvidenceState = 'verified' | 'unverified' | 'stopped';

export interface Evidence {
  state: EvidenceState;
  /** The confirmed level, as a flapping monitor counts it (never better than degraded). */
  level: Level;
  /** When the observation behind it was made (ms). */
  at: number;
  /** Why it is not verified, in a few words; null when it is. */
  why: string | null;
}

/** Monitors that measure a pipeline: an agent's silence and clock-skew monitors only judge the agent. */
export function measuresPipeline(monitor: string): boolean {
  return monitor !== CLOCK_SKEW_MONITOR && monitor !== SILENCE_MONITOR.agent;
}

/**
 * An Alertmanager source: the Watchdog alert arriving through the alert path is the measurement, so
 * its confirmed silence is a verified outage of that path (not merely unknown, as an agent's silence
 * is), and an overdue alert not yet judged is unverified.
 */
export function alertPathEvidence(live: LiveState, now: number): Evidence {
  if (live.state === 'blind') return { state: 'verified', level: 'blind', at: live.stateSince, why: null };
  const level: Level = live.silence?.flapping ? 'degraded' : 'up';
  if (now > live.deadlineAt) return { state: 'unverified', level, at: live.lastHeartbeatAt, why: 'the Watchdog alert is overdue' };
  return { state: 'verified', level, at: live.lastHeartbeatAt, why: null };
}

/** The agent as a whole: can anything it last said be taken as true now? */
export function agentEvidence(live: LiveState, now: number): Pick<Evidence, 'state' | 'why'> {
  // From its goodbye on: nothing will measure again, whatever the last heartbeat said.
  if (live.state === 'stopped' || live.stopping) return { state: 'stopped', why: 'the agent was stopped on purpose' };
  if (live.state === 'blind') return { state: 'unverified', why: 'the agent is silent' };
  // Past its deadline with no alarm or sweep having judged it yet: what it last said is not proof.
  if (now > live.deadlineAt) return { state: 'unverified', why: 'the heartbeat is overdue' };
  return { state: 'verified', why: null };
}

export function evidenceOf(live: LiveState, inst: MonitorInstance, now: number): Evidence {
  const level: Level = inst.flapping && inst.level === 'up' ? 'degraded' : inst.level;
  const base = { level, at: inst.observedAt };
  const agent = agentEvidence(live, now);
  if (agent.state !== 'verified') return { ...base, ...agent };
  // Not measured by the newest heartbeat: its probe is gone, or the signal stopped coming.
  if (inst.observedAt < live.lastHeartbeatAt) return { ...base, state: 'unverified', why: 'the newest heartbeat did not measure it' };
  // The newest observation could not measure, or disagrees with the confirmed level and `for` has not settled it.
  if (inst.raw === 'unknown' && inst.level !== 'unknown') return { ...base, state: 'unverified', why: 'the probe could not measure' };
  if (isBad(inst.raw) && !isBad(level)) return { ...base, state: 'unverified', why: 'a bad observation is not yet confirmed' };
  return { ...base, state: 'verified', why: null };
}
