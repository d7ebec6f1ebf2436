// The agent's clock, judged from its heartbeats: sent_at against the time the Worker took it. Pure.
import type { HeartbeatFacts, LiveState } from './agent-state.ts';
import type { Observation } from './signal-level.ts';

/**
 * What this heartbeat says of the agent's clock, or null when it says nothing. Its sent_at against
 * its receipt is the clock's offset less the time it spent on its way, so only a heartbeat that came
 * in the agent's rhythm measures the clock: one taken after the deadline of the one before (the
 * watchdog saw a silence: it may have waited on its way, held by a stalled Worker or a proxy), or
 * much sooner after the one before than the agent sent them apart (a queue of held heartbeats
 * released at once), measures its wait as well, and says nothing. Except a clock ahead by more than
 * the limit: no wait makes a clock look ahead. A clock that is really off is off in the next
 * heartbeat in rhythm too.
 */
export function skewObservation(prev: LiveState | null, facts: HeartbeatFacts, limitS: number, now: number): Observation | null {
  const skewS = (facts.sentAt - now) / 1000;
  const inRhythm =
    prev === null ||
    prev.boot !== facts.boot ||
    (now <= prev.deadlineAt && now - prev.lastHeartbeatAt >= (facts.sentAt - prev.lastSentAt) / 2);
  if (!inRhythm && skewS <= limitS) return null;
  const off = Math.abs(skewS) > limitS;
  return { level: off ? 'degraded' : 'up', cause: 'clock_skew', value: Math.abs(skewS), signal: null, error: null };
}
