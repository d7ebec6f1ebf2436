/** Grace below which a missed heartbeat is more likely jitter than silence. */
export const MIN_GRACE_S = 10;

/** The grace an agent gets after its interval: what it asked for, or max(interval, 10 s). */
export function graceFor(intervalS: number, requestedGraceS: number | undefined): number {
  return requestedGraceS ?? Math.max(intervalS, MIN_GRACE_S);
}

/**
 * The absolute time (ms) by which the next heartbeat must arrive. It is measured from when the Worker
 * received the heartbeat, never from the agent's clock, so a skewed agent cannot move its own deadline.
 */
export function deadlineAfter(receivedAt: number, intervalS: number, graceS: number): number {
  return receivedAt + Math.round((intervalS + graceS) * 1000);
}
