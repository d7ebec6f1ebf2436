export type WindowCause = 'agent_silent';

/** An interval during which a monitor was not up. Times are unix milliseconds. */
export interface BlindWindow {
  id: string;
  agentId: string;
  monitor: string;
  cause: WindowCause;
  /** First bad observation: for silence, when the missing heartbeat was due. */
  startedAt: number;
  confirmedAt: number;
  /** First observation of the good run that resolved it. */
  endedAt: number | null;
}

/** Stable across retries, so writing the same window twice is a no-op. */
export function windowId(agentId: string, cause: WindowCause, startedAt: number): string {
  return `${agentId}:${cause}:${startedAt}`;
}

export function windowDurationS(window: BlindWindow, now: number): number {
  return Math.max(0, ((window.endedAt ?? now) - window.startedAt) / 1000);
}
