// The agent's clock, judged from its heartbeats: sent_at against the time the Worker took it. Pure.
import type { HeartbeatFacts, LiveState } from './agent-state.ts';
import type { Observation } from './signal-level.ts';

/**
 * What this heartbeat says of the agent's clock, or null when it says nothing. Its sent_at against
 * its receipt is the clock's offset less the time it spent on its way: a clock ahead, or one behind
 * by no more than the limit, is read as it is (a wait only makes a clock look further behind). A
 * clock that looks behind by more is believed only from a heartbeat that came in the agent's rhythm:
 * one taken after the deadline of the one before (the watchdog saw a silence: it may have waited on
 * its way, held by a stalled Worker or a proxy), or much sooner after the one before than the agent
 * sent them apart (a queue of held heartbeats released at once), measures its wait as well. A clock
 * that is really behind is behind in every heartbeat, and the next one in rhythm says so.
 */
export function skewObservation(prev: LiveState | null, facts: HeartbeatFacts, limitS: number, now: number): Observation | null {
  const skewS = (facts.sentAt - now) / 1000;
  const off = Math.abs(skewS) > limitS;
  if (off && skewS < 0 && prev !== null && prev.boot === facts.boot) {
    if (now > prev.deadlineAt) return null;
    if (now - prev.lastHeartbeatAt < (facts.sentAt - prev.lastSentAt) / 2) return null;
  }
  return { level: off ? 'degraded' : 'up', cause: 'clock_skew', value: Math.abs(skewS), signal: null, error: null };
}
