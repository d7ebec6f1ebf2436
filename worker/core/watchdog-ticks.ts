// The watchdog's own liveness. Each sweep records a tick; a tick that comes more than twice the
// period after the last one means the watchdog was not evaluating in between: that is a gap.
export const SWEEP_PERIOD_MS = 60_000;

export interface TickState {
  lastTickAt: number;
  /** When the previous gap was told, so one gap is never told twice. */
  lastGapEndedAt: number | null;
}

export interface Gap {
  id: string;
  /** When the first missing tick was due. */
  startedAt: number;
  endedAt: number;
}

export function recordTick(prev: TickState | null, now: number): { next: TickState; gap: Gap | null } {
  if (prev === null || now - prev.lastTickAt <= 2 * SWEEP_PERIOD_MS) return { next: { lastTickAt: Math.max(now, prev?.lastTickAt ?? 0), lastGapEndedAt: prev?.lastGapEndedAt ?? null }, gap: null };
  const startedAt = prev.lastTickAt + SWEEP_PERIOD_MS;
  return { next: { lastTickAt: now, lastGapEndedAt: now }, gap: { id: `watchdog:gap:${startedAt}`, startedAt, endedAt: now } };
}

/** Whether the watchdog's own evaluation is stalled: its last tick is older than twice the period. */
export function watchdogStalled(state: TickState | null, now: number): boolean {
  return state !== null && now - state.lastTickAt > 2 * SWEEP_PERIOD_MS;
}
